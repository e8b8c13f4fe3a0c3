"""`[keys]` in config.toml: binding ids and key names checked on load, one line per mistake,
without Textual (the core's list of ids is held to the app's bindings by a test in tests/tui)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.config import ConfigError, KeysConfig, config_to_toml, load_config
from cockpit.keymap import DEFAULT_KEYS, normalize_key, parse_keys
from tests.conftest import ROOT


def load(tmp_path: Path, text: str) -> KeysConfig:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).keys


@pytest.mark.parametrize(
    ("text", "bindings"),
    [
        ('[keys]\n"cockpit.note" = "n,ctrl+n"', {"cockpit.note": "n,ctrl+n"}),
        ("[keys]\ncockpit.note = 'N'", {"cockpit.note": "N"}),  # a TOML dotted key
        ("[keys.cockpit]\nnote = 'f2'", {"cockpit.note": "f2"}),
        ('[keys]\n"cockpit.note" = ["n", "ctrl+/"]', {"cockpit.note": "n,ctrl+slash"}),
        ('[keys]\n"cockpit.filter" = "?"', {"cockpit.filter": "question_mark"}),
        ('[keys]\n"timeline.up" = "Shift+Ctrl+Up, k, k"', {"timeline.up": "ctrl+shift+up,k"}),
        ('[keys]\n"dialog.cancel" = "Escape"', {"dialog.cancel": "escape"}),
        ('[keys]\n"cockpit.star" = "ctrl++"', {"cockpit.star": "ctrl+plus"}),
        ("[keys]", {}),
        ("", {}),
    ],
)
def test_remaps_are_read_and_normalised(tmp_path: Path, text: str, bindings: dict[str, str]):
    assert load(tmp_path, text).bindings == bindings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[keys]\n"cockpit.nte" = "x"',
            r'keys\."cockpit\.nte": unknown binding id \(did you mean \'cockpit\.note\'\?\); '
            r"config\.toml\.example lists them all",
        ),
        ('[keys]\n"note" = "x"', r'keys\."note": unknown binding id'),
        ('[keys]\n"cockpit.note" = "ctlr+n"', r"'ctlr\+n' is not a key \(write keys like n"),
        ('[keys]\n"cockpit.note" = "n,ctrl+"', r"'ctrl\+' is not a key"),
        ('[keys]\n"cockpit.note" = "return key"', r"'return key' is not a key"),
        ('[keys]\n"cockpit.note" = ""', r'keys\."cockpit\.note": no key given'),
        ('[keys]\n"cockpit.note" = "n,,m"', r'keys\."cockpit\.note": an empty key'),
        ('[keys]\n"cockpit.note" = 3', r'expected keys as a string like "n,ctrl\+n", got a number'),
        ('[keys]\n"cockpit.note" = ["n", 3]', r"expected keys as a string .* got a list"),
        ('keys = "n"', r'keys: expected a table of "binding id" = "keys"'),
        (
            '[keys]\n"cockpit.note" = "x"\n[keys.cockpit]\nnote = "y"',
            r'keys\."cockpit\.note": set twice',
        ),
    ],
)
def test_each_mistake_is_one_line_naming_the_file_and_the_id(
    tmp_path: Path, text: str, message: str
):
    with pytest.raises(ConfigError, match=message) as caught:
        load(tmp_path, text)
    line = str(caught.value)
    assert line.startswith(f"{tmp_path / 'config.toml'}: keys") and "\n" not in line


def test_keys_round_trip_through_the_writer(tmp_path: Path):
    keys = load(tmp_path, '[keys]\n"cockpit.note" = "ctrl+n"\n"cockpit.filter" = "/"')
    config = load_config(tmp_path / "config.toml")
    written = tmp_path / "again.toml"
    written.write_text(config_to_toml(config), encoding="utf-8")
    assert load_config(written).keys == keys
    assert '[keys]\n"cockpit.note" = "ctrl+n"' in written.read_text()


def test_key_names() -> None:
    assert [normalize_key(k) for k in ("/", "*", " n ", "F5", "Enter", "solidus")] == [
        "slash",
        "asterisk",
        "n",
        "f5",
        "enter",
        "slash",
    ]
    assert parse_keys("up,k") == DEFAULT_KEYS["timeline.up"]
    for bad in ("ctl+n", "foo", "f25", "ctrl+", "+n"):
        with pytest.raises(ValueError, match="is not a key"):
            normalize_key(bad)


def test_checking_keys_does_not_import_textual():
    code = (
        "import sys\n"
        "from cockpit.config import config_from_dict\n"
        "config_from_dict({'keys': {'cockpit.note': 'ctrl+n'}})\n"
        "print('textual' in sys.modules, 'rich' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False False"
