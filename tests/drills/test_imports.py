"""The drills core stays a core module: importing it loads neither Textual, httpx nor rich."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

MODULES = [
    "clock",
    "history",
    "inject",
    "library",
    "parse",
    "play",
    "scenario",
    "score",
    "scorecard",
    "waits",
]


def test_drills_import_no_ui_and_no_http() -> None:
    code = (
        "import importlib, pkgutil, sys, cockpit.drills as d;"
        "names = sorted(n for _, n, _ in pkgutil.iter_modules(d.__path__));"
        "[importlib.import_module('cockpit.drills.' + n) for n in names];"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'httpx', 'rich'));"
        "print(names, heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == f"{MODULES} []", done.stderr
