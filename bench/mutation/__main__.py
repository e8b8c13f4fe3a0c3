"""Mutation testing: how much of the core's behaviour the tests pin down.

Every mutant (one small change: a flipped comparison, a dropped statement, a weakened SQL
condition, see `mutants.py`) runs against the tests that execute its lines, in a temporary copy
of the repository. A mutant is killed when a test fails or it hangs past its timeout; it
survives when every test passes. Each survivor is judged in `verdicts.toml`: equivalent (the
program behaves the same; left out of the score) or accepted (a real difference no test pins,
and why that is fine); anything else is printed as unjudged.

Run: .venv/bin/python -m bench.mutation [--target NAME ...] [--jobs N] [--json FILE]
     [--markdown] [--rerun FILE] [--min-score PERCENT]

`--rerun FILE` (an earlier `--json`) runs again only what that run did not kill, and counts
what it killed as killed; with `--tests` only against the test files added or changed since
(the rest already let those mutants live), and a mutant those files do not run keeps its earlier
outcome. With `--skip-judged` a survivor already judged in `verdicts.toml` is not run again.

With `--json FILE` every outcome is also appended, as it comes, to FILE.log (one JSON object a
line): a run that is killed keeps what it finished, `--report FILE.log` reads it while the run
goes on, and `--rerun FILE.log` resumes it (only what it had not killed runs again).
"""

from __future__ import annotations

import argparse
import ast
import functools
import glob
import json
import math
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.mutation.mutants import Mutant, mutants_of, name_uses
from bench.mutation.runner import (
    CoverageMap,
    Outcome,
    copy_repository,
    coverage_map,
    run_mutants,
    serve,
)
from bench.mutation.targets import TARGETS, Target

ROOT = Path(__file__).resolve().parents[2]
VERDICTS = Path(__file__).with_name("verdicts.toml")
KILLED = ("killed", "timeout")


@dataclass(frozen=True)
class Verdict:
    verdict: str  # equivalent or accepted
    reason: str


def key(target: str, mutant: Mutant) -> tuple[str, str, str, str]:
    """What identifies a mutant across edits: its target, source line and change."""
    return (target, mutant.function, mutant.original, mutant.mutation)


def record(target: str, outcome: Outcome) -> dict[str, object]:
    """One outcome as written to `--json` and its journal."""
    m = outcome.mutant
    return {
        "target": target,
        "path": m.path,
        "line": m.line,
        "function": m.function,
        "mutation": m.mutation,
        "original": m.original,
        "status": outcome.status,
        "seconds": round(outcome.seconds, 2),
        "cpu": round(outcome.cpu, 2),
        "tests": len(m.tests),
    }


def read_outcomes(path: Path) -> list[dict[str, Any]]:
    """The outcomes of an earlier `--json` (a list) or of its journal (a line each, the later
    line of the same mutant winning: a survivor of the first tests run again against all)."""
    text = path.read_text()
    if text.lstrip().startswith("["):
        found: list[dict[str, Any]] = json.loads(text)
        return found
    latest: dict[tuple[object, ...], dict[str, Any]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a run killed while writing it
        where = (o["target"], o["path"], o["line"], o["function"], o["original"], o["mutation"])
        latest[where] = o
    return list(latest.values())


def load_verdicts(path: Path) -> dict[tuple[str, str, str, str], Verdict]:
    if not path.exists():
        return {}
    found: dict[tuple[str, str, str, str], Verdict] = {}
    for entry in tomllib.loads(path.read_text())["survivor"]:
        if entry["verdict"] not in ("equivalent", "accepted"):
            raise SystemExit(f"{path}: verdict must be equivalent or accepted: {entry}")
        where = (entry["target"], entry["function"], entry["line"], entry["mutation"])
        found[where] = Verdict(entry["verdict"], entry["reason"])
    return found


def target_files(target: Target) -> list[str]:
    files: list[str] = []
    for pattern in target.files:
        for path in sorted(glob.glob(pattern, root_dir=ROOT)):
            if path.endswith(".py") and path not in files:
                files.append(path)
    return files


def generate(target: Target) -> list[Mutant]:
    mutants: list[Mutant] = []
    for path in target_files(target):
        mutants += mutants_of(path, (ROOT / path).read_text(), target.functions)
    return mutants


def uses_index() -> dict[str, list[tuple[str, int]]]:
    """For each name, every line of the package that reads it."""
    index: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(glob.glob("cockpit/**/*.py", root_dir=ROOT, recursive=True)):
        for name, lines in name_uses((ROOT / path).read_text()).items():
            index.setdefault(name, []).extend((path, line) for line in lines)
    return index


def select_tests(
    mutant: Mutant, cov: CoverageMap, uses: dict[str, list[tuple[str, int]]], allowed: set[str]
) -> list[str]:
    """The tests that execute the mutant's lines (for a module constant: the lines that read
    it; for a default: its function), fastest first."""
    # Coverage records a statement at its first line: a literal on a later line of a long
    # statement counts as run when the statement is.
    found = cov.tests_for(mutant.path, (*mutant.lines, mutant.statement))
    if not found and mutant.fallback_lines:
        found = cov.tests_for(mutant.path, mutant.fallback_lines)
    if not found and mutant.uses:
        for name in mutant.uses:
            for path, line in uses.get(name, ()):
                found |= cov.tests_for(path, (line,))
    found = {test for test in found if test.split("::")[0] in allowed}
    if mutant.uses:
        # A test that reads the constant itself (`assert TITLE_TEXT.chars == 500`) runs no
        # line of the package that does: coverage cannot point to it, its text can.
        found |= tests_naming(mutant.uses, allowed, cov)
    if not found and mutant.uses:
        # A constant read only where the module is imported (a default, another constant):
        # the tests that run the module and name the constant themselves.
        files = {f for f in allowed if any(n in _text(f) for n in mutant.uses)}
        every = cov.tests_for(mutant.path, range(1, mutant.source.count("\n") + 2))
        found = {test for test in every if test.split("::")[0] in files}
        if not found:  # a module no test runs a line of after its import
            found = {test for test in cov.durations if test.split("::")[0] in files} - cov.failed
    return sorted(found, key=lambda test: (cov.durations.get(test, 1.0), test))


def tests_naming(names: Sequence[str], allowed: set[str], cov: CoverageMap) -> set[str]:
    """The tests (of `allowed` files, that ran in the coverage pass) whose function names
    one of `names` in its own text."""
    found: set[str] = set()
    for path in sorted(allowed):
        if not any(name in _text(path) for name in names):
            continue
        functions = {
            node.name
            for node in ast.walk(ast.parse(_text(path)))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test")
            and any(name in (ast.get_source_segment(_text(path), node) or "") for name in names)
        }
        for test in cov.durations:
            file, _, rest = test.partition("::")
            if file == path and rest.split("[")[0].split("::")[-1] in functions:
                found.add(test)
    return found - cov.failed


@functools.cache
def _text(path: str) -> str:
    return (ROOT / path).read_text() if (ROOT / path).exists() else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation", description=__doc__)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", action="append", choices=[t.name for t in TARGETS])
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    parser.add_argument("--rerun", type=Path, help="only the survivors of an earlier --json")
    parser.add_argument("--markdown", action="store_true", help="survivors as a Markdown table")
    parser.add_argument("--min-score", type=float, default=90.0, help="exit 1 below (percent)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="FILE",
        help="only these test files (with --rerun: the ones added or changed since)",
    )
    parser.add_argument(
        "--skip-judged",
        action="store_true",
        help="with --rerun: survivors judged in verdicts.toml keep their earlier outcome",
    )
    parser.add_argument(
        "--coverage",
        type=Path,
        metavar="DIR",
        help="reuse the coverage pass saved in DIR (sources unchanged since), or save it there",
    )
    parser.add_argument(
        "--first",
        type=int,
        default=25,
        metavar="N",
        help="run each mutant against its N fastest tests first, all of them only if it lives",
    )
    parser.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="[TARGET=]K",
        help="every K-th mutant only (of every target, or of one): a quicker, rougher figure",
    )
    parser.add_argument(
        "--cpu-base",
        type=int,
        default=20,
        metavar="SECONDS",
        help="CPU seconds a mutant's child may use beyond twice its tests' durations (default 20)",
    )
    parser.add_argument("--report", type=Path, help="judge an earlier --json again, run nothing")
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if args.report:
        return 0 if report_again(args.report, args.markdown, args.min_score) else 1

    started = time.monotonic()
    targets = [t for t in TARGETS if not args.target or t.name in args.target]
    every = {name: 1 for name in (t.name for t in targets)}
    for spec in args.sample:
        name, _, k = spec.rpartition("=")
        for target in [name] if name else list(every):
            every[target] = max(int(k), 1)
    mutants = {t.name: generate(t)[:: every[t.name]] for t in targets}
    carried: list[tuple[str, Outcome]] = []  # decided in the earlier run: not run again
    earlier: dict[tuple[str, str, str, str], str] = {}
    if args.rerun:
        earlier = {
            (o["target"], o["function"], o["original"], o["mutation"]): o["status"]
            for o in read_outcomes(args.rerun)
        }
        judged = load_verdicts(VERDICTS) if args.skip_judged else {}
        for name, found in mutants.items():
            for m in found:
                status = earlier.get(key(name, m))
                if status in KILLED or (status is not None and key(name, m) in judged):
                    carried.append((name, Outcome(m, status, 0.0)))
        done_before = {id(outcome.mutant) for _, outcome in carried}
        mutants = {
            name: [m for m in found if id(m) not in done_before] for name, found in mutants.items()
        }
    if args.list:
        for name, found in mutants.items():
            for m in found:
                print(f"{name:8} {m.path}:{m.line}  {m.mutation}")
        return 0
    verdicts = load_verdicts(VERDICTS)

    with tempfile.TemporaryDirectory(prefix="cockpit-mutate-") as tmp:
        copies = [copy_repository(ROOT, Path(tmp) / f"copy{n}") for n in range(args.jobs)]
        tests = args.tests or sorted(
            {test for t in targets if mutants[t.name] for test in t.tests if (ROOT / test).exists()}
        )
        log = Path(tmp) / "coverage-pass.log"
        print(f"coverage pass: {len(tests)} test files …", file=sys.stderr, flush=True)
        cov = coverage_map(copies[0], tests, log, args.coverage)
        if cov.failed:
            print(f"tests failing without any mutant (left out): {sorted(cov.failed)}")
        print(f"coverage pass: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        uses = uses_index()
        owner: dict[int, str] = {}
        for target in targets:
            allowed = set(args.tests or target.tests)
            for m in mutants[target.name]:
                m.tests = select_tests(m, cov, uses, allowed)
                owner[id(m)] = target.name
                if args.rerun and args.tests and not m.tests and key(target.name, m) in earlier:
                    # Not run by the files given: what the earlier run found stands (it is
                    # not "uncovered": other files run it).
                    carried.append((target.name, Outcome(m, earlier[key(target.name, m)], 0.0)))
        kept = {id(outcome.mutant) for _, outcome in carried}
        everything = [m for t in targets for m in mutants[t.name] if id(m) not in kept]
        total = len(everything)
        done = Counter[str]()

        def timeout_for(mutant: Mutant) -> tuple[float, int]:
            """The wall-clock timeout and the CPU budget (seconds) of a mutant's child."""
            # Generous: a timeout counts as killed, and on a loaded machine importing the test
            # modules alone can take half a minute of wall time (a few seconds of CPU).
            took = sum(cov.durations.get(t, 1.0) for t in mutant.tests)
            return 90.0 + 4.0 * took, args.cpu_base + math.ceil(2.0 * took)

        journal = args.json.with_name(args.json.name + ".log") if args.json else None
        if journal is not None:
            journal.write_text("")

        def progress(outcome: Outcome) -> None:
            if journal is not None:
                with journal.open("a") as out:
                    out.write(json.dumps(record(owner[id(outcome.mutant)], outcome)) + "\n")
            done[outcome.status] += 1
            count = sum(done.values())
            if count % 50 == 0 or count == total:
                summary = ", ".join(f"{n} {s}" for s, n in sorted(done.items()))
                elapsed = time.monotonic() - started
                print(f"{count}/{total} ({summary}) {elapsed:.0f} s", file=sys.stderr, flush=True)

        # Most mutants die at their first few tests: run those first, then every test that
        # covers a mutant only for the ones that lived.
        complete = {id(m): m.tests for m in everything}
        for m in everything:
            m.tests = m.tests[: args.first]
        outcomes = run_mutants(everything, copies, timeout_for, progress)
        again = [
            o.mutant
            for o in outcomes
            if o.status == "survived" and len(complete[id(o.mutant)]) > len(o.mutant.tests)
        ]
        if again:
            print(f"{len(again)} lived through their first tests: all tests", file=sys.stderr)
            for m in again:
                m.tests = complete[id(m)]
            retried = {id(m) for m in again}
            outcomes = [o for o in outcomes if id(o.mutant) not in retried]
            total = len(again)
            done.clear()
            outcomes += run_mutants(again, copies, timeout_for, progress)

    for name, outcome in carried:
        owner[id(outcome.mutant)] = name
        outcomes.append(outcome)
    by_target: dict[str, list[Outcome]] = {t.name: [] for t in targets}
    for outcome in outcomes:
        by_target[owner[id(outcome.mutant)]].append(outcome)
    if args.json:
        args.json.write_text(
            json.dumps(
                [record(owner[id(o.mutant)], o) for o in outcomes], indent=1, ensure_ascii=False
            )
        )
    ok = report(by_target, verdicts, args.markdown, args.min_score)
    print(f"\n{total} mutants in {time.monotonic() - started:.0f} s with {args.jobs} jobs")
    return 0 if ok else 1


def report_again(path: Path, markdown: bool, min_score: float) -> bool:
    """The report of an earlier run's `--json`, against today's verdicts."""
    by_target: dict[str, list[Outcome]] = {}
    for o in read_outcomes(path):
        mutant = Mutant(
            o["path"], o["function"], o["line"], o["mutation"], o["original"], "", (o["line"],)
        )
        by_target.setdefault(o["target"], []).append(Outcome(mutant, o["status"], o["seconds"]))
    return report(by_target, load_verdicts(VERDICTS), markdown, min_score)


def report(
    by_target: dict[str, list[Outcome]],
    verdicts: dict[tuple[str, str, str, str], Verdict],
    markdown: bool,
    min_score: float,
) -> bool:
    """Print the score per target and every survivor; whether every target reaches the bar."""
    ok = True
    rows: list[tuple[str, Outcome, Verdict | None]] = []
    print(
        f"\n{'target':8} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} "
        f"{'equivalent':>10} {'accepted':>8} {'unjudged':>8} {'score':>7}"
    )
    for name, outcomes in by_target.items():
        counts = Counter(o.status for o in outcomes)
        survivors = sorted(
            (o for o in outcomes if o.status not in KILLED),
            key=lambda o: (o.mutant.path, o.mutant.line, o.mutant.mutation),
        )
        judged = Counter[str]()
        for outcome in survivors:
            verdict = verdicts.get(key(name, outcome.mutant))
            judged[verdict.verdict if verdict else "unjudged"] += 1
            rows.append((name, outcome, verdict))
        killed = counts["killed"] + counts["timeout"]
        counted = len(outcomes) - judged["equivalent"]
        score = 100.0 * killed / counted if counted else 100.0
        ok = ok and score >= min_score
        print(
            f"{name:8} {len(outcomes):7} {counts['killed']:6} {counts['timeout']:7} "
            f"{len(survivors):8} {judged['equivalent']:10} {judged['accepted']:8} "
            f"{judged['unjudged']:8} {score:6.1f}%"
        )
    print("\nscore = killed / (mutants - equivalent); survivors include mutants no test runs")
    if markdown:
        print("\n| Target | Where | Mutation | Verdict | Why |\n|---|---|---|---|---|")
    else:
        print("\nSurvivors:")
    for name, outcome, verdict in rows:
        m = outcome.mutant
        label = verdict.verdict if verdict else "UNJUDGED"
        if outcome.status == "uncovered":
            label += " (no test runs it)"
        elif outcome.status == "error":
            label += " (error)"
        if markdown:
            cell = m.mutation.replace("|", "\\|")
            why = (verdict.reason if verdict else "").replace("|", "\\|")
            print(f"| {name} | `{m.path}:{m.line}` | {cell} | {label} | {why} |")
        else:
            print(f"{m.path}:{m.line}  {m.mutation}\n    {m.original}\n    [{label}]", end="")
            print(f" {verdict.reason}" if verdict else "")
    stale = set(verdicts) - {key(n, o.mutant) for n, o, _ in rows}
    if stale and not markdown:
        print(f"\n{len(stale)} verdicts in {VERDICTS.name} match no survivor (killed now?):")
        for target, function, line, mutation in sorted(stale):
            print(f"  {target} {function}: {mutation}  |  {line}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
