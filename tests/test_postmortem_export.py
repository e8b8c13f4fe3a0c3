"""The Markdown export, parsed back with markdown-it-py (GFM tables on): every section, every
table's shape, and user text that stays text whatever it contains."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from cockpit.config import Config, RunbooksConfig
from cockpit.domain import ItemState, Kind, Status
from cockpit.markdown import md_cell, md_heading, md_line, md_paragraphs
from cockpit.postmortem.export import export_markdown
from cockpit.postmortem.render import SECTIONS
from cockpit.store import Store
from tests.conftest import T0, FakeClock

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])

# Everything that could break a Markdown document if pasted raw.
NASTY = "a | b || c # not a heading <script>alert('x')</script> `code` **bold** [l](http://x) &amp;"
NASTY_LINES = (
    "first | line with a trailing backslash \\\n"
    "# looks like a heading\n"
    "<script>alert(1)</script>\n"
    "```\n"
    "- looks like a bullet\n"
    "1. looks like a list\n"
    "> quote ~~strike~~ $x$ _u_ *e* <b>html</b> `tick`"
)
PLAIN_TYPES = {"text", "softbreak", "hardbreak"}


# ---- reading the document back ---------------------------------------------------------------


@dataclass
class Table:
    section: str
    header: list[str]
    rows: list[list[str]]
    cells: list[Token] = field(default_factory=list)  # every body cell's inline token


@dataclass
class Doc:
    tokens: list[Token]
    headings: list[tuple[int, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    paragraphs: dict[str, list[Token]] = field(default_factory=dict)
    items: dict[str, list[tuple[str, Token]]] = field(default_factory=dict)  # (list type, inline)
    fences: dict[str, list[Token]] = field(default_factory=dict)

    def table(self, section: str, index: int = 0) -> Table:
        return [t for t in self.tables if t.section == section][index]

    def texts(self, section: str) -> list[str]:
        return [text_of(tok) for tok in self.paragraphs.get(section, [])]


def text_of(inline: Token) -> str:
    """An inline token's text as a reader sees it: breaks and `<br>` as newlines."""
    out = []
    for child in inline.children or []:
        is_break = child.type in ("softbreak", "hardbreak")
        if is_break or (child.type == "html_inline" and child.content == "<br>"):
            out.append("\n")
        else:
            out.append(child.content)
    return "".join(out)


def web_links(inline: Token) -> list[tuple[str, str]]:
    """(text, href) of every link in an inline."""
    links, text, href = [], None, ""
    for child in inline.children or []:
        if child.type == "link_open":
            text, href = "", str(child.attrs["href"])
        elif child.type == "link_close" and text is not None:
            links.append((text, href))
            text = None
        elif text is not None:
            text += child.content
    return links


def is_web_address_link(text: str, href: str) -> bool:
    """A link that shows a typed web address and goes exactly there."""
    target = "http://" + text if text.startswith("www.") else text
    return text.lower().startswith(("http://", "https://", "ftp://", "www.")) and unquote(
        href
    ) == unquote(target)


def markup_in(inline: Token) -> set[str]:
    """Token types in an inline that are not plain text (code, emphasis, HTML, links other
    than to a typed web address...)."""
    kinds = {
        c.type
        for c in inline.children or []
        if c.type not in PLAIN_TYPES and not (c.type == "html_inline" and c.content == "<br>")
    }
    if all(is_web_address_link(text, href) for text, href in web_links(inline)):
        kinds -= {"link_open", "link_close"}
    return kinds


def parse(text: str) -> Doc:
    tokens = MD.parse(text)
    doc = Doc(tokens)
    section = ""
    table: Table | None = None
    row: list[str] | None = None
    in_head = False
    lists: list[str] = []
    for index, tok in enumerate(tokens):
        if tok.type == "heading_open":
            title = text_of(tokens[index + 1])
            doc.headings.append((int(tok.tag[1]), title))
            if tok.tag == "h2":
                section = title
        elif tok.type == "table_open":
            table = Table(section, [], [])
        elif tok.type == "table_close":
            assert table is not None
            doc.tables.append(table)
            table = None
        elif tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            assert table is not None and row is not None
            if in_head:
                table.header = row
            else:
                table.rows.append(row)
        elif tok.type in ("ordered_list_open", "bullet_list_open"):
            lists.append(tok.type.split("_")[0])
        elif tok.type in ("ordered_list_close", "bullet_list_close"):
            lists.pop()
        elif tok.type == "fence":
            doc.fences.setdefault(section, []).append(tok)
        elif tok.type == "inline":
            previous = tokens[index - 1].type
            if previous in ("th_open", "td_open"):
                assert row is not None and table is not None
                row.append(text_of(tok))
                if previous == "td_open":
                    table.cells.append(tok)
            elif previous == "paragraph_open" and lists:
                doc.items.setdefault(section, []).append((lists[-1], tok))
            elif previous == "paragraph_open":
                doc.paragraphs.setdefault(section, []).append(tok)
    return doc


# ---- a realistic incident ----------------------------------------------------------------------


@dataclass
class Built:
    store: Store
    clock: FakeClock
    incident_id: int
    starred: list[int]


def build(
    store: Store,
    clock: FakeClock,
    *,
    title: str = "Checkout API errors",
    communicator: str | None = None,
) -> Built:
    """SEV-2 raised to SEV-1, a late update, a backdated action, a handover, resolved (with
    the communicator handed over to `communicator` at the end, while still open: a resolved
    incident keeps its roles)."""
    incident = store.declare(
        title,
        "SEV-2",
        "alice",
        service="checkout",
        impact_started_at=T0 - timedelta(minutes=9),
        roles={"commander": "alice"},
    )
    i = incident.id
    clock.advance(minutes=5)
    note = store.append(i, Kind.NOTE, "error rate 12% on /pay", "alice")
    clock.advance(minutes=5)
    store.set_severity(i, "SEV-1", "alice")
    clock.advance(minutes=20)  # SEV-1's first update was due 15 min after declaring: late
    update = store.publish(i, "We are investigating errors at checkout.", "bob")
    clock.advance(minutes=3)
    store.assign(i, "communicator", "bob", "alice")
    clock.advance(minutes=10)
    store.set_status(i, Status.IDENTIFIED, "alice")
    clock.advance(minutes=10)
    action = store.append(
        i,
        Kind.ACTION,
        "rolled back api v142",
        "carol",
        at=clock.now - timedelta(minutes=15),
        reason="was on the bridge call",
    )
    clock.advance(minutes=5)
    store.publish(i, "Fix identified, rolling back.", "bob")
    clock.advance(minutes=5)
    store.assign(i, "commander", "dave", "alice")
    clock.advance(minutes=20)
    store.set_status(i, Status.MONITORING, "dave")
    clock.advance(minutes=30)
    if communicator is not None:
        store.assign(i, "communicator", communicator, "alice")
    store.publish(i, "Resolved.", "bob", status=Status.RESOLVED)
    for entry in (note, update, action):
        store.star(entry.id, "alice")
    return Built(store, clock, i, [note.id, update.id, action.id])


@pytest.fixture
def built(store: Store, clock: FakeClock) -> Built:
    return build(store, clock)


def export(b: Built, *, hours_after: float = 1, **kw: object) -> str:
    return export_markdown(
        b.store,
        Config(),
        b.incident_id,
        b.clock.now + timedelta(hours=hours_after),
        **kw,  # type: ignore[arg-type]
    )


# ---- structure ---------------------------------------------------------------------------------


def test_every_section_is_present_in_order_even_when_nothing_is_written(built: Built):
    doc = parse(export(built))
    assert [level for level, _ in doc.headings if level == 1] == [1]
    assert doc.headings[0][1] == "INC-1 post-mortem: Checkout API errors"
    assert [title for level, title in doc.headings if level == 2] == list(SECTIONS)
    assert [title for level, title in doc.headings if level == 3] == [
        "Status updates",
        "Time at each severity",
        "Time at each status",
        "Roles",
    ]
    for section, hint in (
        ("Summary", "What happened"),
        ("Customer impact", "Who was affected"),
        ("Root cause", 'One "why" per line'),
        ("Contributing factors", "missing monitoring"),
        ("What went well", "what helped"),
        ("What went poorly", "what got in the way"),
        ("Lessons learned", "what the team now knows"),
        ("Action items", "owner and a deadline"),
    ):
        (text,) = doc.texts(section)
        assert text.startswith("To fill in: ") and hint in text, section
    assert "blameless" in doc.texts("Blameless review")[0]
    assert "not for someone to blame" in doc.texts("Blameless review")[0]


def test_tables_have_the_right_rows_and_columns(built: Built):
    store, i = built.store, built.incident_id
    store.set_postmortem(i, "alice", {"summary": "Checkout failed for 2 hours."})
    first = store.add_action_item(
        i, "Alert on pool usage", owner="carol", deadline=date(2026, 12, 4)
    )
    store.add_action_item(i, "Load-test connection limits")
    store.update_action_item(first.id, state=ItemState.DONE)
    doc = parse(export(built))

    meta = doc.table("")
    assert meta.header == ["Field", "Value"]
    values = dict(meta.rows)  # type: ignore[arg-type]
    assert all(len(row) == 2 for row in meta.rows)
    assert values["Incident"] == "INC-1"
    assert values["Severity"] == "SEV-1 (declared SEV-2, peak SEV-1)"
    assert values["Service"] == "checkout"
    assert values["Impact started"] == "2026-11-27 02:05:00 UTC"
    assert values["Declared"] == "2026-11-27 02:14:00 UTC"
    assert values["Resolved"] == "2026-11-27 04:07:00 UTC"
    assert values["Duration"] == "01:53:00 declared, 02:02:00 impact"
    assert values["Commander"] == "alice → dave"
    assert values["Communicator"] == "bob"
    assert values["Status page"] == "—"
    assert values["Post-mortem due"] == "2026-11-29 04:07:00 UTC"

    milestones = doc.table("Metrics", 0)
    assert milestones.header == ["Milestone", "When (UTC)", "From impact start", "From declaration"]
    assert [row[0] for row in milestones.rows] == [
        "Impact started",
        "Declared (detection)",
        "Acknowledged (first status update)",
        "Mitigated (first monitoring)",
        "Resolved",
    ]
    assert milestones.rows[1][2] == "00:09:00"
    assert milestones.rows[2][1:] == ["2026-11-27 02:44:00", "00:39:00", "00:30:00"]
    assert milestones.rows[3][1:] == ["2026-11-27 03:37:00", "01:32:00", "01:23:00"]
    assert milestones.rows[4][1:] == ["2026-11-27 04:07:00", "02:02:00", "01:53:00"]

    compliance = doc.table("Metrics", 1)
    assert dict(compliance.rows) == {  # type: ignore[arg-type]
        "Status updates sent": "3",
        "Required by the severity policy": "4",  # three deadlines and the resolution update
        "Sent on time": "2",
        "Deadlines missed": "2",
        "Resolution update": "sent 2026-11-27 04:07:00 UTC",
    }
    missed = doc.table("Metrics", 2)
    assert missed.header == ["Update", "Due (UTC)", "Severity", "Late by", "Closed by"]
    assert [row[:4] for row in missed.rows] == [
        ["#1", "2026-11-27 02:29:00", "SEV-1", "00:15:00"],
        ["#3", "2026-11-27 03:42:00", "SEV-1", "00:25:00"],
    ]
    severities = doc.table("Metrics", 3)
    assert severities.rows == [["SEV-2", "00:10:00", "9%"], ["SEV-1", "01:43:00", "91%"]]
    statuses = doc.table("Metrics", 4)
    assert [row[:2] for row in statuses.rows] == [
        ["investigating", "00:43:00"],
        ["identified", "00:40:00"],
        ["monitoring", "00:30:00"],
    ]
    roles = doc.table("Metrics", 5)
    assert roles.header == ["Role", "Person", "From (UTC)", "Until (UTC)", "Held for"]
    assert [row[:2] + row[4:] for row in roles.rows] == [
        ["commander", "alice", "01:03:00"],
        ["communicator", "bob", "01:20:00"],
        ["commander", "dave", "00:50:00"],
    ]

    key = doc.table("Timeline")
    assert key.header == ["Time (UTC)", "Local time", "Kind", "Author", "Text"]
    assert len(key.rows) == len(built.starred) == 3
    assert [row[2] for row in key.rows] == ["note", "status update", "action"]

    items = doc.table("Action items")
    assert items.header == ["#", "Action", "Owner", "Deadline", "State"]
    assert items.rows == [
        [str(first.id), "Alert on pool usage", "carol", "2026-12-04", "done"],
        [str(first.id + 1), "Load-test connection limits", "unassigned", "no deadline", "open"],
    ]

    appendix = doc.table("Appendix: full timeline")
    assert appendix.header == ["#", "Time (UTC)", "Local time", "Kind", "Author", "Text", "Notes"]
    assert len(appendix.rows) == store.entry_count(i)
    for table in doc.tables:
        assert all(len(row) == len(table.header) for row in table.rows), table.section


def test_the_appendix_is_in_claimed_time_order_and_shows_backdating(built: Built):
    doc = parse(export(built))
    appendix = doc.table("Appendix: full timeline")
    times = [row[1] for row in appendix.rows]
    assert times == sorted(times)
    backdated = next(row for row in appendix.rows if row[5] == "rolled back api v142")
    assert backdated[1] == "2026-11-27 02:52:00"
    assert (
        "backdated: written 2026-11-27 03:07:00 UTC, reason: was on the bridge call" in backdated[6]
    )
    assert "★ key moment" in backdated[6]
    ids = [int(row[0]) for row in appendix.rows]
    assert ids != sorted(ids)  # written after entry it precedes


def test_local_times_use_the_given_zone(built: Built):
    doc = parse(export(built, tz=ZoneInfo("Europe/Paris")))
    first = doc.table("Appendix: full timeline").rows[0]
    assert first[1] == "2026-11-27 02:14:00"
    assert first[2] == "2026-11-27 03:14:00 CET"
    key = doc.table("Timeline").rows[0]
    assert key[0] == "2026-11-27 02:19:00" and key[1] == "2026-11-27 03:19:00 CET"


def test_local_times_follow_daylight_saving_changes(store: Store):
    clock = FakeClock(datetime(2026, 3, 29, 0, 58, 30, tzinfo=UTC))  # CET -> CEST at 01:00 UTC
    store.clock = clock
    incident = store.declare("DST", "SEV-3", "alice")
    for _ in range(4):
        clock.advance(seconds=40)
        store.append(incident.id, Kind.NOTE, "tick", "alice")
    text = export_markdown(store, Config(), incident.id, clock.now, tz=ZoneInfo("Europe/Paris"))
    rows = parse(text).table("Appendix: full timeline").rows
    assert [(row[1][11:], row[2][11:]) for row in rows] == [
        ("00:58:30", "01:58:30 CET"),
        ("00:59:10", "01:59:10 CET"),
        ("00:59:50", "01:59:50 CET"),
        ("01:00:30", "03:00:30 CEST"),
        ("01:01:10", "03:01:10 CEST"),
    ]


def test_the_phases_diagram_is_a_mermaid_gantt_of_the_incident(built: Built):
    doc = parse(export(built))
    (fence,) = doc.fences["Phases"]
    assert fence.info == "mermaid"
    lines = fence.content.splitlines()
    assert lines[0] == "gantt"
    assert "    dateFormat YYYY-MM-DD HH:mm:ss" in lines
    sections = [line.strip() for line in lines if line.strip().startswith("section ")]
    assert sections == ["section Response", "section Status", "section Severity"]
    task = re.compile(
        r"^    ([A-Za-z0-9 ._()-]+) :(?:(?:crit|done|active), )*([a-z]+\d+), "
        r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$"
    )
    tasks = [task.match(line) for line in lines if " :" in line]
    assert tasks and all(tasks), lines
    names = [t.group(1) for t in tasks if t]
    assert names == [
        "Detection",
        "Response to mitigation",
        "Recovery",
        "investigating",
        "identified",
        "monitoring",
        "SEV-2",
        "SEV-1",
    ]
    assert len({t.group(2) for t in tasks if t}) == len(tasks)  # ids unique
    for t in tasks:
        assert t is not None and t.group(3) < t.group(4)
    assert tasks[0] is not None and tasks[0].group(3) == "2026-11-27 02:05:00"
    assert tasks[-1] is not None and tasks[-1].group(4) == "2026-11-27 04:07:00"


def test_the_status_page_link_only_for_web_addresses(built: Built):
    store, i = built.store, built.incident_id
    store.set_remote_ref(i, "statuspage", "shortlink", "https://stspg.io/abc(1)")
    doc = parse(export(built))
    cell = next(
        tok
        for tok, row in zip(doc.table("").cells[1::2], doc.table("").rows, strict=True)
        if row[0] == "Status page"
    )
    link = next(c for c in cell.children or [] if c.type == "link_open")
    assert link.attrs["href"] == "https://stspg.io/abc%281%29"
    store.set_remote_ref(i, "statuspage", "shortlink", "javascript:alert(1)")
    values = dict(parse(export(built)).table("").rows)  # type: ignore[arg-type]
    assert values["Status page"] == "javascript:alert(1)"
    assert "link_open" not in {
        c.type for t in parse(export(built)).table("").cells for c in t.children or []
    }


def test_the_statuspage_incident_the_outbox_created_is_linked(built: Built):
    from cockpit.config import StatuspageConfig

    built.store.set_remote_ref(built.incident_id, "statuspage", "incident", "p0k7x2")
    config = Config(statuspage=StatuspageConfig(page_id="abc123"))
    text = export_markdown(built.store, config, built.incident_id, built.clock.now)
    values = dict(parse(text).table("").rows)  # type: ignore[arg-type]
    assert values["Status page"] == "https://manage.statuspage.io/pages/abc123/incidents/p0k7x2"
    assert "](https://manage.statuspage.io/pages/abc123/incidents/p0k7x2)" in text
    plain = dict(parse(export(built)).table("").rows)  # type: ignore[arg-type]
    assert plain["Status page"] == "—"  # no Statuspage configured: nothing to link to


def test_a_linked_runbook_cadence_counts_as_it_did_on_the_countdown(store: Store, clock: FakeClock):
    # The bundled runbook asks for an update every 15 minutes instead of SEV-2's 30.
    incident = store.declare("API errors", "SEV-2", "alice", runbook="api-high-error-rate")
    clock.advance(minutes=10)
    store.publish(incident.id, "Investigating.", "bob")
    clock.advance(minutes=20)
    store.publish(incident.id, "Still investigating.", "bob")
    doc = parse(export_markdown(store, Config(), incident.id, clock.now))
    assert doc.table("Metrics", 2).rows == [
        ["#2", "2026-11-27 02:39:00", "SEV-2", "00:05:00", "late update at 2026-11-27 02:44:00"]
    ]
    no_runbooks = Config(runbooks=RunbooksConfig(include_bundled=False))
    doc = parse(export_markdown(store, no_runbooks, incident.id, clock.now))
    assert dict(doc.table("Metrics", 1).rows)["Deadlines missed"] == "0"  # type: ignore[arg-type]


def test_an_open_incident_exports_what_is_known_so_far(store: Store, clock: FakeClock):
    incident = store.declare("Still burning", "SEV-1", "alice")
    clock.advance(minutes=50)
    doc = parse(export_markdown(store, Config(), incident.id, clock.now))
    values = dict(doc.table("").rows)  # type: ignore[arg-type]
    assert values["Resolved"] == "not resolved"
    assert values["Duration"] == "00:50:00 declared, 00:50:00 impact (still open)"
    assert "Post-mortem due" not in values
    milestones = doc.table("Metrics", 0)
    assert milestones.rows[2][1] == "no status update sent"
    assert milestones.rows[3][1] == "not reached monitoring"
    missed = doc.table("Metrics", 2)
    assert missed.rows == [
        ["#1", "2026-11-27 02:29:00", "SEV-1", "00:35:00", "still owed at 2026-11-27 03:04:00"]
    ]
    assert "(ongoing)" in doc.fences["Phases"][0].content


def test_an_overdue_postmortem_says_so(built: Built):
    values = dict(parse(export(built, hours_after=50)).table("").rows)  # type: ignore[arg-type]
    assert values["Post-mortem due"] == "2026-11-29 04:07:00 UTC (overdue by 02:00:00)"
    built.store.set_postmortem(built.incident_id, "alice", completed=True)
    values = dict(parse(export(built, hours_after=50)).table("").rows)  # type: ignore[arg-type]
    assert values["Post-mortem due"].endswith("(completed 2026-11-27 04:07:00 UTC)")


# ---- user text stays text ------------------------------------------------------------------------


def test_user_text_with_markdown_and_html_stays_text_everywhere(store: Store, clock: FakeClock):
    b = build(store, clock, title=NASTY, communicator=NASTY)
    i = b.incident_id
    store.append(i, Kind.NOTE, NASTY_LINES, NASTY)
    store.append(i, Kind.NOTE, "late", "alice", at=clock.now - timedelta(minutes=1), reason=NASTY)
    store.set_postmortem(
        i,
        "alice",
        {
            "summary": NASTY_LINES,
            "impact": NASTY + "\n\nSecond paragraph | still text",
            "root_cause": [NASTY, "1. not a nested list", "# not a heading"],
            "contributing_factors": NASTY_LINES,
            "went_well": "- " + NASTY,
            "went_poorly": "<img src=x onerror=alert(1)>",
            "lessons": "```python\nprint('no code block')\n```",
        },
    )
    store.add_action_item(i, NASTY_LINES, owner=NASTY, deadline=date(2026, 12, 1))
    doc = parse(export(b))

    # Nothing the users typed turned into markup: no HTML, code, links, emphasis or headings.
    kinds = {tok.type for tok in doc.tokens}
    assert not kinds & {"html_block", "code_block", "blockquote_open", "hr"}
    assert [t.info for fences in doc.fences.values() for t in fences] == ["mermaid"]
    assert [title for level, title in doc.headings if level == 2] == list(SECTIONS)
    for table in doc.tables:
        for cell in table.cells:
            assert not markup_in(cell), (table.section, text_of(cell))
    for tokens in doc.paragraphs.values():
        for tok in tokens:
            if "To fill in" not in text_of(tok):
                assert not markup_in(tok) - {"em_open", "em_close"}, text_of(tok)

    assert doc.headings[0][1] == f"INC-1 post-mortem: {NASTY}"
    assert dict(doc.table("").rows)["Title"] == NASTY  # type: ignore[arg-type]
    assert dict(doc.table("").rows)["Communicator"] == f"bob → {NASTY}"  # type: ignore[arg-type]

    summary = doc.paragraphs["Summary"]
    assert len(summary) == 1 and not markup_in(summary[0])
    assert text_of(summary[0]) == NASTY_LINES
    assert doc.texts("Customer impact") == [NASTY, "Second paragraph | still text"]

    whys = doc.items["Root cause"]
    assert {kind for kind, _ in whys} == {"ordered"}
    assert [text_of(tok) for _, tok in whys] == [NASTY, "1. not a nested list", "# not a heading"]
    factors = doc.items["Contributing factors"]
    assert {kind for kind, _ in factors} == {"bullet"}
    # One item per line; a bullet typed by hand is the list's own bullet.
    expected = [line.removeprefix("- ") for line in NASTY_LINES.split("\n")]
    assert [text_of(tok) for _, tok in factors] == [line.rstrip() for line in expected]
    assert [text_of(tok) for _, tok in doc.items["What went well"]] == [NASTY]
    assert [text_of(tok) for _, tok in doc.items["What went poorly"]] == [
        "<img src=x onerror=alert(1)>"
    ]
    assert [text_of(tok) for _, tok in doc.items["Lessons learned"]] == [
        "```python",
        "print('no code block')",
        "```",
    ]

    items = doc.table("Action items")
    assert items.rows[0][1] == NASTY_LINES and items.rows[0][2] == NASTY

    appendix = doc.table("Appendix: full timeline")
    note = next(row for row in appendix.rows if row[4] == NASTY)
    assert note[5] == NASTY_LINES
    late = next(row for row in appendix.rows if row[5] == "late")
    assert late[6].endswith(f"reason: {NASTY}")
    declared = appendix.rows[0]
    assert declared[5] == f"declared SEV-2: {NASTY} (checkout)"


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "a|b",
        "\\|",
        "trailing backslash \\",
        "`",
        "``code``",
        "<!-- comment -->",
        "&lt;&#60;&#x3C;",
        "[x]: http://example.com",
        "*a* _b_ **c** __d__ ~~e~~",
        "![img](http://x/y.png)",
        "<http://autolink.example>",
        "1) one",
        "+ plus",
        "===",
        "---",
        "***",
        "| a | b |\n| --- | --- |\n| c | d |",
        "line\nbreak",
        "tab\there",
        "\x1b[31mred\x1b[0m and \x07bell",
    ],
)
def test_escaping_round_trips_through_a_real_parser(text: str):
    shown = text.replace("\x1b[31m", "").replace("\x1b[0m", "").replace("\x07", "")
    shown = shown.expandtabs(4)  # a tab is shown as the spaces it stands for
    cell = MD.parse(f"| h |\n| --- |\n| {md_cell(text)} |\n")
    inline = next(t for t in cell if t.type == "inline" and t.content != "h")
    assert text_of(inline) == shown.strip()
    assert not markup_in(inline)
    blocks = MD.parse(md_paragraphs(text))
    inlines = [t for t in blocks if t.type == "inline"]
    assert [t.type for t in blocks if t.nesting == 1] == ["paragraph_open"] * len(inlines)
    assert "\n".join(text_of(t) for t in inlines) == shown.strip()
    assert not any(markup_in(t) for t in inlines)


def test_the_export_is_the_same_for_the_same_moment(built: Built):
    first = export(built)
    assert first == export(built)  # deterministic for the same moment
    assert "generated by cockpit at 2026-11-27 05:07:00 UTC" in first
    assert datetime(2026, 11, 27, 5, 7, tzinfo=UTC) == built.clock.now + timedelta(hours=1)


MARKDOWN_ALPHABET = "ab1. -+=*_`~#>|<&![]()\\$:/\n\t "


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=MARKDOWN_ALPHABET, max_size=40))
def test_any_mix_of_markdown_characters_stays_text(text: str):
    lines = [line.expandtabs(4) for line in text.split("\n")]
    cell = MD.parse(f"| h |\n| --- |\n| {md_cell(text)} |\n")
    (inline,) = [t for t in cell if t.type == "inline"][1:]
    assert not markup_in(inline), md_cell(text)
    # Each line as typed; blank lines at either end are only line endings.
    assert text_of(inline) == "\n".join(s.strip() for s in lines).strip("\n ")
    text = "\n".join(lines)

    blocks = MD.parse(md_paragraphs(text))
    inlines = [t for t in blocks if t.type == "inline"]
    assert [t.type for t in blocks if t.nesting == 1] == ["paragraph_open"] * len(inlines)
    assert not any(markup_in(t) for t in inlines), md_paragraphs(text)
    paragraphs = [
        "\n".join(line.strip() for line in chunk.split("\n") if line.strip())
        for chunk in re.split(r"\n[ \t]*\n", text.strip())
    ]
    assert [text_of(t) for t in inlines] == [p for p in paragraphs if p]

    heading = MD.parse(f"# {md_heading(text)}\n")
    assert [t.type for t in heading if t.nesting == 1] == ["heading_open"]
    (title,) = [t for t in heading if t.type == "inline"]
    assert text_of(title) == " ".join(text.split())

    for line in lines:
        for marker in ("- ", "1. "):
            listed = MD.parse(f"{marker}{md_line(line)}\n")
            items = [t for t in listed if t.type == "inline"]
            if line.strip():
                assert [text_of(t) for t in items] == [line.strip()]
                assert not markup_in(items[0])
                assert sum(t.type == "list_item_open" for t in listed) == 1
