"""`[keys]` in the app: a remapped key works and the old one does not, the footer, the palette
and the hints show it, a clash is refused with one line; the ids in the code are the ids the
core and config.toml.example know."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import string
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.dom import DOMNode
from textual.keys import _character_to_key, _normalize_key_list
from textual.widget import Widget
from textual.widgets import Label

import cockpit.tui
from cockpit.config import Config, ConfigError, config_from_dict, load_config
from cockpit.domain import Kind
from cockpit.keymap import DEFAULT_KEYS, character_key, parse_keys
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.keymap import chains, check_keymap, keymap_clash
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import ROOT, FakeClock, run_cli
from tests.tui.conftest import demo_app
from tests.tui.test_snapshots import settle

SIZE = (80, 24)
EXAMPLE = ROOT / "config.toml.example"


def code_bindings() -> list[tuple[type[DOMNode], Binding]]:
    """Every `Binding` declared in cockpit.tui, with the class declaring it."""
    found = []
    for module in pkgutil.walk_packages(cockpit.tui.__path__, "cockpit.tui."):
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            declared_here = inspect.isclass(value) and value.__module__ == loaded.__name__
            if declared_here and issubclass(value, DOMNode):
                found += [(value, b) for b in value.__dict__.get("BINDINGS", [])]
    return found


def test_every_binding_has_an_id_the_core_knows_with_the_same_keys() -> None:
    bindings = code_bindings()
    assert len(bindings) > 40
    missing = [f"{cls.__name__} {b.key}" for cls, b in bindings if not b.id]
    assert missing == []
    in_code: dict[str, set[str]] = {}
    for _, binding in bindings:
        assert binding.id is not None
        in_code.setdefault(binding.id, set()).add(binding.key)
    # One id, one default: remapping an id moves every binding that shares it the same way.
    assert {i: keys for i, keys in in_code.items() if len(keys) > 1} == {}
    assert {i: keys.pop() for i, keys in in_code.items()} == DEFAULT_KEYS


def test_config_example_documents_every_id_with_its_default() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = dict(re.findall(r'^# "([a-z_.]+)" = "([^"]+)"', text, re.MULTILINE))
    assert documented == DEFAULT_KEYS
    # Uncommented, the documented defaults are a valid configuration of their own.
    active = re.sub(r'^# ("[a-z_.]+" = )', r"\1", text, flags=re.MULTILINE)
    path = EXAMPLE.parent / ".pytest_cache" / "keys-example.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(active, encoding="utf-8")
    config = load_config(path)
    assert config.keys.bindings == DEFAULT_KEYS
    assert keymap_clash(config.keys.bindings) is None  # the defaults clash with nothing


@pytest.mark.parametrize("character", [c for c in string.printable if c not in "\n\r\x0b\x0c"])
def test_the_core_names_keys_as_textual_does(character: str) -> None:
    assert character_key(character) == _character_to_key(character)
    if character in ", \t":  # the list separator and blanks: written comma, space, tab
        written = character_key(character)
        assert parse_keys(written) == written
    else:
        assert parse_keys(character) == _normalize_key_list(character)
    assert parse_keys(f"ctrl+{character}" if character not in ", \t" else "ctrl+comma")


def configured(keys: dict[str, str], source: Path | None = None) -> Config:
    return config_from_dict({"user": {"name": "tester"}, "keys": keys}, source)


@pytest.fixture
def incident(store: Store) -> int:
    return store.declare("Checkout API errors", "SEV-1", "alice").id


async def test_a_remapped_key_works_the_old_one_does_not_and_the_footer_shows_it(
    store: Store, clock: FakeClock, incident: int
) -> None:
    app = make_app(configured({"cockpit.note": "ctrl+n", "dialog.cancel": "ctrl+g"}), store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = {key.key: key for key in app.query("FooterKey")}
        assert "ctrl+n" in footer and "n" not in footer
        assert "^n" in str(footer["ctrl+n"].render())
        palette = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert palette["Log a note"] == "key: ^n"

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)  # n does nothing now
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        hint = str(app.screen.query_one("#hint", Label).render())
        assert hint == "Enter saves · ctrl+g cancels"
        await pilot.press("escape")  # no longer cancels
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)


async def test_several_keys_and_a_swap(store: Store, clock: FakeClock, incident: int) -> None:
    keys = {"cockpit.note": "a, n", "cockpit.action": "ctrl+a", "timeline.up": "ctrl+up"}
    app = make_app(configured(keys), store, clock)
    async with app.run_test(size=SIZE) as pilot:
        for key, title in (("a", "Note"), ("n", "Note"), ("ctrl+a", "Action")):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, EntryDialog) and app.screen.title_text == title
            await pilot.press("escape")
            await pilot.pause()
        store.append(incident, Kind.NOTE, "second", "bob")
        app.screen.sync()  # type: ignore[attr-defined]
        await pilot.pause()
        timeline = app.query_one(Timeline)
        assert timeline.cursor == 1
        await pilot.press("up")
        assert timeline.cursor == 1
        await pilot.press("ctrl+up")
        assert timeline.cursor == 0


async def test_hints_on_screen_follow_the_keymap(
    store: Store, clock: FakeClock, incident: int
) -> None:
    keys = {
        "cockpit.update": "f5",
        "cockpit.timeline.read": "ctrl+r",
        "composer.publish": "ctrl+p",
        "cockpit.incidents": "f2",
    }
    with pytest.raises(ConfigError, match=r"'ctrl\+p' is already Textual's palette"):
        make_app(configured(keys), store, clock)
    keys["composer.publish"] = "f9"
    app = make_app(configured(keys), store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert str(app.query_one(Timeline).border_subtitle).startswith("ctrl+r read")
        await pilot.press("f5")
        await pilot.pause()
        hint = str(app.screen.query_one("#hint", Label).render())
        assert hint.startswith("f9 publishes") and hint.endswith("Esc cancels")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"cockpit.note": "j"}, r"'j' is already timeline\.down in the timeline"),
        ({"cockpit.note": "q"}, r"'q' is already cockpit\.quit on the cockpit"),
        ({"cockpit.note": "x", "cockpit.action": "x"}, r"'x' is already cockpit\.action"),
        ({"dialog.cancel": "x"}, r"'x' would be typed as text in "),
        ({"cockpit.runbook.tick": "t"}, r"'t' is already cockpit\.status in the runbook"),
        ({"composer.publish": "ctrl+a"}, r"'ctrl\+a' is already Textual's cursor line start"),
        ({"cockpit.status": "tab"}, r"'tab' is already Textual's focus next"),
        ({"postmortem.item_state": "e"}, r"'e' is already cockpit\.export in the post-mortem"),
    ],
)
def test_a_clash_is_one_configuration_line_naming_the_file_and_the_id(
    store: Store, clock: FakeClock, keys: dict[str, str], message: str, tmp_path: Path
) -> None:
    source = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as caught:
        make_app(configured(keys, source), store, clock)
    line = str(caught.value)
    assert "\n" not in line
    binding_id = next(iter(keys))
    assert line.startswith(f'{source}: keys."{binding_id}": ')
    assert re.search(message, line), line
    assert line.endswith("; choose another key")


def test_the_command_refuses_a_clashing_file_before_opening_anything(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"cockpit.note" = "q"\n', encoding="utf-8")
    done = run_cli("--config", str(config), "--db", str(tmp_path / "x.db"), timeout=60)
    assert done.returncode == 1
    assert done.stderr == (
        f"cockpit: {config}: keys.\"cockpit.note\": 'q' is already cockpit.quit on the "
        "cockpit; choose another key\n"
    )
    config.write_text('[keys]\n"cockpit.nte" = "x"\n', encoding="utf-8")
    done = run_cli("--config", str(config), "--db", str(tmp_path / "x.db"), "list")
    assert done.returncode == 1
    assert done.stderr == (
        f'cockpit: {config}: keys."cockpit.nte": unknown binding id (did you mean '
        "'cockpit.note'?); config.toml.example lists them all\n"
    )


def signature(chain: tuple[type[DOMNode], ...]) -> tuple[frozenset[tuple[str, str, str]], ...]:
    """What a chain binds, class by class (a subclass that adds no binding matches its base)."""
    return tuple(
        frozenset(
            (b.key, b.action, b.id or "")
            for bs in cls._merged_bindings.key_to_bindings.values()
            for b in bs
        )
        for cls in chain
    )


@pytest.mark.slow
async def test_the_chains_checked_are_the_ones_the_app_has(tmp_path: Path) -> None:
    """Walk the screens a responder can open; every focusable widget's binding chain must be
    one `chains()` lists, or a clash there would go unnoticed."""
    # A chain's prefixes are covered by it: a clash among fewer bindings is one among more.
    listed = {signature(chain[:n]) for _, chain in chains() for n in range(1, len(chain) + 1)}
    app = demo_app(tmp_path)
    seen: set[str] = set()

    def check(screen: Any) -> None:
        for widget in [screen, *screen.query("*")]:
            if widget is not screen and not (isinstance(widget, Widget) and widget.focusable):
                continue
            path = [n for n in reversed(widget.ancestors_with_self) if not isinstance(n, App)]
            chain = tuple(type(n) for n in path if type(n)._merged_bindings.key_to_bindings)
            seen.add(" > ".join(c.__name__ for c in chain))
            assert signature(chain) in listed, chain

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        check(app.screen)
        for keys in (
            ["n"], ["t"], ["s"], ["r"], ["r", "enter"], ["slash"], ["u"], ["b"], ["o"], ["i"],
            ["i", "home", "enter"], ["enter"], ["tab", "enter"], ["t", "down", "enter"], ["p"],
        ):  # fmt: skip
            await pilot.press(*keys)
            await settle(pilot)
            check(app.screen)
            if keys == ["p"]:  # and its action item dialog
                app.screen.add_item()
                await settle(pilot)
                check(app.screen)
            while len(app.screen_stack) > 1:
                app.pop_screen()
                await pilot.pause()
        await pilot.resize_terminal(40, 10)
        await settle(pilot)
        check(app.screen)
    assert {"ActionItemDialog > Select", "RoleDialog > Input", "TooSmall"} <= seen
    assert len(seen) >= 40, sorted(seen)


def test_the_readme_example_is_valid_and_clashes_with_nothing() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[keys\]\n.*?)```", readme, re.DOTALL)
    assert block is not None
    import tomllib

    config = config_from_dict(tomllib.loads(block.group(1)))
    assert config.keys.bindings["cockpit.note"] == "n,ctrl+n"
    assert keymap_clash(config.keys.bindings) is None
    message = re.search(r"`cockpit: config\.toml: (keys\.\"[^`]+)`", readme.replace("\n", " "))
    assert message is not None
    with pytest.raises(ConfigError) as caught:
        check_keymap(config_from_dict({"keys": {"cockpit.note": "j"}}, Path("config.toml")))
    assert str(caught.value) == f"config.toml: {message.group(1)}"


def shown_plain(markup: str | None) -> str:
    """The text a border shows, from the markup Textual gives back for it."""
    return Content.from_markup(markup or "").plain


async def test_keys_and_runbook_text_on_borders_are_never_markup(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "odd.md").write_text(
        '+++\ntitle = "Odd"\n+++\n## Do\n\n1. [red]Check[/red] the [b]pool[/b] `psql -c "[x]"`\n',
        encoding="utf-8",
    )
    store.declare("Checkout API errors", "SEV-2", "alice", runbook="odd")
    keys = {
        "cockpit.runbook.tick": "left_square_bracket",
        "cockpit.runbook.copy": "right_square_bracket",
        "cockpit.timeline.read": "enter,ctrl+right_square_bracket",
    }
    config = config_from_dict(
        {"user": {"name": "t"}, "keys": keys, "runbooks": {"dirs": [str(runbooks)]}}
    )
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        await pilot.pause()
        pane = app.query_one("#runbook")
        # What a border shows is the text as written, not styles read from it.
        assert shown_plain(pane.border_subtitle) == "0/1 [ tick · ] copy"
        await pilot.press("enter")
        await pilot.pause()
        box = app.screen.query_one("#detail")
        assert shown_plain(box.border_title) == "Step 1 · [red]Check[/red] the [b]pool[/b]"
        assert "[ tick · ] copy" in str(app.screen.query_one("#detail-hint", Label).render())
