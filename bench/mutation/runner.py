"""Running mutants: a coverage pass maps each line to the tests that execute it, then every
mutant runs against its own tests in a temporary copy of the repository, never the working tree.

Each worker is a fork server: a process that has imported pytest and the libraries the tests use
(but never `cockpit`) and forks one child per mutant, so a mutant costs its tests, not an
interpreter start. A child runs in its own process group and is killed with it at the timeout.

A mutant that spins (a loop whose exit was mutated away, on the tests' fake sleep) is stopped
by its CPU time, not the clock: the child gets an `RLIMIT_CPU` and the kernel ends it with
SIGXCPU once it has used its budget. CPU time does not stretch on a loaded machine as wall time
does, so the budget can be tight where the wall timeout must stay generous (it is still there
for a mutant that blocks without computing).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.mutation.mutants import Mutant

ROOT = Path(__file__).resolve().parents[2]

_IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "*.egg-info",
    "*.db",
    "*.db-wal",
    "*.db-shm",
)
PYTEST_ARGS = (
    "-x",
    "-q",
    "--no-header",
    "-p",
    "no:xdist",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:randomly",
    "-o",
    "addopts=",
    "--hypothesis-seed=0",
)
USAGE_ERROR = 4  # pytest's exit code when a test id given to it does not exist
PRELOAD = (
    "asyncio",
    "sqlite3",
    "pytest",
    "_pytest.python",
    "_pytest.fixtures",
    "_pytest.assertion.rewrite",
    "pytest_asyncio",
    "hypothesis",
    "hypothesis.strategies",
    "httpx",
    "sqlite_utils",
    "rich.console",
    "textual.app",
    "textual.widgets",
    "syrupy",
    "pytest_textual_snapshot",
    "markdown_it",
    "platformdirs",
    "tomli_w",
)


def copy_repository(root: Path, dest: Path) -> Path:
    """A copy of what the tests need (sources, tests, configuration), without caches."""
    shutil.copytree(root, dest, ignore=_IGNORED, symlinks=True)
    return dest


def restore(copy: Path, path: str) -> None:
    """Put `path` back in `copy` as the repository has it (a server killed mid-mutant leaves
    the mutant there), with a new mtime so no stale bytecode of the mutant is used."""
    _write(copy / path, (ROOT / path).read_bytes(), time.time())


@dataclass
class CoverageMap:
    """Which tests execute each line of each file, and how long each test took."""

    contexts: dict[str, dict[int, set[str]]]  # relative path -> line -> test ids
    durations: dict[str, float]
    failed: set[str]

    def tests_for(self, path: str, lines: Iterable[int]) -> set[str]:
        by_line = self.contexts.get(path, {})
        found: set[str] = set()
        for line in lines:
            found |= by_line.get(line, set())
        return found - self.failed


def coverage_map(copy: Path, tests: Sequence[str], log: Path, saved: Path | None) -> CoverageMap:
    """Run `tests` once in `copy`, in one process, with every line's tests recorded. With
    `saved`, reuse what an earlier pass left there (same sources), or keep this pass's data."""
    if saved is not None and any(saved.glob("tests-*.json")):
        return read_coverage(saved)
    data = copy / ".mutate-data"
    data.mkdir(exist_ok=True)
    env = {**os.environ, "COCKPIT_MUTATE_DATA": str(data)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "bench.mutation.coverage_plugin",
        "-p",
        "no:cacheprovider",
        "--hypothesis-seed=0",
        "-p",
        "no:xdist",
        "-p",
        "no:randomly",
        *tests,
    ]
    with log.open("w") as out:
        subprocess.run(command, cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT)
    if not any(data.glob("coverage.*")):
        raise SystemExit(f"the coverage pass recorded nothing: {log.read_text()[-2000:]}")
    if saved is not None:
        shutil.copytree(data, saved, dirs_exist_ok=True)
    return read_coverage(data)


def read_coverage(data: Path) -> CoverageMap:
    """The coverage map from a pass's data directory (paths made relative to the repository:
    the copy it ran in is gone)."""
    import coverage

    merged = coverage.CoverageData(basename=str(data / "merged"))
    for name in data.glob("coverage.*"):
        part = coverage.CoverageData(basename=str(name))
        part.read()
        merged.update(part)
    contexts: dict[str, dict[int, set[str]]] = {}
    for measured in merged.measured_files():
        relative = measured[measured.index("/cockpit/") + 1 :]
        lines = contexts.setdefault(relative, {})  # passes run in other copies: one file
        for line, found in merged.contexts_by_lineno(measured).items():
            lines.setdefault(line, set()).update(c for c in found if c)
    durations: dict[str, float] = {}
    failed: set[str] = set()
    for report in data.glob("tests-*.json"):
        found = json.loads(report.read_text())
        for test, seconds in found["durations"].items():
            durations[test] = max(durations.get(test, 0.0), seconds)
        failed |= set(found["failed"])
    return CoverageMap(contexts, durations, failed)


# ---- the fork server (runs inside the copy) ------------------------------------------------


def serve() -> None:
    """Read mutants as JSON lines on stdin, answer each with its outcome on stdout."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if any(name == "cockpit" or name.startswith("cockpit.") for name in sys.modules):
        raise SystemExit("the fork server imported cockpit before forking")
    root = Path.cwd()
    log = root / ".mutate-child.log"
    stamp = time.time() + 10_000.0
    answer = sys.stdout
    for line in sys.stdin:
        job = json.loads(line)
        path = root / job["path"]
        original = path.read_bytes()
        stamp += 2.0  # a new mtime each time: Python never reuses a stale .pyc of a mutant
        _write(path, job["source"].encode("utf-8"), stamp)
        try:
            outcome = _run_child(job["tests"], float(job["timeout"]), int(job["cpu"]), log)
        finally:
            stamp += 2.0
            _write(path, original, stamp)
        answer.write(json.dumps(outcome) + "\n")
        answer.flush()


def _write(path: Path, data: bytes, stamp: float) -> None:
    temporary = path.with_suffix(".mutating")
    temporary.write_bytes(data)
    os.utime(temporary, (stamp, stamp))
    os.replace(temporary, path)


def _run_child(tests: Sequence[str], timeout: float, cpu: int, log: Path) -> dict[str, Any]:
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: its own process group, quiet, then pytest
        try:
            os.setpgid(0, 0)
            # A forked child starts at zero CPU time: the budget is its tests' alone.
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
            import pytest

            code = int(pytest.main([*PYTEST_ARGS, *tests]))
        except BaseException:
            code = 99
        os._exit(code)
    deadline = started + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return {
                "code": code,
                "seconds": time.monotonic() - started,
                "cpu": usage.ru_utime + usage.ru_stime,
                "timeout": code in (-signal.SIGXCPU, -signal.SIGKILL),
            }
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            return {
                "code": None,
                "seconds": time.monotonic() - started,
                # Near zero: it blocked (a wait that never ends); near its budget: it spun.
                "cpu": usage.ru_utime + usage.ru_stime,
                "timeout": True,
            }
        time.sleep(0.01)


# ---- the main process -----------------------------------------------------------------------


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, timeout, survived, uncovered, error
    seconds: float
    cpu: float = 0.0  # CPU seconds the child used


class Server:
    """One fork server in its own copy of the repository."""

    def __init__(self, copy: Path) -> None:
        self.copy = copy
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.mutation", "--serve"],
            cwd=copy,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(copy)},
        )

    def run(self, mutant: Mutant, timeout: float, cpu: int) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        job = {
            "path": mutant.path,
            "source": mutant.source,
            "tests": mutant.tests,
            "timeout": timeout,
            "cpu": cpu,
        }
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server in {self.copy} stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def unparametrized(tests: Sequence[str]) -> list[str]:
    """The test functions of `tests`, each once, in order: `f[a]` and `f[b]` become `f`."""
    return list(dict.fromkeys(test.partition("[")[0] for test in tests))


def run_mutants(
    mutants: Sequence[Mutant],
    copies: Sequence[Path],
    timeout_for: Callable[[Mutant], tuple[float, int]],
    progress: Callable[[Outcome], None],
) -> list[Outcome]:
    """Every mutant against its tests, one per server at a time."""
    outcomes: list[Outcome] = []
    jobs: queue.Queue[Mutant] = queue.Queue()
    for mutant in mutants:
        if mutant.tests:
            jobs.put(mutant)
        else:
            outcome = Outcome(mutant, "uncovered", 0.0)
            outcomes.append(outcome)
            progress(outcome)
    lock = threading.Lock()

    def work(copy: Path) -> None:
        server = Server(copy)

        def run(mutant: Mutant) -> dict[str, Any]:
            nonlocal server
            try:
                return server.run(mutant, *timeout_for(mutant))
            except (RuntimeError, OSError, ValueError):
                # The server died (killed from outside, out of memory): a thread that raised
                # here would leave its mutants unrun and the report silently short. A new
                # server in the same copy, which it first puts back as it was.
                server.close()
                restore(copy, mutant.path)
                server = Server(copy)
                return server.run(mutant, *timeout_for(mutant))

        try:
            while True:
                try:
                    mutant = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    answer = run(mutant)
                    if answer["code"] == USAGE_ERROR:
                        # A constant that names a parametrized test (`[args5-25000]`) renames
                        # it in the mutant, and pytest finds no such id: run the whole functions.
                        mutant.tests = unparametrized(mutant.tests)
                        answer = run(mutant)
                except (RuntimeError, OSError, ValueError):
                    answer = {"code": None, "seconds": 0.0, "cpu": 0.0, "timeout": False}
                if answer["timeout"]:
                    status = "timeout"
                elif answer["code"] == 0:
                    status = "survived"
                elif answer["code"] in (1, 2, 3):
                    status = "killed"
                else:
                    status = "error"
                cpu = float(answer.get("cpu", 0.0))
                outcome = Outcome(mutant, status, float(answer["seconds"]), cpu)
                with lock:
                    outcomes.append(outcome)
                    progress(outcome)
        finally:
            server.close()

    threads = [threading.Thread(target=work, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
