"""The post-mortem: its fields and action items, when it is due, and its Markdown export.

Pure Python on top of the domain: the store persists these types and the CLI and the TUI edit
them, so this module never imports the store (the store imports it) nor Textual.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cockpit.domain import (
    Entry,
    Incident,
    Kind,
    format_duration,
    read_stored,
    unreadable_note,
)
from cockpit.domain.postmortem import FIELD_HINTS as FIELD_HINTS
from cockpit.domain.postmortem import FIELD_LABELS as FIELD_LABELS
from cockpit.domain.postmortem import FIELDS as FIELDS
from cockpit.domain.postmortem import TEXT_FIELDS as TEXT_FIELDS
from cockpit.domain.postmortem import ActionItem as ActionItem
from cockpit.domain.postmortem import ItemState as ItemState
from cockpit.domain.postmortem import Postmortem as Postmortem
from cockpit.domain.postmortem import field_value as field_value
from cockpit.domain.postmortem import normalize_field_name as normalize_field_name
from cockpit.domain.postmortem import parse_deadline as parse_deadline
from cockpit.domain.postmortem import parse_item_state as parse_item_state
from cockpit.domain.postmortem import whys_from_text as whys_from_text
from cockpit.files import write_text
from cockpit.markdown import (
    md_cell,
    md_escape,
    md_heading,
    md_items,
    md_line,
    md_link,
    md_paragraphs,
    md_table,
)
from cockpit.metrics import Metrics, compute_metrics

if TYPE_CHECKING:
    from cockpit.config import Config
    from cockpit.store import Store


# ---- due dates -------------------------------------------------------------------------------


def postmortem_due_at(incident: Incident, due_hours: int) -> datetime | None:
    """When the post-mortem is due: `due_hours` after resolution; None while open."""
    if incident.is_open or incident.resolved_at is None:
        return None
    try:
        return incident.resolved_at + timedelta(hours=due_hours)
    except OverflowError:  # resolved near the end of time: never due
        return None


@dataclass(frozen=True)
class PendingPostmortem:
    """A resolved incident whose post-mortem is not complete yet."""

    incident: Incident
    due_at: datetime

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at


@dataclass(frozen=True)
class Pending:
    """What the incident list nags about: post-mortems due and action items past deadline."""

    postmortems: tuple[PendingPostmortem, ...] = ()
    items: tuple[tuple[Incident, ActionItem], ...] = ()


def pending(store: Store, due_hours: int, now: datetime) -> Pending:
    """Incomplete post-mortems of resolved incidents (soonest due first), late action items."""
    incidents = {incident.id: incident for incident in store.incidents()}
    postmortems = []
    for incident in incidents.values():
        due = postmortem_due_at(incident, due_hours)
        if due is not None and store.postmortem(incident.id).completed_at is None:
            postmortems.append(PendingPostmortem(incident, due))
    postmortems.sort(key=lambda p: p.due_at)
    items = [
        (incidents[item.incident_id], item)
        for item in store.action_items(states=(ItemState.OPEN,))
        if item.past_deadline(now) and item.incident_id in incidents
    ]
    items.sort(key=lambda pair: (pair[1].deadline or date.min, pair[1].id))
    return Pending(tuple(postmortems), tuple(items))


# ---- file names --------------------------------------------------------------------------------


def slug(title: str, limit: int = 48) -> str:
    """A file-name-safe lower-case slug of `title` ("incident" when nothing is left)."""
    text = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if len(text) > limit:
        text = text[:limit].rsplit("-", 1)[0] if "-" in text[:limit] else text[:limit]
    return text.strip("-") or "incident"


def export_filename(incident: Incident) -> str:
    """`postmortem-INC-7-checkout-api-errors.md`."""
    return f"postmortem-{incident.ref}-{slug(incident.title)}.md"


def export_path(config: Config, incident: Incident) -> Path:
    """Where the export goes by default: `[postmortem] dir` (relative to the working dir)."""
    return Path(config.postmortem.dir).expanduser() / export_filename(incident)


def write_export(path: Path, text: str) -> Path:
    """Write the document atomically (a reader never sees half of it); returns the path.

    A symlink is written through and a FIFO or device (`/dev/stdout`) gets a stream; neither
    is ever replaced by a file (`cockpit.files.write_text`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, text)


# ---- the document ----------------------------------------------------------------------------


TimelineRow = tuple[Any, ...]
"""(id, at, written_at, kind, author, text, reason, corrects) as `Store.timeline_rows` gives."""

METRIC_KINDS = (Kind.SYSTEM, Kind.STATUS, Kind.SEVERITY, Kind.ROLE, Kind.UPDATE)
"""The entries metrics are computed from (the rest only appear in the timeline)."""


@dataclass(frozen=True)
class Report:
    """Everything one export shows, read from the store at `generated_at`."""

    incident: Incident
    postmortem: Postmortem
    items: tuple[ActionItem, ...]
    key_moments: tuple[Entry, ...]  # the starred entries, in timeline order
    timeline: Sequence[TimelineRow]  # every entry, in timeline order
    starred: frozenset[int]
    metrics: Metrics
    generated_at: datetime
    due_at: datetime | None
    role_names: tuple[str, ...] = ("commander", "communicator")
    status_page: str | None = None
    tz: tzinfo | None = None  # local times in this zone; None: the machine's


STATUS_PAGE_REFS = (("statuspage", "shortlink"), ("statuspage", "url"), ("statuspage", "link"))
"""Where a status-page link may be recorded in `remote_refs` (target, key), first found wins."""


STATUSPAGE_MANAGE_URL = "https://manage.statuspage.io/pages/{page}/incidents/{incident}"


def status_page_link(store: Store, config: Config, incident_id: int) -> str | None:
    """A public link if one was recorded, else the Statuspage incident the outbox created."""
    for target, key in STATUS_PAGE_REFS:
        link = store.remote_ref(incident_id, target, key)
        if link:
            return link
    remote = store.remote_ref(incident_id, "statuspage", "incident")
    if remote and config.statuspage is not None and config.statuspage.page_id:
        return STATUSPAGE_MANAGE_URL.format(
            page=quote(config.statuspage.page_id, safe=""), incident=quote(remote, safe="")
        )
    return None


def build_report(
    store: Store,
    config: Config,
    incident_id: int,
    now: datetime,
    *,
    tz: tzinfo | None = None,
    every_minutes_override: int | None = None,
) -> Report:
    """Read the incident, its timeline, post-mortem, items and stars; compute the metrics.

    The update cadence is the one the cockpit's countdown used: a linked runbook's override
    applies unless the caller gives one.
    """
    incident = store.incident(incident_id)
    if every_minutes_override is None:
        from cockpit.board import build_board  # the board knows how runbooks set the cadence

        every_minutes_override = build_board(store, config, incident_id, now).every_minutes_override
    metrics = compute_metrics(
        incident,
        store.entries(incident_id, kinds=METRIC_KINDS),
        config.severities,
        now,
        every_minutes_override=every_minutes_override,
    )
    starred = frozenset(store.starred(incident_id))
    key_moments = sorted((store.entry(i) for i in starred), key=lambda e: (e.at, e.id))
    roles = list(config.role_names)
    roles += [t.role for t in metrics.roles if t.role not in roles]
    return Report(
        incident=incident,
        postmortem=store.postmortem(incident_id),
        items=tuple(store.action_items(incident_id)),
        key_moments=tuple(key_moments),
        timeline=store.timeline_rows(incident_id),
        starred=starred,
        metrics=metrics,
        generated_at=now,
        due_at=postmortem_due_at(incident, config.postmortem.due_hours),
        role_names=tuple(dict.fromkeys(roles)),
        status_page=status_page_link(store, config, incident_id),
        tz=tz,
    )


def export_markdown(
    store: Store,
    config: Config,
    incident_id: int,
    now: datetime,
    *,
    tz: tzinfo | None = None,
    every_minutes_override: int | None = None,
) -> str:
    """The post-mortem of one incident as GitHub-flavoured Markdown."""
    report = build_report(
        store, config, incident_id, now, tz=tz, every_minutes_override=every_minutes_override
    )
    return render_markdown(report)


SECTIONS = (
    "Summary",
    "Customer impact",
    "Metrics",
    "Phases",
    "Timeline",
    "Root cause",
    "Contributing factors",
    "What went well",
    "What went poorly",
    "Action items",
    "Lessons learned",
    "Appendix: full timeline",
    "Blameless review",
)
"""The second-level headings of every export, in order."""

KIND_LABELS: Mapping[Kind, str] = {Kind.UPDATE: "status update", Kind.STEP: "runbook step"}


def render_markdown(report: Report) -> str:
    """The whole document; sections with nothing written say what to fill in."""
    r = report
    pm = r.postmortem
    title = md_heading(r.incident.title)
    parts = [
        f"# {r.incident.ref} post-mortem: {title}",
        _intro(r),
        _metadata(r),
        "## Summary",
        md_paragraphs(pm.summary) or _todo("summary"),
        "## Customer impact",
        md_paragraphs(pm.impact) or _todo("impact"),
        "## Metrics",
        *_metrics(r),
        "## Phases",
        _gantt(r),
        "## Timeline",
        _key_moments(r),
        "## Root cause",
        _numbered(pm.root_cause) or _todo("root_cause"),
        "## Contributing factors",
        _bullets(pm.contributing_factors) or _todo("contributing_factors"),
        "## What went well",
        _bullets(pm.went_well) or _todo("went_well"),
        "## What went poorly",
        _bullets(pm.went_poorly) or _todo("went_poorly"),
        "## Action items",
        _action_items(r),
        "## Lessons learned",
        _bullets(pm.lessons) or _todo("lessons"),
        "## Appendix: full timeline",
        _appendix(r),
        "## Blameless review",
        BLAMELESS_NOTE,
    ]
    return "\n\n".join(parts) + "\n"


BLAMELESS_NOTE = (
    "This review is blameless. It looks for the conditions in how the system is built and run "
    "that let this incident happen and made it harder to handle, not for someone to blame. "
    "A person who made a mistake was working in a system that allowed that mistake to reach "
    "production: the system failed, not the person. Action items change the system."
)


def _todo(name: str) -> str:
    cli = name.replace("_", "-")
    return (
        f"*To fill in: {md_escape(FIELD_HINTS[name])}* "
        f"(press `p` in the cockpit, or `cockpit postmortem set {cli} …`)"
    )


def _utc(moment: datetime | None) -> str:
    """`2026-11-27 02:14:05` (isoformat is several times faster than strftime)."""
    return moment.astimezone(UTC).isoformat(" ", "seconds")[:19] if moment else "—"


def _local(moment: datetime, tz: tzinfo | None) -> str:
    local = moment.astimezone(tz)
    return f"{local.isoformat(' ', 'seconds')[:19]} {local.tzname()}"


def _span(delta: timedelta | None) -> str:
    return format_duration(delta) if delta is not None else "—"


def _intro(r: Report) -> str:
    state = "complete" if r.postmortem.completed_at else "draft"
    return (
        f"*Post-mortem ({state}) generated by cockpit at {_utc(r.generated_at)} UTC from the "
        "incident timeline. Metrics are computed from the timeline, not typed in.*"
    )


def _metadata(r: Report) -> str:
    incident, m = r.incident, r.metrics
    severity = md_cell(m.final_severity)
    if m.peak_severity != m.final_severity or m.initial_severity != m.final_severity:
        severity += f" (declared {md_cell(m.initial_severity)}, peak {md_cell(m.peak_severity)})"
    rows = [
        ["Incident", incident.ref],
        ["Title", md_cell(incident.title)],
        ["Severity", severity],
        ["Service", md_cell(incident.service) or "—"],
        ["Status", incident.status.value],
        ["Impact started", f"{_utc(m.impact_started_at)} UTC"],
        ["Declared", f"{_utc(m.declared_at)} UTC"],
        ["Resolved", f"{_utc(m.resolved_at)} UTC" if m.resolved_at else "not resolved"],
        [
            "Duration",
            f"{format_duration(m.duration)} declared, {format_duration(m.impact_duration)} impact"
            + ("" if m.is_resolved else " (still open)"),
        ],
    ]
    for role in r.role_names:
        holders = m.holders(role)
        rows.append([md_cell(role.capitalize()), " → ".join(md_cell(p) for p in holders) or "—"])
    rows.append(["Status page", md_link(r.status_page, r.status_page) if r.status_page else "—"])
    if r.due_at is not None:
        due = f"{_utc(r.due_at)} UTC"
        if r.postmortem.completed_at is not None:
            due += f" (completed {_utc(r.postmortem.completed_at)} UTC)"
        elif r.generated_at > r.due_at:
            due += f" (overdue by {format_duration(r.generated_at - r.due_at)})"
        rows.append(["Post-mortem due", due])
    return md_table(["Field", "Value"], rows)


def _metrics(r: Report) -> list[str]:
    m = r.metrics
    mitigated = _utc(m.mitigated_at)
    if m.mitigation_inferred:
        mitigated += " (never reached monitoring: counted at resolution)"
    elif m.mitigated_at is None:
        mitigated = "not reached monitoring"
    milestones = [
        ["Impact started", _utc(m.impact_started_at), "—", "—"],
        [
            "Declared (detection)",
            _utc(m.declared_at),
            _span(m.detection),
            "—",
        ],
        [
            "Acknowledged (first status update)",
            _utc(m.acknowledged_at) if m.acknowledged_at else "no status update sent",
            _span(m.since_impact(m.acknowledged_at)),
            _span(m.since_declared(m.acknowledged_at)),
        ],
        [
            "Mitigated (first monitoring)",
            mitigated,
            _span(m.since_impact(m.mitigated_at)),
            _span(m.since_declared(m.mitigated_at)),
        ],
        [
            "Resolved",
            _utc(m.resolved_at) if m.resolved_at else "not resolved",
            _span(m.since_impact(m.resolved_at)),
            _span(m.since_declared(m.resolved_at)),
        ],
    ]
    u = m.updates
    compliance = [
        ["Status updates sent", str(u.sent)],
        ["Required by the severity policy", str(u.required)],
        ["Sent on time", str(u.met)],
        ["Deadlines missed", str(len(u.missed))],
        ["Resolution update", _resolution_update(m)],
    ]
    if u.missed:
        missed = md_table(
            ["Update", "Due (UTC)", "Severity", "Late by", "Closed by"],
            [
                [
                    f"#{d.number}",
                    _utc(d.due_at),
                    md_cell(d.severity),
                    format_duration(d.late_by),
                    _closed_by(d.ended_by, d.ended_at),
                ]
                for d in u.missed
            ],
        )
    else:
        missed = "No status-update deadline was missed."
    life = m.duration if m.duration > timedelta(0) else timedelta(seconds=1)
    severities = md_table(
        ["Severity", "Time", "Share"],
        [
            [md_cell(name), format_duration(spent), f"{spent / life:.0%}"]
            for name, spent in m.time_at_severity().items()
        ],
    )
    statuses = md_table(
        ["Status", "Time", "Share"],
        [
            [name, format_duration(spent), f"{spent / life:.0%}"]
            for name, spent in m.time_at_status().items()
        ],
    )
    if m.roles:
        roles = md_table(
            ["Role", "Person", "From (UTC)", "Until (UTC)", "Held for"],
            [
                [
                    md_cell(t.role),
                    md_cell(t.person),
                    _utc(t.start),
                    _utc(t.end) if t.end else "end",
                    format_duration(t.held_for(m.end)),
                ]
                for t in m.roles
            ],
        )
    else:
        roles = "Nobody was assigned a role."
    return [
        md_table(["Milestone", "When (UTC)", "From impact start", "From declaration"], milestones),
        "### Status updates",
        md_table(["Measure", "Value"], compliance),
        missed,
        "### Time at each severity",
        severities,
        "### Time at each status",
        statuses,
        "### Roles",
        roles,
    ]


def _resolution_update(m: Metrics) -> str:
    """Whether the update that closes the incident was required, sent, and when."""
    u = m.updates
    if not m.is_resolved:
        return "not due yet (the incident is open)"
    if u.resolution_sent_at is not None:
        return f"sent {_utc(u.resolution_sent_at)} UTC"
    if u.resolution_required:
        return "required, not sent"
    return f"not required ({md_cell(m.final_severity)} has no update cadence and none was sent)"


def _closed_by(how: str, at: datetime) -> str:
    return {
        "update": f"late update at {_utc(at)}",
        "severity": f"severity change at {_utc(at)}",
        "resolution": f"resolved at {_utc(at)} without one",
        "open": f"still owed at {_utc(at)}",
    }.get(how, how)


def _gantt(r: Report) -> str:
    m = r.metrics
    stamp = "YYYY-MM-DD HH:mm:ss"
    multi_day = m.end - m.impact_started_at > timedelta(hours=20)
    lines = [
        "```mermaid",
        "gantt",
        f"    title {r.incident.ref} phases (UTC)",
        f"    dateFormat {stamp}",
        f"    axisFormat {'%m-%d %H:%M' if multi_day else '%H:%M'}",
        "    section Response",
    ]
    ongoing = "" if m.is_resolved else " (ongoing)"
    phases = [
        ("Detection", m.impact_started_at, m.declared_at, "done"),
        ("Response to mitigation", m.declared_at, m.mitigated_at or m.end, "active"),
        ("Recovery", m.mitigated_at, m.end if m.mitigated_at else None, "active"),
    ]
    count = 0
    for label, start, end, tag in phases:
        if start is None or end is None or end <= start:
            continue
        if end == m.end:
            label += ongoing
        count += 1
        lines.append(f"    {label} :{tag}, p{count}, {_bar(start, end)}")
    for section, spans, tags in (
        ("Status", m.statuses, {}),
        ("Severity", m.severities, {m.peak_severity: "crit, "}),
    ):
        lines.append(f"    section {section}")
        for index, span in enumerate(spans, 1):
            tag = tags.get(span.value, "")
            ident = f"{section[:2].lower()}{index}"
            label = _mermaid_label(span.value)
            lines.append(f"    {label} :{tag}{ident}, {_bar(span.start, span.end)}")
    lines.append("```")
    return "\n".join(lines)


# Words Mermaid's gantt lexer reads as a statement (in any case) when a line starts with them:
# a task named so would break the chart or silently vanish from it.
_MERMAID_KEYWORD = re.compile(
    r"^(?:acc(?:title|descr|description)|call|click|href|gantt|dateformat|inclusiveenddates"
    r"|topaxis|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|title"
    r"|section)(?![a-z0-9])|^\d{4}-\d\d-\d\d(?![a-z0-9_])",
    re.IGNORECASE,
)


def _mermaid_label(text: str) -> str:
    """A task name Mermaid shows as it is: letters, digits, spaces and `._()+/-` only (`:`
    ends a name, `#` and `;` end a task, `%` starts a comment), quoted when it starts like a
    statement."""
    label = " ".join(re.sub(r"[^\w .()+/-]", " ", text).split()) or "-"
    return f'"{label}"' if _MERMAID_KEYWORD.match(label) else label


def _bar(start: datetime, end: datetime) -> str:
    """`start, end` to the second, the end at least a second after the start: a bar whose
    end equals its start is drawn as nothing."""
    first = start.replace(microsecond=0)
    last = max(end.replace(microsecond=0), first + timedelta(seconds=1))
    return f"{_utc(first)}, {_utc(last)}"


def _key_moments(r: Report) -> str:
    starred = r.key_moments
    if not starred:
        return (
            "*To fill in: star the key moments of the timeline (`*` on an entry in the "
            "cockpit, or `cockpit postmortem star ENTRY_ID`); every entry is in the appendix.*"
        )
    return md_table(
        ["Time (UTC)", "Local time", "Kind", "Author", "Text"],
        [
            [
                _utc(e.at),
                _local(e.at, r.tz),
                KIND_LABELS.get(e.kind, e.kind.value),
                md_cell(e.author),
                md_cell(e.text),
            ]
            for e in starred
        ],
    )


def _numbered(whys: Sequence[str]) -> str:
    return "\n".join(f"{n}. {md_line(why)}" for n, why in enumerate(whys, 1) if why.strip())


def _bullets(text: str) -> str:
    return "\n".join(f"- {item}" for item in md_items(text))


def _action_items(r: Report) -> str:
    if not r.items:
        return (
            "*To fill in: specific, assignable tasks that make this less likely or less bad, "
            "each with an owner and a deadline (`cockpit postmortem item add TITLE --owner NAME "
            "--deadline YYYY-MM-DD`). Without them the post-mortem is documentation, not "
            "prevention.*"
        )
    rows = []
    for item in r.items:
        state = item.state.label
        if item.past_deadline(r.generated_at):
            state += " (past deadline)"
        rows.append(
            [
                str(item.id),
                md_cell(item.title),
                md_cell(item.owner) or "*unassigned*",
                item.deadline.isoformat() if item.deadline else "*no deadline*",
                state,
            ]
        )
    return md_table(["#", "Action", "Owner", "Deadline", "State"], rows)


def _appendix(r: Report) -> str:
    # The one part that grows with the timeline: plain rows, a tight loop, one line each.
    corrected_by: dict[int, int] = {row[7]: row[0] for row in r.timeline if row[7]}
    tz, starred, one_second = r.tz, r.starred, timedelta(seconds=1)
    kinds = {kind.value: KIND_LABELS.get(kind, kind.value) for kind in Kind}
    parse = read_stored
    minutes: dict[str, tuple[str, str]] = {}  # UTC minute -> (local minute, zone name)
    lines = [
        "| # | Time (UTC) | Local time | Kind | Author | Text | Notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    append = lines.append
    for entry_id, at_text, written_text, kind, author, text, reason, corrects in r.timeline:
        # Stored times are `YYYY-MM-DDTHH:MM:SS.mmmZ`; time zones shift whole minutes, so
        # the local text is the local minute (computed once per minute) plus the seconds.
        minute = at_text[:16]
        local = minutes.get(minute)
        notes = []
        # A row no cockpit should have written (a time it cannot read) is flagged, never fatal.
        unreadable = False
        try:
            if local is None:
                moment = parse(at_text).astimezone(tz)
                local = (moment.isoformat(" ", "minutes")[:16], moment.tzname() or "")
                minutes[minute] = local
        except ValueError:
            utc_text = local_text = "?"
            unreadable = True
        else:
            seconds = at_text[16:19]
            utc_text = f"{minute[:10]} {minute[11:]}{seconds}"
            local_text = f"{local[0]}{seconds} {local[1]}"
        try:
            backdated = (
                written_text != at_text and parse(at_text) < parse(written_text) - one_second
            )
        except ValueError:
            backdated, unreadable = False, True
        if unreadable:
            notes.append(md_cell(unreadable_note(_unreadable_times(at_text, written_text))))
        if entry_id in starred:
            notes.append("★ key moment")
        if backdated:
            written = f"backdated: written {_utc(parse(written_text))} UTC"
            if reason:
                written += f", reason: {md_cell(reason)}"
            notes.append(written)
        if corrects:
            notes.append(f"corrects #{corrects}")
        if entry_id in corrected_by:
            notes.append(f"corrected by #{corrected_by[entry_id]}")
        append(
            f"| {entry_id} | {utc_text} | {local_text} | {kinds.get(kind, kind)} | "
            f"{md_cell(author)} | {md_cell(text)} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def _unreadable_times(at_text: str, written_text: str) -> dict[str, str]:
    unreadable = {}
    for name, raw in (("at", at_text), ("written_at", written_text)):
        try:
            read_stored(raw)
        except ValueError:
            unreadable[name] = raw
    return unreadable
