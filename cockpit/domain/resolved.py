"""What a resolved incident keeps as it was: the changes it refuses until it is reopened."""

from __future__ import annotations

from cockpit.domain.incident import Kind, Status, incident_ref

KEPT_WHEN_RESOLVED: dict[Kind, str] = {
    Kind.SEVERITY: "change its severity",
    Kind.ROLE: "change its roles",
    Kind.STEP: "tick or untick its runbook steps",
    Kind.ESCALATION: "escalate it",
}
"""The entries a resolved incident refuses, and what each would do. Its severity, roles and
checklist are the record the post-mortem reads; notes, corrections, post-mortem work and the
resolution update are still welcome, and a status change reopens it."""

LINK_RUNBOOK = "link or unlink a runbook"
"""The runbook link, kept too: it sets the cadence the post-mortem's metrics are judged by."""


def resolved_refusal(incident_id: int, what: str) -> str:
    """The one line that refuses a change to a resolved incident and says how to make it."""
    ref = incident_ref(incident_id)
    reopen = Status.INVESTIGATING.value
    return f"{ref} is resolved: reopen it first (status {reopen}) to {what}; nothing was changed"
