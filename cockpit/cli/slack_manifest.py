"""`cockpit slack-manifest`: the Slack app manifest for the team's own internal app, with
exactly the bot scopes cockpit uses (posting, reading threads, people's names)."""

from __future__ import annotations

import json
import sys
from typing import Any

from cockpit.cli.context import READ, Context

WHY_INTERNAL = (
    "Create the app from this manifest in your own workspace (api.slack.com/apps → Create New "
    "App → From a manifest) and keep it internal: Slack gives a commercially distributed app "
    "that is not in the Marketplace one thread read a minute, 15 messages a page, and team "
    "sync cannot work with that. Install it, invite it to the incident channel, and give every "
    "cockpit its bot token ([slack] token_env) and the channel ([slack] channel)."
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "slack-manifest",
        help="print the Slack app manifest (JSON) for the team's internal cockpit app",
    )
    p.add_argument("--name", default="cockpit", help="the app's name in Slack (default cockpit)")
    p.set_defaults(handler=cmd_manifest, access=READ)


def manifest(name: str) -> dict[str, Any]:
    """The manifest: a bot user with the sync scopes, no events, no socket mode."""
    from cockpit.comms.slack_thread import SYNC_SCOPES

    return {
        "display_information": {
            "name": name,
            "description": "Incident cockpit: status updates and the team's shared timeline",
        },
        "features": {"bot_user": {"display_name": name, "always_online": False}},
        "oauth_config": {"scopes": {"bot": list(SYNC_SCOPES)}},
        "settings": {
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def cmd_manifest(ctx: Context) -> int:
    name = ctx.args.name.strip()[:35] or "cockpit"
    print(json.dumps(manifest(name), indent=2))
    print(WHY_INTERNAL, file=sys.stderr)
    return 0
