"""`cockpit demo`: the app on a throwaway database seeded with a SEV-1 in progress.

Nothing from the user's configuration or database is touched, and nothing is sent anywhere.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cockpit.cli.context import Context


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="open the app on a throwaway demo incident (sends nothing)")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(ctx: Context) -> int:
    from cockpit.demo import demo_config, seed_demo
    from cockpit.tui.app import run_app  # deferred: Textual, which no other subcommand loads

    with tempfile.TemporaryDirectory(prefix="cockpit-demo-") as tmp:
        workdir = Path(tmp)
        config = demo_config(workdir)
        db_path = workdir / "demo.db"
        seed_demo(db_path, ctx.clock())
        return run_app(config, db_path, clock=ctx.clock)
