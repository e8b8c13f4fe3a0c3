"""The crash campaign in its short form: ten SIGKILLs of a process that appends, publishes
and delivers against the fakes; nothing confirmed is lost, nothing is delivered twice.

The full campaign (200+ kills) is `bench/crash_campaign.py`; figures in RELIABILITY.md.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_ten_sigkills_lose_nothing_and_duplicate_nothing():
    seed = random.randrange(1_000_000)  # a new schedule each run; the seed reproduces it
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "crash_campaign.py"),
            *("--kills", "10", "--duration", "60", "--seed", str(seed), "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.stdout, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    shown = f"seed {seed}:\n{done.stdout}\n{done.stderr[-3000:]}"
    assert figures["kills"] == 10, shown
    assert figures["entries_confirmed"] > 20 and figures["updates_confirmed"] > 0, shown
    assert figures["entries_lost"] == 0, shown
    assert figures["integrity_failures"] == 0, shown
    assert figures["deliveries"] == 2 * figures["publications"], shown
    assert figures["publications"] >= figures["updates_confirmed"], shown
    assert figures["publications_without_deliveries"] == 0, shown
    assert figures["deliveries_duplicated"] == 0, shown
    assert figures["deliveries_missing"] == 0 and figures["deliveries_not_sent"] == 0, shown
    assert done.returncode == 0, shown
