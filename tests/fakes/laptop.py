"""One teammate's cockpit as a process, with its clock off by `--skew` seconds:
`python -m tests.fakes.laptop --skew -90 -- sync --follow` (the multi-process tests and
`bench/team_campaign.py` run three of these against one fake Slack)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from cockpit.cli import main
from cockpit.domain import system_clock


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.laptop")
    parser.add_argument("--skew", type=float, default=0.0, help="seconds the clock is off")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    skew = timedelta(seconds=args.skew)

    def clock() -> datetime:
        return system_clock() + skew

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return main(command, clock=clock)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
