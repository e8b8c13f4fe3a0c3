"""Regenerate docs/postmortem-INC-1-checkout-api-errors.md from the demo incident.

Run: .venv/bin/python docs/make_sample_postmortem.py [OUTPUT]

Seeds the demo SEV-1 (`cockpit.demo`) into a throwaway database, carries it to resolution the way
the responders would (a second update, the resolution), then writes the post-mortem through the
same store methods `cockpit postmortem` uses, and exports it. Deterministic: fixed clock, local
times in Europe/Berlin, so `tests/test_postmortem_sample.py` can check the committed file.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.demo import demo_config, seed_demo  # noqa: E402
from cockpit.domain import (  # noqa: E402
    ItemState,
    Kind,
    Status,
)
from cockpit.postmortem.export import export_markdown  # noqa: E402
from cockpit.store import Store  # noqa: E402

NOW = datetime(2026, 11, 27, 2, 55, tzinfo=UTC)
"""When the demo incident stands as seeded (declared 41 minutes before)."""

OUTPUT = ROOT / "docs" / "postmortem-INC-1-checkout-api-errors.md"
ZONE = ZoneInfo("Europe/Berlin")

DASHBOARD = (
    "https://grafana.example.com/d/checkout_api/checkout-api?orgId=1&var-env=production"
    "&from=1764207600000&to=1764212400000#viewPanel=2"
)
"""A link typed in a note: the sample shows it works on GitHub as typed."""

KEY_MOMENTS = (
    "Paged by Grafana",
    "Roll back api to v141",
    "Error rate still 6.5%",
    "pg_stat_activity: 96 of 100",
    "The nightly reporting job holds",
    "pg_terminate_backend()",
    "status investigating → identified",
    "Pods restarted with fresh pools",
    "ALTER ROLE reporting",
    "status identified → monitoring",
    "Dashboard for the review",
)

FIELDS: dict[str, str | tuple[str, ...]] = {
    "summary": (
        "For about an hour, checkout requests failed with 502 errors for a share of customers "
        "that peaked at 7.8%. The API ran out of database connections: the nightly reporting "
        "job held 80 of the 100 available connections open and idle in a transaction.\n\n"
        "Rolling back the deploy that shipped just before the alert did not help; ending the "
        "reporting sessions and restarting the API pods did."
    ),
    "impact": (
        "Between 02:03 and 03:00 UTC, up to 7.8% of checkout attempts failed (about 1,900 "
        "failed payments, 214 of them replayed automatically afterwards). Three customers were "
        "charged twice by the replay and were refunded. Support received 41 tickets."
    ),
    "root_cause": (
        "Checkout API requests failed with 502 from the payments gateway.",
        "The API could not get a database connection within its 2 s timeout.",
        "96 of 100 Postgres connections were busy, 80 of them held by the reporting job.",
        "The reporting job opens one transaction per report and keeps it open while it renders.",
        "Nothing limits how many connections one role may hold, so one job can starve the API.",
    ),
    "contributing_factors": (
        "No alert on connections per role: the pool filled for 20 minutes before errors started.\n"
        "A deploy 25 minutes before the alert looked like the cause and cost 15 minutes.\n"
        "The runbook's pool step came third, after the deploy and log checks."
    ),
    "went_well": (
        "Commander and communicator were assigned within two minutes.\n"
        "The rollback was quick and cleanly ruled the deploy out.\n"
        "Failed checkouts were in the dead-letter queue and could be replayed."
    ),
    "went_poorly": (
        "Update #2 went out after its deadline: the communicator was also answering support.\n"
        "15 minutes went on the rollback before anyone looked at the database.\n"
        "The replay charged three customers twice."
    ),
    "lessons": (
        "A recent deploy is a suspect, not a cause: check the connection pool at the same time.\n"
        "Shared databases need per-role connection limits, not only a global one."
    ),
}

ITEMS = (
    ("Alert when one role holds more than 50 connections", "carol", date(2026, 12, 4), True),
    ("Connection limit for every non-API role (reporting: 10)", "carol", date(2026, 12, 11), False),
    ("Runbook: check the pool in step 1, beside recent deploys", "alice", date(2026, 12, 4), False),
    ("Make the checkout replay idempotent per payment", "dave", date(2027, 1, 15), False),
)


def build(db: Path) -> tuple[Store, int, datetime]:
    """The demo incident carried to resolution, with its post-mortem written."""
    incident = seed_demo(db, NOW)
    moment = [NOW]
    store = Store.open(db, clock=lambda: moment[0])
    i = incident.id
    moment[0] = NOW + timedelta(minutes=2)
    store.append(i, Kind.NOTE, f"Dashboard for the review: {DASHBOARD}", "alice")
    moment[0] = NOW + timedelta(minutes=4)
    store.publish(
        i,
        "A fix is in place and checkout is recovering. We are monitoring. Next update within "
        "30 minutes.",
        "bob",
    )
    moment[0] = NOW + timedelta(minutes=31)
    store.publish(
        i,
        "The issue affecting checkout has been resolved. A full post-mortem will follow within "
        "48 hours.",
        "bob",
        status=Status.RESOLVED,
    )
    for entry in store.entries(i):
        if any(entry.text.startswith(key) for key in KEY_MOMENTS) or entry.text.startswith(
            "The issue affecting checkout has been resolved"
        ):
            store.star(entry.id, "alice")
    moment[0] = NOW + timedelta(hours=20)
    store.set_postmortem(i, "alice", FIELDS)
    for title, owner, deadline, done in ITEMS:
        item = store.add_action_item(i, title, owner=owner, deadline=deadline)
        if done:
            store.update_action_item(item.id, state=ItemState.DONE)
    return store, i, moment[0]


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    with tempfile.TemporaryDirectory() as tmp:
        store, incident_id, now = build(Path(tmp) / "demo.db")
        with store:
            config = demo_config(Path(tmp))  # the demo's own runbook, as `cockpit demo` uses
            text = export_markdown(store, config, incident_id, now, tz=ZONE)
    output.write_text(text, encoding="utf-8")
    print(output)


if __name__ == "__main__":
    main()
