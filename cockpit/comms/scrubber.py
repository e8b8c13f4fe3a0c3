"""Masking credentials in text: every form cockpit sends one in, wherever it shows up.

A credential leaves cockpit in several encodings: as it is (a header, a JSON body), inside
Basic auth (`base64(user:pass)`), URL-encoded, JSON-escaped. A service that echoes the request
in its error may send any of them back, whole or cut short, and that error is kept (a
delivery's `last_error`, the timeline, hence the export) and shown. `Scrubber` is built from
the raw secrets (targets list theirs, `Target.secrets`) and masks, in any text:

- every encoding of every secret: as it is; percent-encoded (either hex case, `+` for space,
  the safe sets of the common encoders); JSON-escaped (ASCII or not, `\\/`, `\\u003c`);
  Python-escaped; HTML-escaped; each of those encoded once more (JSON inside a JSON error);
  and base64 of it and of its base64 (standard and URL-safe, at each of the three byte
  alignments, so it is found inside a longer base64 text such as a Basic auth header, and
  inside that header echoed base64-encoded);
- any 12 consecutive characters of a credential in any of those encodings;
- 8 or more leading characters of a credential that end the text or a cut (`…`, `...`), and 8
  or more trailing ones that start the text or follow a cut: an echo cut short inside it.

A URL that is itself a credential (a Slack incoming webhook) is masked whole; its pieces only
where they are credentials (user, password, query, key-like path segments), since the others
are a host name and ordinary words.

Nothing shorter than `MIN_SECRET_LENGTH` characters is masked on its own (`cockpit.secrets`
says why, and refuses such credentials before they are sent).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from cockpit.secrets import MASK, MIN_SECRET_LENGTH

PIECE = 12
"""Any run of this many characters of a credential is masked wherever it appears."""
_CUTS = ("…", "...")
_URL_SAFE_SETS = ("", "/", "/:@", ":/?#[]@!$&'()*+,;=%")


# ---- encodings ------------------------------------------------------------------------------


def encodings(secret: str) -> set[str]:
    """`secret` in every encoding cockpit sends it in or a service may echo it in (but base64,
    see `base64_forms`), and each of those encoded once more: a service echoing our JSON body
    inside its own JSON error, or percent-encoding it into a URL, encodes it twice."""
    once = _escaped(secret)
    forms = set(once)
    for form in once - {secret}:
        forms |= _escaped(form)
    return {form for form in forms if form}


def _escaped(secret: str) -> set[str]:
    forms = {secret, unquote(secret), unquote_plus(secret)}
    for safe in _URL_SAFE_SETS:
        forms.add(quote(secret, safe=safe))
        forms.add(quote_plus(secret, safe=safe))
    as_json = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms |= as_json
    forms |= {form.replace("/", "\\/") for form in as_json}
    forms |= {
        form.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        for form in as_json
    }
    forms |= {repr(secret)[1:-1], repr(secret.encode("utf-8", "replace"))[2:-1]}
    forms |= {html.escape(secret), html.escape(secret, quote=False)}
    forms |= {_lower_hex(form) for form in forms if "%" in form or "\\u" in form}
    return forms


def _lower_hex(text: str) -> str:
    return re.sub(r"(%[0-9A-F]{2}|\\u[0-9A-F]{4})", lambda m: m.group(0).lower(), text)


def base64_forms(secret: str) -> set[str]:
    """base64 of `secret`, whole and as found inside a longer base64 text at any alignment."""
    data = secret.encode("utf-8")
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(data).decode())
        for offset in range(3):
            text = encode(bytes(offset) + data).decode().rstrip("=")
            # Drop characters mixed with the unknown bytes before and after the secret.
            size = (offset + len(data)) * 8 // 6
            forms.add(text[(offset * 8 + 5) // 6 : size])
    return {form for form in forms if form}


# ---- masking --------------------------------------------------------------------------------


class Scrubber:
    """Masks every encoding of the secrets it was built with; `scrub` is safe on any text.

    `credentials` are masked whole, in pieces and cut short; `wholes` (a secret URL, whose
    pieces are a host name and ordinary words) whole and cut short only.
    """

    def __init__(self, credentials: Iterable[str], wholes: Iterable[str] = ()) -> None:
        pieced = _expand(credentials)
        forms = pieced | _expand(wholes)
        self.forms = sorted(forms, key=len, reverse=True)
        # A credential's form of 12 or more characters is covered by its pieces; only the
        # shorter ones and the whole-only texts need matching whole.
        whole = [f for f in self.forms if f not in pieced or len(f) < PIECE]
        self._whole = re.compile("|".join(map(re.escape, whole))) if whole else None
        self._pieces = {
            form[i : i + PIECE] for form in pieced for i in range(len(form) - PIECE + 1)
        }
        self._heads: dict[str, list[str]] = {}
        self._tails: dict[str, list[str]] = {}
        for form in pieced:  # a secret URL cut short shows its host: its keys are pieced
            self._heads.setdefault(form[:MIN_SECRET_LENGTH], []).append(form)
            self._tails.setdefault(form[-MIN_SECRET_LENGTH:], []).append(form)
        self._longest = max((len(form) for form in pieced), default=0)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def scrub(self, text: str) -> str:
        """`text` with every secret, whole, in pieces or cut short, replaced by `…`."""
        if not self.forms:
            return text
        # All rules mark the same text before anything is replaced: masking one form first
        # would break a longer one that holds it (a user inside a Basic header) into pieces
        # too short to find. A second round treats the new masks as cuts.
        for _ in range(8):
            hidden = [False] * len(text)
            for match in self._whole.finditer(text) if self._whole else ():
                hidden[match.start() : match.end()] = [True] * (match.end() - match.start())
            self._mark_pieces(text, hidden)
            self._mark_cuts(text, hidden)
            masked = _collapse(text, hidden)
            if masked == text:
                break
            text = masked
        return text

    def _mark_pieces(self, text: str, hidden: list[bool]) -> None:
        for start in range(len(text) - PIECE + 1):
            if text[start : start + PIECE] in self._pieces:
                hidden[start : start + PIECE] = [True] * PIECE

    def _mark_cuts(self, text: str, hidden: list[bool]) -> None:
        marks = [m.span() for cut in _CUTS for m in re.finditer(re.escape(cut), text)]
        for end in {len(text), *(start for start, _ in marks)}:  # a head cut off there
            for start in range(max(end - self._longest + 1, 0), end - MIN_SECRET_LENGTH + 1):
                heads = self._heads.get(text[start : start + MIN_SECRET_LENGTH])
                if heads and any(form.startswith(text[start:end]) for form in heads):
                    hidden[start:end] = [True] * (end - start)
                    break
        for start in {0, *(end for _, end in marks)}:  # a tail cut off there
            stop = min(start + self._longest - 1, len(text))
            for end in range(stop, start + MIN_SECRET_LENGTH - 1, -1):
                tails = self._tails.get(text[end - MIN_SECRET_LENGTH : end])
                if tails and any(form.endswith(text[start:end]) for form in tails):
                    hidden[start:end] = [True] * (end - start)
                    break


def _expand(secrets: Iterable[str]) -> set[str]:
    """Every encoding (base64 included) of every secret long enough to be masked."""
    forms: set[str] = set()
    for raw in secrets:
        if len(raw) < MIN_SECRET_LENGTH:
            continue
        forms |= encodings(raw)
        # base64 of it (of its JSON form: a body), and of its base64 (a Basic auth header,
        # itself base64, echoed base64-encoded).
        twice = base64.b64encode(raw.encode()).decode()
        for plain in {raw, json.dumps(raw)[1:-1], twice}:
            for coded in base64_forms(plain):
                forms |= encodings(coded)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def _collapse(text: str, hidden: list[bool]) -> str:
    """`text` with each run of hidden characters replaced by one mask (none beside a mask
    that is already there: a cut marker)."""
    if not any(hidden):
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        if not hidden[index]:
            out.append(text[index])
            index += 1
            continue
        end = index
        while end < len(text) and hidden[end]:
            end += 1
        if (not out or out[-1] != MASK) and text[end : end + 1] != MASK:
            out.append(MASK)
        index = end
    return "".join(out)


@functools.lru_cache(maxsize=16)
def scrubber(credentials: frozenset[str], wholes: frozenset[str] = frozenset()) -> Scrubber:
    """The scrubber for these secrets, built once (it expands every encoding of each)."""
    return Scrubber(credentials, wholes)
