"""`cockpit init`: write a starter config.toml."""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import Context
from cockpit.config import user_config_path, write_starter
from cockpit.domain import one_line
from cockpit.files import user_path


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="write a starter config.toml")
    p.add_argument("path", nargs="?", help="where to write it (default: the user config dir)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=cmd_init)


def cmd_init(ctx: Context) -> int:
    path = user_path(ctx.args.path) if ctx.args.path else user_config_path()
    write_starter(path, force=ctx.args.force)
    print(one_line(str(path)))
    return 0
