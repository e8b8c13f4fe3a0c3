"""What importing the sync core costs: `cockpit log` will take `ids` and `hlc`; nothing in the
core may pull in storage, the network or Textual."""

from __future__ import annotations

import subprocess
import sys

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
