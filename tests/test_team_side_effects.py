"""Side effects once, with three cockpit processes (alice, bob, carol) sharing one incident
through a fake Slack, each also configured with the same fake Statuspage and fake PagerDuty:
updates published from three laptops make one status-page incident, one page (resolved by the
laptop that resolved), every uid once in the thread, and the newest status standing on the
status page even though an older update was delivered last."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from cockpit.store import Store, StoreError
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage
from tests.fakes.team import Laptop, permalink, settled, shared_view, thread_uids, wait_for
from tests.fakes.wiring import pagerduty_table, secrets_env, service_secrets_env, statuspage_table

# Generous: a loaded two-core machine starts a cockpit process in about a second.
SETTLE = 120.0


@pytest.fixture
def services() -> Iterator[tuple[FakeSlack, FakeStatuspage, FakePagerDuty]]:
    fakes = (FakeSlack(rate_per_second=1.0, visibility_lag=0.3), FakeStatuspage(), FakePagerDuty())
    for fake in fakes:
        fake.start()
    yield fakes
    for fake in fakes:
        fake.stop()


@pytest.fixture
def team(
    tmp_path: Path, services: tuple[FakeSlack, FakeStatuspage, FakePagerDuty]
) -> Iterator[dict[str, Laptop]]:
    slack, page, pager = services
    # Bob's clock runs ahead of carol's: his later update is the newer one by any clock.
    laptops = {
        "alice": Laptop("alice", tmp_path / "alice", slack, skew=-90),
        "bob": Laptop("bob", tmp_path / "bob", slack, skew=90),
        "carol": Laptop("carol", tmp_path / "carol", slack),
    }
    tables = {
        "statuspage": statuspage_table(page, timeout=3.0),
        "pagerduty": pagerduty_table(pager, timeout=3.0),
    }
    for laptop in laptops.values():
        laptop.config.write_text(laptop.config.read_text() + "\n" + tomli_w.dumps(tables))
        laptop.env.update(secrets_env(statuspage=page))
        laptop.env.update(service_secrets_env(pagerduty=pager))
    yield laptops
    for laptop in laptops.values():
        laptop.kill()


def shown(laptop: Laptop) -> dict[str, Any]:
    """`cockpit show --json` of the (one) incident, open or resolved."""
    data: dict[str, Any] = json.loads(ok(laptop, "show", "INC-1", "--json"))
    return data


def status(laptop: Laptop, gid: str) -> str | None:
    """The incident's status as the laptop's database holds it (read in this process)."""
    try:
        with Store.open(laptop.db, read_only=True) as store:
            return store.incident_by_gid(gid).status.value
    except StoreError:
        return None


def ok(laptop: Laptop, *args: str) -> str:
    done = laptop.cli(*args)
    assert done.returncode == 0, f"{laptop.name} {args}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_updates_from_three_laptops_make_one_status_page_incident_and_one_page(
    services: tuple[FakeSlack, FakeStatuspage, FakePagerDuty], team: dict[str, Laptop]
) -> None:
    slack, page, pager = services
    alice, bob, carol = team["alice"], team["bob"], team["carol"]
    ok(alice, "declare", "Checkout down", "--severity", "SEV-1", "--service", "api")
    alice.follow()
    wait_for(lambda: len(slack.roots()) == 1, SETTLE, "alice's root in the thread")
    for laptop in (bob, carol):
        ok(laptop, "join", permalink(slack))
        laptop.follow()

    ok(alice, "update", "-m", "Investigating checkout errors.", "--status", "identified")
    ok(alice, "deliver", "--wait", "60")
    (alert,) = pager.alerts
    (created,) = page.incidents.values()
    gid = shown(alice)["gid"]
    assert alert["dedup_key"] == gid

    # Carol publishes while her delivery is held (she runs `deliver` only later) ...
    ok(carol, "update", "-m", "A bad deploy; rolling back.", "--status", "monitoring")
    # ... and bob publishes the resolution, which goes out at once.
    ok(bob, "update", "-m", "Rolled back; checkout is healthy.", "--status", "resolved")
    ok(bob, "deliver", "--wait", "60")
    assert created["status"] == "resolved" and alert["status"] == "resolved"
    wait_for(
        # `shown` is a process: asked once carol's database holds the resolution.
        lambda: status(carol, gid) == "resolved" and shown(carol)["status"] == "resolved",
        SETTLE,
        "carol hears of bob's",
    )
    # Carol's older update goes out last: Slack gets it as history, the status page does not.
    ok(carol, "deliver", "--wait", "60")

    def converged() -> bool:
        # Each `shown` is a process: asked only once the databases hold the same entries.
        if not settled((alice, bob, carol), gid):
            return False
        shows = [shown(laptop) for laptop in (alice, bob, carol)]
        views = [shared_view(show) for show in shows]
        return all(v == views[0] for v in views) and all(s["sync"]["pending"] == 0 for s in shows)

    try:
        wait_for(converged, SETTLE, "the three laptops agree", every=0.25)
    except AssertionError:
        shows = [shown(laptop) for laptop in (alice, bob, carol)]
        views = [shared_view(show) for show in shows]
        differ = {k: [v[k] for v in views] for k in views[0] if len({str(v[k]) for v in views}) > 1}
        pending = [show["sync"] for show in shows]
        raise AssertionError(f"the laptops disagree: {differ}; sync: {pending}") from None
    shows = [shown(laptop) for laptop in (alice, bob, carol)]
    assert shows[0]["status"] == "resolved"
    assert list(page.incidents.values()) == [created]  # one status-page incident ...
    assert created["status"] == "resolved"  # ... showing the newest status
    assert len(created["incident_updates"]) == 2  # alice's and bob's; carol's was older
    assert len(pager.alerts) == 1 and alert["status"] == "resolved"  # one page, resolved
    counts = Counter(thread_uids(slack))
    assert [uid for uid, n in counts.items() if n > 1] == []
    updates = [e["uid"] for e in shows[0]["entries"] if e["kind"] == "update"]
    assert len(updates) == 3 and all(counts[uid] == 1 for uid in updates)
    replies = _update_replies(slack)
    assert sorted(replies) == sorted(updates)  # each update is its Slack reply, nothing else
    with Store.open(carol.db) as store:
        held = [d.state for d in store.deliveries() if d.target == "statuspage"]
    assert held == ["superseded"]


def _update_replies(slack: FakeSlack) -> list[str]:
    """The uids carried by the thread's update replies (the messages people read)."""
    (root,) = slack.roots()
    found = []
    for message in slack.thread(root["ts"]):
        payload = message.get("metadata", {}).get("event_payload", {})
        if payload.get("part") == "reply":
            found.append(payload["uid"])
    return found
