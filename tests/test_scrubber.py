"""The scrubber on generated secret shapes, in every encoding cockpit sends a credential in.

A generated secret (any characters: `%`, `+`, `/`, `=`, quotes, backslashes, accents, emoji,
very short ones) is either refused as a credential (`credential_problem`: shorter than 8
characters, spaces or control characters; in a header, anything but visible ASCII) or is
masked in every form: sent in a header (`Bearer …`, `OAuth …`), in a JSON body, as the password
of a URL (percent-encoded there, base64 inside Basic auth), then echoed by a service as it is,
in base64, percent-encoded or JSON-escaped, whole or cut short, between ordinary text. The
ordinary text around it survives intact. `COCKPIT_FUZZ=N` multiplies the examples.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from urllib.parse import quote

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from cockpit.comms.scrubber import Scrubber
from cockpit.comms.statuspage import Statuspage
from cockpit.config import StatuspageConfig
from cockpit.secrets import MASK, MIN_SECRET_LENGTH, credential_problem, url_secrets

FUZZ = int(os.environ.get("COCKPIT_FUZZ", "1"))
API_KEY = "sp-0123456789abcdef-SECRETKEY-fedcba9876543210"
ORDINARY = "αβγδεζηθικλμ ,.;!?()[]{}|⏎—"
"""Text around the secret, from characters no encoding of a secret uses: it must survive."""

SHAPES = st.one_of(
    st.text(alphabet="aZ09%+/=:@&?#~-._é€😀\\\"'<>", min_size=1, max_size=48),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.text(alphabet="abcdefABCDEF0123456789", min_size=1, max_size=40),
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# How cockpit sends a credential: (the text that goes out, the length of its start that
# does not depend on the secret). Each is then echoed as it is or re-encoded.
SENT: dict[str, Callable[[str], tuple[str, int]]] = {
    "bearer header": lambda s: (f"Bearer {s}", len("Bearer ")),
    "oauth header": lambda s: (f"OAuth {s}", len("OAuth ")),
    "json body": lambda s: (json.dumps({"routing_key": s}), len('{"routing_key": "')),
    "url password": lambda s: (f"http://ops:{quote(s, safe='')}@h/x", len("http://ops:")),
    "basic auth": lambda s: ("Basic " + b64(f"ops:{s}"), len("Basic ") + len("ops") * 8 // 6),
    "query": lambda s: (f"/x?token={quote(s, safe='')}", len("/x?token=")),
}
ECHOED: dict[str, Callable[[str], str]] = {
    "as it is": lambda t: t,
    "base64": b64,
    "percent": lambda t: quote(t, safe=""),
    "json": json.dumps,
}


def known_length(echo: str, sent: str, known: int) -> int:
    """How much of the echoed text is fixed by the secret-free start of what was sent."""
    start = sent[:known]
    if echo == "base64":
        return len(start.encode()) * 8 // 6
    return len(ECHOED[echo](start).rstrip('"'))


def windows(text: str, size: int) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def scrubber_for_secret(secret: str) -> Scrubber:
    """What a target holding this secret masks: the secret, and the parts of a URL with it
    as the password (`user:pass` for Basic auth among them)."""
    return Scrubber([secret, *url_secrets(f"http://ops:{quote(secret, safe='')}@h/x")])


@settings(max_examples=300 * FUZZ, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=SHAPES,
    how=st.sampled_from(sorted(SENT)),
    echo=st.sampled_from(sorted(ECHOED)),
    left=st.text(alphabet=ORDINARY, max_size=30),
    right=st.text(alphabet=ORDINARY, max_size=30),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
)
@example(API_KEY, "bearer header", "as it is", "HTTP 401 ", " refused", None)
@example("p@ss/w0rd-é+=ÿ42%", "basic auth", "as it is", "", "", 19)
@example("bSt0kEn+Wz/9QpXk=Lm2Rv", "json body", "percent", "…", "", 30)
@example("0000000é", "json body", "json", "", "", None)  # JSON inside JSON: escaped twice
def test_a_generated_secret_is_refused_or_masked_in_every_encoding(
    secret, how, echo, left, right, cut
):
    assume(not set(secret) & set(ORDINARY))  # the text around it must not be part of it
    header = how.endswith("header")
    if credential_problem(secret, header=header) is not None:
        # Refused before it is ever sent: too short to mask, or unsendable as it is.
        assert len(secret) < MIN_SECRET_LENGTH or any(not ("!" <= ch <= "~") for ch in secret)
        return
    sent, known = SENT[how](secret)
    echoed = ECHOED[echo](sent)
    fixed = known_length(echo, sent, known)
    secret_part = echoed[fixed:]
    if cut is not None and cut < len(secret_part):
        echoed = echoed[: fixed + cut] + MASK  # an error line cut inside the secret
        visible = secret_part[:cut]
    else:
        visible = secret_part
    text = left + echoed + right
    out = scrubber_for_secret(secret).scrub(text)
    assert out.startswith(left) and out.endswith(right), (text, out)
    # Nothing of the secret's own characters survives: no 12 in a row anywhere, and (what
    # a cut leaves) no 9 in a row (one character may mix the secret with what preceded it).
    assert not any(piece in out for piece in windows(secret_part, 12)), (text, out)
    assert not any(piece in out for piece in windows(visible, 9)), (text, out)


@settings(max_examples=200 * FUZZ, deadline=None)
@given(
    secret=st.text(alphabet="aZ09%+/=:@&-._é€😀", min_size=8, max_size=40),
    text=st.text(alphabet=ORDINARY, max_size=200),
)
def test_ordinary_text_is_never_touched(secret, text):
    scrubber = scrubber_for_secret(secret)
    assert scrubber.scrub(text) == text
    assert scrubber.scrub(f"{text}{secret}{text}") == f"{text}{MASK}{text}"


@settings(max_examples=200 * FUZZ, deadline=None)
@given(secret=st.text(max_size=MIN_SECRET_LENGTH - 1), text=st.text(max_size=200))
def test_a_secret_shorter_than_the_minimum_is_refused_and_masks_nothing(secret, text):
    assert credential_problem(secret) is not None
    assert Scrubber([secret]).scrub(text + secret + text) == text + secret + text


def test_masking_a_word_would_erase_it_everywhere_which_is_why_short_ones_are_refused():
    # What the minimum protects: a 4-character password "test" masked in ordinary words.
    assert credential_problem("test") == (
        "is 4 characters, too short for a credential (at least 8)"
    )
    assert Scrubber(["test"]).scrub("the latest test run") == "the latest test run"


def test_redaction_hides_a_secret_cut_short_at_either_end():
    target = Statuspage(StatuspageConfig(page_id="pg", api_key=API_KEY))
    for size in range(8, len(API_KEY) + 1):
        for text in (f"HTTP 422 key {API_KEY[:size]}…", f"key {API_KEY[:size]}"):
            shown = target.redact(text)
            assert API_KEY[:8] not in shown and shown.startswith(text[:4]), shown
        tail = API_KEY[-size:]
        for text in (f"…{tail} refused", f"{tail} refused", f"key ...{tail} refused"):
            shown = target.redact(text)
            assert API_KEY[-8:] not in shown and shown.endswith(" refused"), shown
    assert target.redact(f"a {API_KEY}, asked to wait") == "a …, asked to wait"
    kept = f"{API_KEY[:7]} is too short to give anything away"
    assert target.redact(kept) == kept


def test_every_encoding_of_a_basic_auth_credential_inside_a_longer_base64_text():
    scrubber = scrubber_for_secret("p@ss/w0rd-é+=ÿ42%")
    for lead in ("", "x", "xy", "Authorization: Basic "):
        whole = b64(lead + "ops:p@ss/w0rd-é+=ÿ42%")
        out = scrubber.scrub(f"echo {whole} end")
        assert out.startswith("echo ") and out.endswith(" end")
        assert len(out) < len(f"echo {whole} end") - 12, out


def test_a_slack_webhook_url_is_masked_whole_and_its_key_in_pieces_but_not_its_host():
    from cockpit.secrets import secret_url_parts

    url = "https://hooks.slack.com/services/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"
    credentials, wholes = secret_url_parts(url)
    scrubber = Scrubber(credentials, wholes)
    assert scrubber.scrub(f"POST {url} failed") == "POST … failed"
    assert scrubber.scrub("POST /services/T0123ABCD/B0456EFG…") == "POST /services/…/…"
    assert scrubber.scrub("see https://hooks.slack.com/ for help") == (
        "see https://hooks.slack.com/ for help"
    )
    assert "Xq7vB2nL9pR4" not in scrubber.scrub("key Xq7vB2nL9pR4tW6yZ…")
