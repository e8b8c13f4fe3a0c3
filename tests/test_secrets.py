"""Secrets: every credential the configuration can hold leaves no trace anywhere people look.

The scan plants every credential cockpit can be given (each service's token or key, a Slack
incoming-webhook URL, a webhook URL with `user:pass@` and `?token=`, its signing secret,
PagerDuty's routing key, and a user, password and query token in every service's own URL),
as environment variables or as literals in a chmod-600 file. It drives every failure path
against a server on 127.0.0.1 that echoes each request back (its target, its Authorization
header, its body, every header; as they are, in base64, percent-encoded, JSON-escaped; cut off
inside the secret by a 200-character error line) with 4xx, 5xx, 429, Slack's `ok: false`, a
hang (timeout), a dropped connection and a refused one; runs `deliver`, `outbox`, `show`,
`show --json`, `list`, `export` and `doctor`; opens the app (the screen, the outbox, then a
forced crash). It then searches the database and its -wal and -shm, every command's output,
the screen, the logs, the crash report and the post-mortem for every encoding of every
secret, and for any 8 characters of one: zero hits.

The first test runs a whole incident against the realistic fakes, where deliveries succeed.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import pytest
import tomli_w
from rich.console import Console

from cockpit.comms.worker import DeliveryWorker
from cockpit.config import config_from_dict, load_config
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.screens.cockpit import CockpitScreen
from tests.conftest import FakeClock, cli_env, run_cli
from tests.fakes import FakeSlack, FakeStatuspage, Reply, refused_url
from tests.fakes.echo import ENCODINGS, PARTS, EchoServer
from tests.fakes.wiring import FakeSleep, secrets_env, slack_table, statuspage_table

TOKEN = "xoxb-2718281828-3141592653-SeCrEtToKeNvAlUe"
API_KEY = "sp-0123456789abcdef-SECRETKEY-fedcba9876543210"


def traces(secret: str) -> list[str]:
    """What would give the secret away: itself, and any 12-character piece of it."""
    return [secret] + [secret[i : i + 12] for i in range(0, len(secret) - 11, 4)]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeStatuspage]]:
    slack = FakeSlack(token=TOKEN).start()
    page = FakeStatuspage(api_key=API_KEY).start()
    yield slack, page  # type: ignore[misc]
    slack.stop()
    page.stop()


def write_config(path: Path, tables: dict[str, Any], mode: int = 0o600) -> Path:
    path.write_text(tomli_w.dumps(tables))
    path.chmod(mode)
    return path


@pytest.mark.slow
async def test_a_whole_incident_leaves_no_token_anywhere(tmp_path, fakes, caplog, monkeypatch):
    slack, page = fakes
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "cockpit.db"
    config = write_config(
        tmp_path / "config.toml",
        {
            "user": {"name": "alice"},
            "slack": slack_table(slack, "bot", timeout=5),
            "statuspage": statuspage_table(page, timeout=5),
            "postmortem": {"dir": str(tmp_path / "exports")},
        },
    )
    env = cli_env(db, config, TERM="xterm-256color", **secrets_env(slack, page))
    shown: list[str] = []

    def cli(*args: str, status: int | None = 0) -> str:
        done = run_cli(*args, env=env)
        shown.extend((done.stdout, done.stderr))
        if status is not None:
            assert done.returncode == status, done.stdout + done.stderr
        return done.stdout + done.stderr

    cli("declare", "Checkout API errors", "-s", "SEV-1", "--service", "checkout")
    cli("log", "rolled back api v142")
    cli("log", "--kind", "action", f"someone pasted the token {TOKEN[:8]}… by mistake? no")
    cli("update", "--message", "We are investigating elevated checkout errors.")

    # Services that echo what they were sent: whole, and cut off in the middle of the token
    # (a 200-character error line ends inside it).
    cut = "x" * (200 - len("HTTP 400 ") - 20)
    slack.script("chat.postMessage", Reply(400, f"bad request: Bearer {TOKEN}"))
    page.script("create", Reply(422, {"message": f"{cut}OAuth {API_KEY} refused"}))
    failed = cli("deliver", "--wait", "0", status=1)
    assert "bad request: Bearer" in failed and "refused" not in failed  # cut, yet no key
    listing = cli("outbox")
    for line in listing.splitlines():
        if "failed" in line:
            cli("outbox", "--retry", line.split()[0].lstrip("#"))
    cli("deliver")
    cli("update", "--status", "resolved", "--message", "Fixed: we rolled back the deploy.")
    cli("deliver")
    slack.script("auth.test", Reply(401, f"invalid token {TOKEN}"))
    page.script("page", Reply(403, {"message": f"{cut}key {API_KEY}"}))
    doctor = cli("doctor", status=1)
    assert "FAIL  slack" in doctor and "FAIL  statuspage" in doctor
    cli("show", "INC-1")
    cli("show", "INC-1", "--json")
    cli("list")
    cli("export", "INC-1", "--output", str(tmp_path / "postmortem.md"))
    cli("export", "INC-1", "--output", "-")

    # The app, headless, on the same configuration and database.
    for name, value in secrets_env(slack, page).items():
        monkeypatch.setenv(name, value)
    app = make_app(load_config(config), db)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):  # a loaded machine may take a while to paint
            await pilot.pause(0.05)
            if "Checkout API errors" in screen_text(app):
                break
        screen = screen_text(app)
    app.store.close()
    assert "Checkout API errors" in screen

    files = [db, *db.parent.glob("cockpit.db-*"), tmp_path / "postmortem.md"]
    stored = b"".join(path.read_bytes() for path in files if path.exists())
    assert b"rolled back api v142" in stored  # the search does look at the real bytes
    everything = "\n".join([*shown, screen, caplog.text])
    assert "bad request: Bearer" in everything
    for secret in (TOKEN, API_KEY):
        for piece in traces(secret):
            assert piece.encode() not in stored, piece
            assert piece not in everything, piece
    assert len(page.incidents) == 1 and len(slack.roots()) == 1  # it all really went out


@pytest.mark.slow
def test_a_literal_secret_in_a_file_others_can_read_is_refused(tmp_path, fakes):
    slack, _ = fakes
    db = tmp_path / "cockpit.db"
    table = {**slack_table(slack, "bot")}
    table.pop("token_env")
    table["token"] = TOKEN
    config = write_config(tmp_path / "config.toml", {"slack": table}, mode=0o644)
    env = cli_env(db, config, TERM="xterm-256color")
    for args in (("declare", "x", "-s", "SEV-2"), ("deliver",), ("show",)):
        done = run_cli(*args, env=env)
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"cockpit: {config}: slack.token: holds a secret but the file can be read by "
            f"others; run `chmod 600 {config}` or name an environment variable with "
            "slack.token_env instead"
        )
        assert TOKEN not in done.stdout + done.stderr
    doctor = run_cli("doctor", env=env)
    assert doctor.returncode == 1
    assert doctor.stdout.startswith(f"FAIL  config         {config}: slack.token: holds a secret")
    assert f"chmod 600 {config}" in doctor.stdout and TOKEN not in doctor.stdout

    for mode in (0o640, 0o604, 0o660):  # group or others: each refused
        config.chmod(mode)
        assert run_cli("show", env=env).returncode == 1
    config.chmod(0o600)  # the fix it gave
    assert run_cli("declare", "x", "-s", "SEV-2", env=env).returncode == 0
    assert run_cli("update", "--message", "Investigating.", env=env).returncode == 0
    delivered = run_cli("deliver", env=env)
    assert delivered.returncode == 0, delivered.stderr
    assert len(slack.roots()) == 1
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cockpit.db*"))
    assert TOKEN.encode() not in stored


# ---- the scan: every credential, every encoding, every failure path, every output -----------

SERVICES = ("slack", "statuspage", "instatus", "betterstack", "webhook", "pagerduty")
HOOK_KEY = "Xq7vB2nL9pR4tW6yZ1aC3eG5"  # the secret segment of a Slack incoming webhook
HOOK_USER = "hookuser-7f3a9c"
HOOK_PASSWORD = "p@ss/w0rd-é+=ÿ42%"  # sent as Basic auth; percent-encoded in the URL
HOOK_TOKEN = "tok3n.QuErY-55aa77bb"
CREDENTIALS = {
    "slack.token": "xoxb-2718281828-3141592653-SeCrEtToKeNvAlUe",
    "statuspage.api_key": "sp-0123456789abcdef-SECRETKEY-fedcba9876543210",
    "instatus.api_key": "in5t4tu5-k3y-93f7c1d2e8b4a6f0",
    "betterstack.api_key": "bSt0kEn+Wz/9QpXk=Lm2Rv",  # +, / and = as in base64
    "pagerduty.routing_key": "e93f0b1c5d7a4e2f9b8c6d4a2e0f1c3b",  # hex: a valid identifier
    "webhook.secret": "whsec_Lk9%Qz!Pv7@Nw3#Tr5~é",  # used for the HMAC only
}
HEADER_SENT = {"slack.token", "statuspage.api_key", "instatus.api_key", "betterstack.api_key"}

# Failure paths against the echoing server, each run over every target in process: every
# part of the request in every encoding, whole (4xx), in a JSON error (422), cut off inside it
# by the 200-character error line (503 after filler; 401 at several cuts), Slack's `ok: false`,
# a rate limit, a timeout, a dropped connection (a refused one follows).
ECHOES: list[dict[str, Any]] = [
    *({"status": 400, "part": p, "encoding": e} for p in PARTS for e in ENCODINGS),
    *(
        {"status": 422, "part": p, "encoding": e, "as_json": True}
        for p in PARTS
        for e in ("raw", "json")
    ),
    *({"status": 503, "part": p, "encoding": e, "pad": 170} for p in PARTS for e in ENCODINGS),
    *({"status": 401, "part": p, "pad": pad} for p in PARTS for pad in (150, 185)),
    {"status": 200, "part": "authorization", "slack_ok_false": True},
    {"status": 200, "part": "target", "slack_ok_false": True, "pad": 180},
    {"status": 429, "part": "authorization", "retry_after": "1"},
    {"status": 201, "part": "authorization", "as_answer": True},
    {"status": 200, "part": "body", "encoding": "base64", "as_answer": True},
    {"status": 500, "part": "body", "as_json": True, "pad": 120},
    {"hang": 5.0},
    {"drop": True},
]
FEW_ECHOES: list[dict[str, Any]] = [
    {"status": 400, "part": "headers", "encoding": "base64"},
    {"status": 422, "part": "body", "encoding": "json", "as_json": True},
    {"status": 503, "part": "authorization", "encoding": "percent", "pad": 170},
    {"status": 401, "part": "target", "pad": 185},
    {"status": 200, "part": "headers", "as_answer": True},
    {"hang": 5.0},
]


@dataclass(frozen=True)
class Planted:
    """One secret the scan looks for: its pieces are secret too unless it is a whole URL."""

    value: str
    pieces: bool = True


def url_credentials(name: str) -> tuple[str, str, str]:
    """The user, password and query token in a service's own URL (each its own)."""
    n = SERVICES.index(name)
    return f"au{n}Qx7Lp2Vz", f"apw{n}Km4:Rt8Yq", f"aq{n}Zn5Hs3Wd"


def endpoint(echo: EchoServer, name: str) -> str:
    """A service URL on the echoing server with a user, a password and a query token."""
    user, password, token = url_credentials(name)
    return f"http://{user}:{quote(password, safe='')}@127.0.0.1:{echo.port}/{name}?apitoken={token}"


def plant(echo: EchoServer, slack_mode: str, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Tables naming every credential, from the environment or literally (`source`)."""
    hook_url = f"http://127.0.0.1:{echo.port}/services/T0CKPT7A1/B0HOOK9Z2/{HOOK_KEY}"
    webhook_url = (
        f"http://{HOOK_USER}:{quote(HOOK_PASSWORD, safe='')}@127.0.0.1:{echo.port}/hook"
        f"?token={HOOK_TOKEN}"
    )
    secrets = {**CREDENTIALS, "webhook.url": webhook_url}
    if slack_mode == "webhook":
        del secrets["slack.token"]
        secrets["slack.webhook_url"] = hook_url
    common = {"timeout_seconds": 0.5}
    tables: dict[str, Any] = {
        "user": {"name": "alice"},
        "slack": {**common, "channel": "C0INCIDENT", "api_url": endpoint(echo, "slack")}
        if slack_mode == "bot"
        else dict(common),
        "statuspage": {**common, "page_id": "pg1", "api_url": endpoint(echo, "statuspage")},
        "instatus": {
            **common,
            "page_id": "in1",
            "component_ids": ["c1"],
            "api_url": endpoint(echo, "instatus"),
        },
        "betterstack": {
            **common,
            "status_page_id": "123",
            "notify_subscribers": True,
            "resource_ids": ["9"],
            "api_url": endpoint(echo, "betterstack"),
        },
        "webhook": dict(common),
        "pagerduty": {**common, "events_url": endpoint(echo, "pagerduty")},
    }
    env: dict[str, str] = {}
    for key, value in secrets.items():
        table, name = key.split(".")
        if source == "env":
            variable = f"SCAN_{table}_{name}".upper()
            tables[table][f"{name}_env"] = variable
            env[variable] = value
        else:
            tables[table][name] = value
    return tables, env


def planted_secrets(echo: EchoServer, slack_mode: str) -> list[Planted]:
    found = [
        Planted(v) for k, v in CREDENTIALS.items() if slack_mode == "bot" or k != "slack.token"
    ]
    for name in SERVICES:
        if name in ("webhook",) or (name == "slack" and slack_mode == "webhook"):
            continue
        user, password, token = url_credentials(name)
        found += [Planted(user), Planted(password), Planted(f"{user}:{password}"), Planted(token)]
    found += [Planted(HOOK_USER), Planted(HOOK_PASSWORD), Planted(HOOK_TOKEN)]
    found.append(Planted(f"{HOOK_USER}:{HOOK_PASSWORD}"))
    if slack_mode == "webhook":
        hook = f"http://127.0.0.1:{echo.port}/services/T0CKPT7A1/B0HOOK9Z2/{HOOK_KEY}"
        found += [Planted(HOOK_KEY), Planted(hook, pieces=False)]
        found.append(Planted(urlsplit(hook).path, pieces=False))
    return found


def giveaways(planted: Planted) -> set[str]:
    """Every form of a secret a reader could recover it from: as it is, percent-encoded,
    JSON- and HTML-escaped, inside any base64 text (and base64 of its base64); for a
    credential, any 8 characters of any of those (whole URLs: only whole, their host and
    words are not secret)."""
    value = planted.value
    forms = {
        value,
        quote(value, safe=""),
        quote(value, safe="/"),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
    }
    once = base64.b64encode(value.encode())
    for data in (value.encode(), once):  # base64 of it, and of a Basic header holding it
        for lead in (b"", b"\0", b"\0\0"):  # each alignment inside a longer base64 text
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                coded = encode(lead + data).decode()
                forms.add(coded[4:-4])
    if not planted.pieces:
        return {form for form in forms if len(form) >= 8}
    return {form[i : i + 8] for form in forms for i in range(len(form) - 7)}


def windows(text: str, width: int) -> set[str]:
    """Every `width`-character piece of `text`."""
    seen: set[str] = set()
    # In slices, so that a few megabytes of database never become one set of millions.
    for start in range(0, max(len(text) - width + 1, 0), 1 << 18):
        stop = min(start + (1 << 18), len(text) - width + 1)
        seen |= {text[i : i + width] for i in range(start, stop)}
    return seen


def leaks(planted: list[Planted], text: str) -> list[str]:
    """Each giveaway found, with the secret it gives away and where (for the failure)."""
    # One pass over the text for every 8-character giveaway at once: a `find` per giveaway
    # reads megabytes thousands of times, the scan's most expensive step.
    pieces = windows(text, 8)
    found = []
    for secret in planted:
        for giveaway in sorted(giveaways(secret)):
            if len(giveaway) == 8 and giveaway not in pieces:
                continue
            at = text.find(giveaway)
            if at >= 0:
                where = text[max(at - 60, 0) : at + 60].replace("\n", "⏎")
                found.append(f"{giveaway!r} of {secret.value!r} in {where!r}")
    return found


def test_the_scan_finds_a_piece_anywhere_in_megabytes_of_text() -> None:
    secret = Planted(CREDENTIALS["pagerduty.routing_key"])
    piece = secret.value[5:13]
    filler = "x" * (3 << 18)
    for at in (0, (1 << 18) - 4, (1 << 18) - 8, (1 << 18) - 7, len(filler) - 8):
        text = filler[:at] + piece + filler[at + 8 :]
        assert leaks([secret], text) == [
            f"{piece!r} of {secret.value!r} in {text[max(at - 60, 0) : at + 60]!r}"
        ]
    assert leaks([secret], filler) == []
    whole = Planted("http://127.0.0.1:9/services/T0/B0/" + HOOK_KEY, pieces=False)
    assert leaks([whole], filler + whole.value)[0].startswith(repr(whole.value))
    assert leaks([whole], filler + whole.value[:-1]) == []


def screen_text(app: Any) -> str:
    """The screen as text, line by line (the SVG export's text runs joined)."""
    svg = app.export_screenshot()
    lines: dict[str, list[str]] = {}
    for y, run in re.findall(r'<text[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', svg, re.S):
        lines.setdefault(y, []).append(html.unescape(run).replace("\xa0", " "))
    return "\n".join("".join(parts) for parts in lines.values())


def requeue(store: Store, clock: FakeClock) -> None:
    """Every delivery waiting again, as if nothing had been tried."""
    for d in store.deliveries():
        payload = {k: v for k, v in d.payload.items() if not k.startswith("_")}
        store.update_delivery(
            d.id, state="queued", next_attempt_at=clock(), payload=payload, remote_id=None
        )


def unreachable(tables: dict[str, Any]) -> dict[str, Any]:
    """The same tables with every service URL on a port where nothing listens."""
    closed = urlsplit(refused_url()).netloc

    def moved(url: str) -> str:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")
        netloc = f"{host[0]}@{closed}" if host[1] else closed
        return urlunsplit(parts._replace(netloc=netloc))

    out = json.loads(json.dumps(tables))
    for table in out.values():
        for key, value in table.items():
            if isinstance(value, str) and value.startswith("http://"):
                table[key] = moved(value)
    return out


def database_bytes(db: Path) -> bytes:
    """The database file with its -wal and -shm, as they are now (the WAL is gone once the
    last connection closes, so this is read while one is open)."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


@pytest.mark.parametrize(
    ("slack_mode", "source", "echoes"),
    [
        ("bot", "env", ECHOES),
        ("webhook", "file", ECHOES),
        ("bot", "file", FEW_ECHOES),  # the same values, from the other place: a few paths
        ("webhook", "env", FEW_ECHOES),
    ],
    ids=["bot-env", "webhook-file", "bot-file", "webhook-env"],
)
@pytest.mark.slow
async def test_every_secret_in_every_encoding_leaves_no_trace(
    tmp_path, monkeypatch, caplog, slack_mode, source, echoes
):
    caplog.set_level(logging.DEBUG)
    echo = EchoServer().start()
    try:
        tables, env = plant(echo, slack_mode, source)
        config_path = write_config(tmp_path / "config.toml", tables)
        db = tmp_path / "cockpit.db"
        environ = cli_env(db, config_path, TERM="xterm-256color", **env)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        shown: list[str] = []

        def cli(*args: str, status: int | None = 0) -> str:
            done = run_cli(*args, env=environ)
            shown.extend((done.stdout, done.stderr))
            if status is not None:
                assert done.returncode == status, done.stdout + done.stderr
            return done.stdout + done.stderr

        # An incident that pages and a status update: a delivery for every target.
        cli("declare", "Checkout API errors", "-s", "SEV-1", "--service", "checkout")
        cli("update", "--message", "We are investigating elevated checkout errors.")
        echo.set(status=401, part="authorization")
        delivered = cli("deliver", "--wait", "0", status=1)
        assert "not delivered" in delivered

        # Every failure path, in process: each echo, over every target, deliveries requeued.
        clock = FakeClock()
        config = load_config(config_path)
        kept: list[str] = []
        with Store.open(db, clock=clock) as store:
            for run, setting in enumerate([*echoes, "refused"]):
                sent_to = config
                if isinstance(setting, dict):
                    echo.set(**setting)
                else:
                    sent_to = config_from_dict(unreachable(tables), config_path)
                requeue(store, clock)
                worker = DeliveryWorker(
                    store, sent_to, clock=clock, sleep=FakeSleep(clock), jitter=lambda: 0.0
                )
                await worker.run(until_idle=True, budget=0)
                kept += [f"{run} {d.last_error}" for d in store.deliveries()]
            timeline = [e.text for e in store.entries(1)]
            stored = [database_bytes(db)]
        for outcome in ("HTTP 4", "HTTP 503", "no answer within", "could not connect"):
            assert any(outcome in line for line in kept), outcome
        assert any("page people by hand" in line for line in timeline)
        assert echo.requests > 5 * len(echoes)

        # Every command that shows what was kept, and the probes.
        echo.set(status=403, part="headers", encoding="raw")
        cli("deliver", "--wait", "0", status=1)
        cli("outbox")
        cli("show", "INC-1")
        cli("show", "INC-1", "--json")
        cli("list", "--all")
        cli("export", "INC-1", "--output", str(tmp_path / "postmortem.md"))
        cli("export", "INC-1", "--output", "-")
        for setting in ({"status": 403, "part": "target", "pad": 170}, {"hang": 8.0}):
            echo.set(**setting)
            cli("doctor", status=1)

        # The app: its delivery line, the outbox, then a crash with the configuration in a
        # frame's locals and a secret in the exception's text.
        echo.set(status=401, part="authorization", pad=160)
        app = make_app(load_config(config_path), db)
        crashed = io.StringIO()
        app.error_console = Console(file=crashed, width=160, color_system=None)
        a_secret = CREDENTIALS["statuspage.api_key"]

        def crash(screen: CockpitScreen) -> None:
            config = screen.config  # what Textual used to print, secrets and all
            raise RuntimeError(f"forced crash with {a_secret} and {config.webhook}")

        screens = []
        with pytest.raises(RuntimeError, match="forced crash"):
            async with app.run_test(size=(160, 40)) as pilot:
                for _ in range(200):
                    await pilot.pause(0.05)
                    if "failed" in screen_text(app) or "retrying" in screen_text(app):
                        break
                screens.append(screen_text(app))
                await pilot.press("o")
                await pilot.pause(0.2)
                screens.append(screen_text(app))
                stored.append(database_bytes(db))
                await pilot.press("escape")
                await pilot.pause()
                monkeypatch.setattr(CockpitScreen, "action_outbox", crash)
                await pilot.press("o")
                await pilot.pause()
        app.store.close()
        report = crashed.getvalue()
        assert "RuntimeError: forced crash with … and" in report
        assert "─ locals ─" not in report
        assert "WebhookConfig(timeout_seconds=0.5)" in report  # no field that holds a secret

        # The search: the real bytes, every output, the screens, the logs, the crash report.
        assert "Checkout API errors" in screens[0] and "Outbox" in screens[1]
        stored += [database_bytes(db), (tmp_path / "postmortem.md").read_bytes()]
        assert b"We are investigating" in stored[-1]  # the search does look at real bytes
        assert len(stored[0]) > db.stat().st_size  # read with the WAL
        text = b"".join(stored).decode("utf-8", "replace")
        everything = "\n".join([*shown, *screens, caplog.text, report, *kept, *timeline])
        assert "HTTP 40" in everything and "HTTP 401" in screens[0]
        planted = planted_secrets(echo, slack_mode)
        assert leaks(planted, text) == []
        assert leaks(planted, everything) == []
    finally:
        echo.stop()
