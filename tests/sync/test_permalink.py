"""`cockpit join PERMALINK`: the thread from a Slack message link, or a one-line reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.sync.permalink import ThreadRef, parse_permalink
from tests.sync import FUZZ
from tests.sync.strategies import ANY_CHAR

ROOT = ThreadRef("C0123INC", "1732849200.123456")


@pytest.mark.parametrize(
    "link",
    [
        "https://acme.slack.com/archives/C0123INC/p1732849200123456",
        "  https://acme.slack.com/archives/C0123INC/p1732849200123456\n",
        "<https://acme.slack.com/archives/C0123INC/p1732849200123456>",  # pasted from Slack
        "https://acme.slack.com/archives/C0123INC/p1732849200123456/",
        "https://ACME.Slack.com/archives/C0123INC/p1732849200123456",
        "https://acme-corp.enterprise.slack.com/archives/C0123INC/p1732849200123456",
        "https://acme.slack.com/archives/C0123INC/p1732849200123456?cid=C0123INC",
        "https://acme.slack.com/archives/C0123INC/p1732849200123456#fragment",
        # a reply's link: the root is the thread_ts
        "https://acme.slack.com/archives/C0123INC/p1732849260000200"
        "?thread_ts=1732849200.123456&cid=C0123INC",
    ],
)
def test_a_message_link_names_the_thread(link):
    assert parse_permalink(link) == ROOT


def test_a_private_channel_link():
    got = parse_permalink("https://acme.slack.com/archives/G01ABCDEF/p1732849200123456")
    assert got == ThreadRef("G01ABCDEF", "1732849200.123456")


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("", "not a Slack message link"),
        ("INC-7", "not a Slack message link"),
        ("http://acme.slack.com/archives/C0123INC/p1732849200123456", "not a Slack message"),
        ("https://slack.com/archives/C0123INC/p1732849200123456", "not a Slack message link"),
        ("https://acme.slack.com.evil.io/archives/C0123INC/p1732849200123456", "not a Slack"),
        ("https://evilslack.com/archives/C0123INC/p1732849200123456", "not a Slack message"),
        ("https://acme.slack.com/archives/C0123INC", "not a link to a Slack message"),
        ("https://acme.slack.com/client/T01/C0123INC/thread/C0123INC-1732849200.123456",
         "not a link to a Slack message"),
        ("https://acme.slack.com/archives/D0123DM/p1732849200123456", "not a channel id"),
        ("https://acme.slack.com/archives/c0123inc/p1732849200123456", "not a channel id"),
        ("https://acme.slack.com/archives/C0123INC/p173284920012345", "p and 16 digits"),
        ("https://acme.slack.com/archives/C0123INC/1732849200123456", "p and 16 digits"),
        ("https://acme.slack.com/archives/C0123INC/p١٧٣٢٨٤٩٢٠٠١٢٣٤٥٦", "p and 16 digits"),
        ("https://acme.slack.com/archives/C0123INC/p1732849200123456?thread_ts=yesterday",
         "thread_ts"),
        ("https://acme.slack.com/archives/C0123INC/p1732849200123456"
         "?thread_ts=1.000001&thread_ts=2.000002", "thread_ts"),
        ("https://acme.slack.com/archives/C0123INC/p1732849200123456?cid=C0OTHER",
         "two different channels"),
        ("https://[::1/archives/C0123INC/p1732849200123456", "not a Slack message link"),
    ],
)  # fmt: skip
def test_a_malformed_link_is_refused_in_one_line(link, reason):
    with pytest.raises(ValueError, match=reason) as caught:
        parse_permalink(link)
    assert "\n" not in str(caught.value)


@settings(max_examples=int(100 * FUZZ), deadline=None)
@given(
    st.text(ANY_CHAR, max_size=80)
    | st.builds(
        lambda host, channel, digits, query: f"https://{host}/archives/{channel}/p{digits}{query}",
        st.sampled_from(["acme.slack.com", "a.b.slack.com", "slack.com", "x.slack.co"]),
        st.text("CGDc0123456789ABZ", max_size=12),
        st.text("0123456789", max_size=18),
        st.text(ANY_CHAR, max_size=20),
    )
)
def test_any_text_parses_or_raises_value_error_in_one_line(link):
    try:
        got = parse_permalink(link)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert got.channel[0] in "CG" and len(got.root_ts) == 17
