"""The waits between a scenario's injections (`after`/`unless` another injection): which each
waits for, and the first loop of waits, which would keep both from ever arriving."""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.drills.scenario import Event, Inject


def waits_for(inject: Inject) -> list[tuple[str, str]]:
    """(field, id) of each injection `inject` waits for, through `after` or `unless`."""
    return [
        (field, condition.name)
        for field, condition in (("after", inject.after), ("unless", inject.unless))
        if condition is not None and condition.event is Event.INJECTED
    ]


def find_loop(injects: Sequence[Inject]) -> tuple[Inject, str, list[str]] | None:
    """The first loop of waits, in file order: (the injection it starts at, the field that
    waits, the ids around the loop). One iterative depth-first pass over every injection."""
    by_id = {inject.id: inject for inject in injects}
    done: set[str] = set()
    for root in injects:
        if root.id in done:
            continue
        path = [root.id]  # the ids on the current walk, each waiting for the next
        fields: list[str] = []  # the field of each wait along `path`
        pending = [iter(waits_for(root))]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                done.add(path.pop())
                pending.pop()
                if fields:
                    fields.pop()
                continue
            field, target = step
            if target in path:
                start = path.index(target)
                cycle = [*path[start:], target]
                return by_id[cycle[0]], [*fields, field][start], cycle
            if target in done or target not in by_id:
                continue
            path.append(target)
            fields.append(field)
            pending.append(iter(waits_for(by_id[target])))
    return None
