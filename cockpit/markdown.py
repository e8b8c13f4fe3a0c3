"""Typed text as GitHub-flavoured Markdown that reads exactly as it was typed.

One dialect for every document cockpit writes (the post-mortem export, runbook drafts):

- Terminal escape sequences and other C0/C1 control characters are dropped; bidirectional
  controls (which reorder what a reader sees) are shown as text, `\\u202E`; tabs are
  expanded; line endings become `\\n`.
- Every character that could start Markdown syntax is escaped, so `|`, `#`, `*`, HTML and
  backticks show as typed and cannot break a table or the document.
- Web addresses are links whose text and target are exactly what was typed: wherever
  GitHub's autolinker would see `http://`, `https://`, `ftp://` or `www.` (with its rules
  for trailing punctuation), an explicit `[text](<target>)` link is written instead, so no
  escape lands inside an address and a `|` in one cannot split a table cell.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterator, Sequence
from urllib.parse import quote

# ---- cleaning ----------------------------------------------------------------------------------

_TERMINAL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI sequences, 7- and 8-bit (colours, cursor moves)
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)"  # OSC sequences (titles, links)
    r"|\x1b[ -/]*[0-~]?"  # any other escape sequence, or a lone ESC
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # other C0/C1 controls (tab and newline are kept)
)
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Bidirectional marks, embeddings, overrides and isolates: shown, never applied."""
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_TO_CLEAN = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029{BIDI_CONTROLS}]")
TAB_SIZE = 4


def clean(text: str) -> str:
    """Text as a document shows it: line breaks as `\\n`, tabs expanded, terminal escape
    sequences and control characters dropped, bidirectional controls as `\\u202E` text."""
    if text.isprintable() or not _TO_CLEAN.search(text):  # the common cases: nothing to do
        return text
    text = _LINE_BREAKS.sub("\n", text)
    text = _TERMINAL.sub("", text)
    text = _BIDI.sub(lambda m: f"\\u{ord(m.group()):04X}", text)
    if "\t" in text:
        text = "\n".join(line.expandtabs(TAB_SIZE) for line in text.split("\n"))
    return text


def trim_lines(text: str) -> list[str]:
    """The lines of cleaned `text`, without blank lines at either end (blank inner lines
    are kept: they separate what was typed)."""
    lines = text.split("\n")
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


# ---- web addresses -------------------------------------------------------------------------------

# Where GitHub's autolinker starts a link: a scheme not glued to letters before it, or `www.`
# at the start, after white space or after `*`, `_`, `~` or `(`.
_LINK_START = re.compile(r"(?<![A-Za-z])(?i:https?|ftp)://|(?<![^\s*_~(])www\.")
_LINK_REST = re.compile(r"[^\s<>]*")
_TRAILING = frozenset("?!.,:*_~'\"")
_ENTITY_AT_END = re.compile(r"&[A-Za-z]+;$")


def _host_char(char: str) -> bool:
    """A character that can start a host name (GitHub: not space, not punctuation)."""
    if char.isspace():
        return False
    if char.isascii():
        return char not in string.punctuation
    return not unicodedata.category(char).startswith("P")


def _trim_link(url: str) -> str:
    """GitHub's rules for where a link ends: trailing punctuation and quotes are not part
    of it, nor an entity reference, nor a `)` that closes nothing inside the address."""
    surplus = url.count(")") - url.count("(")
    while url:
        last = url[-1]
        if last == ")":
            if surplus <= 0:
                break
            surplus -= 1
            url = url[:-1]
        elif last in _TRAILING:
            url = url[:-1]
        elif last == ";":
            entity = _ENTITY_AT_END.search(url)
            url = url[: entity.start()] if entity else url[:-1]
        else:
            break
    return url


def web_addresses(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, target) of every web address in one line of `text`, where GitHub's
    autolinker would find it and as far as it would take it (`www.` gets `http://`)."""
    pos = 0
    while (match := _LINK_START.search(text, pos)) is not None:
        start, after = match.span()
        www = match.group() == "www."
        if not www and (after == len(text) or not _host_char(text[after])):
            pos = after  # `https://` alone, or followed by punctuation: not a link
            continue
        rest = _LINK_REST.match(text, after)
        url = _trim_link(text[start : rest.end() if rest else after])
        yield start, start + len(url), ("http://" + url if www else url)
        pos = start + len(url)


# ---- escaping ------------------------------------------------------------------------------------

# Every character that can start inline syntax in GitHub-flavoured Markdown: code, emphasis,
# links, HTML, entities, table cells, strikethrough, headings and GitHub's `$` maths.
_INLINE_SPECIAL = "\\`*_[]<>&|~#$"
_ESCAPES = str.maketrans({char: "\\" + char for char in _INLINE_SPECIAL})
_NEEDS_ESCAPE = re.compile(f"[{re.escape(_INLINE_SPECIAL)}]")
# In a link target: `&` must not start an entity (entities are decoded there, backslash or
# not, so `&` is written `&amp;`), `|` must not end a table cell, a backslash or backtick must
# not escape or quote; cmark percent-encodes those three the same way.
_TARGET = str.maketrans({"&": "&amp;", "|": "%7C", "\\": "%5C", "`": "%60"})
_LINE_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")
_CODE_RUN = re.compile(r"`+")


def _escape_text(text: str) -> str:
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _might_link(text: str) -> bool:
    return "://" in text or "www." in text


def _link(text: str, target: str) -> str:
    """A link showing `text` (escaped) to a web address found by `web_addresses`."""
    return f"[{_escape_text(text)}](<{target.translate(_TARGET)}>)"


def _escape_linked(text: str) -> str:
    """Escaped text with its web addresses as links."""
    if not _might_link(text):
        return _escape_text(text)
    out: list[str] = []
    pos = 0
    for start, end, target in web_addresses(text):
        before = _escape_text(text[pos:start])
        if before.endswith("!"):  # `![` would make the link an image
            before = before[:-1] + "\\!"
        out += [before, _link(text[start:end], target)]
        pos = end
    out.append(_escape_text(text[pos:]))
    return "".join(out)


def _code_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each code span in one line: a backtick run closed by the next run of
    the same length (CommonMark); unmatched runs are not spans."""
    runs = list(_CODE_RUN.finditer(text))
    index = 0
    while index < len(runs):
        opening = runs[index]
        size = len(opening.group())
        for later in range(index + 1, len(runs)):
            if len(runs[later].group()) == size:
                yield opening.start(), runs[later].end()
                index = later
                break
        index += 1


def md_escape(text: str, *, code: bool = False) -> str:
    """One line of typed text as literal inline Markdown, web addresses as links.

    With `code`, code spans typed in backticks stay code spans (runbook drafts keep the
    commands people typed); everything else is escaped.
    """
    if not code or "`" not in text:
        return _escape_linked(text)
    out: list[str] = []
    pos = 0
    for start, end in _code_spans(text):
        out += [_escape_linked(text[pos:start]), text[start:end]]
        pos = end
    out.append(_escape_linked(text[pos:]))
    return "".join(out)


def _longest_code_run(text: str) -> int:
    return max((len(run) for run in _CODE_RUN.findall(text)), default=0)


def md_code_span(text: str) -> str:
    """One non-empty line of text as a code span shown exactly: its backticks longer than any
    run inside, padded where a backtick or CommonMark's space stripping would eat an end."""
    ticks = "`" * (_longest_code_run(text) + 1)
    spaced = text.startswith(" ") and text.endswith(" ") and bool(text.strip(" "))
    pad = " " if spaced or text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_code_block(lines: Sequence[str], info: str = "") -> list[str]:
    """Lines as a fenced code block shown exactly: the fence longer than any backtick run
    inside, so no line can close it."""
    fence = "`" * max(3, _longest_code_run("\n".join(lines)) + 1)
    return [f"{fence}{info}", *lines, fence]


def md_line(text: str, *, code: bool = False) -> str:
    """One line of typed text, safe at the start of a block too (no list, heading or rule)."""
    line = md_escape(clean(text).strip(), code=code)
    return _LINE_START.sub(_escape_line_start, line)


def _escape_line_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


def md_cell(text: str) -> str:
    """Typed text for a table cell: pipes escaped, line breaks as `<br>`."""
    if text.isprintable():  # fast path: one line, nothing to clean (exports can be huge)
        text = text.strip()
        if _might_link(text):
            return _escape_linked(text)
        return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text
    lines = trim_lines(clean(text))
    return "<br>".join(_escape_linked(line.strip()) for line in lines)


def md_heading(text: str) -> str:
    """Typed text inside a heading: one line."""
    return md_escape(" ".join(clean(text).split()))


def md_paragraphs(text: str) -> str:
    """Free text as paragraphs: blank lines separate them, single line breaks are kept."""
    paragraphs = re.split(r"\n[ \t]*\n", clean(text).strip())
    blocks = []
    for paragraph in paragraphs:
        lines = [md_line(line) for line in paragraph.split("\n") if line.strip()]
        if lines:
            blocks.append("\\\n".join(lines))  # a trailing backslash is a hard line break
    return "\n\n".join(blocks)


def md_items(text: str) -> list[str]:
    """One list item per non-empty line, a bullet typed by hand dropped."""
    items = []
    for line in clean(text).split("\n"):
        item = re.sub(r"^\s*[-*•]\s+", "", line).strip()
        if item:
            items.append(md_line(item))
    return items


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table; cells must already be escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def md_link(url: str, label: str) -> str:
    """A link to an http(s) URL; anything else is shown as text, never followed."""
    cleaned = clean(url).strip()
    if not re.match(r"^https?://[^\s]+$", cleaned, re.IGNORECASE):
        return md_cell(cleaned)
    target = quote(cleaned, safe=":/?#@!$&*+,;=%~-._")
    return f"[{_escape_text(label)}]({target})"
