"""One teammate's cockpit as a process, with its clock off by `--skew` seconds:
`python -m tests.fakes.laptop --skew -90 -- sync --follow` (the multi-process tests and
`bench/team_campaign.py` run three of these against one fake Slack). `--rate 6 --epoch T`
runs the clock six times as fast from the moment T (epoch seconds): processes and a fake
Slack given the same T and rate share a compressed time, so a minute's outage takes ten
seconds."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from cockpit.cli import main
from cockpit.domain import system_clock


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.laptop")
    parser.add_argument("--skew", type=float, default=0.0, help="seconds the clock is off")
    parser.add_argument("--rate", type=float, default=1.0, help="clock seconds per real second")
    parser.add_argument("--epoch", type=float, default=0.0, help="where a faster clock starts")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    skew = timedelta(seconds=args.skew)
    rate, epoch = args.rate, args.epoch

    def clock() -> datetime:
        if rate == 1.0:
            return system_clock() + skew
        return compressed(epoch, rate) + skew

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return main(command, clock=clock)


def compressed(epoch: float, rate: float) -> datetime:
    """Now on a clock that runs `rate` times as fast as the real one from the moment `epoch`."""
    real = system_clock().timestamp()
    return datetime.fromtimestamp(epoch + (real - epoch) * rate, UTC)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
