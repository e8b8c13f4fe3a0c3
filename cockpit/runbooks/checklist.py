"""A runbook's checklist on an incident, derived from the timeline's `step` entries (never
stored apart), and ticking a step by writing one."""

from __future__ import annotations

from collections.abc import Iterable

from cockpit.domain import Entry, Kind
from cockpit.runbooks.model import Runbook
from cockpit.store import Store


def ticked_steps(entries: Iterable[Entry], runbook: str) -> set[int]:
    """The step numbers of `runbook` that are ticked, from `step` entries; the latest by the
    clock wins (what every laptop holding the same entries computes)."""
    state: dict[int, bool] = {}
    for entry in sorted(entries, key=lambda e: (e.hlc, e.uid)):
        meta = entry.meta
        if entry.kind is not Kind.STEP or meta.get("runbook") != runbook:
            continue
        step = meta.get("step")
        if isinstance(step, int) and not isinstance(step, bool):
            state[step] = meta.get("done") is True
    return {number for number, done in state.items() if done}


def step_state(store: Store, incident_id: int, runbook: str) -> set[int]:
    """The ticked steps of `runbook` on an incident, read from the store."""
    return ticked_steps(store.entries(incident_id, kinds=[Kind.STEP]), runbook)


def step_text(runbook: Runbook, number: int, done: bool) -> str:
    """The timeline text: "runbook step 2 done: Check error distribution"."""
    step = runbook.step(number)
    return f"runbook step {number} {'done' if done else 'undone'}: {step.title}"


def set_step(
    store: Store,
    incident_id: int,
    runbook: Runbook,
    number: int,
    done: bool,
    author: str,
) -> Entry | None:
    """Tick (or untick) a step by writing a `step` entry; None when it already is that way."""
    runbook.step(number)  # LookupError before anything is written
    if (number in step_state(store, incident_id, runbook.name)) == done:
        return None
    meta = {"runbook": runbook.name, "step": number, "done": done}
    return store.append(incident_id, Kind.STEP, step_text(runbook, number, done), author, meta=meta)


def toggle_step(
    store: Store, incident_id: int, runbook: Runbook, number: int, author: str
) -> Entry:
    """Flip a step's state (what `space` does); returns the entry written."""
    done = number not in step_state(store, incident_id, runbook.name)
    entry = set_step(store, incident_id, runbook, number, done, author)
    assert entry is not None  # the state was just read as the opposite
    return entry
