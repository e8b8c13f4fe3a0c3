"""Status updates in the app: the composer (u), delivery in the background against fakes on
127.0.0.1, the delivery line, the outbox (o) and its retry key, and a screen that stays
responsive while a service hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.pilot import Pilot
from textual.widgets import Select, Static, TextArea

from cockpit.comms.publish import publish
from cockpit.config import Config, config_from_dict, load_config
from cockpit.domain import Kind, Status
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.dialogs.outbox import OutboxDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.deliveries import DeliveryBar
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import FakeClock as MutableClock
from tests.fakes import FakeSlack, FakeStatuspage, Hang, Reply
from tests.fakes.wiring import secrets_env, slack_table, statuspage_table

from .conftest import AUTHOR

SIZE = (100, 30)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def statuspage() -> Iterator[FakeStatuspage]:
    fake = FakeStatuspage()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, statuspage: FakeStatuspage) -> None:
    for name, value in secrets_env(slack, statuspage).items():
        monkeypatch.setenv(name, value)


def tables(slack: FakeSlack, statuspage: FakeStatuspage, mode: str = "bot") -> dict[str, Any]:
    return {
        "user": {"name": AUTHOR},
        "database": {"busy_timeout_ms": 200},
        "slack": slack_table(slack, mode, timeout=5),
        "statuspage": statuspage_table(statuspage, timeout=5),
        "sync": {"enabled": False},  # delivery here; team sync has tests of its own
    }


@pytest.fixture
def declared(store: Store) -> int:
    return store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    ).id


def app_with(config: Config, store: Store, clock: MutableClock) -> CockpitApp:
    return make_app(config, store, clock)


async def until(pilot: Pilot[int], condition: Any, seconds: float = 5.0) -> None:
    """Let the app run until `condition()` holds (real network is involved)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await pilot.pause(0.02)


def bar_text(app: CockpitApp) -> str:
    bar = app.screen_stack[0].query_one(DeliveryBar)
    return str(bar.render()) if bar.display else ""


# ---- the composer --------------------------------------------------------------------------


async def test_u_opens_the_phase_template_with_a_preview_per_target_and_esc_sends_nothing(
    store, clock, declared, slack, statuspage
):
    app = app_with(config_from_dict(tables(slack, statuspage, "webhook")), store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        assert isinstance(app.screen, Composer)
        text = app.screen.query_one("#text", TextArea).text
        assert text.startswith("We are aware of an issue affecting checkout.")
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "Slack webhook · a new message" in preview
        assert "Statuspage · new incident “Checkout API errors” (investigating" in preview
        # Typing updates the preview: what each target receives, as it will read there.
        await pilot.press(*"<!channel> ")
        await pilot.pause()
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "<!channel> We are aware" in preview
        # Resolving switches to the resolution text and keeps what was added.
        app.screen.query_one("#status", Select).value = Status.RESOLVED
        await pilot.pause()
        text = app.screen.query_one("#text", TextArea).text
        assert text.startswith("<!channel> The issue affecting checkout has been resolved")
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "Statuspage · new incident" in preview and "resolved" in preview
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
    assert store.deliveries() == []
    assert store.updates_sent(declared) == (0, None)


async def test_composer_publishes_and_the_app_delivers_in_the_background(
    store, clock, declared, slack, statuspage
):
    app = app_with(config_from_dict(tables(slack, statuspage)), store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        await pilot.press(*"Rolled back v142. ")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        (entry,) = store.entries(declared, kinds=[Kind.UPDATE])
        assert entry.text.startswith("Rolled back v142. We are aware")
        assert store.updates_sent(declared) == (1, clock())  # the countdown restarts here
        await until(pilot, lambda: {d.state for d in store.deliveries()} == {"sent"})
        await until(pilot, lambda: "✓ slack sent" in bar_text(app))
        assert "✓ statuspage sent" in bar_text(app)
        assert app.query_one(Timeline).count == store.entry_count(declared)
    (root,) = slack.roots()
    assert "Rolled back v142." in slack.replies(root["ts"])[0]["blocks"][1]["text"]["text"]
    assert len(statuspage.incidents) == 1


async def test_the_delivery_line_shows_retrying_with_reason_and_failed_with_the_error(
    store, clock, declared, slack, statuspage, monkeypatch
):
    monkeypatch.setenv("TEST_STATUSPAGE_KEY", "revoked-key-0000")
    slack.script("chat.postMessage", Reply(503, "<html>down</html>", {"Content-Type": "text/html"}))
    config = config_from_dict(tables(slack, statuspage))
    publish(store, config, declared, "Investigating.", None, AUTHOR, clock)
    app = app_with(config, store, clock)
    async with app.run_test(size=(200, 30)) as pilot:
        await until(pilot, lambda: "failed" in bar_text(app) and "retrying" in bar_text(app))
        line = bar_text(app)
        assert "⟳ slack retrying in 00:0" in line  # the clock is frozen: still waiting
        assert "HTTP 503 (an HTML error page)" in line
        assert "✗ statuspage failed: Statuspage: HTTP 401 Could not authenticate" in line
        assert app.screen_stack[0].query_one(DeliveryBar).has_class("-failed")


# ---- the outbox and retrying -----------------------------------------------------------------


async def test_outbox_lists_deliveries_and_r_retries_a_failed_one_after_the_config_is_fixed(
    store, clock, declared, slack, statuspage, tmp_path: Path
):
    wrong = tables(slack, statuspage)
    wrong["statuspage"]["page_id"] = "wrongpage"
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(wrong))
    config = load_config(path)
    publish(store, config, declared, "Investigating.", None, AUTHOR, clock)
    app = app_with(config, store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # Both lanes done (they run side by side: Slack may land after Statuspage failed).
        done = {"slack": "sent", "statuspage": "failed"}
        await until(pilot, lambda: {d.target: d.state for d in store.deliveries()} == done)
        await until(pilot, lambda: "failed" in bar_text(app))
        await pilot.press("o")
        assert isinstance(app.screen, OutboxDialog)
        await pilot.pause()
        listing = [str(o.prompt) for o in app.screen.query_one("#deliveries").options]
        assert any("failed: Statuspage: HTTP 404 Page not found" in line for line in listing)
        assert any("slack" in line and "sent" in line for line in listing)
        await pilot.press("r")  # the highlighted one is the newest: statuspage
        await pilot.pause()
        assert any("queued again" in n.message for n in app._notifications)
        # The configuration is still wrong: it fails again, with the same error.
        await until(pilot, lambda: store.deliveries()[1].attempts == 2)
        await until(pilot, lambda: store.deliveries()[1].state == "failed")
        path.write_text(tomli_w.dumps(tables(slack, statuspage)))  # fixed
        await pilot.press("r")
        await until(pilot, lambda: store.deliveries()[1].state == "sent")
        await pilot.press("escape")
    assert len(statuspage.incidents) == 1


async def test_retrying_a_delivery_that_did_not_fail_says_why(
    store, clock, declared, slack, statuspage
):
    config = config_from_dict(tables(slack, statuspage))
    publish(store, config, declared, "Investigating.", None, AUTHOR, clock)
    app = app_with(config, store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: {d.state for d in store.deliveries()} == {"sent"})
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert any("only failed deliveries" in n.message for n in app._notifications)


# ---- never blocked ---------------------------------------------------------------------------


async def _log_notes(
    pilot: Pilot[int], app: CockpitApp, store: Store, incident: int, n: int
) -> None:
    """Log `n` notes with the keyboard, each until it is stored and on screen."""
    timeline = app.query_one(Timeline)
    for i in range(n):
        await pilot.press("n", str(i), "enter")
        while not (
            store.entries(incident)[-1].text == str(i)
            and timeline.count == store.entry_count(incident)
        ):
            await pilot.pause(0.001)


async def test_the_app_stays_responsive_while_a_target_hangs(
    store, clock, declared, slack, statuspage
):
    config = config_from_dict(
        {
            "user": {"name": AUTHOR},
            "slack": slack_table(slack, "bot", timeout=10),
            "sync": {"enabled": False},
        }
    )
    slack.script("chat.postMessage", Hang(30))
    app = app_with(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await _log_notes(pilot, app, store, declared, 4)
        publish(store, config, declared, "Investigating.", None, AUTHOR, clock)
        app.deliveries.wake()
        await until(pilot, slack.hanging.is_set)
        await _log_notes(pilot, app, store, declared, 4)
        # Every key went through while the service was still holding the request: none of
        # them waited for it (no stopwatch needed).
        assert slack.hanging.is_set() and not slack.hang_over.is_set()
        assert store.deliveries()[0].state == "sending"


async def test_u_is_in_the_footer_and_both_keys_in_the_palette(store, clock, declared):
    app = app_with(config_from_dict({"user": {"name": AUTHOR}}), store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "u" in {key.key for key in app.query("FooterKey")}
        names = {command.title for command in app.get_system_commands(app.screen)}
        assert "Publish a status update" in names
        assert "Where each status update stands; retry a failed one" in names
        assert app.deliveries.worker is None  # nothing configured: nothing runs, no httpx
        assert not app.screen_stack[0].query_one(DeliveryBar).display


async def test_the_composer_previews_every_configured_target(store, clock, declared):
    """Issue 7's targets appear in the composer's preview beside Slack and Statuspage."""
    closed = "http://127.0.0.1:9"  # nothing is sent: the composer is cancelled
    config = config_from_dict(
        {
            "user": {"name": AUTHOR},
            "database": {"busy_timeout_ms": 200},
            "instatus": {
                "page_id": "p1",
                "api_key_env": "X_KEY",
                "api_url": closed,
                "component_ids": ["c1"],
            },
            "betterstack": {
                "status_page_id": "7",
                "api_key_env": "X_KEY",
                "api_url": closed,
                "resource_ids": ["9"],
                "notify_subscribers": False,
            },
            "webhook": {"url": f"{closed}/hook", "secret_env": "X_KEY"},
            "pagerduty": {"routing_key_env": "X_KEY", "events_url": f"{closed}/enqueue"},
        }
    )
    app = app_with(config, store, clock)
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.press("u")
        assert isinstance(app.screen, Composer)
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "Instatus · new incident “Checkout API errors”" in preview
        assert "Better Stack · new status report “Checkout API errors”" in preview
        assert "no notification" in preview  # notify_subscribers = false, said out loud
        assert "Webhook · incident.update_published event, signed" in preview
        assert "PagerDuty" not in preview  # pages follow incident events, not updates
        # Choosing resolved changes what every status page will receive, before publishing.
        app.screen.query_one("#status", Select).value = Status.RESOLVED
        await pilot.pause()
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "Better Stack · new status report" in preview and "resolved" in preview
        await pilot.press("escape")
        await pilot.pause()
    assert store.deliveries() == []


async def test_the_composer_never_drops_what_was_typed_whatever_the_templates(
    store, clock, declared
):
    """Issue 12.1 in the app: text typed around the template survives every status switch
    (templates without {summary}, with it twice), shows in the preview and is published."""
    config = config_from_dict(
        {
            "user": {"name": AUTHOR},
            "database": {"busy_timeout_ms": 200},
            "templates": {"resolution": "Resolved {id}.", "update": "{summary}|{summary}"},
            "webhook": {"url": "http://127.0.0.1:9/hook"},  # nothing listens: never sent
        }
    )
    typed = "Cards fail."
    app = app_with(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        assert isinstance(app.screen, Composer)
        area = app.screen.query_one("#text", TextArea)
        area.move_cursor(area.document.end)
        await pilot.press("enter", "enter", *typed)
        await pilot.pause()
        status = app.screen.query_one("#status", Select)
        for choice in (Status.RESOLVED, Status.IDENTIFIED, Status.RESOLVED):
            status.value = choice
            await pilot.pause()
            assert area.text.endswith("\n\n" + typed), (choice, area.text)
            assert typed in str(app.screen.query_one("#preview", Static).render())
        assert area.text == f"Resolved INC-{declared}.\n\n{typed}"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
    (entry,) = [e for e in store.entries(declared) if e.kind is Kind.UPDATE]
    assert entry.text == f"Resolved INC-{declared}.\n\n{typed}"
    assert typed in str(store.deliveries(declared)[-1].payload)
