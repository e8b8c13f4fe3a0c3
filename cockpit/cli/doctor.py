"""`cockpit doctor`: check the set-up before the incident, one line per check with a fix.

The core doctor checks the configuration, database, disk, runbooks and clipboard; the service
checks (one harmless authenticated call per configured target) come from the comms layer and
are handed to it here.
"""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import Context
from cockpit.doctor import run_doctor
from cockpit.domain import one_line


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check config, database, runbooks and services")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(ctx: Context) -> int:
    # Deferred: the probes bring httpx and every service adapter.
    from cockpit.comms.probe import probe_services

    checks = run_doctor(ctx.args.config, ctx.args.db, probe_services)
    for check in checks:
        print(one_line(check.line()))
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
