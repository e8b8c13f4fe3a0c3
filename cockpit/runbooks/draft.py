"""Drafting a runbook from an incident: its actions, decisions and captured command output as
numbered steps, in the Markdown dialect of `cockpit.markdown`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cockpit.domain import Entry, Incident, Kind, one_line
from cockpit.markdown import clean, md_code_block, md_code_span, md_escape, md_heading, md_line
from cockpit.runbooks.model import Runbook

DRAFT_OUTPUT_LINES = 8


def draft_name(incident: Incident) -> str:
    """A file name (without `.md`) for a runbook drafted from `incident`: its title, slugged."""
    slug = re.sub(r"[^a-z0-9]+", "-", incident.title.lower()).strip("-")[:50].strip("-")
    return slug or f"inc-{incident.id}"


def draft_runbook(
    incident: Incident, entries: Sequence[Entry], followed: Runbook | None = None
) -> str:
    """A runbook skeleton in Markdown from what was logged: the trigger from the title, the
    actions and decisions as steps, commands from captured `cockpit log -` output."""
    title = one_line(clean(incident.title)).strip()
    front = [f"title = {_toml_string(title)}", f"trigger = {_toml_string(title)}"]
    front.append(f"severity = {_toml_string(incident.severity)}")
    if incident.service.strip():
        front.append(f"tags = [{_toml_string(one_line(clean(incident.service)).strip())}]")
    # Keep the cadence and escalation of the runbook the incident followed, if it had them.
    if followed is not None and followed.update_every_minutes is not None:
        front.append(f"update_every_minutes = {followed.update_every_minutes}")
    else:
        front.append("# update_every_minutes = 15")
    if followed is not None and followed.escalate_after_minutes is not None:
        front.append(f"escalate_after_minutes = {followed.escalate_after_minutes}")
        front.append(f"escalate_to = {_toml_string(followed.escalate_to)}")
    else:
        front += ["# escalate_after_minutes = 30", '# escalate_to = "Engineering Lead"']
    stamp = "%Y-%m-%d %H:%M UTC"
    where = f"{incident.ref} ({incident.severity}, declared {incident.declared_at.strftime(stamp)}"
    if incident.resolved_at:
        where += f", resolved {incident.resolved_at.strftime(stamp)}"
    where += ")"
    intro = (
        f"Drafted by `cockpit runbooks draft` from {where}. Rewrite each step as an instruction "
        "for someone who was not there, make the trigger match the alert that fires, and delete "
        "what will not happen again."
    )
    if followed is not None:
        intro += f" That incident followed the runbook *{followed.title}* ({followed.name})."
    items = _draft_items(entries)
    if not items:
        items = ["**Describe the first check.** Nothing was logged as an action or decision."]
    lines = ["+++", *front, "+++", "", f"# {md_heading(title)}", "", intro]
    lines += ["", "## Steps", ""]
    for number, item in enumerate(items, start=1):
        marker = f"{number}. "
        first, *rest = item.split("\n")
        if number > 1:
            lines.append("")
        lines.append(marker + first[:1].upper() + first[1:])
        lines += [(" " * len(marker) + line) if line else "" for line in rest]
    lines += [
        "",
        "## Communicate",
        "",
        "- Say when updates are due and who escalates, if the defaults do not fit.",
        "",
    ]
    return "\n".join(lines)


def _draft_items(entries: Sequence[Entry]) -> list[str]:
    corrected = {e.corrects for e in entries if e.corrects}
    items: list[str] = []
    for entry in entries:
        if entry.id in corrected:
            continue  # a later entry corrects this one; use the correction
        when = entry.at.strftime("%H:%M UTC")
        captured = entry.meta.get("captured") is True
        if captured:
            items.append(_captured_item(entry.text, when))
        elif entry.kind in (Kind.ACTION, Kind.DECISION):
            # Typed text reads as typed (the export's escaping), but the commands people
            # wrote in backticks stay code spans: they become the step's commands.
            first, _, more = clean(entry.text).strip().partition("\n")
            label = "Action" if entry.kind is Kind.ACTION else "Decision"
            body = [md_line(first, code=True)]
            if more.strip():
                body += ["", *(md_line(line, code=True) for line in more.strip().split("\n"))]
            author = md_escape(one_line(clean(entry.author)).strip())
            body += ["", f"_{label} by {author} at {when}._"]
            items.append("\n".join(body))
    return items


def _captured_item(output: str, when: str) -> str:
    text = clean(output).rstrip()
    commands = [line[2:].strip() for line in text.split("\n") if line.startswith("$ ")]
    commands = [c for c in commands if c]
    if commands:
        spans = ", then ".join(md_code_span(c) for c in commands)
        head = f"**Run and check the output.** {spans}"
    else:
        head = (
            "**Run the command whose output was captured.** Name it here as a code span, "
            "e.g. `kubectl get pods -n production`."
        )
    shown = text.split("\n")[:DRAFT_OUTPUT_LINES]
    if len(text.split("\n")) > DRAFT_OUTPUT_LINES:
        shown.append("…")
    return "\n".join([head, "", f"Output captured at {when}:", "", *md_code_block(shown, "text")])


def _toml_string(text: str) -> str:
    import tomli_w  # only when drafting: `cockpit log` never loads it

    return tomli_w.dumps({"v": text}).split("=", 1)[1].strip()
