"""The sample scorecard in docs/ is what a scripted drill of the bundled API scenario scores
today, and it reads on GitHub as a table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from markdown_it import MarkdownIt

from tests.conftest import ROOT

SAMPLE = ROOT / "docs" / "drill-api-high-error-rate-2026-11-27.md"


def test_the_committed_sample_scorecard_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "sample.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_sample_scorecard.py"), str(fresh)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert fresh.read_text() == SAMPLE.read_text(), (
        "docs/ sample is stale: run .venv/bin/python docs/make_sample_scorecard.py"
    )
    tokens = MarkdownIt("commonmark").enable("table").parse(SAMPLE.read_text())
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 1 + 12  # the header and every check
