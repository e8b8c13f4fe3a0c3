"""`cockpit` with no subcommand: the Textual app on the configured database."""

from __future__ import annotations

from cockpit.cli.context import Context


def open_app(ctx: Context) -> int:
    """Run the app until the user quits; its exit status."""
    from cockpit.tui.app import run_app  # deferred: Textual, which no subcommand loads

    return int(run_app(ctx.config, ctx.db_path, clock=ctx.clock))
