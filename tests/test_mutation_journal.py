"""The mutation run's journal (`bench/mutation`, issue 14): a run killed in its second stage
keeps every outcome it had, and resuming it runs again only what was not killed."""

from __future__ import annotations

import json
from pathlib import Path

from bench.mutation.__main__ import read_outcomes


def outcome(status: str, line: int = 10, mutation: str = "`<` → `<=`") -> dict[str, object]:
    return {
        "target": "worker",
        "path": "cockpit/comms/worker.py",
        "line": line,
        "function": "DeliveryWorker._ready_at",
        "mutation": mutation,
        "original": "if ready_at <= now:",
        "status": status,
        "seconds": 1.0,
        "tests": 3,
    }


def test_the_later_line_of_a_mutant_wins_and_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    journal = tmp_path / "run.json.log"
    lines = [
        outcome("survived"),  # lived through its first tests …
        outcome("killed", line=11),
        outcome("killed"),  # … and died against all of them
    ]
    journal.write_text("".join(json.dumps(o) + "\n" for o in lines) + '{"target": "wor')
    found = read_outcomes(journal)
    assert sorted((o["line"], o["status"]) for o in found) == [(10, "killed"), (11, "killed")]


def test_a_finished_runs_json_is_read_as_it_is(tmp_path: Path) -> None:
    done = tmp_path / "run.json"
    done.write_text(json.dumps([outcome("survived"), outcome("survived", mutation="drop")]))
    assert [o["mutation"] for o in read_outcomes(done)] == ["`<` → `<=`", "drop"]
