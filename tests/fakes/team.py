"""Three teammates' cockpits as processes, each with its own database, config and clock,
against one fake Slack: the harness of the multi-process tests and `bench/team_campaign.py`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cockpit.store import Store, StoreError
from cockpit.sync.wire import decode
from tests.fakes.slack import TEAM_URL, FakeSlack
from tests.fakes.wiring import SLACK_TOKEN_ENV

ROOT = Path(__file__).resolve().parent.parent.parent


class Laptop:
    """One cockpit: `cli(...)` runs a command to its end, `follow()` starts the background
    sync (`cockpit sync --follow`), `kill()` stops it with SIGKILL."""

    def __init__(
        self,
        name: str,
        folder: Path,
        slack: FakeSlack,
        *,
        skew: float = 0.0,
        poll: float = 0.2,
        idle: float | None = None,
    ) -> None:
        self.name = name
        self.skew = skew
        folder.mkdir(parents=True, exist_ok=True)
        self.db = folder / f"{name}.db"
        self.config = folder / f"{name}.toml"
        self.config.write_text(
            f'[user]\nname = "{name}"\n\n'
            f'[slack]\ntoken_env = "{SLACK_TOKEN_ENV}"\nchannel = "C0INCIDENT"\n'
            f'api_url = "{slack.url}/as/{name}/api"\ntimeout_seconds = 3.0\n\n'
            f"[sync]\npoll_seconds = {poll}\nidle_poll_seconds = {poll if idle is None else idle}\n"
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
        self.env.update(
            PYTHONPATH=str(ROOT),
            COCKPIT_DB=str(self.db),
            COCKPIT_CONFIG=str(self.config),
            HOME=str(folder),
            XDG_CONFIG_HOME=str(folder / ".config"),
            XDG_DATA_HOME=str(folder / ".local"),
            **{SLACK_TOKEN_ENV: slack.token},
        )
        self.process: subprocess.Popen[bytes] | None = None

    def _argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tests.fakes.laptop", "--skew", str(self.skew), "--", *args]

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._argv(*args),
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """A command left running (for commands run side by side)."""
        return subprocess.Popen(
            self._argv(*args),
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def follow(self) -> None:
        self.process = subprocess.Popen(
            self._argv("sync", "--follow"),
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def show(self) -> dict[str, Any]:
        done = self.cli("show", "--json")
        if done.returncode != 0:
            raise AssertionError(f"{self.name}: show failed: {done.stderr}")
        data: dict[str, Any] = json.loads(done.stdout)
        return data


def permalink(slack: FakeSlack) -> str:
    """The link of the (one) incident root in the fake channel."""
    (root,) = slack.roots()
    return f"{TEAM_URL}/archives/C0INCIDENT/p{root['ts'].replace('.', '')}"


def shared_view(show: dict[str, Any]) -> dict[str, Any]:
    """What every laptop must agree on: the shared fields and the set of entries."""
    return {
        "gid": show["gid"],
        "title": show["title"],
        "severity": show["severity"],
        "status": show["status"],
        "roles": show["roles"],
        "runbook": show["runbook"],
        "mitigated_at": show["mitigated_at"],
        "resolved_at": show["resolved_at"],
        "next_update_due": show["next_update_due"],
        "entries": sorted(
            (e["uid"], e["at"], e["kind"], e["author"], e["text"]) for e in show["entries"]
        ),
    }


def thread_uids(slack: FakeSlack) -> list[str]:
    """Every entry uid carried by the thread's messages (duplicates kept)."""
    found: list[str] = []
    with slack.lock:
        (root,) = slack.roots()
        messages = slack.thread(root["ts"])
    for message in messages:
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and str(metadata.get("event_type")).startswith("cockpit_"):
            found += [wire.entry.uid for wire in decode(metadata).entries]
    return found


def held(laptop: Laptop, gid: str) -> tuple[frozenset[str], int] | None:
    """The uids of the shared entries the laptop's database holds for incident `gid`, and how
    many of its own wait to be sent; None before it has the incident, or while it is busy.
    Read in this process: a wait polls this before it pays for `show()`, a process start."""
    try:
        with Store.open(laptop.db, read_only=True) as store:
            incident = store.incident_by_gid(gid).id
            uids = frozenset(entry.uid for entry in store.sync_entries(incident))
            return uids, store.sync_pending(incident)
    except StoreError:
        return None


def settled(laptops: Iterable[Laptop], gid: str) -> bool:
    """Every laptop holds the same shared entries of `gid` and has nothing left to send: what
    any agreement of `show()` implies, so a wait asks `show()` only once this holds."""
    found = [held(laptop, gid) for laptop in laptops]
    first = found[0]
    return first is not None and first[1] == 0 and all(other == first for other in found)


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, every: float = 0.25
) -> float:
    """Seconds until `condition()` holds; AssertionError naming `what` after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(every)
    return time.monotonic() - start
