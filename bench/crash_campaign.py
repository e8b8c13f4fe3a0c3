"""Crash campaign: a process that appends, publishes and delivers is SIGKILLed at random moments.

Run: .venv/bin/python bench/crash_campaign.py [--kills 200] [--duration 900] [--seed N]
                                             [--flaky 0.1] [--json]

The writer appends notes and now and then publishes a status update (`cockpit.comms.publish`),
printing each id, flushed, only after the call returned; a delivery worker in the same process
sends the updates to a fake Slack (bot mode) and a fake Statuspage on 127.0.0.1, which fail a
share of requests (`--flaky`: 500s, 429s, hangs, answers lost after the work was done). The
writer is killed with SIGKILL after a random delay, again and again. After every kill:
`PRAGMA integrity_check` is ok and every confirmed entry is there, with its text. After the
last kill a fresh worker drains the outbox (a restart; its clock jumps a day ahead so backoffs
are due at once) and the fakes are counted: every publication must be there exactly once (Slack
messages by their metadata delivery key, Statuspage updates by their unique text).

Prints kills, entries confirmed, entries lost, deliveries duplicated; exits 1 unless lost and
duplicated (and missing, and failed integrity checks) are all zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN_ENV = "CRASH_SLACK_TOKEN"
KEY_ENV = "CRASH_STATUSPAGE_KEY"
CHANNEL = "C0INCIDENT"
PUBLISH_SHARE = 0.04
"""Share of the writer's operations that publish a status update (the rest append notes)."""
PACE_SECONDS = 0.01
"""Most the writer waits between two operations (uniformly drawn)."""
STARTUP_SHARE = 0.2
"""Share of kills aimed at start-up (imports, opening, migrations); the rest at work."""


def tables(slack_api: str, page_api: str, page_id: str, components: list[str]) -> dict[str, Any]:
    return {
        "user": {"name": "writer"},
        "slack": {
            "token_env": TOKEN_ENV,
            "channel": CHANNEL,
            "api_url": slack_api,
            "timeout_seconds": 0.5,
        },
        "statuspage": {
            "page_id": page_id,
            "api_key_env": KEY_ENV,
            "api_url": page_api,
            "component_ids": components,
            "timeout_seconds": 0.5,
        },
    }


# ---- the writer (a child process, killed at random) ----------------------------------------


def writer(db: Path, config_json: str, out: Path, run: int, seed: int) -> None:  # pragma: no cover
    from cockpit.comms.publish import publish
    from cockpit.comms.worker import DeliveryWorker
    from cockpit.config import config_from_dict
    from cockpit.domain import Kind
    from cockpit.store import Store

    config = config_from_dict(json.loads(config_json))
    rng = random.Random(seed)
    confirmed = out.open("a", encoding="utf-8")

    def deliver() -> None:
        with Store.open(db) as own:  # one connection per thread
            asyncio.run(DeliveryWorker(own, config, poll_seconds=0.05).run())

    with Store.open(db) as store:
        open_ones = store.incidents(open_only=True)
        incident = open_ones[0] if open_ones else None
        if incident is None:
            incident = store.declare("Checkout API errors", "SEV-1", "writer", service="checkout")
        threading.Thread(target=deliver, daemon=True).start()
        confirmed.write("R 0 running\n")  # for the parent: from now on it appends
        confirmed.flush()
        seq = 0
        while True:
            seq += 1
            if rng.random() < PUBLISH_SHARE:
                text = f"Update r{run} n{seq}: still investigating the checkout errors."
                entry = publish(store, config, incident.id, text, None, "writer", store.now)
                kind = "P"
            else:
                text = f"note r{run} n{seq}"
                entry = store.append(incident.id, Kind.NOTE, text, "writer")
                kind = "E"
            confirmed.write(f"{kind} {entry.id} {text}\n")
            confirmed.flush()  # only now is it confirmed; the kill may come any moment
            # A fast typist or a chatty script, not a loop that would starve the worker of
            # the write lock (SQLite's busy handler backs off while this one takes it again).
            time.sleep(rng.uniform(0.0, PACE_SECONDS))


# ---- the campaign -----------------------------------------------------------------------------


@dataclass
class Figures:
    kills: int = 0
    seconds: float = 0.0
    kills_at_startup: int = 0
    kills_mid_delivery: int = 0
    entries_confirmed: int = 0
    updates_confirmed: int = 0
    entries_lost: int = 0
    integrity_failures: int = 0
    publications: int = 0
    publications_without_deliveries: int = 0
    deliveries: int = 0
    deliveries_checked_in_doubt: int = 0
    lookups_before_retrying: int = 0
    deliveries_duplicated: int = 0
    deliveries_missing: int = 0
    deliveries_not_sent: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.entries_lost
            or self.integrity_failures
            or self.deliveries_duplicated
            or self.deliveries_missing
            or self.deliveries_not_sent
            or self.publications_without_deliveries
        )


def read_confirmed(out: Path) -> dict[int, tuple[str, str]]:
    """Entry id -> (kind, text) for every complete line the writer flushed."""
    found: dict[int, tuple[str, str]] = {}
    if not out.exists():
        return found
    for line in out.read_text(encoding="utf-8").split("\n")[:-1]:  # the last may be cut off
        kind, entry_id, text = line.split(" ", 2)
        if kind in ("E", "P"):
            found[int(entry_id)] = (kind, text)
    return found


def check_store(db: Path, confirmed: dict[int, tuple[str, str]], figures: Figures) -> set[int]:
    """After a kill: the file is sound; the confirmed entries missing or changed (ids)."""
    if not db.exists():
        return set(confirmed)
    conn = sqlite3.connect(db)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            figures.integrity_failures += 1
            figures.problems.append(f"integrity_check after kill {figures.kills}: {verdict}")
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        stored = dict(conn.execute("SELECT id, text FROM entries")) if "entries" in names else {}
        if (
            "deliveries" in names
            and conn.execute("SELECT 1 FROM deliveries WHERE state = 'sending'").fetchone()
        ):
            figures.kills_mid_delivery += 1
    finally:
        conn.close()
    lost = {entry_id for entry_id, (_, text) in confirmed.items() if stored.get(entry_id) != text}
    for entry_id in sorted(lost)[:5]:
        figures.problems.append(f"confirmed entry #{entry_id} {confirmed[entry_id][1]!r} lost")
    return lost


def one_run(
    db: Path, config_json: str, out: Path, run: int, rng: random.Random, env: dict[str, str]
) -> bool:
    """Start the writer, kill it with SIGKILL after a random delay, reap it; whether the kill
    was aimed at its start-up."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--writer", str(db), config_json, str(out), str(run)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    at_startup = rng.random() < STARTUP_SHARE
    if at_startup:  # while importing, opening, migrating or declaring
        time.sleep(rng.uniform(0.0, 0.6))
    else:  # while appending, publishing and delivering
        running = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < running:
            if out.exists() and out.stat().st_size:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.8))
    if proc.poll() is not None:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"writer exited by itself ({proc.returncode}): {err[-2000:]}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()  # reaped: its pid is gone, so its claims are taken over at once
    if proc.stderr:
        proc.stderr.close()
    return at_startup


def final_drain(db: Path, config_json: str) -> int:
    """A restart: a fresh worker drains the outbox; returns how many were in doubt."""
    from cockpit.comms.outbox import DOUBT_KEY
    from cockpit.comms.worker import DeliveryWorker
    from cockpit.config import config_from_dict
    from cockpit.store import Store

    now = [datetime.now(UTC) + timedelta(days=1)]  # every backoff and lease is over

    def clock() -> datetime:
        return now[0]

    async def sleep(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    config = config_from_dict(json.loads(config_json))
    with Store.open(db, clock=clock) as store:
        doubted = sum(
            1
            for d in store.deliveries()
            if d.state == "sending" or (d.state != "sent" and d.payload.get(DOUBT_KEY))
        )
        worker = DeliveryWorker(store, config, clock=clock, sleep=sleep, poll_seconds=0.05)
        asyncio.run(worker.run(until_idle=True, budget=3600))
    return doubted


def count_at_fakes(db: Path, slack: Any, page: Any, figures: Figures) -> None:
    """Every publication exactly once at each service, counted by what the service holds."""
    from cockpit.domain import Kind
    from cockpit.store import Store

    with Store.open(db) as store:
        incidents = store.incidents()
        publications = [e for i in incidents for e in store.entries(i.id, kinds=[Kind.UPDATE])]
        deliveries = store.deliveries()
    figures.publications = len(publications)
    # Reads that only happen when an attempt may have landed: the duplicate checks at work.
    figures.lookups_before_retrying = sum(
        len(fake.calls(route))
        for fake, route in [
            (slack, "conversations.history"),
            (slack, "conversations.replies"),
            (page, "get"),
            (page, "unresolved"),
            (page, "list"),
        ]
    )
    figures.deliveries = len(deliveries)
    figures.deliveries_not_sent = sum(d.state != "sent" for d in deliveries)
    for d in deliveries:
        if d.state != "sent":
            figures.problems.append(f"delivery #{d.id} to {d.target} {d.state}: {d.last_error}")
    by_entry = Counter((d.entry_id, d.target) for d in deliveries)
    for entry in publications:
        if by_entry[(entry.id, "slack")] != 1 or by_entry[(entry.id, "statuspage")] != 1:
            figures.publications_without_deliveries += 1

    # Slack: the root once per incident, each delivery's reply once (metadata delivery key).
    tags = Counter()
    for message in slack.messages[CHANNEL]:
        tag = (message.get("metadata") or {}).get("event_payload") or {}
        tags[(tag.get("part"), tag.get("delivery"))] += 1
    roots = sum(n for (part, _), n in tags.items() if part == "root")
    figures.deliveries_duplicated += max(roots - len(incidents), 0)
    figures.deliveries_duplicated += sum(n - 1 for n in tags.values() if n > 1)
    for d in deliveries:
        if d.target == "slack" and tags[("reply", d.payload.get("key"))] == 0:
            figures.deliveries_missing += 1
            figures.problems.append(f"Slack never got delivery #{d.id}")

    # Statuspage: one incident per cockpit incident, each update's (unique) text once.
    figures.deliveries_duplicated += max(len(page.incidents) - len(incidents), 0)
    bodies = Counter(u["body"] for i in page.incidents.values() for u in i["incident_updates"])
    figures.deliveries_duplicated += sum(n - 1 for n in bodies.values() if n > 1)
    for entry in publications:
        if bodies[entry.text] == 0:
            figures.deliveries_missing += 1
            figures.problems.append(f"Statuspage never got update #{entry.id}")


def campaign(kills: int, duration: float, seed: int, flaky: float, workdir: Path) -> Figures:
    from tests.fakes import FakeSlack, FakeStatuspage

    rng = random.Random(seed)
    slack = FakeSlack(seed=seed).start()
    page = FakeStatuspage(seed=seed).start()
    for fake in (slack, page):
        assert fake._server is not None
        # A killed writer resets its connections: expected here, not worth a traceback.
        fake._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        fake.flaky = flaky
        fake.flaky_hang = 2.0  # beyond the 0.5 s timeout: the answer is lost, maybe after the work
    config_json = json.dumps(
        tables(slack.api_url, page.api_url, page.page_id, list(page.components))
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), TOKEN_ENV: slack.token, KEY_ENV: page.api_key}
    os.environ.update({TOKEN_ENV: slack.token, KEY_ENV: page.api_key})
    db = workdir / "crash.db"
    figures = Figures()
    all_confirmed: dict[int, tuple[str, str]] = {}
    lost: set[int] = set()
    started = time.monotonic()
    try:
        for run in range(kills):
            if time.monotonic() - started > duration:
                figures.problems.append(f"stopped after {run} kills: --duration {duration:g} s")
                break
            out = workdir / f"confirmed-{run}.txt"
            figures.kills_at_startup += one_run(db, config_json, out, run, rng, env)
            figures.kills += 1
            confirmed = read_confirmed(out)
            all_confirmed.update(confirmed)
            lost |= check_store(db, confirmed, figures)
        figures.entries_confirmed = len(all_confirmed)
        figures.updates_confirmed = sum(kind == "P" for kind, _ in all_confirmed.values())
        kills_mid_delivery = figures.kills_mid_delivery
        lost |= check_store(db, all_confirmed, figures)  # nothing went missing later either
        figures.kills_mid_delivery = kills_mid_delivery
        figures.entries_lost = len(lost)
        slack.flaky = page.flaky = 0.0
        figures.deliveries_checked_in_doubt = final_drain(db, config_json)
        count_at_fakes(db, slack, page, figures)
    finally:
        slack.stop()
        page.stop()
    figures.seconds = time.monotonic() - started
    return figures


def report(figures: Figures, seed: int, flaky: float) -> None:
    rows = [
        ("kills (SIGKILL)", figures.kills),
        ("  aimed at start-up", figures.kills_at_startup),
        ("  with a delivery in flight", figures.kills_mid_delivery),
        ("entries confirmed", figures.entries_confirmed),
        ("  of which status updates", figures.updates_confirmed),
        ("entries lost", figures.entries_lost),
        ("integrity checks failed", figures.integrity_failures),
        ("deliveries (2 per update)", figures.deliveries),
        ("  in doubt at the restart", figures.deliveries_checked_in_doubt),
        ("look-ups before a retry", figures.lookups_before_retrying),
        ("deliveries duplicated", figures.deliveries_duplicated),
        ("deliveries missing", figures.deliveries_missing),
        ("deliveries not sent", figures.deliveries_not_sent),
    ]
    print(f"crash campaign: seed {seed}, flaky {flaky:g}, {figures.seconds:.0f} s")
    for name, value in rows:
        print(f"  {name:<28} {value}")
    for problem in figures.problems[:20]:
        print(f"  ! {problem}")
    print("targets: 0 lost, 0 duplicated — " + ("met" if figures.clean else "NOT MET"))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        db, config_json, out, run = sys.argv[2:6]
        writer(Path(db), config_json, Path(out), int(run), seed=int(run) * 7919)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200, help="how many SIGKILLs (default 200)")
    parser.add_argument(
        "--duration", type=float, default=900, help="stop killing after SECONDS (default 900)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument(
        "--flaky", type=float, default=0.1, help="share of requests the fakes fail (default 0.1)"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    with tempfile.TemporaryDirectory(prefix="cockpit-crash-") as tmp:
        figures = campaign(args.kills, args.duration, seed, args.flaky, Path(tmp))
    report(figures, seed, args.flaky)
    if args.json:
        print(json.dumps({**asdict(figures), "seed": seed, "clean": figures.clean}))
    return 0 if figures.clean and figures.kills == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
