"""How hints name a binding's key: its first key as `[keys]` remaps it (`Esc`, `ctrl+s`, `/`)."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.keys import format_key

from cockpit.keymap import DEFAULT_KEYS
from cockpit.tui.base import CockpitBase

SHOWN = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "pageup": "PgUp", "pagedown": "PgDn"}
"""How hints name keys whose Textual display is a symbol or an abbreviation."""


def key_text(app: App[Any], binding_id: str) -> str:
    """The key a hint names for a binding: its first key as remapped (`Esc`, `ctrl+s`, `/`)."""
    keymap = app.keymap if isinstance(app, CockpitBase) else {}
    key = (keymap.get(binding_id) or DEFAULT_KEYS[binding_id]).split(",")[0]
    if key in SHOWN:
        return SHOWN[key]
    *modifiers, base = key.split("+")
    return "+".join([*modifiers, format_key(base)])
