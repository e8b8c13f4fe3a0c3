"""What importing the sync core costs: `cockpit log` will take `ids` and `hlc`; nothing in the
core may pull in storage, the network or Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _modules_after(code: str) -> set[str]:
    probe = f"import sys; {code}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(done.stdout.split())


def test_what_cockpit_log_needs_costs_no_hashlib_uuid_or_network():
    loaded = _modules_after("import cockpit.sync.ids, cockpit.sync.hlc")
    assert not loaded & {"uuid", "hashlib", "json", "httpx", "sqlite3", "textual", "rich"}


def test_the_whole_core_imports_neither_storage_nor_network_nor_textual():
    loaded = _modules_after(
        "import cockpit.sync.fold, cockpit.sync.wire, cockpit.sync.slack_text,"
        " cockpit.sync.permalink"
    )
    heavy = {m for m in loaded if m.split(".")[0] in {"httpx", "sqlite3", "sqlite_utils",
                                                       "textual", "rich", "uuid"}}  # fmt: skip
    assert heavy == set()
    # The domain is a package of pure modules (no I/O): any of them may come along.
    ours = {m for m in loaded if m.startswith("cockpit.") and not m.startswith("cockpit.domain.")}
    assert ours <= {
        "cockpit.domain",
        "cockpit.plaintext",
        "cockpit.sync",
        "cockpit.sync.entry",
        "cockpit.sync.fold",
        "cockpit.sync.hlc",
        "cockpit.sync.ids",
        "cockpit.sync.permalink",
        "cockpit.sync.slack_text",
        "cockpit.sync.wire",
    }


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "a\\b", "nul\x00", "..", ".", " "])
def test_a_runbook_named_as_a_path_is_refused_from_another_laptop(name: str) -> None:
    """A runbook link, step or escalation from another laptop names a file in a runbook folder,
    never a path: a hostile or broken peer cannot make this laptop open another file."""
    from cockpit.domain import Kind
    from cockpit.sync.entry import meta_problem

    assert meta_problem(Kind.SYSTEM, {"event": "runbook", "to": name}) is not None
    assert meta_problem(Kind.STEP, {"runbook": name, "step": 1, "done": True}) is not None
    assert meta_problem(Kind.ESCALATION, {"runbook": name}) is not None
    assert meta_problem(Kind.SYSTEM, {"event": "runbook", "to": "api-high-error-rate"}) is None


@pytest.mark.parametrize("name", ["../../etc/passwd", "nul\x00", ".."])
def test_a_stored_runbook_link_that_is_a_path_is_never_opened(tmp_path, name: str) -> None:
    from cockpit.runbooks import RunbookError, linked_runbook

    found = linked_runbook([tmp_path], name)
    assert isinstance(found, RunbookError)
    assert "not a runbook name" in found.problem
