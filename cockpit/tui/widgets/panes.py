"""The small panes around the timeline: the header line, roles, the next-update countdown and
the line that says when the database keeps the app waiting.

Each is a view of a `Board` (the read model `cockpit show` also uses) at a moment; the screen
passes "now" from its clock, so the countdown is always "deadline - now", never a counter.
The screen asks them to show the board every second and after every commit; a pane whose text,
styles and classes come out the same changes nothing (`show_content`, `set_class`), so neither
layout nor a repaint runs for it: a key is never queued behind a redraw that draws nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from cockpit.board import Board
from cockpit.domain import (
    format_countdown,
    format_duration,
    format_local,
    one_line,
    since_declared,
)
from cockpit.tui.keys import key_text
from cockpit.tui.widgets.runbook import escalation_line

WARNING_SECONDS = 5 * 60
"""The countdown turns amber with this much time left."""

LEVEL_CLASSES = ("-sev1", "-sev2", "-sev3", "-sev-other")
HEADER_CLASSES = (*LEVEL_CLASSES, "-resolved", "-none")
NEXT_UPDATE_CLASSES = ("-warning", "-overdue", "-none")


def level_class(rank: int) -> str:
    """CSS class for a severity by its rank (0 = most severe)."""
    return LEVEL_CLASSES[rank] if rank < 3 else "-sev-other"


def show_content(widget: Static, content: Content | str) -> bool:
    """Show `content` (never markup) in `widget` unless it shows exactly that already (same
    text, same styles); returns whether it changed. Static.update lays out the whole screen
    again by default; that is needed only when the widget may change size: its number of lines
    changed, its width follows its content, or its height follows wrapped lines."""
    new = content if isinstance(content, Content) else Content(content)
    old = widget.content
    if isinstance(old, Content) and old.plain == new.plain and old.spans == new.spans:
        return False
    styles = widget.styles
    same_lines = isinstance(old, Content) and old.plain.count("\n") == new.plain.count("\n")
    fixed_width = styles.width is None or not styles.width.is_auto  # unset: the container's
    fixed_height = styles.height is not None and not styles.height.is_auto
    same_size = same_lines and fixed_width and (fixed_height or styles.text_wrap == "nowrap")
    widget.update(new, layout=not same_size)
    return True


def show_classes(widget: Widget, chosen: Iterable[str], among: Iterable[str]) -> None:
    """Give `widget` the classes `chosen` out of `among`, touching only those that change (each
    change restyles the widget and its children)."""
    wanted = set(chosen)
    for name in among:
        widget.set_class(name in wanted, name)


class IncidentHeader(Horizontal):
    """One line: severity badge, id, title, status and the time since declared."""

    def compose(self) -> ComposeResult:
        yield Static(id="severity")
        yield Static(id="summary")

    def show(self, board: Board | None, now: datetime, rank: int) -> None:
        badge = self.query_one("#severity", Static)
        summary = self.query_one("#summary", Static)
        if board is None:
            show_classes(self, ["-none"], HEADER_CLASSES)
            show_content(badge, " no incident ")
            key = key_text(self.app, "cockpit.incidents")
            show_content(summary, f"Press {key} to declare an incident or open another one.")
            return
        incident = board.incident
        classes = [level_class(rank)]
        show_content(badge, f" {one_line(incident.severity)} ")
        elapsed = format_duration(since_declared(incident, now))
        if incident.is_open:
            clock = f"{elapsed} since declared"
        else:
            classes.append("-resolved")
            clock = f"lasted {elapsed}"
        show_classes(self, classes, HEADER_CLASSES)
        show_content(
            summary,
            Content.assemble(
                (incident.ref, "bold"),
                "  ",
                one_line(incident.title),
                ("  ·  ", "$text-muted"),
                (incident.status.value, "bold"),
                ("  ·  ", "$text-muted"),
                clock,
            ),
        )


class RolesPane(Static):
    """Who holds each configured role; a role the severity requires but nobody holds is flagged.
    Who is on call (the rotation) is on the bottom border."""

    _subtitle: tuple[str, object] | None = None

    def show(self, board: Board | None, role_names: list[str], on_call: str = "") -> None:
        subtitle = Content(f"on call: {one_line(on_call)}") if on_call else Content("")
        if board is None:
            self._show_subtitle(subtitle)
            show_content(self, Content.styled("no incident", "$text-muted"))
            return
        width = max(len(name) for name in role_names) + 2 if role_names else 0
        lines: list[Content] = []
        for role in role_names:
            holder = one_line(board.incident.roles.get(role, ""))
            label = role.capitalize().ljust(width)
            if holder:
                lines.append(Content.assemble(label, (holder, "bold")))
            elif role in board.missing_roles:
                lines.append(Content.assemble(label, ("⚠ required", "$text-error")))
            else:
                lines.append(Content.assemble(label, ("—", "$text-muted")))
        self.set_class(bool(board.missing_roles), "-missing")
        # The border says why: "SEV-1 needs a communicator" reads at a glance; it matters more
        # than who is on call, which the border shows otherwise.
        if board.missing_roles:
            subtitle = Content(
                f"{one_line(board.severity.name)} needs {', '.join(board.missing_roles)}"
            )
        self._show_subtitle(subtitle)
        show_content(self, Content("\n").join(lines))

    def _show_subtitle(self, subtitle: Content) -> None:
        """Set the bottom border's text unless it says that already (setting it repaints)."""
        shown = (subtitle.plain, subtitle.spans)
        if shown != self._subtitle:
            self._subtitle = shown
            self.border_subtitle = subtitle


class NextUpdatePane(Static):
    """The countdown to the next required status update: amber under 5 min, red once overdue;
    once resolved, whether the resolution update is still owed."""

    def show(self, board: Board | None, now: datetime) -> bool:
        """Render at `now`; returns True when the update is overdue. A linked runbook's
        escalation countdown is the last line; the pane turns red when it is due."""
        classes: list[str] = []
        overdue, shown = self._show_update(board, now, classes)
        escalation = escalation_line(board, now)
        self.set_class(escalation is not None and escalation[1], "-escalate")
        if escalation is not None:
            shown = Content("\n").join([shown, escalation[0]])
        show_classes(self, classes, NEXT_UPDATE_CLASSES)
        show_content(self, shown)
        return overdue

    def _show_update(
        self, board: Board | None, now: datetime, classes: list[str]
    ) -> tuple[bool, Content]:
        """Whether the update is overdue, and the lines saying so (its classes into
        `classes`)."""
        if board is None:
            classes.append("-none")
            return False, Content.styled("no incident", "$text-muted")
        incident, severity, deadline = board.incident, board.severity, board.deadline
        if not incident.is_open:
            return False, self._show_resolved(board, now, classes)
        if deadline is None:
            classes.append("-none")
            if not severity.has_cadence:
                text = f"{severity.name}: no update cadence applies."
            else:
                text = f"{severity.name}: no further updates are required."
            return False, Content.styled(text, "$text-muted")
        remaining = deadline.remaining(now)
        every = f" · every {deadline.every_minutes} min" if deadline.every_minutes else ""
        due_at = format_local(deadline.due_at, now)
        if deadline.overdue(now):
            classes.append("-overdue")
            first = Content.assemble(
                (f"OVERDUE {format_countdown(-remaining)}", "bold"),
                f"  update #{deadline.number} was due {due_at}{every}",
            )
        else:
            if remaining.total_seconds() < WARNING_SECONDS:
                classes.append("-warning")
            first = Content.assemble(
                (format_countdown(remaining), "bold"),
                f"  update #{deadline.number} due {due_at}{every}",
            )
        if board.last_update_at is not None:
            second = (
                f"last update {format_local(board.last_update_at, now)} "
                f"({board.updates_sent} published)"
            )
        else:
            minutes = severity.first_update_minutes or deadline.every_minutes
            second = f"first update due {minutes} min after declaring"
        lines = Content("\n").join([first, Content.styled(second, "$text-muted")])
        return deadline.overdue(now), lines

    def _show_resolved(self, board: Board, now: datetime, classes: list[str]) -> Content:
        """Resolved: the resolution update is owed (amber, never red: it has no deadline),
        was published, or was never required."""
        if board.resolution_update_owed:
            classes.append("-warning")
            key = key_text(self.app, "cockpit.update")
            first = Content.assemble(
                ("Resolution update owed", "bold"), f"  press {key} to publish it"
            )
            if board.last_update_at is not None:
                since = f"last update {format_local(board.last_update_at, now)}"
                second = f"{since} ({board.updates_sent} published), before resolving"
            else:
                second = "no update was published during the incident"
            return Content("\n").join([first, Content.styled(second, "$text-muted")])
        classes.append("-none")
        sent_at = board.resolution_update_at
        if sent_at is not None:
            text = (
                f"Resolved: resolution update published {format_local(sent_at, now)}.\n"
                "No further updates are owed."
            )
        else:
            text = f"Resolved: no updates are owed ({board.severity.name}, none was published)."
        return Content.styled(text, "$text-muted")


class DatabaseLine(Static):
    """One line above the footer, shown only while another process holds the database."""

    def show(self, *, writing: bool, reading: bool) -> None:
        self.display = writing or reading
        if writing:
            self.update(
                "Database busy (held by another process): saving… what you typed is kept and "
                "written as soon as it frees up."
            )
        elif reading:
            self.update(
                "Database busy (held by another process): the screen shows what was read last."
            )
