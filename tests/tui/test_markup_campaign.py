"""Generated campaign: text people typed or files provided is never markup, anywhere on screen.

Markup-looking text (`[/x]`, `[b]`, `[@click=quit]`, `[link=…]`, backslashes, `:emoji:` codes,
`$variables`, wide and combining characters, right-to-left scripts) is planted in every user-text
field: incident title and service, the author, people holding roles and on call, severity labels
and descriptions, a template, a runbook's title, trigger, step and escalation target, entries,
a status update, a delivery error, the post-mortem and an action item, the filter, the runbook
search, the palette, the post-mortem folder (in a notification) and unsaved text on quit. The
app is then driven through every screen and dialog. Nothing may raise, and each text must be on
screen exactly as given wherever it fits (read from the rendered screen, not from widgets).

`COCKPIT_FUZZ=15` runs the long campaign (30 generated examples, RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, OptionList, TextArea

from cockpit.config import config_from_dict
from cockpit.domain import Kind, one_line
from cockpit.runbooks import find_runbook
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.action_item import ActionItemDialog
from cockpit.tui.dialogs.choice import ChoiceDialog
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.dialogs.filter import FilterDialog
from cockpit.tui.dialogs.incidents import IncidentList
from cockpit.tui.dialogs.outbox import OutboxDialog
from cockpit.tui.dialogs.role import RoleDialog
from cockpit.tui.dialogs.runbook_picker import RunbookPicker
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.postmortem import ActionItemsTable, PostmortemScreen
from cockpit.tui.unsaved import QuitDialog
from tests.conftest import FakeClock

FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))
"""Scales the example count: COCKPIT_FUZZ=15 runs the long campaign."""

SIZE = (180, 50)
"""Wide enough that every planted text fits where it is shown."""

MARKUP = [
    "[",
    "]",
    "[/x]",
    "[/]",
    "[b]",
    "[/b]",
    "[bold red]",
    "[on leave]",
    "[SRE]",
    "[ERROR]",
    "[/api/v2]",
    "[@click=quit]",
    "[@click=app.quit]",
    "[link=https://x.io]",
    "[/link]",
    "[$text-error]",
    "$accent",
    "\\",
    "\\[b]",
    "[[",
    "]]",
    ":fire:",
    ":thumbs_up:",
    "🔥",
    "👩‍🚒",
    "漢字",
    "ｗｉｄｅ",
    "e\u0301",
    "שלום",
    "مرحبا",
    "*x*",
    "`c`",
    "<b>",
    "&amp;",
    "%s",
    "{0}",
]
"""Pieces that look like Rich/Textual markup, Markdown, emoji codes, or that are hard to draw."""

CHARS = st.characters(
    categories=("L", "M", "N", "P", "S", "Zs"),
    exclude_characters="\u00ad",  # a soft hyphen draws as nothing
)


MAX_CELLS = 30
"""Planted texts are at most this wide: the runbook pane is the narrowest place (45 columns)."""


def markupish() -> st.SearchStrategy[str]:
    """Markup pieces and random characters, framed so leading and trailing spaces survive."""
    piece = st.one_of(st.sampled_from(MARKUP), st.text(CHARS, min_size=1, max_size=3))
    return (
        st.lists(piece, min_size=1, max_size=3)
        .map(lambda pieces: "«" + "".join(pieces) + "»")
        .filter(lambda text: cell_len(text) <= MAX_CELLS)
    )


FIELDS = (
    "title",
    "service",
    "author",
    "commander",
    "on_call",
    "label",
    "description",
    "template",
    "runbook_title",
    "trigger",
    "step",
    "escalate_to",
    "note",
    "update",
    "error",
    "summary",
    "item_title",
    "item_owner",
    "search",
    "folder",
    "typed",
)


@dataclass(frozen=True)
class Planted:
    """One text per field."""

    texts: dict[str, str]

    def __getattr__(self, name: str) -> str:
        return self.texts[name]


def screen_text(screen: Screen[Any]) -> str:
    """What `screen` draws, as plain text, one line per row."""
    strips = screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def shown(pilot: Pilot[int], *texts: str) -> None:
    drawn = screen_text(pilot.app.screen)
    for text in texts:
        assert one_line(text) in drawn, f"{text!r} is not on {pilot.app.screen!r}:\n{drawn}"


async def shown_soon(pilot: Pilot[int], *texts: str) -> None:
    """`shown`, once a scroll or a notification has been laid out (bounded)."""
    for _ in range(50):
        drawn = screen_text(pilot.app.screen)
        if all(one_line(text) in drawn for text in texts):
            return
        await pilot.pause(0.02)
    shown(pilot, *texts)


async def press(pilot: Pilot[int], *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def type_text(pilot: Pilot[int], text: str) -> None:
    focused = pilot.app.focused
    assert isinstance(focused, Input), f"cannot type into {focused!r}"
    focused.value = ""
    focused.insert_text_at_cursor(text)
    await pilot.pause()


def expect(pilot: Pilot[int], kind: type[Screen[Any]]) -> Any:
    screen = pilot.app.screen
    assert isinstance(screen, kind), f"expected {kind.__name__}, got {screen!r}"
    return screen


def build(folder: Path, p: Planted) -> CockpitApp:
    """A config, a runbook and a database holding every planted text; the app over them."""
    runbooks = folder / "runbooks"
    runbooks.mkdir()
    front = {
        "title": p.runbook_title,
        "trigger": p.trigger,
        "escalate_after_minutes": 30,
        "escalate_to": p.escalate_to,
        "tags": ["x"],
    }
    (runbooks / "planted.md").write_text(
        f"+++\n{tomli_w.dumps(front)}+++\n\n## Steps\n\n1. {p.step}\n2. Second step\n"
    )
    severity = {"label": p.label, "description": p.description}
    template = "On {service}: " + p.template.replace("{", "{{").replace("}", "}}")
    config = config_from_dict(
        {
            "user": {"name": p.author},
            "database": {"busy_timeout_ms": 2000},
            "severity": [
                {
                    "name": "SEV-1",
                    **severity,
                    "first_update_minutes": 15,
                    "update_every_minutes": 30,
                },
                {
                    "name": "SEV-2",
                    **severity,
                    "first_update_minutes": 30,
                    "update_every_minutes": 30,
                },
                {"name": "SEV-3", **severity},
            ],
            "oncall": {"people": [p.on_call], "start": date(2026, 11, 2)},
            "runbooks": {"dirs": [str(runbooks)], "include_bundled": False},
            "postmortem": {"dir": str(folder / p.folder.replace("/", "_"))},
            "templates": {name: template for name in ("acknowledge", "update", "resolution")},
        }
    )
    clock = FakeClock()
    with Store.open(folder / "cockpit.db", clock=clock) as store:
        incident = store.declare(
            p.title,
            "SEV-1",
            p.author,
            service=p.service,
            roles={"commander": p.commander},
            runbook="planted",
        ).id
        clock.advance(minutes=1)
        store.append(incident, Kind.NOTE, p.note, p.author)
        store.publish(incident, p.update, p.author, deliveries=[("slack", "post", {})])
        (delivery,) = store.deliveries(incident)
        store.update_delivery(delivery.id, state="failed", attempts=1, last_error=p.error)
        store.set_postmortem(incident, p.author, {"summary": p.summary})
        store.add_action_item(incident, p.item_title, owner=p.item_owner)
        clock.advance(minutes=1)
    return make_app(config, folder / "cockpit.db", clock)


async def tour(app: CockpitApp, p: Planted) -> None:
    """Every screen and dialog, each checked for the planted texts it shows."""
    step = find_runbook(app.config.runbook_dirs, "planted").steps[0].title  # as Markdown reads it
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        expect(pilot, CockpitScreen)
        shown(pilot, p.title, p.commander, p.on_call, p.runbook_title, p.trigger, step)
        shown(pilot, p.note, p.update, p.escalate_to, p.error)

        await press(pilot, "s")
        expect(pilot, ChoiceDialog)
        shown(pilot, p.label, p.description)
        await press(pilot, "escape")

        await press(pilot, "r")
        expect(pilot, RoleDialog)
        shown(pilot, p.commander)
        await press(pilot, "escape")

        await press(pilot, "slash")
        expect(pilot, FilterDialog)
        await type_text(pilot, f"kind:{p.search}")  # an unknown kind, named in the hint
        await press(pilot, "enter")
        expect(pilot, FilterDialog)
        await type_text(pilot, p.note.split()[0])
        await press(pilot, "enter")
        expect(pilot, CockpitScreen)
        shown(pilot, f"“{p.note.split()[0]}”", p.note)
        await press(pilot, "slash")
        await type_text(pilot, "")
        await press(pilot, "enter")

        await press(pilot, "i")
        expect(pilot, IncidentList)
        shown(pilot, p.title)
        await press(pilot, "home", "enter")
        expect(pilot, DeclareDialog)
        shown(pilot, p.label)
        await press(pilot, "escape", "escape")

        await press(pilot, "u")
        composer = expect(pilot, Composer)
        shown(pilot, p.template, p.service)
        composer.query_one(TextArea).text = p.typed
        await pilot.pause()
        shown(pilot, p.typed)
        await press(pilot, "ctrl+q")
        expect(pilot, QuitDialog)
        shown(pilot, p.typed)
        await press(pilot, "escape", "escape")

        await press(pilot, "o")
        expect(pilot, OutboxDialog)
        shown(pilot, p.error)
        await press(pilot, "escape")

        await press(pilot, "b")
        expect(pilot, RunbookPicker)
        shown(pilot, p.runbook_title, p.trigger)
        await type_text(pilot, p.search)
        await press(pilot, "escape")

        await press(pilot, "p")
        expect(pilot, PostmortemScreen)
        shown(pilot, p.title, p.summary)
        app.screen.query_one(ActionItemsTable).focus()  # scrolls the table into view
        await shown_soon(pilot, p.item_title, p.item_owner)
        await press(pilot, "enter")
        expect(pilot, ActionItemDialog)
        shown(pilot, p.item_title, p.item_owner)
        await press(pilot, "escape")
        await press(pilot, "e")
        await shown_soon(pilot, "exported")  # the notification names the planted folder
        await press(pilot, "escape")

        await press(pilot, "n")
        expect(pilot, EntryDialog)
        await type_text(pilot, p.typed)
        await press(pilot, "ctrl+q")
        expect(pilot, QuitDialog)
        shown(pilot, p.typed)
        await press(pilot, "escape", "escape")

        await press(pilot, "ctrl+p")
        await type_text(pilot, p.search)
        await pilot.pause(0.1)
        app.screen.query_one(OptionList)  # the palette is still there, searching
        await press(pilot, "escape")
        expect(pilot, CockpitScreen)


QUOTED = {
    "title": "Checkout [/nope] down",
    "service": "[SRE] api",
    "author": "alice [/x]",
    "commander": "bob [on leave]",
    "on_call": "carol[/x]",
    "label": "critical [ERROR]",
    "description": "outage [b]now[/b]",
    "template": "see [link=https://status.example.com]status[/link]",
    "runbook_title": "Restart [/srv/api] workers",
    "trigger": "5xx [@click=app.quit]quit[/]",
    "step": "Drain [/srv/api] first",
    "escalate_to": "Eng [lead]",
    "note": "[/api/v2] 502s",
    "update": "Rolled back [bold]v142[/bold]",
    "error": "invalid_auth [/x]",
    "summary": "pool [$accent] \\[b]",
    "item_title": "Alert on [/pool]",
    "item_owner": "dave [SRE]",
    "search": "[/x",
    "folder": "pm [/x]",
    "typed": "half [/typed]",
}
"""The issue's own examples, run every time."""


@settings(
    max_examples=int(2 * FUZZ),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@pytest.mark.slow
@given(st.fixed_dictionaries({name: markupish() for name in FIELDS}))
@example(QUOTED)
def test_markup_looking_text_is_shown_as_typed_everywhere(texts: dict[str, str]) -> None:
    planted = Planted(texts)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(tour(build(Path(folder), planted), planted))
