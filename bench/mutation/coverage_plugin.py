"""A pytest plugin for the mutation run: which test executes which line, and how long each test
takes. Loaded with `-p bench.mutation.coverage_plugin` in every process (xdist workers too);
writes its data where `COCKPIT_MUTATE_DATA` says."""

from __future__ import annotations

import json
import os
from pathlib import Path

import coverage
import pytest

_cov: coverage.Coverage | None = None
_durations: dict[str, float] = {}
_failed: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    global _cov
    out = Path(os.environ["COCKPIT_MUTATE_DATA"])
    root = Path.cwd()
    _cov = coverage.Coverage(
        data_file=str(out / "coverage"),
        data_suffix=True,
        include=[str(root / "cockpit" / "*")],
        config_file=False,
    )
    _cov.start()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _cov is not None:
        _cov.switch_context(item.nodeid)


def pytest_runtest_logfinish(nodeid: str) -> None:
    if _cov is not None:
        _cov.switch_context("")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
    if report.failed:
        _failed.add(report.nodeid)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _cov is None:
        return
    _cov.stop()
    _cov.save()
    out = Path(os.environ["COCKPIT_MUTATE_DATA"]) / f"tests-{os.getpid()}.json"
    out.write_text(json.dumps({"durations": _durations, "failed": sorted(_failed)}))
