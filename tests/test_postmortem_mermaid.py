"""The post-mortem's phases chart judged by Mermaid's own parser (npm `mermaid` under Node,
installed by `npm ci --prefix tests/js`): severity names that read like Mermaid statements
(`click …`, `section …`, `title …`, `excludes …`, `%%`, `:`, `#`, `;`) neither break the chart
nor change it, and every bar lasts at least a second."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.config import Config, SeverityConfig
from cockpit.domain import Status
from cockpit.metrics import Span
from cockpit.postmortem.render import render_markdown
from cockpit.postmortem.report import build_report
from cockpit.store import Store
from tests.conftest import ROOT, FakeClock

CHECKER = ROOT / "tests" / "js" / "mermaid_check.mjs"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the Mermaid parser runs under Node (CI has it)"
)

HOSTILE = (
    "click here",
    "section Ops",
    "title Big one",
    "Title",
    "%% a comment",
    "50% degraded",
    "dateFormat YYYY",
    "axisFormat %H",
    "excludes weekends",
    "Includes x",
    "gantt",
    "2026-11-27 late",
    "accTitle",
    "accDescr: x",
    "weekend friday",
    "weekday monday",
    "todayMarker off",
    "tickInterval 1day",
    "call back()",
    'href "x"',
    "inclusiveEndDates",
    "topAxis",
    "SEV:1",
    "S#2;x",
    "a;b",
    "Sév-1 ünïcode",
    "S\u202eV-2",
    "!!!",
)


def parse_with_mermaid(diagrams: list[str]) -> list[dict[str, Any]]:
    """What Mermaid understood of each diagram: error (or None), title, tasks."""
    if not (ROOT / "tests" / "js" / "node_modules" / "mermaid").is_dir():
        pytest.fail("Mermaid is not installed: run `npm ci --prefix tests/js` (.ci/run does)")
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(CHECKER)],
        input=json.dumps(diagrams),
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def gantt_of(markdown: str) -> str:
    match = re.search(r"```mermaid\n(.*?)```", markdown, re.DOTALL)
    assert match, "no mermaid block"
    return match.group(1)


def shown_name(name: str) -> str:
    """A severity as the chart may show it: letters, digits, spaces and `._()+/-` (the rest
    becomes a space), spaces collapsed; "-" when nothing is left."""
    return " ".join(re.sub(r"[^\w .()+/-]", " ", name).split()) or "-"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, str, dict[str, Any]]]:
    """(report, diagram, what Mermaid understood) for incidents with every hostile name, and
    for the committed sample (report None): one Node process for all, as it takes a second
    to start."""
    names = list(HOSTILE)
    config = Config(severity=[SeverityConfig(name=name) for name in names])
    clock = FakeClock()
    reports = []
    with Store.open(tmp_path_factory.mktemp("mermaid") / "c.db", clock=clock) as store:
        # Each name held a minute; the last change 0.4 s after the one before; phases shorter
        # than a second.
        incident = store.declare(
            "Hostile names",
            names[0],
            "alice",
            impact_started_at=clock.now - timedelta(milliseconds=400),
        )
        for name in names[1:]:
            clock.advance(minutes=1)
            store.set_severity(incident.id, name, "alice")
        clock.advance(milliseconds=400)
        store.set_severity(incident.id, names[0], "alice")
        clock.advance(milliseconds=300)
        store.set_status(incident.id, Status.MONITORING, "alice")
        clock.advance(milliseconds=200)
        store.set_status(incident.id, Status.RESOLVED, "alice")
        reports.append(build_report(store, config, incident.id, clock.now))
        # An incident still open, declared the moment impact started, 10 ms old.
        clock.advance(minutes=5)
        other = store.declare("Open", "title x", "bob", impact_started_at=clock.now)
        clock.advance(milliseconds=10)
        reports.append(build_report(store, config, other.id, clock.now))
    diagrams = [gantt_of(render_markdown(report)) for report in reports]
    sample = (ROOT / "docs" / "postmortem-INC-1-checkout-api-errors.md").read_text("utf-8")
    diagrams.append(gantt_of(sample))
    results = parse_with_mermaid(diagrams)
    return list(zip([*reports, None], diagrams, results, strict=True))


def test_hostile_severity_names_and_sub_second_phases(charts):
    for report, diagram, result in charts[:-1]:
        assert result["error"] is None, diagram
        assert result["title"] == f"{report.incident.ref} phases (UTC)", diagram
        tasks = result["tasks"]
        assert {t["section"] for t in tasks} <= {"Response", "Status", "Severity"}, diagram
        for task in tasks:
            assert task["end"] > task["start"], (task, diagram)  # never an empty bar
        m = report.metrics
        for section, spans in (("Status", m.statuses), ("Severity", m.severities)):
            drawn = [t for t in tasks if t["section"] == section]
            assert len(drawn) == len(spans), (section, diagram)
            for task, span in zip(drawn, spans, strict=True):
                assert isinstance(span, Span)
                assert task["name"].strip().strip('"') == shown_name(span.value), diagram
                assert task["start"] == iso(whole_second(span.start)), diagram
                assert task["end"] >= iso(whole_second(span.end)), diagram
        phases = [t for t in tasks if t["section"] == "Response"]
        assert phases and phases[0]["start"] == iso(whole_second(m.impact_started_at))


def test_the_committed_sample_parses(charts):
    _, diagram, result = charts[-1]
    assert result["error"] is None, diagram
    assert {t["section"] for t in result["tasks"]} == {"Response", "Status", "Severity"}
