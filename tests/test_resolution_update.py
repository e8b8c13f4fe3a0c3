"""The resolution update is owed: one rule in the domain, read by the board, `cockpit status`,
`cockpit show` (text and JSON) and the post-mortem metrics alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.board import build_board
from cockpit.cli import main
from cockpit.comms.publish import publish
from cockpit.config import Config
from cockpit.domain import (
    DEFAULT_SEVERITIES,
    Entry,
    Kind,
    Status,
    find_severity,
    is_resolution_update,
    needs_resolution_update,
)
from cockpit.postmortem.export import export_markdown
from cockpit.store import Store
from tests.conftest import T0, FakeClock

SEV1, SEV2, SEV3 = (find_severity(DEFAULT_SEVERITIES, name) for name in ("SEV-1", "SEV-2", "SEV-3"))


def entry(kind: Kind = Kind.UPDATE, meta: Mapping[str, object] | None = None) -> Entry:
    return Entry(1, 1, T0, T0, kind, "bob", "text", meta=dict(meta or {}))


@pytest.mark.parametrize(
    ("made", "resolution"),
    [
        (entry(meta={"phase": "resolution", "status": "resolved"}), True),  # published resolving
        (entry(meta={"phase": "resolution"}), True),  # published while resolved
        (entry(meta={"phase": "update", "template": "resolution"}), True),  # template, still open
        (entry(meta={"phase": "update", "template": "update"}), False),
        (entry(meta={"phase": "update", "status": "monitoring"}), False),
        (entry(), False),  # no meta: an update typed by hand
        (entry(Kind.STATUS, {"from": "monitoring", "to": "resolved"}), False),  # not an update
        (entry(Kind.NOTE, {"template": "resolution", "status": "resolved"}), False),
    ],
)
def test_what_counts_as_a_resolution_update(made: Entry, resolution: bool) -> None:
    assert is_resolution_update(made) is resolution


def test_the_rule_follows_the_policy_and_the_last_word_published() -> None:
    normal = entry(meta={"phase": "update"})
    closing = entry(meta={"phase": "resolution", "status": "resolved"})
    assert needs_resolution_update(SEV1, 0, None)  # a cadence: owed even if nothing went out
    assert needs_resolution_update(SEV2, 2, normal)
    assert not needs_resolution_update(SEV2, 3, closing)
    assert not needs_resolution_update(SEV3, 0, None)  # no cadence and nobody was told
    assert needs_resolution_update(SEV3, 1, normal)  # nobody had to be told, but someone was
    assert not needs_resolution_update(SEV3, 1, closing)


@pytest.fixture
def incident(store: Store) -> int:
    return store.declare("Checkout API errors", "SEV-2", "alice", service="checkout").id


def board(store: Store, incident_id: int, clock: FakeClock):  # type: ignore[no-untyped-def]
    return build_board(store, Config(), incident_id, clock())


def test_the_board_owes_it_from_resolution_until_it_is_published(
    store: Store, clock: FakeClock, incident: int
) -> None:
    config = Config()
    clock.advance(minutes=10)
    publish(store, config, incident, "We are investigating", None, "bob", clock)
    assert not board(store, incident, clock).resolution_update_owed  # open: nothing to close
    assert board(store, incident, clock).needs_resolution_update  # resolving now would owe it

    clock.advance(minutes=20)
    store.set_status(incident, Status.RESOLVED, "alice")
    now = board(store, incident, clock)
    assert now.resolution_update_owed and now.deadline is None and now.resolution_update_at is None

    clock.advance(minutes=3)  # `cockpit update --template resolution` after `cockpit status`
    sent = publish(store, config, incident, "Resolved.", None, "bob", clock, template="resolution")
    assert sent.meta["template"] == "resolution" and sent.meta["phase"] == "resolution"
    after = board(store, incident, clock)
    assert not after.resolution_update_owed and after.resolution_update_at == clock()

    # Reopened, told customers so, resolved again: the last word is not "resolved" any more.
    store.set_status(incident, Status.INVESTIGATING, "alice")
    assert not board(store, incident, clock).resolution_update_owed
    clock.advance(minutes=5)
    publish(store, config, incident, "It is back", None, "bob", clock)
    store.set_status(incident, Status.RESOLVED, "alice")
    assert board(store, incident, clock).resolution_update_owed

    # Publishing with status resolved also counts (the composer's path).
    clock.advance(minutes=1)
    store.set_status(incident, Status.MONITORING, "alice")
    publish(store, config, incident, "Fixed for good", Status.RESOLVED, "bob", clock)
    assert not board(store, incident, clock).resolution_update_owed


def test_a_resolution_template_published_before_resolving_closes_it(
    store: Store, clock: FakeClock, incident: int
) -> None:
    clock.advance(minutes=10)
    publish(store, Config(), incident, "Fixed", None, "bob", clock, template="resolution")
    assert store.incident(incident).is_open
    store.set_status(incident, Status.RESOLVED, "alice")
    assert not board(store, incident, clock).resolution_update_owed


def test_a_sev3_nobody_was_told_about_owes_none(store: Store, clock: FakeClock) -> None:
    quiet = store.declare("Typo on the pricing page", "SEV-3", "alice").id
    store.set_status(quiet, Status.RESOLVED, "alice")
    assert not board(store, quiet, clock).resolution_update_owed

    told = store.declare("Slow search", "SEV-3", "alice").id
    publish(store, Config(), told, "Search is slow", None, "bob", clock)
    store.set_status(told, Status.RESOLVED, "alice")
    assert board(store, told, clock).resolution_update_owed


class Cli:
    """The command line in-process on one database, with a fixed clock."""

    def __init__(self, db: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.clock = clock
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--db", str(self.db), *args], clock=self.clock)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "cli.db", clock, capsys)


def owed(cli: Cli, incident: str = "INC-1") -> bool:
    code, out, _ = cli("show", incident, "--json")
    assert code == 0
    value = json.loads(out)["resolution_update_owed"]
    assert isinstance(value, bool)
    return value


def test_cli_status_resolved_says_it_is_owed_and_how_to_send_it(cli: Cli) -> None:
    cli("declare", "Checkout API errors", "--severity", "SEV-1")
    assert owed(cli) is False
    cli.clock.advance(minutes=20)
    code, out, err = cli("status", "resolved")
    assert code == 0
    assert out == "status investigating → resolved\n"
    assert err == (
        "INC-1: a resolution update is owed; "
        "send it with `cockpit update --incident INC-1 --template resolution`\n"
    )
    assert owed(cli) is True
    assert "resolution update owed: send it with" in cli("show", "INC-1")[1]

    # The hint's command, as printed, works on the resolved incident.
    hinted = err.split("`")[1].split()[1:]
    code, out, _ = cli(*hinted, "--message", "Payments work again.")
    assert code == 0 and "published resolution" in out
    assert owed(cli) is False
    assert "resolution update owed" not in cli("show", "INC-1")[1]

    assert cli("status", "--incident", "INC-1", "investigating")[0] == 0
    _, _, err = cli("status", "resolved")  # the last word published was "resolved"
    assert "owed" not in err


def test_cli_resolving_a_sev3_says_nothing_and_update_with_status_resolved_counts(
    cli: Cli,
) -> None:
    cli("declare", "Typo", "--severity", "SEV-3")
    _, _, err = cli("status", "resolved")
    assert err == "" and owed(cli) is False
    assert "resolution update" not in cli("show", "INC-1")[1]

    cli("declare", "Checkout API errors", "--severity", "SEV-2")
    code, _, _ = cli("update", "--incident", "INC-2", "--status", "resolved")
    assert code == 0
    code, out, _ = cli("show", "INC-2", "--json")
    shown = json.loads(out)
    assert shown["status"] == "resolved" and shown["resolution_update_owed"] is False


def test_the_postmortem_counts_it_as_required_and_says_when_it_went_out(
    store: Store, clock: FakeClock, incident: int
) -> None:
    config = Config()
    clock.advance(minutes=20)
    publish(store, config, incident, "Investigating", None, "bob", clock)  # due +30: on time
    clock.advance(minutes=10)
    store.set_status(incident, Status.RESOLVED, "alice")

    def row() -> tuple[str, str, str]:
        text = export_markdown(store, config, incident, clock())
        cells = {
            line.split(" | ")[0].strip("| "): line.split(" | ")[1].strip("| ")
            for line in text.splitlines()
            if line.startswith("| ") and " | " in line
        }
        return (
            cells["Required by the severity policy"],
            cells["Sent on time"],
            cells["Resolution update"],
        )

    assert row() == ("2", "1", "required, not sent")
    clock.advance(minutes=4)
    publish(store, config, incident, "Resolved", None, "bob", clock)
    assert row() == ("2", "2", f"sent {(T0 + timedelta(minutes=34)):%Y-%m-%d %H:%M:%S} UTC")

    quiet = store.declare("Typo", "SEV-3", "alice").id
    store.set_status(quiet, Status.RESOLVED, "alice")
    text = export_markdown(store, config, quiet, clock())
    assert "| Resolution update | not required (SEV-3 has no update cadence" in text
