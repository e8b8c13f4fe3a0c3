"""The app's side of issue 11's input points: text over its limit is refused whole and said so
(a paste into a one-line field is not taken, an editor's text is not saved and the dialog
stays open with it), and text on screen is free of controls that reorder or restyle it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from cockpit.config import Config, PostmortemConfig, RunbooksConfig
from cockpit.domain import (
    ENTRY_TEXT,
    NAME_TEXT,
    POSTMORTEM_TEXT,
    TITLE_TEXT,
    UNSAFE_CHARACTER,
    UPDATE_TEXT,
    Kind,
)
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.dialogs.role import RoleDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.postmortem import PostmortemScreen
from tests.conftest import FakeClock

SIZE = (110, 34)
HOSTILE = "ok\x9b31m\x9d0;t\x07 \u202eevil\u202c \u2066iso\u2069 \u200fmark\x85\x1b[2Jend"


@pytest.fixture
def declared(store: Store) -> int:
    return store.declare("Checkout errors", "SEV-1", "alice", roles={"commander": "alice"}).id


def messages(app: CockpitApp) -> list[str]:
    return [n.message for n in app._notifications]


async def paste(pilot: Pilot[int], text: str) -> None:
    focused = pilot.app.focused
    assert focused is not None
    focused.post_message(events.Paste(text))
    await pilot.pause()


async def test_a_paste_over_the_limit_is_not_taken_into_a_one_line_field(
    config, store, clock, declared
):
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, EntryDialog)
        await paste(pilot, "x" * (ENTRY_TEXT.chars + 1))
        assert app.screen.query_one("#text", Input).value == ""  # refused whole, not cut
        await paste(pilot, "fits")
        await pilot.press("enter")
        await pilot.pause()
        assert store.entries(declared)[-1].text == "fits"
        await pilot.press("r")
        assert isinstance(app.screen, RoleDialog)
        assert app.screen.query_one("#person", Input).max_length == NAME_TEXT.chars
        await pilot.press("escape")
        await pilot.pause()

        def declare(*args: str) -> object:
            raise AssertionError("nothing to declare")

        app.push_screen(DeclareDialog(config.severities, declare))
        await pilot.pause()
        title = app.screen.query_one("#title", Input)
        title.focus()
        await paste(pilot, "t" * (TITLE_TEXT.chars + 1))
        assert title.value == ""
        await paste(pilot, "t" * TITLE_TEXT.chars)
        assert title.value == "t" * TITLE_TEXT.chars


async def test_the_composer_refuses_an_update_over_the_limit_and_keeps_it(
    config, store, clock, declared
):
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        assert isinstance(app.screen, Composer)
        long = "u" * (UPDATE_TEXT.chars + 1)
        app.screen.query_one("#text", TextArea).text = long
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, Composer)  # still open, with every character
        assert app.screen.query_one("#text", TextArea).text == long
        assert any("limited to 25,000 characters" in m for m in messages(app))
    assert store.updates_sent(declared) == (0, None)
    assert [e.kind for e in store.entries(declared)] == [Kind.SYSTEM, Kind.ROLE]


async def test_a_post_mortem_field_over_the_limit_is_not_saved_and_says_so(
    config: Config, store, clock, declared, tmp_path: Path
):
    config = replace(config, postmortem=PostmortemConfig(dir=str(tmp_path)))
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PostmortemScreen)
        area = app.screen.query_one("#field-summary", TextArea)
        area.text = "s" * (POSTMORTEM_TEXT.chars + 1)
        await pilot.pause()
        went_on: list[bool] = []
        await app.screen.flush(lambda: went_on.append(True))
        await app.writer.idle()
        await pilot.pause()
        assert went_on == []  # refused: whatever waited on the save did not go on
        said = messages(app)
        assert any("not saved" in m.lower() and "limited to" in m for m in said), said
    assert store.postmortem(declared).summary == ""


async def test_no_control_reaches_the_screen(
    config: Config, store: Store, clock: FakeClock, tmp_path
):
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "evil.md").write_text(
        '+++\ntitle = "Runbook \\u202eevil"\ntrigger = "x \\u009b31m \\u2066y"\n+++\n'
        f"# H\n\n## Steps\n\n1. **Step {HOSTILE}** `cmd`\n"
    )
    config = replace(config, runbooks=RunbooksConfig(dirs=[str(runbooks)], include_bundled=False))
    incident = store.declare(
        HOSTILE, "SEV-1", HOSTILE, service=HOSTILE, runbook="evil", roles={"commander": HOSTILE}
    ).id
    store.append(incident, Kind.NOTE, f"{HOSTILE}\nline two", HOSTILE)
    store.publish(incident, HOSTILE, HOSTILE, deliveries=[("slack", "post", {})])
    store.update_delivery(store.deliveries(incident)[0].id, state="failed", last_error=HOSTILE)
    store.set_postmortem(incident, HOSTILE, {"summary": HOSTILE, "root_cause": [HOSTILE]})
    store.add_action_item(incident, HOSTILE, owner=HOSTILE)
    app = make_app(config, store, clock)

    def unsafe_on_screen() -> list[str]:
        screen = app.export_screenshot()
        assert "end" in screen  # the text is there, only its controls are gone
        return sorted({f"U+{ord(c):04X}" for c in screen if UNSAFE_CHARACTER.match(c)})

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert "evil" in app.export_screenshot()
        assert unsafe_on_screen() == []
        await pilot.press("r", "enter")  # the editor holds the commander's stored name
        await pilot.pause()
        assert isinstance(app.screen, RoleDialog)
        assert unsafe_on_screen() == []
        await pilot.press("escape", "escape", "u")  # the composer's draft names the incident
        await pilot.pause()
        assert isinstance(app.screen, Composer)
        assert unsafe_on_screen() == []
        await pilot.press("escape", "p")  # the post-mortem editors hold stored text
        await pilot.pause()
        assert isinstance(app.screen, PostmortemScreen)
        assert unsafe_on_screen() == []
        app.screen.query_one("#pm-items").focus()
        await pilot.press("enter")  # edit the action item: its title and owner
        await pilot.pause()
        assert unsafe_on_screen() == []
