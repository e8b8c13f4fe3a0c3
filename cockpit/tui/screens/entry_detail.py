"""The selected timeline entry, whole: Enter on the timeline opens it, ↑/↓ read on.

At 80 columns a timeline line shows about twenty characters of an entry's text. This view shows
all of it, wrapped, with what the line cannot: when it was written against when it says it
happened and why, the entry it corrects and those that correct it, the star, and where it came
from (piped in, the update's template and deliveries, the runbook step). It reads one entry and
its corrections by id, so it opens as fast on 50,000 entries as on ten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.comms.outbox import state_text
from cockpit.domain import Entry, Kind, format_duration, format_local, one_line
from cockpit.store import StoreError
from cockpit.tui.widgets.detail_lines import DetailScreen, Row, readable

if TYPE_CHECKING:
    from cockpit.tui.widgets.timeline import Timeline

SUMMARY_CHARS = 60
"""Characters of a corrected or correcting entry's text quoted on its line."""


def summary(entry: Entry, now: datetime) -> str:
    """`#12 02:10 note alice: first alert fired at 02:0…`: a related entry on one line."""
    text = one_line(entry.text)
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1] + "…"
    when = format_local(entry.at, now)
    return f"#{entry.id} {when} {entry.kind.value} {one_line(entry.author)}: {text}"


def origin(entry: Entry) -> Iterator[Row]:
    """Where an entry came from, read from its meta; keys without a reading are listed as
    they are, so nothing recorded is hidden."""
    meta: Mapping[str, object] = entry.meta
    if meta.get("captured") is True:
        yield Row("source", "piped in (`cockpit log -`)")
    if entry.kind is Kind.UPDATE:
        parts = [f"{key} {meta[key]}" for key in ("phase", "template", "status") if key in meta]
        if parts:
            yield Row("update", one_line(", ".join(parts)))
    if entry.kind in (Kind.STEP, Kind.ESCALATION) and "runbook" in meta:
        step = f", step {meta['step']}" if "step" in meta else ""
        done = meta.get("done")
        state = " ticked" if done is True else " unticked" if done is False else ""
        yield Row("runbook", one_line(f"{meta['runbook']}{step}{state}"))
    read = {"captured", "phase", "template", "status", "targets", "runbook", "step", "done"}
    rest = [f"{key}: {_value(value)}" for key, value in meta.items() if key not in read]
    if rest:
        yield Row("meta", one_line(" · ".join(rest)))


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return "—" if value is None else str(value)


class EntryDetail(DetailScreen):
    """One entry and everything recorded about it; ↑/↓ move the timeline's cursor and follow,
    so closing leaves the timeline on the entry last read."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline
        # While an entry is read, new ones (another terminal, a script) must not move the
        # cursor from under it: reading stops following, as moving up does (End resumes).
        timeline.following = False

    def refresh_detail(self) -> None:
        entry = self.timeline.selected
        if entry is None:
            self.dismiss(None)
            return
        try:
            rows = self.rows(entry)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        position = f"{self.timeline.cursor + 1} of {self.timeline.count}"
        self.show(f"Entry #{entry.id} · {entry.kind.value}", position, rows)

    def rows(self, entry: Entry) -> list[Row]:
        """The whole text, then every field a responder may need."""
        store, now = self.timeline.store, self.timeline.clock()
        rows = [Row("", readable(entry.text)), Row("", "")]
        rows.append(Row("kind", entry.kind.value))
        rows.append(Row("author", one_line(entry.author) or "—"))
        rows.append(Row("at", format_local(entry.at, now, seconds=True)))
        written = format_local(entry.written_at, now, seconds=True)
        if entry.backdated:
            late = format_duration(entry.written_at - entry.at)
            rows.append(Row("written", f"{written}, {late} later (backdated)", "strong"))
            rows.append(Row("reason", one_line(entry.reason or "") or "—", "strong"))
        else:
            rows.append(Row("written", written, "muted"))
        if entry.corrects is not None:
            try:
                rows.append(Row("corrects", summary(store.entry(entry.corrects), now)))
            except StoreError:
                rows.append(Row("corrects", f"#{entry.corrects} (not in this database)", "muted"))
        for correction in store.corrections(entry):
            rows.append(Row("corrected by", summary(correction, now), "strong"))
        starred = entry.id in self.timeline.starred
        rows.append(Row("star", "★ key moment for the post-mortem" if starred else "no"))
        rows.extend(origin(entry))
        if entry.kind is Kind.UPDATE:
            rows.extend(
                Row(f"→ {one_line(d.target)}", state_text(d, now))
                for d in store.deliveries(entry.incident_id)
                if d.entry_id == entry.id
            )
        return rows

    def action_previous(self) -> None:
        if self.timeline.cursor > 0:
            self.timeline.action_cursor_up()
            self.refresh_detail()

    def action_next(self) -> None:
        if self.timeline.cursor < self.timeline.count - 1:
            self.timeline.action_cursor_down()
            self.refresh_detail()
