"""Reading a runbook file: its front matter, its title, and the steps of its body (the
top-level numbered items under a heading, with the commands they hold)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.domain import one_line, strip_control
from cockpit.files import read_limited
from cockpit.runbooks.front_matter import check_front_matter, split_front_matter
from cockpit.runbooks.model import MAX_BYTES, Runbook, RunbookError, Step

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

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
_ORDERED = re.compile(r"^( {0,3})(\d{1,9})([.)])(?:([ \t]+)(.*))?$")
_BULLET = re.compile(r"^( {0,3})([-+*])(?:([ \t]+)(.*))?$")
_THEMATIC = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_BLOCK_START = re.compile(
    r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|>|`{3,}|~{3,}|[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$))"
)
_OUTPUT_INFO = {"text", "output", "log", "plaintext", "txt"}


@dataclass
class _Item:
    ordered: bool
    indent: int  # columns a continuation line needs to belong to the item
    line: int
    section: str | None  # None before the first heading: such items are not steps
    lines: list[str] = field(default_factory=list)
    last_paragraph: bool = False  # the last line was paragraph text (lazy lines may follow)
    fence: tuple[str, int] | None = None  # an open fence inside the item: (char, length)


def _scan_body(body: str, offset: int) -> tuple[list[Step], str]:
    """Steps and the first heading's text, with a line scanner close enough to CommonMark."""
    lines = body.split("\n")
    steps: list[Step] = []
    first_heading = ""
    section: str | None = None
    fence: tuple[str, int] | None = None
    item: _Item | None = None
    paragraph = False  # the previous line was paragraph text (for setext headings)
    quote = False  # inside a block quote

    def close() -> None:
        nonlocal item
        if item is not None and item.ordered and item.section is not None:
            steps.append(_make_step(len(steps) + 1, item))
        item = None

    for index, line in enumerate(lines):
        number = offset + index + 1
        if fence is not None:  # inside a top-level fenced block: nothing counts
            if _closes_fence(line, fence):
                fence = None
            continue
        if item is not None and _continues(item, line):
            item.lines.append(line)
            continue
        close()
        if not line.strip():
            paragraph = quote = False
            continue
        if re.match(r"^ {0,3}>", line):
            quote, paragraph = True, False  # a quote is its own block; its lists are not steps
            continue
        if quote and not _BLOCK_START.match(line) and not _THEMATIC.match(line):
            continue  # lazy continuation of the quote's paragraph
        quote = False
        if not paragraph and len(line) - len(line.lstrip(" ")) >= 4:
            continue  # an indented code block
        heading = _ATX.match(line)
        setext = _SETEXT.match(line)
        if heading:
            section = _plain(heading.group(2) or "")
            first_heading = first_heading or section
            paragraph = False
            continue
        if setext and paragraph:
            section = _plain(lines[index - 1])
            first_heading = first_heading or section
            paragraph = False
            continue
        opened = _FENCE.match(line)
        if opened and len(opened.group(1)) <= 3 and not _bad_backtick_info(opened):
            fence = (opened.group(2)[0], len(opened.group(2)))
            paragraph = False
            continue
        ordered = _ORDERED.match(line)
        # Only a non-empty item numbered 1 may interrupt a paragraph (CommonMark).
        if ordered and not (paragraph and (int(ordered.group(2)) != 1 or not ordered.group(5))):
            spaces = ordered.group(4) or " "
            width = len(ordered.group(1)) + len(ordered.group(2)) + 1
            indent = width + (len(spaces) if len(spaces) <= 4 else 1)
            item = _Item(True, indent, number, section, [ordered.group(5) or ""])
            item.last_paragraph = _is_paragraph_text(ordered.group(5) or "")
            paragraph = False
            continue
        bullet = _BULLET.match(line)
        if bullet and not _THEMATIC.match(line) and not (paragraph and not bullet.group(4)):
            spaces = bullet.group(3) or " "
            indent = len(bullet.group(1)) + 1 + (len(spaces) if len(spaces) <= 4 else 1)
            item = _Item(False, indent, number, section, [bullet.group(4) or ""])
            item.last_paragraph = _is_paragraph_text(bullet.group(4) or "")
            paragraph = False
            continue
        paragraph = not _THEMATIC.match(line)
    close()
    return steps, first_heading


def _continues(item: _Item, line: str) -> bool:
    """Whether `line` still belongs to the open list item (and track fences inside it)."""
    indent = len(line) - len(line.lstrip(" "))
    if item.fence is not None:
        if line.strip() and indent < item.indent:
            return False  # the item ends, and the fence inside it with it
        if _closes_fence(line, item.fence, item.indent):
            item.fence = None
        return True
    if not line.strip():
        item.last_paragraph = False
        return item.lines != [""]  # an item that starts empty ends at a blank line
    if indent >= item.indent:
        content = line[item.indent :]
        item.last_paragraph = _is_paragraph_text(content)
        opened = _FENCE.match(line)
        if opened and not _bad_backtick_info(opened):
            item.fence = (opened.group(2)[0], len(opened.group(2)))
        return True
    # A lazy continuation line: paragraph text right after paragraph text. Measured from the
    # item's content, a shallower line that starts a block (even 4+ spaces in) ends the
    # paragraph; any list marker does (the "must be 1." rule applies only at the top level).
    content = line.lstrip(" ")
    return item.last_paragraph and not _BLOCK_START.match(content) and not _THEMATIC.match(content)


def _is_paragraph_text(content: str) -> bool:
    """Whether a line's content ends in paragraph text (a nested item's text counts)."""
    while marker := re.match(r"^ {0,3}(?:\d{1,9}[.)]|[-+*])[ \t]+(?=\S)", content):
        if _THEMATIC.match(content):
            return False
        content = content[marker.end() :]
    if not content.strip() or _THEMATIC.match(content) or _ATX.match(content):
        return False
    if len(content) - len(content.lstrip(" ")) >= 4:
        return False  # indented code
    return not re.match(r"^ {0,3}(?:>|`{3,}|~{3,}|\d{1,9}[.)](?:\s|$)|[-+*](?:\s|$))", content)


def _closes_fence(line: str, fence: tuple[str, int], base: int = 0) -> bool:
    """Whether `line` closes the fence; `base` is the indent of the container (a list item)."""
    stripped = line.strip()
    if len(line) - len(line.lstrip(" ")) - base > 3:
        return False
    char, length = fence
    return len(stripped) >= length and set(stripped) == {char}


def _bad_backtick_info(match: re.Match[str]) -> bool:
    # A backtick fence's info string may not contain backticks (then it is a code span).
    return match.group(2)[0] == "`" and "`" in match.group(3)


def _make_step(number: int, item: _Item) -> Step:
    text = _dedent_item(item)
    commands: list[str] = []
    prose: list[str] = []
    fence: tuple[str, int] | None = None
    block: list[str] = []
    keep = True
    for line in text.split("\n"):
        if fence is not None:
            if _closes_fence(line, fence):
                command = "\n".join(block).strip()
                if keep and command:
                    commands.append(_strip_prompt(command))
                fence, block = None, []
            else:
                block.append(line)
            continue
        opened = _FENCE.match(line.lstrip(" "))
        if opened and not _bad_backtick_info(opened):
            fence = (opened.group(2)[0], len(opened.group(2)))
            keep = opened.group(3).strip().split(" ")[0].lower() not in _OUTPUT_INFO
            commands.extend(_code_spans("\n".join(prose)))
            prose = []
            continue
        prose.append(line)
    commands.extend(_code_spans("\n".join(prose)))
    # Spans inside the prose before a fence were added first; keep document order stable.
    return Step(
        number=number,
        title=step_title(text) or f"Step {number}",
        text=text,
        commands=tuple(dict.fromkeys(c for c in commands if c)),
        section=item.section or "",
        line=item.line,
    )


def _dedent_item(item: _Item) -> str:
    first, *rest = item.lines
    body = [line[item.indent :] if line[: item.indent].strip() == "" else line for line in rest]
    return "\n".join([first, *body]).strip("\n")


def _strip_prompt(command: str) -> str:
    # A copied "$ kubectl ..." fails in a shell; the prompt is documentation, not command.
    if "\n" not in command and command.startswith("$ "):
        return command[2:].strip()
    return command


def _code_spans(text: str) -> list[str]:
    """The contents of the Markdown code spans in `text`, in order (CommonMark rules)."""
    return [_strip_prompt(content.strip()) for _, _, content in _span_positions(text)]


def _span_positions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of each non-empty code span in `text`."""
    spans: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n:
            i += 2  # an escaped character, maybe a literal backtick
            continue
        if char != "`":
            i += 1
            continue
        run = _run_length(text, i)
        j = i + run
        closing = -1
        while j < n:
            if text[j] == "`":
                other = _run_length(text, j)
                if other == run:
                    closing = j
                    break
                j += other
            else:
                j += 1
        if closing < 0:
            i += run  # an unmatched run is literal backticks
            continue
        content = text[i + run : closing].replace("\n", " ")
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]
        if content.strip():
            spans.append((i, closing + run, content))
        i = closing + run
    return spans


def _run_length(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] == "`":
        end += 1
    return end - start


# A link's text may hold escaped brackets; its target is `<…>` or runs to the `)`.
_LINK = re.compile(r"!?\[((?:\\.|[^\\\]])*)\]\((?:<[^>\n]*>|[^)\s]*)[^)]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_CODE = re.compile(r"(?<![\\`])(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_EMPHASIS = re.compile(
    r"(?<!\\)(\*\*|__)(.+?)(?<!\\)\1|(?<![\w*\\])\*(?!\s)(.+?)(?<![\s\\])\*(?!\w)"
)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: any ASCII punctuation


def _plain(markdown: str) -> str:
    """Inline Markdown as plain one-line text (for titles and step labels)."""
    text = _LINK.sub(r"\1", markdown)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\2", text)
    text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or "", text)
    text = _ESCAPED.sub(r"\1", text)
    return one_line(text).strip()


def step_title(markdown: str) -> str:
    """A short label for a step: its bold lead-in, else its first line up to the first
    command-like code span or sentence end ("Check error distribution in logs: `…`" ->
    "Check error distribution in logs")."""
    text = markdown.strip()
    first = text.split("\n", 1)[0].strip()
    lead = re.match(r"^(\*\*|__)(.+?)\1", first)
    if lead:
        title = _plain(lead.group(2))
    else:
        # A span with a space in it is a command: the label stops there. `api` stays in.
        commands = [start for start, _, code in _span_positions(text) if " " in code.strip()]
        before = first[: commands[0]] if commands else first
        sentence = re.split(r"(?<=[^\\][.!?])\s|:\s|\s[—–]\s", before, maxsplit=1)[0]
        title = _plain(sentence) or _plain(first)
    title = title.rstrip(" .:;,—–-").strip()
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    return title
