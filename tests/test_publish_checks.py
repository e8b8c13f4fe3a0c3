"""`publish_checks`, the questions the composer and `cockpit update` ask before publishing:
every update that arrived after the marker, whatever carried it (the Slack thread, a sync
file, another terminal on this laptop), and nothing else; the communicator named unless it
is this laptop's person."""

from __future__ import annotations

from pathlib import Path

from cockpit.comms.publish_checks import publish_checks
from cockpit.config import Config, UserConfig
from cockpit.domain import Kind, Status
from cockpit.store import Store
from tests.conftest import FakeClock

ME = Config(user=UserConfig(name="alice"))


def teammate(tmp_path: Path, clock: FakeClock, store: Store, incident: int) -> Store:
    other = Store.open(tmp_path / "bob.db", clock=clock)
    other.import_entries(store.incident(incident).gid, store.sync_entries(incident), "file")
    return other


def test_every_update_after_the_marker_is_asked_about_whatever_carried_it(
    tmp_path: Path, clock: FakeClock, store: Store
) -> None:
    incident = store.declare("API down", "SEV-2", "alice").id
    store.publish(incident, "Before the composer opened.", "alice")
    seen = store.last_entry_id(incident)
    assert publish_checks(store, ME, incident, seen, clock()) == []
    with teammate(tmp_path, clock, store, incident) as bob:
        theirs = bob.incident_by_gid(store.incident(incident).gid).id
        bob.publish(theirs, "From bob's laptop.", "bob")
        store.import_entries(incident, bob.sync_entries(theirs), "slack")
        bob.publish(theirs, "Bob again, by file.", "bob", status=Status.IDENTIFIED)
        store.import_entries(incident, bob.sync_entries(theirs), "file")
    store.publish(incident, "From another terminal here.", "carol")
    store.append(incident, Kind.NOTE, "a note is not an update", "bob")
    store.set_severity(incident, "SEV-1", "bob")
    checks = publish_checks(store, ME, incident, seen, clock())
    assert [c.text for c in checks] == [
        "From bob's laptop.",
        "Bob again, by file.",
        "From another terminal here.",
    ]
    assert checks[0].reason.startswith("bob published an update at ")
    assert checks[0].reason.endswith("since you started this one: “From bob's laptop.”")
    assert len({c.key for c in checks}) == 3


def test_a_long_or_multiline_update_is_quoted_on_one_line(
    tmp_path: Path, clock: FakeClock, store: Store
) -> None:
    incident = store.declare("API down", "SEV-2", "alice").id
    seen = store.last_entry_id(incident)
    store.publish(incident, "line one\nline two\x1b[31m " + "x" * 1000, "bob")
    (check,) = publish_checks(store, ME, incident, seen, clock())
    assert "\n" not in check.reason and "\x1b" not in check.reason
    assert len(check.reason) < 400 and check.reason.endswith("…”")
    assert check.text.startswith("line one\nline two")


def test_the_communicator_check_names_who_holds_it(clock: FakeClock, store: Store) -> None:
    incident = store.declare("API down", "SEV-2", "alice").id
    assert publish_checks(store, ME, incident, 0, clock())[1:] == []  # nobody holds it
    store.assign(incident, "communicator", "ALICE", "bob")
    assert [c for c in publish_checks(store, ME, incident, 10**9, clock())] == []
    store.assign(incident, "communicator", "bob", "bob")
    (check,) = publish_checks(store, ME, incident, 10**9, clock())
    assert check.reason == "bob is communicator, not you (alice): customers should hear one voice"
    store.assign(incident, "commander", "bob", "bob")  # another role is not asked about
    assert len(publish_checks(store, ME, incident, 10**9, clock())) == 1
