"""The app's keys as data: every binding id, its default keys and what it does, and how a key
is written in `[keys]`.

The Textual app declares its bindings with these ids (a test holds the two to each other), so
the configuration can be checked for unknown ids and misspelt keys without importing Textual.
Whether a remapped key clashes with another binding depends on which widgets are focused
together; the app checks that at start-up, from its real bindings (`cockpit.tui.keys`).
"""

from __future__ import annotations

DEFAULT_KEYS: dict[str, str] = {
    # The cockpit screen (the footer and the command palette show these).
    "cockpit.note": "n",
    "cockpit.action": "a",
    "cockpit.decision": "d",
    "cockpit.update": "u",
    "cockpit.severity": "s",
    "cockpit.status": "t",
    "cockpit.roles": "r",
    "cockpit.incidents": "i",
    "cockpit.filter": "slash",
    "cockpit.runbook": "b",
    "cockpit.postmortem": "p",
    "cockpit.export": "e",
    "cockpit.star": "asterisk",
    "cockpit.outbox": "o",
    "cockpit.quit": "q",
    # The timeline, when it has focus.
    "cockpit.timeline.read": "enter",
    "timeline.up": "up,k",
    "timeline.down": "down,j",
    "timeline.page_up": "pageup",
    "timeline.page_down": "pagedown",
    "timeline.first": "home",
    "timeline.last": "end",
    # The runbook checklist, when it has focus (tick and copy also in a step's detail view).
    "cockpit.runbook.read": "enter",
    "cockpit.runbook.tick": "space",
    "cockpit.runbook.copy": "c",
    # Detail views (an entry, a step).
    "detail.previous": "up,k",
    "detail.next": "down,j",
    "detail.page_up": "pageup",
    "detail.page_down": "pagedown",
    "detail.close": "enter",
    # Dialogs.
    "dialog.cancel": "escape",
    "composer.publish": "ctrl+s",
    "outbox.retry": "r",
    "declare.join": "j",
    "declare.new": "n",
    "picker.next": "down",
    "picker.previous": "up",
    # The question a quit asks when typed text is not saved yet.
    "quit.save": "s",
    "quit.discard": "d",
    "quit.file": "f",
    # The post-mortem screen and its action items.
    "postmortem.close": "escape",
    "postmortem.save": "ctrl+s",
    "postmortem.complete": "c",
    "postmortem.add_item": "a",
    "postmortem.edit_item": "enter",
    "postmortem.item_state": "x",
    # A drill: ending it early, and its scorecard.
    "drill.end": "x",
    "scorecard.close": "escape",
    "scorecard.export": "e",
}
"""Every binding id the app declares, with its default keys (comma-separated, as Textual's
`Binding` takes them), in the order config.toml.example lists them."""

MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""Modifier names as Textual writes them, in the order it sorts them."""

NAMED_KEYS = frozenset(
    {
        "escape",
        "enter",
        "return",
        "tab",
        "space",
        "backspace",
        "delete",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
        *(f"f{number}" for number in range(1, 25)),
    }
)
"""Keys with names that are not characters."""

_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
"""Unicode character names Textual shortens (it binds "slash", not "solidus")."""

_HYPHENATED = {
    "minus": "HYPHEN-MINUS",
    "less_than_sign": "LESS-THAN SIGN",
    "greater_than_sign": "GREATER-THAN SIGN",
}
"""Key names whose Unicode name has a hyphen (underscores cannot say where it was)."""


def character_key(character: str) -> str:
    """The key name Textual gives a typed character: `/` -> `slash`, `?` -> `question_mark`,
    letters and digits as they are."""
    if character.isalnum():
        return character
    if character == "\t":
        return "tab"
    import unicodedata  # only when [keys] names a character: `cockpit log` never needs it

    name = unicodedata.name(character, character).lower().replace("-", "_").replace(" ", "_")
    return _NAME_REPLACEMENTS.get(name, name)


def _is_character_name(name: str) -> bool:
    import unicodedata

    unicode_name = _HYPHENATED.get(name)
    if unicode_name is None:
        original = {short: long for long, short in _NAME_REPLACEMENTS.items()}.get(name, name)
        unicode_name = original.replace("_", " ").upper()
    try:
        return unicodedata.lookup(unicode_name).isprintable()
    except KeyError:
        return False


def normalize_key(key: str) -> str:
    """One key as Textual matches it: modifiers lower-case and in Textual's order, a typed
    character by its name (`ctrl+/` -> `ctrl+slash`). ValueError if it is not a key."""
    text = key.strip()
    if not text:
        raise ValueError("an empty key")
    if len(text) == 1:
        return character_key(text)
    if text.endswith("++"):  # `ctrl++`: the plus key with modifiers
        mods, base = [part.strip() for part in text[:-2].split("+")], "+"
    else:
        *mods, base = (part.strip() for part in text.split("+"))
    modifiers = sorted({mod.lower() for mod in mods})
    if not base or any(mod not in MODIFIERS for mod in modifiers):
        raise ValueError(f"{text!r} is not a key")
    if len(base) == 1:
        base = character_key(base.lower() if modifiers else base)
    else:
        base = base.lower()
        base = _NAME_REPLACEMENTS.get(base, base)
        if base not in NAMED_KEYS and not _is_character_name(base):
            raise ValueError(f"{text!r} is not a key")
    return "+".join([*modifiers, base])


def parse_keys(value: str) -> str:
    """`"n, ctrl+n"` -> `"n,ctrl+n"`: each key normalised, repeats dropped; ValueError naming
    the first that is not a key."""
    keys = [normalize_key(key) for key in value.split(",")] if value.strip() else []
    if not keys:
        raise ValueError("no key given")
    return ",".join(dict.fromkeys(keys))
