"""The scorecard written down: GitHub-flavoured Markdown parsed back with markdown-it-py (tables
on), hostile text that stays text, the file name, and the trend across drills."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from cockpit.drills.history import DrillResult, drill_history
from cockpit.drills.scorecard import (
    Check,
    NotScored,
    Scorecard,
    render_markdown,
    scorecard_filename,
)
from tests.drills.timeline import ZERO, m

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = (
    "a | b || c # not a heading <script>alert('x')</script> `code` **bold** [l](http://x) "
    "&amp; ~~s~~ $x$ _u_ \\"
)
PLAIN = {"text", "softbreak", "hardbreak"}


@dataclass
class Parsed:
    headings: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    cells: list[Token] = field(default_factory=list)
    items: list[Token] = field(default_factory=list)
    tables: int = 0


def text_of(inline: Token) -> str:
    return "".join(
        "\n" if c.type in ("softbreak", "hardbreak") or c.content == "<br>" else c.content
        for c in inline.children or []
    )


def markup(inline: Token) -> set[str]:
    return {
        c.type
        for c in inline.children or []
        if c.type not in PLAIN and not (c.type == "html_inline" and c.content == "<br>")
    }


def parse(text: str) -> Parsed:
    tokens = MD.parse(text)
    doc = Parsed()
    row: list[str] = []
    head = False
    for index, tok in enumerate(tokens):
        previous = tokens[index - 1].type if index else ""
        if tok.type == "table_open":
            doc.tables += 1
        elif tok.type == "thead_open":
            head = True
        elif tok.type == "thead_close":
            head = False
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            if head:
                doc.header = row
            else:
                doc.rows.append(row)
        elif tok.type == "inline" and previous == "heading_open":
            doc.headings.append(text_of(tok))
        elif tok.type == "inline" and previous in ("th_open", "td_open"):
            row.append(text_of(tok))
            if previous == "td_open":
                doc.cells.append(tok)
        elif tok.type == "inline" and index >= 2 and tokens[index - 2].type == "list_item_open":
            doc.items.append(tok)
    return doc


def card(title: str = "Checkout fails", **changes: object) -> Scorecard:
    checks = (
        Check("acknowledge", "acknowledge", "Acknowledged", "first update within 15 min of the "
              "page (SEV-1)", "8 min after the page", True),
        Check("update-2", "updates", "Update #2", "by minute 23", "at minute 26", False,
              "3 min late (SEV-1)"),
        Check("role-communicator", "roles", "Role: communicator", "held within 5 min of SEV-1",
              "bob from minute 4", True, "empty for 1 min while required"),
    )  # fmt: skip
    fields: dict[str, object] = {
        "drill": "DRILL-3",
        "scenario": "api-high-error-rate",
        "title": title,
        "speed": 10.0,
        "played_at": m(-7 * 60),
        "started_at": ZERO,
        "ended_at": m(41.5),
        "resolved": True,
        "checks": checks,
        "not_scored": (NotScored("escalation", "resolved at minute 20, before it was due"),),
        "acknowledge_minutes": 8.0,
        "deadlines_missed": 1,
    }
    fields.update(changes)
    return Scorecard(**fields)  # type: ignore[arg-type]


def test_markdown_has_the_checks_table() -> None:
    text = render_markdown(card())
    doc = parse(text)
    assert doc.headings == [
        "Drill scorecard: Checkout fails",
        "Checks",
        "Not scored",
        "How the score is computed",
    ]
    assert doc.tables == 1
    assert doc.header == ["Result", "Check", "Expected", "Actual", "Detail"]
    assert doc.rows == [
        [
            "✅ met",
            "Acknowledged",
            "first update within 15 min of the page (SEV-1)",
            "8 min after the page",
            "",
        ],
        ["❌ missed", "Update #2", "by minute 23", "at minute 26", "3 min late (SEV-1)"],
        [
            "✅ met",
            "Role: communicator",
            "held within 5 min of SEV-1",
            "bob from minute 4",
            "empty for 1 min while required",
        ],
    ]
    items = [text_of(item) for item in doc.items]
    assert items == [
        "Drill: DRILL-3, scenario api-high-error-rate",
        "Played: 2026-11-26 19:14 UTC at 10×",
        "Ended: minute 41.5, resolved",
        "Score: 67 / 100",
        "Escalation: resolved at minute 20, before it was due",
    ]
    assert text.endswith("nothing was sent to anyone.\n")


def test_an_abandoned_drill_says_so() -> None:
    doc = parse(render_markdown(card(resolved=False, not_scored=())))
    assert "Ended: minute 41.5, abandoned before it was resolved" in map(text_of, doc.items)
    assert "Not scored" not in doc.headings


@pytest.mark.parametrize(
    "hostile",
    [
        HOSTILE,
        "line one\nline two | three\n# heading",
        "first\n- second\n1. third",
        "\x1b[31mred\x1b[0m\x07 | x",
        "- bullet",
    ],
)
def test_hostile_text_stays_text(hostile: str) -> None:
    checks = (
        Check("role-x", "roles", f"Role: {hostile}", hostile, f"{hostile} from minute 4", True,
              hostile),
    )  # fmt: skip
    scored = card(
        title=hostile,
        drill=hostile,
        scenario=hostile,
        checks=checks,
        not_scored=(NotScored("roles", hostile),),
    )
    text = render_markdown(scored)
    doc = parse(text)
    assert doc.tables == 1
    assert all(len(row) == 5 for row in [doc.header, *doc.rows])
    assert len(doc.rows) == 1
    # A typed web address is a working link (the export's rule); nothing else is markup.
    link = {"link_open", "link_close"}
    for cell in doc.cells:
        assert markup(cell) <= link, cell.content
    for item in doc.items:  # the bold label is ours; what follows is text
        assert markup(item) <= {"strong_open", "strong_close"} | link, item.content
    labels = [text_of(item).split(":", 1)[0] for item in doc.items]
    assert labels == ["Drill", "Played", "Ended", "Score", "Roles"]
    html = MD.render(text)
    assert "<script>" not in html
    assert "\x1b" not in text and "\x07" not in text
    first_line = hostile.split("\n")[0].replace("\x1b[31m", "").replace("\x1b[0m", "")
    assert first_line.replace("\x07", "").split("|")[0].strip() in doc.rows[0][3]


def test_file_name() -> None:
    assert scorecard_filename(card()) == "drill-api-high-error-rate-2026-11-26.md"
    assert scorecard_filename(card(scenario="../../etc/Passwd")) == "drill-etc-passwd-2026-11-26.md"
    assert scorecard_filename(card(scenario="…")) == "drill-incident-2026-11-26.md"


# ---- history ---------------------------------------------------------------------------------


def result(
    days: int, score: int, ack: float | None, missed: int, scenario: str = "api"
) -> DrillResult:
    return DrillResult(
        f"DRILL-{days}", scenario, ZERO + timedelta(days=days), score, ack, missed, True
    )


def test_history_orders_drills_and_gives_the_trend() -> None:
    history = drill_history(
        [result(3, 90, 6, 0), result(1, 60, 14, 2), result(2, 70, None, 3, "db")]
    )
    assert [d.drill for d in history.drills] == ["DRILL-1", "DRILL-2", "DRILL-3"]
    assert history.acknowledge.values == (14, None, 6)
    assert history.acknowledge.earlier_average == 14
    assert history.acknowledge.direction == "better"
    assert history.deadlines_missed.earlier_average == 2.5
    assert history.deadlines_missed.direction == "better"
    assert history.score.direction == "better"
    worse = drill_history([result(1, 90, 5, 0), result(2, 40, 12, 4)])
    assert (worse.acknowledge.direction, worse.deadlines_missed.direction) == ("worse", "worse")
    assert worse.score.direction == "worse"
    same = drill_history([result(1, 80, 5, 1), result(2, 80, 5, 1)])
    assert same.score.direction == "same"


def test_history_of_one_scenario_and_too_little_to_compare() -> None:
    history = drill_history([result(1, 60, 14, 2), result(2, 70, 9, 3, "db")], scenario="db")
    assert [d.drill for d in history.drills] == ["DRILL-2"]
    assert history.acknowledge.direction == "n/a"
    assert drill_history([]).score.latest is None
    unacknowledged = drill_history([result(1, 60, 14, 2), result(2, 10, None, 4)])
    assert unacknowledged.acknowledge.direction == "n/a"
    assert unacknowledged.deadlines_missed.direction == "worse"


def test_history_from_scorecards_and_their_json() -> None:
    scored = card()
    from_card = drill_history([scored]).drills[0]
    from_json = DrillResult.from_json(scored.to_json())
    assert from_card == from_json
    assert (from_json.score, from_json.acknowledge_minutes, from_json.deadlines_missed) == (
        67,
        8.0,
        1,
    )
    data = drill_history([scored, result(400, 100, 3, 0)]).to_json()
    assert data["trend"] == {
        "acknowledge_minutes": {"latest": 3, "earlier_average": 8.0, "direction": "better"},
        "deadlines_missed": {"latest": 0.0, "earlier_average": 1.0, "direction": "better"},
        "score": {"latest": 100.0, "earlier_average": 67.0, "direction": "better"},
    }
    drills = data["drills"]
    assert isinstance(drills, list) and drills[0]["played_at"] == "2026-11-26T19:14:00.000Z"


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"figures": None}, "figures: missing"),
        ({"score": "90"}, "score: expected a whole number"),
        ({"score": True}, "score: expected a whole number"),
        ({"figures": {"deadlines_missed": 1, "acknowledge_minutes": "8"}}, "acknowledge_minutes"),
        ({"figures": {"deadlines_missed": 1.5}}, "deadlines_missed: expected a whole number"),
        ({"played_at": 3}, "played_at: expected a string"),
        ({"drill": None}, "drill: expected a string"),
        ({"played_at": "yesterday"}, "played_at: not a time: 'yesterday'"),
    ],
)
def test_a_broken_stored_result_is_refused(broken: dict[str, object], problem: str) -> None:
    data = {**card().to_json(), **broken}
    with pytest.raises(ValueError, match=problem):
        DrillResult.from_json(data)
