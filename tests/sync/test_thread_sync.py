"""The Slack side of team sync against the fake Slack, each laptop a store of its own:
roots, batches with metadata, paging, joining, people's and bots' messages, edits, deletions,
names, Retry-After, outages, posts that landed although they failed, and the fake's rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.comms.slack_thread import SlackFailure, SlackThreadApi
from cockpit.comms.sync import ThreadSync
from cockpit.comms.sync_messages import NotACockpitThread
from cockpit.config import SlackConfig
from cockpit.domain import Kind, Status, system_clock
from cockpit.store import Store
from cockpit.sync.permalink import parse_permalink
from cockpit.sync.wire import decode
from tests.fakes.server import Drop, Reply
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-fake-0123456789-secrettoken"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(token=TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def laptops(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    opened: list[Store] = []

    def make(name: str) -> Store:
        store = Store.open(tmp_path / f"{name}.db")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


async def _no_sleep(_: float) -> None:
    return None


def syncer(slack: FakeSlack, http: httpx.AsyncClient, store: Store, **kw: Any) -> ThreadSync:
    config = SlackConfig(
        token=TOKEN, channel="C0INCIDENT", api_url=slack.api_url, timeout_seconds=2
    )
    api = SlackThreadApi(config, http, system_clock)
    kw.setdefault("sleep", _no_sleep)
    kw.setdefault("doubt_settle", timedelta(0))
    return ThreadSync(store, api, "C0INCIDENT", **kw)


def later(minutes: float) -> Callable[[], datetime]:
    return lambda: system_clock() + timedelta(minutes=minutes)


def declared(store: Store, title: str = "API down") -> int:
    return store.declare(title, "SEV-2", "alice", service="api").id


def root_of(store: Store, incident: int) -> str:
    thread = store.thread_for(incident)
    assert thread is not None
    return thread.root_ts


async def join(
    slack: FakeSlack, http: httpx.AsyncClient, alice: Store, incident: int, bob: Store
) -> int:
    link = alice.thread_for(incident).permalink  # type: ignore[union-attr]
    assert link
    joined, _ = await syncer(slack, http, bob).join(parse_permalink(link), link)
    return joined.id


def uids(store: Store, incident: int) -> set[str]:
    return {e.uid for e in store.sync_entries(incident)}


def echoed_uids(slack: FakeSlack, root: str) -> list[str]:
    found = []
    for message in slack.thread(root):
        if "metadata" in message and message["metadata"]["event_type"].startswith("cockpit_"):
            found += [w.entry.uid for w in decode(message["metadata"]).entries]
    return found


async def test_declaring_posts_the_root_with_the_declared_entry(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice, "Checkout <errors> & more")
    sync = syncer(slack, http, alice)
    done = await sync.round(incident)
    assert done.failure is None
    (root,) = slack.roots()
    received = decode(root["metadata"])
    assert (
        received.event_type == "cockpit_incident" and received.gid == alice.incident(incident).gid
    )
    assert received.ref == "INC-1"
    assert "&lt;errors&gt; &amp; more" in root["text"]
    thread = alice.thread_for(incident)
    assert thread is not None and thread.root_ts == root["ts"]
    assert parse_permalink(thread.permalink or "").root_ts == root["ts"]
    assert alice.unsent_entries(incident) == []


async def test_entries_go_as_one_batch_and_come_back_on_the_other_laptop(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    incident = declared(alice)
    a = syncer(slack, http, alice)
    await a.round(incident)
    written = [alice.append(incident, Kind.NOTE, f"note {n}\n<&>😀", "alice") for n in range(5)]
    status = alice.set_status(incident, Status.IDENTIFIED, "alice")
    assert status is not None
    written.append(status)
    done = await a.round(incident)
    assert done.sent == 6
    replies = slack.replies(root_of(alice, incident))
    assert len(replies) == 1  # one message for the burst
    assert replies[0]["metadata"]["event_type"] == "cockpit_entries"
    bob_id = await join(slack, http, alice, incident, bob)
    b = syncer(slack, http, bob)
    await b.round(bob_id, full=True)
    assert uids(bob, bob_id) == uids(alice, incident)
    assert bob.incident(bob_id).status is Status.IDENTIFIED
    assert {e.text for e in written} <= {e.text for e in bob.sync_entries(bob_id)}
    # Reading again changes nothing.
    again = await b.round(bob_id, full=True)
    assert again.imported == [] and again.sent == 0


async def test_a_post_stored_then_500_is_not_posted_twice(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    await sync.round(incident)
    alice.append(incident, Kind.NOTE, "rolled back", "alice")
    slack.script(
        "chat.postMessage",
        Reply(500, "<html>oops</html>", {"Content-Type": "text/html"}, commit=True),
    )
    first = await sync.round(incident)
    assert first.failure is not None and first.failure.maybe_landed
    assert len(alice.unsent_entries(incident)) == 1
    second = await sync.round(incident)
    assert second.failure is None and second.sent == 0
    assert alice.unsent_entries(incident) == []
    root = root_of(alice, incident)
    assert sorted(echoed_uids(slack, root)) == sorted(set(echoed_uids(slack, root)))


async def test_a_root_that_landed_unanswered_is_found_not_posted_again(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    slack.script("chat.postMessage", Drop(commit=True))
    first = await sync.round(incident)
    assert first.failure is not None and first.failure.maybe_landed
    await sync.round(incident)
    assert len(slack.roots()) == 1
    assert root_of(alice, incident) == slack.roots()[0]["ts"]


async def test_people_and_bots_become_notes_and_external_entries_with_names(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    await sync.round(incident)
    root = root_of(alice, incident)
    slack.add_user("U0DAVE", "dave")
    slack.add_user("U0ERIN", "erin")
    said = slack.say(
        "U0DAVE", "rolled back &lt;v142&gt; for <@U0ERIN>, see <https://x.io|the graph>", root
    )
    slack.bot_says("Datadog", "[Triggered] error rate > 2%", root)
    slack.bot_says("Datadog", "SEV-1 please", root)  # only text: never a severity change
    await sync.round(incident)
    entries = {e.text: e for e in alice.sync_entries(incident)}
    note = entries["rolled back <v142> for @erin, see the graph (https://x.io)"]
    assert note.kind is Kind.NOTE and note.author == "dave"
    assert note.at.timestamp() == pytest.approx(float(said["ts"]), abs=0.001)
    alert = entries["[Triggered] error rate > 2%"]
    assert alert.kind is Kind.EXTERNAL and alert.author == "Datadog"
    assert alice.incident(incident).severity == "SEV-2"
    # users.info is asked once per person, not once per read.
    await sync.round(incident)
    assert len(slack.calls("users.info")) == 2


async def test_an_edit_is_a_correction_and_a_late_joiner_ends_with_the_same_entries(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    incident = declared(alice)
    a = syncer(slack, http, alice)
    await a.round(incident)
    root = root_of(alice, incident)
    slack.add_user("U0DAVE", "dave")
    said = slack.say("U0DAVE", "db is fine", root)
    await a.round(incident)
    slack.edit(said["ts"], "db is NOT fine")
    await a.round(incident, full=True)
    texts = [
        (e.text, e.corrects_uid is not None)
        for e in alice.sync_entries(incident)
        if e.author == "dave"
    ]
    assert ("db is fine", False) in texts and ("db is NOT fine", True) in texts
    bob_id = await join(slack, http, alice, incident, bob)
    await syncer(slack, http, bob).round(bob_id, full=True)
    assert uids(bob, bob_id) == uids(alice, incident)


async def test_a_deleted_message_becomes_a_correction_everywhere(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    incident = declared(alice)
    await syncer(slack, http, alice).round(incident)
    root = root_of(alice, incident)
    slack.add_user("U0DAVE", "dave")
    said = slack.say("U0DAVE", "wrong channel, sorry", root)
    kept = slack.say("U0DAVE", "this one stays", root)
    bob_id = await join(slack, http, alice, incident, bob)
    await syncer(slack, http, alice).round(incident)
    await syncer(slack, http, bob).round(bob_id)
    slack.delete(said["ts"])
    # A whole read two minutes on: too old for visibility lag to explain its absence.
    for ledger, number in ((alice, incident), (bob, bob_id)):
        rescan = syncer(slack, http, ledger, clock=later(2))
        await rescan.round(number, full=True)
        deleted = [e for e in ledger.sync_entries(number) if e.meta.get("event") == "deleted"]
        assert [e.meta["ts"] for e in deleted] == [said["ts"]]
    assert uids(alice, incident) == uids(bob, bob_id)
    # Just posted and not visible yet is not deleted.
    slack.visibility_lag = 3600.0
    slack.say("U0DAVE", "not visible yet", root)
    await syncer(slack, http, alice).round(incident, full=True)
    assert kept["ts"] not in [
        e.meta.get("ts") for e in alice.sync_entries(incident) if e.meta.get("event") == "deleted"
    ]


async def test_a_tombstoned_root_reply_is_read_as_a_deletion(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    await sync.round(incident)
    root = root_of(alice, incident)
    slack.add_user("U0DAVE", "dave")
    said = slack.say("U0DAVE", "oops", root)
    await sync.round(incident)
    slack.delete(said["ts"], tombstone=True)
    await sync.round(incident, full=True)
    deleted = [e for e in alice.sync_entries(incident) if e.meta.get("event") == "deleted"]
    assert [e.meta["ts"] for e in deleted] == [said["ts"]]


async def test_retry_after_is_honoured_and_shown(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    await sync.round(incident)
    slack.script(
        "conversations.replies",
        Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "40"}),
    )
    first = await sync.round(incident)
    assert first.failure is not None and first.failure.after == 40
    calls = len(slack.calls("conversations.replies"))
    second = await sync.round(incident)
    assert second.failure is not None
    assert len(slack.calls("conversations.replies")) == calls  # waited: no call at all
    status = sync.status(incident)
    assert status.state == "offline" and "internal app" in (status.reason or "")


async def test_an_outage_keeps_entries_waiting_and_they_go_after_it(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    await sync.round(incident)
    slack.outage(3600)
    for n in range(3):
        alice.append(incident, Kind.NOTE, f"still working {n}", "alice")
    done = await sync.round(incident)
    assert done.failure is not None
    status = sync.status(incident)
    assert status.state == "offline" and status.pending == 3
    assert status.describe().startswith("offline since ")
    slack.restore()
    done = await sync.round(incident)
    assert done.failure is None and done.sent == 3
    assert sync.status(incident).describe() == "live"


async def test_own_echo_deleted_in_slack_is_sent_again_on_a_whole_read(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice, full_scan_every=timedelta(hours=1))
    await sync.round(incident)
    written = alice.append(incident, Kind.ACTION, "restarted the pool", "alice")
    entry = next(e for e in alice.sync_entries(incident) if e.text == written.text)
    await sync.round(incident)
    root = root_of(alice, incident)
    echo = slack.replies(root)[-1]
    slack.delete(echo["ts"])
    # A whole read later than visibility lag could explain.
    rescan = syncer(slack, http, alice, clock=later(2))
    await rescan.round(incident, full=True)
    assert entry.uid in echoed_uids(slack, root)


async def test_metadata_too_large_splits_the_batch(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice = laptops("alice")
    incident = declared(alice)
    sync = syncer(slack, http, alice)
    await sync.round(incident)
    slack.metadata_cap_bytes = 3000
    for n in range(6):
        alice.append(incident, Kind.NOTE, f"{n}" * 700, "alice")
    done = await sync.round(incident)
    assert done.failure is None and done.sent == 6
    assert len(slack.replies(root_of(alice, incident))) > 1


async def test_a_missing_scope_is_one_line_naming_it(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    slack.scopes = ("chat:write",)
    config = SlackConfig(token=TOKEN, channel="C0INCIDENT", api_url=slack.api_url)
    identity = await SlackThreadApi(config, http, system_clock).identity()
    assert identity.missing_scopes() == [
        "channels:history",
        "groups:history",
        "users:read",
    ]


async def test_dropped_metadata_is_never_counted_as_sent(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    config = SlackConfig(token=TOKEN, channel="C0INCIDENT", api_url=slack.api_url)
    api = SlackThreadApi(config, http, system_clock)
    with pytest.raises(SlackFailure, match="dropped its metadata"):
        await api.post("C0INCIDENT", "x", {"event_type": "bad type!", "event_payload": {}})


# ---- the fake's own rules ------------------------------------------------------------------


def _get(slack: FakeSlack, method: str, **query: str) -> dict[str, Any]:
    response = httpx.get(
        f"{slack.api_url}/{method}", params=query, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return {"status": response.status_code, **response.json(), "headers": dict(response.headers)}


def _post(slack: FakeSlack, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{slack.api_url}/chat.postMessage",
        json=body,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    return {"status": response.status_code, **response.json()}


def test_fake_replies_honour_oldest_latest_and_inclusive(slack: FakeSlack) -> None:
    root = _post(slack, channel="C0INCIDENT", text="root")["ts"]
    ts = [_post(slack, channel="C0INCIDENT", text=f"r{n}", thread_ts=root)["ts"] for n in range(4)]
    got = _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root, oldest=ts[1])
    assert [m["ts"] for m in got["messages"]] == [root, ts[2], ts[3]]
    got = _get(
        slack,
        "conversations.replies",
        channel="C0INCIDENT",
        ts=root,
        oldest=ts[1],
        latest=ts[2],
        inclusive="true",
    )
    assert [m["ts"] for m in got["messages"]] == [root, ts[1], ts[2]]
    slack.root_outside_range = False
    got = _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root, oldest=ts[1])
    assert [m["ts"] for m in got["messages"]] == [ts[2], ts[3]]


def test_fake_read_budget_is_shared_and_answers_retry_after(slack: FakeSlack) -> None:
    slack.read_limits = {"conversations.replies": 2}
    root = _post(slack, channel="C0INCIDENT", text="root")["ts"]
    for _ in range(2):
        assert _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root)["ok"]
    third = _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root)
    assert third["status"] == 429 and 1 <= int(third["headers"]["retry-after"]) <= 60


def test_fake_non_marketplace_mode_reads_once_a_minute_fifteen_a_page(slack: FakeSlack) -> None:
    slack.non_marketplace = True
    root = _post(slack, channel="C0INCIDENT", text="root")["ts"]
    for n in range(20):
        _post(slack, channel="C0INCIDENT", text=f"r{n}", thread_ts=root)
    first = _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root, limit="200")
    assert len(first["messages"]) == 15 and first["has_more"]
    assert _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root)["status"] == 429


def test_fake_metadata_rules(slack: FakeSlack) -> None:
    nested = _post(
        slack,
        channel="C0INCIDENT",
        text="x",
        metadata={"event_type": "a", "event_payload": {"a": {"b": {"c": 1}}}},
    )
    assert nested["error"] == "invalid_metadata_format"
    bad_type = _post(
        slack, channel="C0INCIDENT", text="x", metadata={"event_type": "a.b", "event_payload": {}}
    )
    assert bad_type["ok"] and bad_type["response_metadata"]["warnings"] == [
        "invalid_metadata_schema"
    ]
    assert "metadata" not in slack.messages["C0INCIDENT"][-1]
    slack.metadata_cap_bytes = 100
    big = _post(
        slack,
        channel="C0INCIDENT",
        text="x",
        metadata={"event_type": "a", "event_payload": {"t": "x" * 200}},
    )
    assert big["error"] == "metadata_too_large"


def test_fake_visibility_lag_hides_new_messages_for_a_while(slack: FakeSlack) -> None:
    root = _post(slack, channel="C0INCIDENT", text="root")["ts"]
    slack.visibility_lag = 3600.0
    slack.rng.seed(1)
    _post(slack, channel="C0INCIDENT", text="late", thread_ts=root)
    got = _get(slack, "conversations.replies", channel="C0INCIDENT", ts=root)
    assert [m["ts"] for m in got["messages"]] == [root]


def test_fake_outage_refuses_everything_then_ends(slack: FakeSlack) -> None:
    slack.outage(3600)
    assert (
        httpx.get(
            f"{slack.api_url}/auth.test", headers={"Authorization": f"Bearer {TOKEN}"}
        ).status_code
        == 503
    )
    slack.restore()
    assert _get(slack, "auth.test")["ok"]


def test_fake_permalink_and_users_info(slack: FakeSlack) -> None:
    root = _post(slack, channel="C0INCIDENT", text="root")["ts"]
    reply = _post(slack, channel="C0INCIDENT", text="r", thread_ts=root)["ts"]
    link = _get(slack, "chat.getPermalink", channel="C0INCIDENT", message_ts=reply)["permalink"]
    assert parse_permalink(link).root_ts == root
    slack.add_user("U0DAVE", "dave", "Dave Doe")
    assert _get(slack, "users.info", user="U0DAVE")["user"]["profile"]["display_name"] == "dave"
    assert _get(slack, "users.info", user="U0NOBODY")["error"] == "user_not_found"


async def test_joining_a_thread_that_is_not_a_cockpit_incident_is_refused(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    bob = laptops("bob")
    sync = syncer(slack, http, bob)
    slack.add_user("U0DAVE", "dave")
    person = slack.say("U0DAVE", "not an incident", None)
    other_bot = slack.bot_says("Datadog", "alert", None)
    other_bot["metadata"] = {"event_type": "cockpit_incident", "event_payload": {}}
    ours = _post(slack, channel="C0INCIDENT", text="a plain post")
    for ts, words in (
        (person["ts"], "not a cockpit incident"),
        (other_bot["ts"], "another Slack app"),
        (ours["ts"], "not a cockpit incident"),
        ("1700000000.000100", "not in Slack"),
    ):
        link = f"https://fake-team.slack.com/archives/C0INCIDENT/p{ts.replace('.', '')}"
        with pytest.raises(NotACockpitThread, match=words):
            await sync.join(parse_permalink(link), link)
    assert bob.incidents() == []


async def test_bob_publishes_into_alices_thread_not_a_new_root(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store]
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    incident = declared(alice)
    await syncer(slack, http, alice).round(incident)
    bob_id = await join(slack, http, alice, incident, bob)
    assert bob.remote_ref(bob_id, "slack", "root_ts:C0INCIDENT") == root_of(alice, incident)
