"""`[keys]` in the app: a remap that clashes is refused at start-up (hints name the remapped
keys through `cockpit.tui.keys`).

The core checks ids and key names (`cockpit.keymap`); only the app knows which bindings are
active together. A binding is active with the app's, its screen's, and those of the focused
widget and its ancestors: each such chain is listed here, from the real classes, so what is
checked is what Textual will do. A remapped key clashes when another binding with another
action takes the same key in a chain where the remapped one is active, or when a text field
in that chain would type it instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import key_to_character

from cockpit.config import Config, ConfigError
from cockpit.keymap import DEFAULT_KEYS
from cockpit.tui.base import CockpitBase

Chain = tuple[type[DOMNode], ...]


def chains() -> Iterator[tuple[str, Chain]]:
    """Every place bindings are active together: where, and the classes from the screen to
    the focused widget (the app's own bindings always apply). Imported only when keys are
    remapped: the dialogs are not loaded before the first frame otherwise."""
    from textual.containers import VerticalScroll
    from textual.widgets import Input, OptionList, Select, TextArea
    from textual.widgets._select import SelectOverlay

    from cockpit.tui.dialogs.action_item import ActionItemDialog
    from cockpit.tui.dialogs.choice import ChoiceDialog
    from cockpit.tui.dialogs.composer import Composer
    from cockpit.tui.dialogs.declare import DeclareDialog
    from cockpit.tui.dialogs.entry import EntryDialog
    from cockpit.tui.dialogs.filter import FilterDialog
    from cockpit.tui.dialogs.incidents import IncidentList
    from cockpit.tui.dialogs.open_incident import OpenIncidentOffer
    from cockpit.tui.dialogs.outbox import OutboxDialog
    from cockpit.tui.dialogs.role import RoleDialog
    from cockpit.tui.dialogs.runbook_picker import RunbookPicker
    from cockpit.tui.screens.cockpit import CockpitScreen
    from cockpit.tui.screens.entry_detail import EntryDetail
    from cockpit.tui.screens.postmortem import ActionItemsTable, PostmortemScreen
    from cockpit.tui.screens.step_detail import StepDetail
    from cockpit.tui.screens.too_small import TooSmall
    from cockpit.tui.widgets.runbook import RunbookPane, StepList
    from cockpit.tui.widgets.timeline import Timeline

    yield "on the cockpit", (CockpitScreen,)
    yield "in the timeline", (CockpitScreen, Timeline)
    yield "in the runbook checklist", (CockpitScreen, RunbookPane, StepList)
    yield "in the runbook text", (CockpitScreen, RunbookPane, VerticalScroll)
    yield "in an entry's detail", (EntryDetail,)
    yield "in a step's detail", (StepDetail,)
    yield "in the composer's text", (Composer, TextArea)
    yield "in the composer's status", (Composer, Select)
    yield "in the composer's status list", (Composer, Select, SelectOverlay)
    yield "in the composer's preview", (Composer, VerticalScroll)
    typing: tuple[tuple[str, type[DOMNode]], ...] = (
        ("the note dialog", EntryDialog),
        ("the filter dialog", FilterDialog),
        ("the runbook picker", RunbookPicker),
        ("the declare dialog", DeclareDialog),
        ("the action item dialog", ActionItemDialog),
        ("the role dialog", RoleDialog),
    )
    for name, dialog in typing:
        yield f"in {name}'s text", (dialog, Input)
    lists: tuple[tuple[str, type[DOMNode]], ...] = (
        ("the severity and status lists", ChoiceDialog),
        ("the role dialog", RoleDialog),
        ("the incident list", IncidentList),
        ("the outbox", OutboxDialog),
        ("the runbook picker", RunbookPicker),
    )
    for name, dialog in lists:
        yield f"in {name}", (dialog, OptionList)
    choices: tuple[tuple[str, type[DOMNode]], ...] = (
        ("the declare dialog", DeclareDialog),
        ("the action item dialog", ActionItemDialog),
    )
    for name, dialog in choices:
        yield f"in {name}'s choices", (dialog, Select)
        yield f"in {name}'s choice list", (dialog, Select, SelectOverlay)
    yield "in the post-mortem's fields", (PostmortemScreen, VerticalScroll, TextArea)
    yield "in the post-mortem's action items", (PostmortemScreen, VerticalScroll, ActionItemsTable)
    yield "on the question about an incident open in Slack", (OpenIncidentOffer,)
    yield "on the too-small screen", (TooSmall,)


def _bindings(node: type[DOMNode]) -> list[Binding]:
    # The class's bindings merged with its bases' (what an instance starts with): Textual
    # keeps them on the class; a test fails if that ever stops matching what the app binds.
    merged = node._merged_bindings
    return [b for bs in merged.key_to_bindings.values() for b in bs] if merged else []


def _app_bindings() -> list[Binding]:
    palette = Binding(CockpitBase.COMMAND_PALETTE_BINDING, "command_palette", "palette")
    return [*_bindings(CockpitBase), palette]


def _action(binding: Binding) -> str:
    return binding.action.removeprefix("app.")


def _name(binding: Binding) -> str:
    if binding.id:
        return binding.id
    return f"Textual's {(binding.description or binding.action).lower()}"


def _typed(key: str) -> bool:
    character = key_to_character(key)
    return character is not None and character.isprintable()


def keymap_clash(keymap: Mapping[str, str]) -> tuple[str, str] | None:
    """The first remapped binding that clashes, and why; None when every remap fits.

    Only what a remap changes is judged: a key a binding did not have by default must not be
    another binding's (with another action) where it is active, and a binding usable while a
    text field has focus must not become one that field would type instead. Restating a
    default is never an error.
    """
    from textual.widgets import Input, TextArea

    changed = {i: keys for i, keys in keymap.items() if keys != DEFAULT_KEYS.get(i)}
    app = _app_bindings()
    for place, chain in chains():
        taken: dict[str, list[Binding]] = {}
        remapped: dict[str, Binding] = {}
        for binding in [*app, *(b for node in chain for b in _bindings(node))]:
            remap = changed.get(binding.id or "")
            for key in (remap or binding.key).split(","):
                taken.setdefault(key, []).append(binding)
            if remap and binding.id:
                remapped[binding.id] = binding
        types_text = issubclass(chain[-1], (Input, TextArea))
        for binding_id, binding in remapped.items():
            keys = changed[binding_id].split(",")
            for key in keys:
                if key in DEFAULT_KEYS[binding_id].split(","):
                    continue
                others = [
                    b for b in taken[key] if b.id != binding_id and _action(b) != _action(binding)
                ]
                if others:
                    return binding_id, f"{key!r} is already {_name(others[0])} {place}"
            usable_before = not all(map(_typed, DEFAULT_KEYS[binding_id].split(",")))
            if types_text and usable_before and all(map(_typed, keys)):
                return binding_id, f"{keys[0]!r} would be typed as text {place}"
    return None


def check_keymap(config: Config) -> None:
    """Refuse `[keys]` remaps that clash: one ConfigError line naming the file and the id."""
    clash = keymap_clash(config.keys.bindings)
    if clash is not None:
        where = str(config.source) if config.source else "<config>"
        binding_id, why = clash
        raise ConfigError(f'{where}: keys."{binding_id}": {why}; choose another key')
