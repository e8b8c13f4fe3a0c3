"""The sample post-mortem in docs/ is what the demo incident exports today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from markdown_it import MarkdownIt

from cockpit.postmortem.render import SECTIONS
from tests.conftest import ROOT

SAMPLE = ROOT / "docs" / "postmortem-INC-1-checkout-api-errors.md"


def test_the_committed_sample_is_up_to_date(tmp_path: Path):
    fresh = tmp_path / "sample.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_sample_postmortem.py"), str(fresh)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert fresh.read_text() == SAMPLE.read_text(), (
        "docs/ sample is stale: run .venv/bin/python docs/make_sample_postmortem.py"
    )
    tokens = MarkdownIt("commonmark").enable("table").parse(SAMPLE.read_text())
    headings = [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h2"
    ]
    assert headings == list(SECTIONS)
    assert "To fill in" not in SAMPLE.read_text()  # every section of the sample is written


def test_the_link_typed_in_the_sample_works_on_github():
    from tests import gfm

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from make_sample_postmortem import DASHBOARD
    finally:
        sys.path.remove(str(ROOT / "docs"))
    links = gfm.render(SAMPLE.read_text()).links()
    assert links == [(DASHBOARD, gfm.href(DASHBOARD))] * 2  # key moments and appendix
