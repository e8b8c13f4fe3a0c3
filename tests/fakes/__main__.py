"""Run the fakes by hand: `python -m tests.fakes [--flaky 0.5] [--config FILE]`.

Prints a config.toml and the environment to use them, logs every request, and on Ctrl-C
prints what the Slack channel and the status page ended up showing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage
from tests.fakes.wiring import secrets_env, slack_table, statuspage_table


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes")
    parser.add_argument("--flaky", type=float, default=0.0, help="share of requests that fail")
    parser.add_argument("--flaky-target", choices=["slack", "statuspage", "both"], default="both")
    parser.add_argument("--slack-port", type=int, default=0)
    parser.add_argument("--statuspage-port", type=int, default=0)
    parser.add_argument("--config", type=Path, help="write the config.toml here")
    parser.add_argument("--mode", choices=["bot", "webhook"], default="bot")
    args = parser.parse_args()

    def log(name: str) -> object:
        return lambda line: print(f"{time.strftime('%H:%M:%S')} {name:<10} {line}", flush=True)

    slack = FakeSlack(rate_per_second=1.0, seed=int(time.time()))
    page = FakeStatuspage(seed=int(time.time()) + 1)
    for fake, name in ((slack, "slack"), (page, "statuspage")):
        fake.log = log(name)  # type: ignore[assignment]
        fake.flaky_hang = 15.0
        if args.flaky_target in (name, "both"):
            fake.flaky = args.flaky
    slack.start(args.slack_port)
    page.start(args.statuspage_port)
    import tomli_w

    tables = {
        "slack": slack_table(slack, args.mode, timeout=5.0),
        "statuspage": statuspage_table(page, timeout=5.0),
    }
    text = tomli_w.dumps(tables)
    if args.config:
        existing = args.config.read_text() if args.config.exists() else ""
        args.config.write_text(existing + "\n" + text)
        print(f"appended the targets to {args.config}")
    else:
        print(text)
    for name, value in secrets_env(slack, page).items():
        print(f"export {name}='{value}'")
    print("serving; Ctrl-C to stop and show what was posted", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    print("\n== Slack channel C0INCIDENT ==")
    for root in slack.roots():
        print(f"[root] {root['blocks'][0]['text']['text']}")
        for field in root["blocks"][0].get("fields", []):
            print(f"       {field['text'].replace(chr(10), ': ')}")
        print(f"       {root['blocks'][1]['text']['text']}")
        for reply in slack.replies(root["ts"]):
            flag = " (also in channel)" if reply.get("reply_broadcast") else ""
            print(f"  [reply{flag}] {' / '.join(b['text']['text'] for b in reply['blocks'][:2])}")
    for message in slack.webhook_messages:
        print(f"[webhook] {message['text']}")
    print("\n== Status page ==")
    for incident in page.incidents.values():
        print(f"{incident['name']} [{incident['status']}, impact {incident['impact']}]")
        print(f"  components: {incident['components']}")
        for update in reversed(incident["incident_updates"]):
            print(f"  {update['created_at']} {update['status']}: {update['body']}")
    slack.stop()
    page.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
