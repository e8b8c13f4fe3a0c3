"""What counts as a credential, and where credentials hide in a URL.

Configuration validation and the targets share these rules: a credential must be long enough
to be masked wherever it is echoed (`MIN_SECRET_LENGTH`), and free of characters a cleaned
line would not show as they are; a URL may carry credentials (a user, a password, a query
token) or be one (a Slack incoming webhook). Masking them is `cockpit.comms.scrubber`'s job.

Nothing shorter than `MIN_SECRET_LENGTH` characters is masked on its own: masking a short
string would erase ordinary words from every error line. Cockpit refuses a credential that
short, and characters that could not be found again once a line is cleaned for the screen
(whitespace, control and format characters), before it is ever sent (`credential_problem`).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlsplit

MIN_SECRET_LENGTH = 8
"""Characters a credential must have: shorter ones cannot be masked without erasing words."""
MASK = "…"
_CREDENTIAL_NAME = re.compile(r"token|key|secret|pass|pwd|auth|sig|cred|code", re.IGNORECASE)


# ---- what counts as a credential ------------------------------------------------------------


def credential_problem(value: str, *, header: bool = False) -> str | None:
    """Why `value` cannot be a credential cockpit sends (None when it can): too short to be
    masked, or holding characters a cleaned line would not show as they are; for a value
    sent in an HTTP header (`header`), anything but visible ASCII."""
    if len(value) < MIN_SECRET_LENGTH:
        return (
            f"is {len(value)} characters, too short for a credential (at least {MIN_SECRET_LENGTH})"
        )
    if header and not all("!" <= ch <= "~" for ch in value):
        return "holds characters an HTTP header cannot carry (only visible ASCII, no spaces)"
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        return "holds spaces or control characters"
    return None


def url_problem(url: str) -> str | None:
    """Why the credentials inside `url` are unfit (see `credential_problem`), or None.

    A password in the URL (sent as Basic auth), a user name alone (a token as the user) and a
    query value whose name says it is a credential (`?token=…`) must each be long enough to
    be masked wherever the URL, or the service's echo of it, shows up."""
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in url):
        return "holds spaces or control characters"
    parts = urlsplit(url)
    try:
        user, password = parts.username, parts.password
    except ValueError:
        return "is not a valid URL"
    if password:
        problem = credential_problem(unquote(password))
        if problem:
            return f"its password {problem}"
    elif user:
        problem = credential_problem(unquote(user))
        if problem:
            return f"its user name (a credential without a password) {problem}"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _CREDENTIAL_NAME.search(name):
            problem = credential_problem(value)
            if problem:
                return f"its query parameter {name[:40]!r} {problem}"
    return None


def has_credentials(url: str) -> bool:
    """Whether `url` carries a credential (a user, a password or a query) besides where it
    points: a file holding it must be private, and it is masked like a secret."""
    parts = urlsplit(url)
    return "@" in parts.netloc or bool(parts.query)


def url_secrets(url: str) -> list[str]:
    """The credentials inside `url`: its user and password (and `user:pass`, which Basic auth
    encodes), its query and each query value."""
    parts = urlsplit(url)
    found: list[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        user, _, password = userinfo.partition(":")
        found += [userinfo, user, password, unquote(user), unquote(password)]
        found.append(f"{unquote(user)}:{unquote(password)}")
    if parts.query:
        found.append(parts.query)
        found += parts.query.split("&")
        found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    return [value for value in found if value]


def secret_url_parts(url: str) -> tuple[list[str], list[str]]:
    """For a URL that is itself a credential (a Slack incoming webhook): its credentials (as
    `url_secrets`, and the path segments that look like keys), and the texts that are secret
    only as a whole (the URL, its path: pieces of them are a host name and ordinary words)."""
    path = urlsplit(url).path
    segments = [segment for segment in path.split("/") if _looks_like_key(segment)]
    wholes = [value for value in (url, path, path.lstrip("/")) if value]
    return url_secrets(url) + segments, wholes


def _looks_like_key(segment: str) -> bool:
    """A path segment that is part of a credential (Slack's T…/B…/secret), not a word."""
    return len(segment) >= MIN_SECRET_LENGTH and (
        any(ch.isdigit() for ch in segment) or len(segment) >= 20
    )


def without_credentials(url: str) -> str:
    """`url` as it may be shown in an error: no query or fragment, and `…@` for everything
    before the host's `@` (a user and password), even in a URL that is malformed."""
    text = re.split(r"[?#]", url, maxsplit=1)[0]
    return re.sub(r"^([^:/?#]*://)?[^/]*@", lambda m: f"{m.group(1) or ''}{MASK}@", text)
