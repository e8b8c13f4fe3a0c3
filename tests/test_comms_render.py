"""Unit tests of the comms core: escaping, limits, templates, config tables, retry rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cockpit.board import build_board
from cockpit.comms.publish import draft, preview, publish
from cockpit.comms.render import (
    SLACK_BLOCKS_BUDGET,
    SLACK_SECTION_LIMIT,
    STATUSPAGE_BODY_LIMIT,
    slack_sections,
)
from cockpit.comms.target import Permanent, Retry, retry_after, transport_outcome
from cockpit.comms.templates import phase_for, render_template, template_fields
from cockpit.comms.worker import BACKOFF_CAP, backoff, owner_alive
from cockpit.config import ConfigError, config_from_dict, load_config
from cockpit.domain import Status
from cockpit.plaintext import clean, slack_escape, truncate
from cockpit.store import StoreError

# ---- escaping and limits --------------------------------------------------------------------


def test_slack_escape_encodes_exactly_three_characters_ampersand_first():
    assert slack_escape("<!channel> & <https://evil|click> 'quote' \"q\"") == (
        "&lt;!channel&gt; &amp; &lt;https://evil|click&gt; 'quote' \"q\""
    )
    assert slack_escape("&lt;") == "&amp;lt;"  # already-escaped text is shown as typed


def test_clean_strips_terminal_escapes_controls_and_bidi_overrides_keeps_newlines():
    text = "red \x1b[31mALERT\x1b[0m\x07 bell\x00 nul\r\nnext\tline \u202eevil\u202c"
    assert clean(text) == "red ALERT bell nul\nnext\tline evil"


def test_slack_sections_respect_section_limit_after_escaping_and_never_split_entities():
    text = "&<>" * 5000  # escapes to 13 characters per 3 typed
    sections = slack_sections(text)
    assert all(1 <= len(s) <= SLACK_SECTION_LIMIT for s in sections)
    assert sum(len(s) for s in sections) <= SLACK_BLOCKS_BUDGET
    for section in sections:
        body = section.split("\n… [truncated")[0]
        # Every '&' starts a whole entity: nothing was cut in the middle of one.
        assert body.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0
    assert "truncated" in sections[-1]


def test_slack_sections_truncate_a_50000_character_message_with_a_marker():
    text = "word " * 10_000
    sections = slack_sections(text)
    assert len(sections) <= 4
    assert sum(len(s) for s in sections) <= SLACK_BLOCKS_BUDGET
    assert sections[-1].endswith("more characters]")
    assert sections[0].startswith("word word")


def test_short_text_is_one_section_unchanged():
    assert slack_sections("Checkout is back.\nThanks for waiting.") == [
        "Checkout is back.\nThanks for waiting."
    ]
    assert slack_sections("\x1b[2J") == ["(no text)"]


def test_truncate_keeps_within_limit_and_says_how_much_was_cut():
    text = "x" * 50_000
    cut = truncate(text, STATUSPAGE_BODY_LIMIT)
    assert len(cut) <= STATUSPAGE_BODY_LIMIT
    assert cut.endswith("more characters]")
    omitted = int(cut.rsplit("truncated: ", 1)[1].split(" ")[0].replace(",", ""))
    assert cut.count("x") + omitted == 50_000
    assert truncate("short", 10) == "short"


# ---- templates -----------------------------------------------------------------------------


def test_phase_follows_what_was_sent_and_the_status():
    assert phase_for(0, Status.INVESTIGATING) == "acknowledge"
    assert phase_for(2, Status.IDENTIFIED) == "update"
    assert phase_for(0, Status.RESOLVED) == "resolution"
    assert phase_for(3, Status.RESOLVED) == "resolution"


def test_draft_picks_the_template_for_the_phase_and_fills_every_field(store, clock):
    config = config_from_dict({})
    incident = store.declare(
        "Checkout errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    )
    first = draft(store, config, incident.id, clock=clock)
    assert first.template == "acknowledge"
    assert "affecting checkout" in first.text
    assert "within 30 minutes" in first.text  # SEV-1 cadence: every 30
    publish(store, config, incident.id, first.text, None, "alice", clock)
    second = draft(store, config, incident.id, clock=clock, summary="Rolled back v142.")
    assert second.template == "update"
    assert "Rolled back v142." in second.text
    assert "{" not in second.text
    clock.advance(minutes=83)
    final = draft(store, config, incident.id, clock=clock, status=Status.RESOLVED)
    assert final.template == "resolution"
    assert "as of 03:37 UTC" in final.text


def test_empty_summary_leaves_no_double_spaces(store, clock):
    config = config_from_dict({})
    incident = store.declare("Checkout errors", "SEV-2", "alice", service="checkout")
    store.publish(incident.id, "ack", "alice")
    text = draft(store, config, incident.id, clock=clock).text
    assert "  " not in text
    assert "). Next update" in text


def test_all_template_fields_have_values(store, clock):
    config = config_from_dict({"templates": {"update": "{duration}|{communicator}|{id}"}})
    incident = store.declare("x", "SEV-3", "alice", roles={"communicator": "bob"})
    clock.advance(minutes=125)
    board = build_board(store, config, incident.id, clock())
    fields = template_fields(board, Status.IDENTIFIED, "", clock())
    assert render_template(config.templates.update, fields) == "2 h 05 min|bob|INC-1"
    assert fields["next_update_minutes"] == "60"  # SEV-3 has no cadence: a sane default


def test_unknown_placeholder_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[templates]\nupdate = "Status: {oops}"\n')
    with pytest.raises(ConfigError, match=r"templates.update: unknown placeholder \{oops\}"):
        load_config(path)
    with pytest.raises(ConfigError, match="oops"):
        render_template("{oops}", {"title": "x"})


# ---- configuration of targets -----------------------------------------------------------


def test_slack_needs_exactly_one_mode():
    with pytest.raises(ConfigError, match=r"set webhook_url_env .* or token_env and channel"):
        config_from_dict({"slack": {}})
    with pytest.raises(ConfigError, match="not both"):
        config_from_dict({"slack": {"webhook_url_env": "A", "token_env": "B", "channel": "C1"}})
    with pytest.raises(ConfigError, match=r"slack\.channel: missing"):
        config_from_dict({"slack": {"token_env": "SLACK_BOT_TOKEN"}})
    bot = config_from_dict({"slack": {"token_env": "SLACK_BOT_TOKEN", "channel": "C1"}})
    assert bot.slack is not None and bot.slack.mode == "bot"
    hook = config_from_dict({"slack": {"webhook_url_env": "SLACK_WEBHOOK_URL"}})
    assert hook.slack is not None and hook.slack.mode == "webhook"


def test_a_secret_pasted_into_an_env_key_is_refused_without_echoing_it():
    token = "xoxb-123456-abcdefSECRET"
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"slack": {"token_env": token, "channel": "C1"}})
    assert token not in str(caught.value)
    assert "name of an environment variable" in str(caught.value)


def test_bad_webhook_url_error_does_not_echo_the_url():
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"slack": {"webhook_url": "hooks.slack.com/services/T/B/SECRETPART"}})
    assert "SECRETPART" not in str(caught.value)
    assert "slack.webhook_url" in str(caught.value)


def test_literal_secret_only_in_a_file_its_owner_alone_can_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[statuspage]\npage_id = "abc123"\napi_key = "sp-literal-key"\n')
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=r"statuspage.api_key: .*chmod 600") as caught:
        load_config(path)
    assert "sp-literal-key" not in str(caught.value)
    os.chmod(path, 0o600)
    page = load_config(path).statuspage
    assert page is not None and (page.page_id, page.api_key) == ("abc123", "sp-literal-key")


def test_statuspage_mappings_are_checked_against_severities_and_enums():
    base = {"page_id": "abc123", "api_key_env": "KEY"}
    with pytest.raises(ConfigError, match=r"statuspage.impact.SEV-9: unknown severity"):
        config_from_dict({"statuspage": {**base, "impact": {"SEV-9": "major"}}})
    with pytest.raises(ConfigError, match=r"statuspage.impact.SEV-1: expected one of"):
        config_from_dict({"statuspage": {**base, "impact": {"SEV-1": "huge"}}})
    with pytest.raises(ConfigError, match=r"component_status.SEV-2"):
        config_from_dict({"statuspage": {**base, "component_status": {"SEV-2": "down"}}})
    with pytest.raises(ConfigError, match="page_id: missing"):
        config_from_dict({"statuspage": {"api_key_env": "KEY"}})


def test_no_targets_means_recorded_on_the_timeline_only(store, clock):
    config = config_from_dict({})
    incident = store.declare("x", "SEV-2", "alice")
    assert preview(store, config, incident.id, "hello", None, clock) == []
    entry = publish(store, config, incident.id, "hello", None, "alice", clock)
    assert entry.meta["targets"] == []
    assert store.deliveries(incident.id) == []


def test_publish_writes_entry_and_one_delivery_per_target_with_no_secret(store, clock, monkeypatch):
    monkeypatch.setenv("SP_KEY", "sp-secret-value-xyz")
    config = config_from_dict(
        {
            "slack": {"webhook_url": "https://hooks.slack.com/services/T/B/hooksecret99"},
            "statuspage": {"page_id": "abc123", "api_key_env": "SP_KEY"},
        }
    )
    incident = store.declare("x", "SEV-2", "alice")
    entry = publish(store, config, incident.id, "We are on it", Status.IDENTIFIED, "bob", clock)
    assert entry.meta["targets"] == ["slack", "statuspage"]
    deliveries = store.deliveries(incident.id)
    assert [(d.target, d.action, d.state, d.entry_id) for d in deliveries] == [
        ("slack", "acknowledge", "queued", entry.id),
        ("statuspage", "acknowledge", "queued", entry.id),
    ]
    assert store.incident(incident.id).status is Status.IDENTIFIED
    assert store.updates_sent(incident.id) == (1, clock())
    raw = Path(store.path).read_bytes()
    assert b"hooksecret99" not in raw and b"sp-secret-value-xyz" not in raw


# ---- retry rules ---------------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered():
    assert backoff(1, 0.0) == 1.0 and backoff(1, 0.999) == pytest.approx(2.0, abs=0.01)
    assert backoff(3, 0.0) == 4.0
    assert backoff(30, 0.999) <= BACKOFF_CAP
    assert backoff(5000, 0.5) <= BACKOFF_CAP  # no overflow after a very long outage


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
    request = httpx.Request("GET", "http://x")
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"}, request=request), now) == 7
    date = (now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    got = retry_after(httpx.Response(429, headers={"Retry-After": date}, request=request), now)
    assert got == 90
    assert retry_after(httpx.Response(429, request=request), now) is None
    assert (
        retry_after(httpx.Response(429, headers={"Retry-After": "soon"}, request=request), now)
        is None
    )


def test_transport_errors_say_whether_the_request_may_have_landed():
    request = httpx.Request("POST", "http://x")
    refused = transport_outcome(
        httpx.ConnectError("[Errno 111] Connection refused", request=request), 5
    )
    assert isinstance(refused, Retry) and not refused.maybe_landed
    timed_out = transport_outcome(httpx.ReadTimeout("timed out", request=request), 5)
    assert timed_out.maybe_landed and "no answer within 5 s" in timed_out.reason
    dropped = transport_outcome(
        httpx.RemoteProtocolError("Server disconnected", request=request), 5
    )
    assert dropped.maybe_landed
    assert not isinstance(refused, Permanent)


def test_a_reaped_process_is_gone_a_live_one_is_not():
    import socket
    import subprocess
    import sys

    host = socket.gethostname()
    assert owner_alive(f"{host}:{os.getpid()}")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not owner_alive(f"{host}:{child.pid}")
    assert owner_alive(f"another-host:{child.pid}")  # cannot tell: trust the lease


def test_store_claim_is_compare_and_set(store, clock):
    incident = store.declare("x", "SEV-2", "alice")
    delivery_id = store.enqueue(incident.id, "slack", "update", {"key": "k"})
    until = clock() + timedelta(minutes=5)
    first = store.claim_delivery(
        delivery_id, state="queued", attempts=0, lease_until=until, payload={}
    )
    assert first is not None and first.state == "sending" and first.attempts == 1
    again = store.claim_delivery(
        delivery_id, state="queued", attempts=0, lease_until=until, payload={}
    )
    assert again is None


def test_publishing_imports_neither_httpx_nor_textual():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys\n"
        "from cockpit.comms import outbox, publish, templates\n"
        "from cockpit.cli import update\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'textual'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_statuspage_impact_follows_severity_rank_for_a_custom_taxonomy(store, clock):
    config = config_from_dict(
        {
            "severity": [{"name": "P1"}, {"name": "P2"}, {"name": "P3"}, {"name": "P4"}],
            "declare": {"default_severity": "P2"},
            "statuspage": {
                "page_id": "abc123",
                "api_key_env": "KEY",
                "component_ids": ["c1"],
                "impact": {"P2": "critical"},
            },
        }
    )
    impacts = {}
    for name in ("P1", "P2", "P3", "P4"):
        incident = store.declare(f"{name} down", name, "alice")
        publish(store, config, incident.id, "x", None, "alice", clock)
        (delivery,) = store.deliveries(incident.id)
        impacts[name] = (delivery.payload["impact_override"], delivery.payload["components"])
    assert impacts == {
        "P1": ("critical", {"c1": "major_outage"}),
        "P2": ("critical", {"c1": "partial_outage"}),  # configured
        "P3": ("minor", {"c1": "degraded_performance"}),
        "P4": ("none", {}),
    }


FIELDS = {"service": "checkout", "id": "INC-7", "summary": ""}


@pytest.mark.parametrize(
    ("template", "summary", "expected"),
    [
        # No {summary}: the message follows as its own paragraph.
        ("Aware of {service}.", "Cards fail.", "Aware of checkout.\n\nCards fail."),
        ("Aware of {service}.", "  \n ", "Aware of checkout."),  # nothing typed: nothing added
        ("{{summary}} is literal", "Cards fail.", "{summary} is literal\n\nCards fail."),
        ("{id}", "line 1\nline 2", "INC-7\n\nline 1\nline 2"),
        ("", "Cards fail.", "Cards fail."),  # a template that says nothing
        # {summary}: filled as typed, spacing, braces and line breaks included.
        ("A {summary} B", "x  y\n\tz {service}", "A x  y\n\tz {service} B"),
        ("{summary} / {summary}", "twice", "twice / twice"),
        ("Aware.  {summary}  Next.", "", "Aware. Next."),  # blank runs still collapse
    ],
)
def test_the_message_reaches_the_update_whatever_the_template(template, summary, expected):
    assert render_template(template, {**FIELDS, "summary": summary}) == expected


@pytest.mark.parametrize("text", ["", "  \n\t", "\x1b[2J\x07", "\u202e\u2066", "\x1b]0;title\x07"])
def test_publishing_text_nobody_could_read_is_refused(store, clock, text):
    """The composer and `cockpit update` both publish through here."""
    config = config_from_dict({})
    incident = store.declare("Checkout errors", "SEV-2", "alice")
    with pytest.raises(StoreError, match="a status update needs some text"):
        publish(store, config, incident.id, text, None, "alice", clock)
    assert store.updates_sent(incident.id) == (0, None)
