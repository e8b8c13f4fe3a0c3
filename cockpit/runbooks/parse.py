"""Reading a runbook file: its front matter, its title, and the steps of its body (the
top-level numbered items under a heading, with the commands they hold), read from
markdown-it-py's CommonMark token stream."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.domain import one_line, strip_control
from cockpit.files import read_limited
from cockpit.runbooks.front_matter import check_front_matter, split_front_matter
from cockpit.runbooks.model import MAX_BYTES, Runbook, RunbookError, Step

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

TITLE_MAX = 60


def parse_runbook(text: str, path: Path) -> Runbook:
    """Parse runbook text; raises RunbookError naming `path` and what is wrong."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = strip_control(text)  # the body reaches the terminal
    meta, body, body_offset = split_front_matter(text, path)
    fields = check_front_matter(meta, path)
    steps, first_heading = _scan_body(body, body_offset)
    title = fields.get("title") or first_heading or _title_from_name(path.stem)
    return Runbook(
        name=path.stem,
        path=path,
        title=title,
        body=body,
        steps=tuple(steps),
        trigger=fields.get("trigger", ""),
        severity=fields.get("severity"),
        update_every_minutes=fields.get("update_every_minutes"),
        escalate_after_minutes=fields.get("escalate_after_minutes"),
        escalate_to=fields.get("escalate_to", ""),
        tags=tuple(fields.get("tags", ())),
        body_offset=body_offset,
    )


def read_runbook(path: Path) -> Runbook:
    """Read and parse one file; every failure (unreadable, not UTF-8, malformed) is RunbookError.

    Only a regular file of at most `MAX_BYTES` is read: a FIFO, a device (a symlink to
    /dev/zero) or a huge file is an error, never a hang.
    """
    try:
        raw = read_limited(path, MAX_BYTES, "a runbook")
    except FileNotFoundError:
        raise RunbookError(path, "no such file") from None
    except OSError as exc:  # a FIFO, a device, a directory, too large, unreadable
        raise RunbookError(path, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RunbookError(path, "not UTF-8 text; save the file as UTF-8") from None
    return parse_runbook(text, path)


def _title_from_name(stem: str) -> str:
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


# ---- the body: headings and top-level numbered items -------------------------------------------

_OUTPUT_INFO = {"text", "output", "log", "plaintext", "txt"}
"""Fence info strings that mark a block as output to compare against, not a command."""
_MARKER = re.compile(r" {0,3}\d{1,9}[.)]([ \t]*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s|:\s|\s[—–]\s")


@cache
def _markdown() -> MarkdownIt:
    """A CommonMark block parser; inline content is parsed only where a step needs it."""
    # Deferred: markdown-it-py is imported with the first runbook, not at start-up.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable("inline")


def _inline(token: Token, env: dict[str, Any]) -> list[Token]:
    """The inline tokens of an `inline` block token, parsed on first use. Backslash escapes
    and entities stay `text_special` tokens (no `text_join`): a `\\.` ends no sentence."""
    if token.children or not token.content:
        return token.children or []
    md = _markdown()
    token.children = md.inline.parse(token.content, md, env, [])
    return token.children


def _scan_body(body: str, offset: int) -> tuple[list[Step], str]:
    """Steps and the first heading's text: every item of an ordered list at the top level
    (not in a quote or another list) under a heading is a step."""
    env: dict[str, Any] = {}
    tokens = _markdown().parse(body, env)
    lines = body.split("\n")
    steps: list[Step] = []
    first_heading = ""
    section: str | None = None  # None before the first heading: items there are not steps
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open" and token.level == 0:
            section = _plain(_inline(tokens[index + 1], env))
            first_heading = first_heading or section
        elif token.type == "list_item_open" and token.level == 1:
            end = _closing(tokens, index)
            if section is not None and token.markup in (".", ")"):  # an ordered list's item
                item = tokens[index + 1 : end]
                steps.append(_make_step(len(steps) + 1, token, item, lines, section, offset, env))
            index = end
        index += 1
    return steps, first_heading


def _closing(tokens: Sequence[Token], start: int) -> int:
    """The index of the token that closes the one at `start` (same level, nesting -1)."""
    level = tokens[start].level
    for index in range(start + 1, len(tokens)):
        if tokens[index].level == level and tokens[index].nesting == -1:
            return index
    return len(tokens) - 1


def _make_step(
    number: int,
    opening: Token,
    item: Sequence[Token],
    lines: Sequence[str],
    section: str,
    offset: int,
    env: dict[str, Any],
) -> Step:
    assert opening.map is not None  # block tokens always carry their lines
    first, end = opening.map
    text = _item_text(lines[first:end])
    commands: list[str] = []
    title_tokens: list[Token] = []
    for token in item:
        if token.type == "inline" and (not title_tokens or "`" in token.content):
            children = _inline(token, env)  # only text with a backtick can hold a command
            title_tokens = title_tokens or children
            commands += [code.content.strip() for code in _code_spans(children)]
        elif token.type == "fence" and _first_word(token.info) not in _OUTPUT_INFO:
            commands.append(token.content.strip())
    return Step(
        number=number,
        title=_title(title_tokens) or f"Step {number}",
        text=text,
        commands=tuple(dict.fromkeys(_strip_prompt(c) for c in commands if c)),
        section=section,
        line=offset + first + 1,
    )


def _item_text(lines: Sequence[str]) -> str:
    """An item's Markdown, its marker removed and its lines dedented by the item's content
    indent (lazy continuation lines, indented less, are kept as they are)."""
    marker = _MARKER.match(lines[0])
    assert marker is not None  # a top-level ordered item's first line starts with its marker
    spaces = marker.group(1)
    # CommonMark: 1-4 spaces after the marker belong to it; 5 or more (or none, before a
    # blank) mean one, the rest is the content's own (an indented code block).
    width = marker.end() - len(spaces) + (len(spaces) if 1 <= len(spaces) <= 4 else 1)
    head = lines[0][marker.end() :]
    rest = [line[width:] if not line[:width].strip() else line for line in lines[1:]]
    return "\n".join([head, *rest]).strip("\n")


def _code_spans(children: Sequence[Token]) -> Iterator[Token]:
    """The code spans among inline tokens, an image's description included."""
    for token in children:
        if token.type == "code_inline":
            yield token
        elif token.children:
            yield from _code_spans(token.children)


def _first_word(info: str) -> str:
    return info.strip().split(" ")[0].lower()


def _strip_prompt(command: str) -> str:
    # A copied "$ kubectl ..." fails in a shell; the prompt is documentation, not command.
    if "\n" not in command and command.startswith("$ "):
        return command[2:].strip()
    return command


def _plain(children: Sequence[Token]) -> str:
    """Inline tokens as plain one-line text (for titles and step labels)."""
    return one_line("".join(_plain_parts(children))).strip()


def _plain_parts(children: Sequence[Token]) -> Iterator[str]:
    for token in children:
        if token.type in ("softbreak", "hardbreak"):
            yield " "
        elif token.type == "image":
            yield from _plain_parts(token.children or ())
        else:  # text, escapes and entities, code spans, raw HTML; markup tokens are empty
            yield token.content


def step_title(markdown: str) -> str:
    """A short label for a step: its bold lead-in, else its first line up to the first
    command-like code span or sentence end ("Check error distribution in logs: `…`" ->
    "Check error distribution in logs")."""
    env: dict[str, Any] = {}
    tokens = _markdown().parse(markdown.strip(), env)
    first = next((t for t in tokens if t.type == "inline"), None)
    return _title(_inline(first, env) if first is not None else [])


def _title(children: Sequence[Token]) -> str:
    line: list[Token] = []
    for token in children:  # the first line: a code span that goes on stays whole
        if token.type in ("softbreak", "hardbreak"):
            break
        if token.type != "text" or token.content:
            line.append(token)
    if line and line[0].type == "strong_open":
        title = _plain(line[1 : _closing(line, 0)])
    else:
        title = _first_sentence(line) or _plain(line)
    title = title.rstrip(" .:;,—–-").strip()
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    return title


def _first_sentence(line: Sequence[Token]) -> str:
    """The plain text up to the first command (a code span with a space in it: `api` stays
    in) or the end of the first sentence, which only plain text can mark (not `\\.`)."""
    parts: list[str] = []
    for token in line:
        if token.type == "code_inline" and " " in token.content.strip():
            break
        if token.type == "text" and (end := _SENTENCE_END.search(token.content)):
            parts.append(token.content[: end.start()])
            break
        parts.extend(_plain_parts([token]))
    return one_line("".join(parts)).strip()
