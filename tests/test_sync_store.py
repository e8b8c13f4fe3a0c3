"""The store side of team sync: every local write stamped (uid, clock, node), imports that are
idempotent, queue nothing and recompute the state from the fold, the thread, what is unsent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.domain import Kind, Status
from cockpit.store import Store, StoreError
from cockpit.sync.hlc import parse_hlc
from cockpit.sync.ids import escalation_uid, is_id, is_node
from tests.conftest import FakeClock


def two(tmp_path: Path, clock: FakeClock) -> tuple[Store, Store]:
    return Store.open(tmp_path / "a.db", clock=clock), Store.open(tmp_path / "b.db", clock=clock)


def test_every_local_write_is_stamped_with_uid_clock_and_node(store: Store, clock: FakeClock):
    inc = store.declare("x", "SEV-2", "alice", roles={"commander": "alice"})
    assert is_id(inc.gid) and is_node(store.node)
    store.append(inc.id, Kind.NOTE, "n", "alice")
    store.set_severity(inc.id, "SEV-1", "bob")
    store.set_status(inc.id, Status.MONITORING, "bob")
    store.publish(inc.id, "we are on it", "carol")
    entries = store.sync_entries(inc.id)
    assert len({e.uid for e in entries}) == len(entries) == 6
    assert all(e.node == store.node and e.hlc.node == store.node for e in entries)
    clocks = [e.hlc for e in sorted(entries, key=lambda e: e.written_at)]
    assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)


def test_clock_never_goes_back_when_the_wall_clock_does(store: Store, clock: FakeClock):
    inc = store.declare("x", "SEV-2", "alice")
    first = store.append(inc.id, Kind.NOTE, "before", "alice")
    clock.advance(minutes=-30)  # the laptop's clock is set back
    second = store.append(inc.id, Kind.NOTE, "after", "alice")
    assert parse_hlc(second.hlc) > parse_hlc(first.hlc)


def test_a_change_records_the_write_it_supersedes(store: Store):
    inc = store.declare("x", "SEV-2", "alice")
    declared = store.sync_entries(inc.id)[0]
    store.append(inc.id, Kind.NOTE, "unrelated", "alice")
    store.set_severity(inc.id, "SEV-1", "bob")
    store.set_severity(inc.id, "SEV-3", "bob")
    sev1, sev3 = [e for e in store.sync_entries(inc.id) if e.kind is Kind.SEVERITY]
    assert sev1.supersedes == declared.uid
    assert sev3.supersedes == sev1.uid
    store.assign(inc.id, "commander", "alice", "alice")
    store.assign(inc.id, "commander", "bob", "alice")
    first, second = [e for e in store.sync_entries(inc.id) if e.kind is Kind.ROLE]
    assert first.supersedes is None and second.supersedes == first.uid
    assert store.sync_entries(inc.id)[1].supersedes is None  # a note supersedes nothing


def test_import_into_another_database_gives_the_same_state_and_is_idempotent(
    tmp_path: Path, clock: FakeClock
):
    a, b = two(tmp_path, clock)
    inc = a.declare("Checkout down", "SEV-2", "alice", service="checkout", runbook="api")
    a.set_severity(inc.id, "SEV-1", "alice")
    a.assign(inc.id, "commander", "alice", "alice")
    a.set_status(inc.id, Status.MONITORING, "alice")
    entries = a.sync_entries(inc.id)
    added = b.import_entries(inc.gid, entries, "file")
    assert sorted(added) == sorted(e.uid for e in entries)
    assert b.import_entries(inc.gid, entries, "file") == []
    copy = b.incident_by_gid(inc.gid)
    original = a.incident(inc.id)
    for name in ("title", "service", "severity", "status", "runbook", "declared_at",
                 "impact_started_at", "mitigated_at", "resolved_at", "declared_by"):  # fmt: skip
        assert getattr(copy, name) == getattr(original, name), name
    assert dict(copy.roles) == dict(original.roles)
    assert [e.uid for e in b.sync_entries(copy.id)] == [e.uid for e in entries]
    assert all(e.origin == "file" for e in b.sync_entries(copy.id))


def test_imported_entries_queue_nothing(tmp_path: Path, clock: FakeClock):
    a, b = two(tmp_path, clock)
    fired: list[str] = []

    def hook(event: object) -> list[tuple[str, str, dict[str, object]]]:
        fired.append(getattr(event, "name", "?"))
        return [("pagerduty", "trigger", {"x": 1})]

    a.events = hook
    b.events = hook
    inc = a.declare("x", "SEV-1", "alice")
    a.set_severity(inc.id, "SEV-2", "alice")
    a.publish(inc.id, "update", "alice", deliveries=[("slack", "post", {"text": "u"})])
    queued_here = len(a.deliveries())
    fired_here = len(fired)
    b.import_entries(inc.gid, a.sync_entries(inc.id), "slack")
    assert b.deliveries() == []
    assert len(fired) == fired_here and len(a.deliveries()) == queued_here


def test_unsent_entries_and_mark_sent(store: Store):
    inc = store.declare("x", "SEV-2", "alice")
    store.append(inc.id, Kind.NOTE, "one", "alice")
    unsent = store.unsent_entries(inc.id)
    assert [e.text for e in unsent] == ["declared SEV-2: x", "one"]
    assert store.sync_pending(inc.id) == 2
    store.mark_sent([unsent[0].uid], "C1", "1700000000.000100")
    assert [e.text for e in store.unsent_entries(inc.id)] == ["one"]
    store.mark_unsent([unsent[0].uid])
    assert store.sync_pending(inc.id) == 2


def test_imported_entries_are_never_queued_to_send_again(tmp_path: Path, clock: FakeClock):
    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    b.import_entries(inc.gid, a.sync_entries(inc.id), "slack", channel="C1", ts="1.000100")
    copy = b.incident_by_gid(inc.gid)
    assert b.unsent_entries(copy.id) == []
    b.mark_unsent([e.uid for e in b.sync_entries(copy.id)])  # not this laptop's to send
    assert b.unsent_entries(copy.id) == []


def test_thread_is_recorded_and_read_position_only_moves_forward(store: Store):
    inc = store.declare("x", "SEV-2", "alice")
    assert store.thread_for(inc.id) is None
    thread = store.set_thread(inc.id, "C1", "1700000000.000100", permalink="https://x/p1")
    assert (thread.channel, thread.root_ts, thread.permalink) == ("C1", "1700000000.000100",
                                                                  "https://x/p1")  # fmt: skip
    store.note_read(inc.id, last_ts="1700000005.000100")
    store.note_read(inc.id, last_ts="1700000001.000100")
    thread = store.thread_for(inc.id)
    assert thread is not None and thread.last_ts == "1700000005.000100"
    assert thread.last_read_at is not None and thread.last_full_scan_at is None
    store.note_read(inc.id, full_scan=True)
    thread = store.thread_for(inc.id)
    assert thread is not None and thread.last_full_scan_at is not None
    assert thread.last_ts == "1700000005.000100"


def test_unknown_gid_without_its_declared_entry_is_refused(tmp_path: Path, clock: FakeClock):
    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    note = a.append(inc.id, Kind.NOTE, "n", "alice")
    with pytest.raises(StoreError, match="do not declare it"):
        b.import_entries(inc.gid, [e for e in a.sync_entries(inc.id) if e.uid == note.uid], "file")
    assert b.incidents() == []


def test_escalation_gets_the_uid_every_laptop_derives(store: Store):
    inc = store.declare("x", "SEV-2", "alice")
    entry = store.append_once(
        inc.id, Kind.ESCALATION, "escalate", "cockpit", meta={"runbook": "api"}, key=("runbook",)
    )
    assert entry is not None and entry.uid == escalation_uid(inc.gid, "api")


def test_escalation_imported_first_is_not_recorded_again(tmp_path: Path, clock: FakeClock):
    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    clock.advance(minutes=1)
    a.append_once(
        inc.id, Kind.ESCALATION, "escalate", "cockpit", meta={"runbook": "api"}, key=("runbook",)
    )
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    copy = b.incident_by_gid(inc.gid)
    again = b.append_once(
        copy.id, Kind.ESCALATION, "escalate", "cockpit", meta={"runbook": "api"}, key=("runbook",)
    )
    assert again is None


def test_two_copies_of_one_derived_uid_converge_on_the_same_copy(tmp_path: Path, clock: FakeClock):
    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    copy = b.incident_by_gid(inc.gid)
    meta = {"runbook": "api"}
    a.append_once(inc.id, Kind.ESCALATION, "esc", "cockpit", meta=meta, key=("runbook",))
    clock.advance(seconds=3)
    b.append_once(copy.id, Kind.ESCALATION, "esc", "cockpit", meta=meta, key=("runbook",))
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    a.import_entries(inc.id, b.sync_entries(copy.id), "file")
    assert a.sync_entries(inc.id) == b.sync_entries(copy.id)


def test_concurrent_changes_are_announced_and_resolve_the_same_way(
    tmp_path: Path, clock: FakeClock
):
    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    copy = b.incident_by_gid(inc.gid)
    a.set_severity(inc.id, "SEV-1", "alice")
    clock.advance(seconds=1)
    b.set_severity(copy.id, "SEV-3", "bob")
    a.import_entries(inc.id, b.sync_entries(copy.id), "file")
    b.import_entries(copy.id, a.sync_entries(inc.id), "file")
    assert a.incident(inc.id).severity == b.incident(copy.id).severity == "SEV-3"
    for store, incident_id in ((a, inc.id), (b, copy.id)):
        notices = [e for e in store.entries(incident_id) if e.origin == "notice"]
        assert [n.text for n in notices] == [
            "SEV-3 set by bob while SEV-1 was set by alice on another laptop; SEV-3 stands"
        ]
        assert all(e.uid != notices[0].uid for e in store.sync_entries(incident_id))
    # importing again announces nothing new
    a.import_entries(inc.id, b.sync_entries(copy.id), "file")
    assert len([e for e in a.entries(inc.id) if e.origin == "notice"]) == 1


def test_a_change_made_after_seeing_another_wins_whatever_the_wall_clocks(
    tmp_path: Path, clock: FakeClock
):
    fast = FakeClock(clock.now + timedelta(minutes=3))  # alice's laptop runs 3 minutes fast
    a = Store.open(tmp_path / "a.db", clock=fast)
    b = Store.open(tmp_path / "b.db", clock=clock)
    inc = a.declare("x", "SEV-2", "alice")
    a.set_severity(inc.id, "SEV-1", "alice")
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    copy = b.incident_by_gid(inc.gid)
    b.set_severity(copy.id, "SEV-3", "bob")  # after seeing SEV-1, with a clock 3 min behind
    a.import_entries(inc.id, b.sync_entries(copy.id), "file")
    assert a.incident(inc.id).severity == b.incident(copy.id).severity == "SEV-3"
    assert a.conflicts(inc.id) == ()
    events = [e.meta.get("event") for e in a.entries(inc.id) if e.origin == "notice"]
    assert "conflict" not in events  # (bob's entry looks late: his clock is 3 minutes behind)


def test_late_entries_are_announced(tmp_path: Path, clock: FakeClock):
    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    b.import_entries(inc.gid, a.sync_entries(inc.id), "file")
    copy = b.incident_by_gid(inc.gid)
    b.append(copy.id, Kind.NOTE, "written offline", "bob")
    clock.advance(minutes=20)
    a.append(inc.id, Kind.NOTE, "much later", "alice")
    a.import_entries(inc.id, b.sync_entries(copy.id), "slack")
    notices = [e for e in a.entries(inc.id) if e.origin == "notice"]
    assert len(notices) == 1
    assert notices[0].text.startswith("1 entry from bob arrived late, dated ")
    assert notices[0].at == clock.now  # announced now, at the end of the timeline


# ---- the v4 migration ---------------------------------------------------------------------

V3_ENTRIES = [
    # (incident, at, kind, author, text, corrects, meta)
    (1, "2026-01-01T00:00:00.000Z", "system", "alice", "declared SEV-2: old one", None,
     '{"event":"declared","severity":"SEV-2"}'),
    (1, "2026-01-01T00:01:00.000Z", "role", "alice", "commander → alice", None,
     '{"role":"commander","from":"","to":"alice"}'),
    (1, "2026-01-01T00:02:00.000Z", "severity", "bob", "severity SEV-2 → SEV-1", None,
     '{"from":"SEV-2","to":"SEV-1"}'),
    (1, "2026-01-01T00:03:00.000Z", "step", "bob", "step 1 done", None,
     '{"runbook":"api","step":1,"done":true}'),
    (1, "2026-01-01T00:03:00.000Z", "step", "bob", "step 1 undone", None,
     '{"runbook":"api","step":1,"done":false}'),
    (1, "2026-01-01T00:03:00.000Z", "step", "bob", "step 2 done", None,
     '{"runbook":"api","step":2,"done":true}'),
    (1, "2026-01-01T00:04:00.000Z", "system", "bob", "runbook linked: db", None,
     '{"event":"runbook","from":"api","to":"db"}'),
    (1, "2026-01-01T00:05:00.000Z", "note", "bob", "typo", None, None),
    (1, "2026-01-01T00:06:00.000Z", "note", "bob", "fixed", 8, None),
    (1, "2026-01-01T00:30:00.000Z", "escalation", "cockpit", "escalate", None,
     '{"runbook":"api","to":"lead"}'),
    (1, "2026-01-01T00:40:00.000Z", "status", "bob", "status investigating → monitoring", None,
     '{"from":"investigating","to":"monitoring"}'),
    (2, "2026-01-02T00:00:00.000Z", "system", "carol", "declared SEV-3: other", None,
     '{"event":"declared","severity":"SEV-3"}'),
    (2, "2026-01-02T00:00:00.000Z", "note", "carol", "same time as declared", None, None),
]  # fmt: skip


def make_v3(path: Path) -> None:
    import sqlite3

    import sqlite_utils

    from cockpit.store import MIGRATIONS

    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    for migration in MIGRATIONS[:3]:
        migration(db)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO incidents (title, service, severity, status, runbook, declared_at, "
        "impact_started_at, mitigated_at, declared_by) VALUES ('old one', 'checkout', 'SEV-1', "
        "'monitoring', 'db', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', "
        "'2026-01-01T00:40:00.000Z', 'alice')"
    )
    conn.execute(
        "INSERT INTO incidents (title, severity, status, declared_at, impact_started_at, "
        "declared_by) VALUES ('other', 'SEV-3', 'investigating', '2026-01-02T00:00:00.000Z', "
        "'2026-01-02T00:00:00.000Z', 'carol')"
    )
    conn.execute("INSERT INTO roles VALUES (1, 'commander', 'alice', '2026-01-01T00:01:00.000Z')")
    for incident, at, kind, author, text, corrects, meta in V3_ENTRIES:
        conn.execute(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, corrects, meta)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (incident, at, at, kind, author, text, corrects, meta),
        )
    conn.commit()
    conn.close()


def test_migration_gives_every_row_its_ids_and_keeps_the_state(tmp_path: Path, clock: FakeClock):
    path = tmp_path / "v3.db"
    make_v3(path)
    with Store.open(path, clock=clock) as store:
        before = {i.id: i for i in store.incidents()}
        incidents = store.incidents()
        assert all(is_id(i.gid) for i in incidents) and len({i.gid for i in incidents}) == 2
        rows = store.conn.execute("SELECT * FROM entries ORDER BY id").fetchall()
        assert all(is_id(r["uid"]) and r["node"] == store.node for r in rows)
        assert len({r["uid"] for r in rows}) == len(rows) == len(V3_ENTRIES)
        clocks = [parse_hlc(r["hlc"]) for r in rows]
        assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)
        assert rows[8]["corrects_uid"] == rows[7]["uid"]
        assert rows[9]["uid"] == escalation_uid(incidents[1].gid, "api")
        # the timeline keeps its order: (at, hlc, uid) is today's (at, id)
        assert [e.id for e in store.entries(1)] == list(range(1, 12))
        assert [e.id for e in store.entries(2)] == [12, 13]
        # the fold over the migrated entries gives the state the row holds
        for incident in incidents:
            state = store.sync_state(incident.id)
            assert state.severity == incident.severity
            assert state.status == incident.status
            assert state.runbook == incident.runbook
            assert state.title == incident.title and state.service == incident.service
            assert dict(state.roles) == dict(incident.roles)
            assert state.declared_at == incident.declared_at
        assert store.sync_state(1).ticked_steps("api") == frozenset({2})
        assert store.sync_state(1).mitigated_at == before[1].mitigated_at
        declared = store.sync_entries(1)[0]
        assert dict(declared.meta) == {
            "event": "declared", "severity": "SEV-2", "title": "old one",
            "service": "checkout", "runbook": "api",
        }  # fmt: skip
        # the changes chain: each records the write it replaced
        by_text = {e.text: e for e in store.sync_entries(1)}
        assert by_text["severity SEV-2 → SEV-1"].supersedes == declared.uid
        assert by_text["step 1 undone"].supersedes == by_text["step 1 done"].uid
        # still append-only afterwards
        with pytest.raises(sqlite3_error()):
            store.conn.execute("UPDATE entries SET text = 'x' WHERE id = 1")
        # and a new write carries on the clock
        entry = store.append(1, Kind.NOTE, "after the upgrade", "alice")
        assert parse_hlc(entry.hlc) > clocks[-1]


def test_migrated_database_exports_what_a_fresh_one_imports(tmp_path: Path, clock: FakeClock):
    path = tmp_path / "v3.db"
    make_v3(path)
    with Store.open(path, clock=clock) as old, Store.open(tmp_path / "new.db", clock=clock) as new:
        incident = old.incident(1)
        new.import_entries(incident.gid, old.sync_entries(1), "file")
        copy = new.incident_by_gid(incident.gid)
        for name in ("title", "service", "severity", "status", "runbook", "mitigated_at"):
            assert getattr(copy, name) == getattr(incident, name), name
        assert dict(copy.roles) == dict(incident.roles)


def sqlite3_error() -> type[Exception]:
    import sqlite3

    return sqlite3.IntegrityError


def test_entries_dated_outside_the_stored_range_are_refused(tmp_path: Path, clock: FakeClock):
    from dataclasses import replace

    from cockpit.domain import EARLIEST

    a, b = two(tmp_path, clock)
    inc = a.declare("x", "SEV-2", "alice")
    entries = a.sync_entries(inc.id)
    for name in ("at", "written_at"):
        bad = replace(entries[0], **{name: EARLIEST - timedelta(days=1)})
        with pytest.raises(StoreError, match="nothing was imported"):
            b.import_entries(inc.gid, [bad], "slack")
    assert b.incidents() == []


def test_export_then_import_across_two_databases_through_the_cli(tmp_path: Path):
    import json

    from tests.conftest import run_cli

    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for args in (
        ("declare", "Checkout down", "-s", "SEV-2", "--service", "checkout"),
        ("log", 'rolled back <api> & "v142" 😀\nsecond line'),
        ("severity", "SEV-1"),
        ("assign", "commander", "alice"),
        ("status", "monitoring"),
    ):
        done = run_cli(*args, db=a)
        assert done.returncode == 0, done.stderr
    sync_file = tmp_path / "inc.jsonl"
    done = run_cli("sync", "export", "-o", str(sync_file), db=a)
    assert done.returncode == 0, done.stderr
    for expected in ("INC-1: 5 new entries imported, 0 already here",
                     "INC-1: 0 new entries imported, 5 already here"):  # fmt: skip
        done = run_cli("sync", "import", str(sync_file), db=b)
        assert (done.returncode, done.stdout.strip()) == (0, expected), done.stderr

    def shown(db: Path) -> dict[str, object]:
        data = json.loads(run_cli("show", "--json", db=db).stdout)
        for entry in data["entries"]:
            del entry["origin"]
        return {k: v for k, v in data.items() if k not in ("next_update_due", "update_overdue",
                                                           "sync", "deliveries")}  # fmt: skip

    assert shown(a) == shown(b)
    sync = json.loads(run_cli("show", "--json", db=b).stdout)["sync"]
    assert (sync["pending"], sync["last_read_at"]) == (0, None)
    assert [peer["names"] for peer in sync["peers"]] == [[shown(a)["entries"][0]["author"]]]
    assert json.loads(run_cli("show", "--json", db=a).stdout)["sync"]["peers"] == []
    # what b exports, a already has
    done = run_cli("sync", "export", db=b)
    done = run_cli("sync", "import", "-", db=a, input=done.stdout)
    assert done.stdout.strip() == "INC-1: 0 new entries imported, 5 already here"
    # a line that is not a sync payload refuses the whole file
    (tmp_path / "bad.jsonl").write_text(sync_file.read_text() + "not json\n")
    done = run_cli("sync", "import", str(tmp_path / "bad.jsonl"), db=tmp_path / "c.db")
    assert (
        done.returncode == 2 and "line 6" in done.stderr and "nothing was imported" in done.stderr
    )
