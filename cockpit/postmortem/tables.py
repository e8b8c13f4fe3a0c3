"""The export's tables: the incident at a glance, and the metrics (milestones, status-update
compliance, time at each severity and status, who held each role)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cockpit.domain.moments import format_duration
from cockpit.markdown import md_cell, md_link, md_table
from cockpit.metrics import Metrics
from cockpit.postmortem.report import Report
from cockpit.postmortem.times import span_time, utc_time


def metadata_table(r: Report) -> str:
    """The incident at a glance: title, severity, times, roles, status page, when due."""
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
        ["Impact started", f"{utc_time(m.impact_started_at)} UTC"],
        ["Declared", f"{utc_time(m.declared_at)} UTC"],
        ["Resolved", f"{utc_time(m.resolved_at)} UTC" if m.resolved_at else "not resolved"],
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
        due = f"{utc_time(r.due_at)} UTC"
        if r.postmortem.completed_at is not None:
            due += f" (completed {utc_time(r.postmortem.completed_at)} UTC)"
        elif r.generated_at > r.due_at:
            due += f" (overdue by {format_duration(r.generated_at - r.due_at)})"
        rows.append(["Post-mortem due", due])
    return md_table(["Field", "Value"], rows)


def metrics_tables(r: Report) -> list[str]:
    """The Metrics section's blocks: milestones, status updates, severities, statuses, roles."""
    m = r.metrics
    mitigated = utc_time(m.mitigated_at)
    if m.mitigation_inferred:
        mitigated += " (never reached monitoring: counted at resolution)"
    elif m.mitigated_at is None:
        mitigated = "not reached monitoring"
    milestones = [
        ["Impact started", utc_time(m.impact_started_at), "—", "—"],
        [
            "Declared (detection)",
            utc_time(m.declared_at),
            span_time(m.detection),
            "—",
        ],
        [
            "Acknowledged (first status update)",
            utc_time(m.acknowledged_at) if m.acknowledged_at else "no status update sent",
            span_time(m.since_impact(m.acknowledged_at)),
            span_time(m.since_declared(m.acknowledged_at)),
        ],
        [
            "Mitigated (first monitoring)",
            mitigated,
            span_time(m.since_impact(m.mitigated_at)),
            span_time(m.since_declared(m.mitigated_at)),
        ],
        [
            "Resolved",
            utc_time(m.resolved_at) if m.resolved_at else "not resolved",
            span_time(m.since_impact(m.resolved_at)),
            span_time(m.since_declared(m.resolved_at)),
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
                    utc_time(d.due_at),
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
                    utc_time(t.start),
                    utc_time(t.end) if t.end else "end",
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
        return f"sent {utc_time(u.resolution_sent_at)} UTC"
    if u.resolution_required:
        return "required, not sent"
    return f"not required ({md_cell(m.final_severity)} has no update cadence and none was sent)"


def _closed_by(how: str, at: datetime) -> str:
    return {
        "update": f"late update at {utc_time(at)}",
        "severity": f"severity change at {utc_time(at)}",
        "resolution": f"resolved at {utc_time(at)} without one",
        "open": f"still owed at {utc_time(at)}",
    }.get(how, how)
