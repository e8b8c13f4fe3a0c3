"""Runbooks: Markdown files with TOML front matter whose numbered steps become a checklist.

A runbook is parsed once per (path, mtime, size) and cached, so the board can look up the
linked runbook on every tick. Checklist state is never stored here: it is derived from the
timeline's `step` entries, so the app, `cockpit show` and a restarted app always agree.
Escalation is a deadline (declared + N minutes while open) recorded by one `escalation` entry.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.domain import (
    MAX_CADENCE_MINUTES,
    Entry,
    Incident,
    Kind,
    format_countdown,
    format_utc,
    one_line,
    strip_control,
)
from cockpit.files import KiB, read_limited
from cockpit.markdown import clean, md_escape, md_heading, md_line
from cockpit.store import Store

SUFFIX = ".md"
MAX_BYTES = 256 * KiB
"""The largest runbook file read: about 100 pages of Markdown, parsed in under 0.1 s (a
50 MB file took 38 s and 573 MB before there was a cap)."""
FRONT_MATTER_FENCE = "+++"
TITLE_MAX = 60
SKIPPED_FILES = {"readme.md", "index.md"}
"""Files in a runbook directory that document the directory rather than being runbooks."""


class RunbookError(Exception):
    """A runbook file that cannot be used: names the file and the problem, in one line."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Step:
    """One checklist step: a top-level numbered list item under a heading."""

    number: int  # 1-based, across the whole runbook (what "runbook step 2" refers to)
    title: str  # a short label: "Check error distribution"
    text: str  # the item's Markdown, marker removed and dedented
    commands: tuple[str, ...] = ()  # code spans and fenced blocks in the item
    section: str = ""  # the heading it sits under
    line: int = 0  # 1-based line of the item in the file

    @property
    def command(self) -> str | None:
        """The first command (what `c` copies), if the step has one."""
        return self.commands[0] if self.commands else None


@dataclass(frozen=True)
class Runbook:
    """A parsed runbook; `name` is the file name without `.md` (what `--runbook` takes)."""

    name: str
    path: Path
    title: str
    body: str  # the Markdown after the front matter
    steps: tuple[Step, ...] = ()
    trigger: str = ""
    severity: str | None = None  # suggested severity
    update_every_minutes: int | None = None  # overrides the severity's cadence while linked
    escalate_after_minutes: int | None = None
    escalate_to: str = ""
    tags: tuple[str, ...] = ()
    body_offset: int = 0  # lines before the body (the front matter), to map body lines to file

    def step(self, number: int) -> Step:
        """Step `number` (1-based); LookupError naming the runbook otherwise."""
        if 1 <= number <= len(self.steps):
            return self.steps[number - 1]
        raise LookupError(
            f"runbook {self.name!r} has no step {number} (it has {len(self.steps)} steps)"
        )

    def matches(self, query: str) -> bool:
        """Whether every word of `query` appears in the name, title, trigger or tags."""
        haystack = " ".join((self.name, self.title, self.trigger, *self.tags)).lower()
        return all(word in haystack for word in query.lower().split())


# ---- parsing ---------------------------------------------------------------------------------

_FIELDS: dict[str, str] = {
    "title": "a string",
    "trigger": "a string",
    "severity": "a string",
    "update_every_minutes": "a whole number of minutes",
    "escalate_after_minutes": "a whole number of minutes",
    "escalate_to": "a string",
    "tags": "a list of strings",
}


def parse_runbook(text: str, path: Path) -> Runbook:
    """Parse runbook text; raises RunbookError naming `path` and what is wrong."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = strip_control(text)  # the body reaches the terminal
    meta, body, body_offset = _split_front_matter(text, path)
    fields = _check_front_matter(meta, path)
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


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    """(front matter table, body, number of lines before the body)."""
    lines = text.split("\n")
    first = lines[0].strip() if lines else ""
    yaml_close = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
    if first == "---" and any(re.match(r"^\w[\w-]*:(\s|$)", ln) for ln in lines[1:yaml_close]):
        raise RunbookError(
            path, "front matter must be TOML between +++ lines (found YAML-style --- fences)"
        )
    if first != FRONT_MATTER_FENCE:
        return {}, text, 0
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            break
    else:
        raise RunbookError(path, "front matter opened with +++ on line 1 is never closed")
    source = "\n".join(lines[1:index])
    try:
        meta = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        # tomllib counts lines from the start of the front matter; point at the file's line.
        message = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + 1}", str(exc), count=1)
        raise RunbookError(path, f"front matter: TOML syntax error: {message}") from None
    return meta, "\n".join(lines[index + 1 :]), index + 1


def _check_front_matter(meta: Mapping[str, Any], path: Path) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in meta.items():
        if key not in _FIELDS:
            close = [f for f in _FIELDS if f.startswith(key.lower())]
            close = close or difflib.get_close_matches(key, list(_FIELDS), n=1)
            hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(_FIELDS)}"
            raise RunbookError(path, f"front matter: {key}: unknown key ({hint})")
        fields[key] = _check_field(key, value, path)
    if fields.get("escalate_after_minutes") is not None and not fields.get("escalate_to"):
        raise RunbookError(
            path, "front matter: escalate_to: missing (say who escalate_after_minutes escalates to)"
        )
    if fields.get("escalate_to") and fields.get("escalate_after_minutes") is None:
        raise RunbookError(
            path, "front matter: escalate_after_minutes: missing (say when to escalate)"
        )
    return fields


def _check_field(key: str, value: Any, path: Path) -> Any:
    def wrong() -> RunbookError:
        return RunbookError(
            path, f"front matter: {key}: expected {_FIELDS[key]}, got {_type_name(value)}"
        )

    if key == "tags":
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            raise wrong()
        return [one_line(tag).strip() for tag in value if tag.strip()]
    if key.endswith("_minutes"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        if not 1 <= value <= MAX_CADENCE_MINUTES:
            raise RunbookError(
                path,
                f"front matter: {key}: expected minutes from 1 to {MAX_CADENCE_MINUTES:,} "
                f"(a week), got {value}",
            )
        return value
    if not isinstance(value, str):
        raise wrong()
    value = one_line(value).strip()
    if key == "title" and not value:
        raise RunbookError(path, "front matter: title: is empty (remove it or give a title)")
    if key == "severity":
        return value or None
    return value


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list" if all(isinstance(v, str) for v in value) else "a list with non-strings"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


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


# ---- finding runbooks ------------------------------------------------------------------------


_MISSING = "no such file"
NOT_FOUND = "linked runbook not found in runbooks.dirs"
"""The problem `linked_runbook` reports when no directory has the file."""


class RunbookCache:
    """Parsed runbooks keyed by path, reused while the file's mtime and size are unchanged."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], Runbook | RunbookError]] = {}
        self.parses = 0  # how many files were actually parsed (tests and benchmarks read it)

    def load(self, path: Path) -> Runbook | RunbookError:
        """The runbook at `path`, or the error that explains why it cannot be used."""
        try:
            stat = path.stat()
        except OSError:
            self._entries.pop(path, None)
            return RunbookError(path, _MISSING)
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._entries.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        self.parses += 1
        try:
            result: Runbook | RunbookError = read_runbook(path)
        except RunbookError as exc:
            result = exc
        self._entries[path] = (key, result)
        return result

    def clear(self) -> None:
        self._entries.clear()


CACHE = RunbookCache()
"""The process-wide cache the board and the app share."""


def runbook_files(dirs: Iterable[Path]) -> tuple[list[Path], list[RunbookError]]:
    """The runbook files in `dirs`, the first directory winning for each name. A missing
    directory is skipped; one that cannot be listed is an error, not a crash."""
    files, errors, _ = _scan(dirs)
    return files, errors


def hidden_runbooks(dirs: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(hidden file, the file used instead) for each runbook name found in more than one
    directory: the first directory in `runbooks.dirs` wins, then the bundled runbooks."""
    return _scan(dirs)[2]


def _scan(
    dirs: Iterable[Path],
) -> tuple[list[Path], list[RunbookError], list[tuple[Path, Path]]]:
    seen: dict[str, Path] = {}
    files: list[Path] = []
    errors: list[RunbookError] = []
    hidden: list[tuple[Path, Path]] = []
    for directory in dirs:
        try:
            candidates = sorted(directory.iterdir())
        except FileNotFoundError:
            continue  # `cockpit runbooks` and `cockpit doctor` point out missing folders
        except NotADirectoryError:
            errors.append(RunbookError(directory, "not a directory (runbooks.dirs lists folders)"))
            continue
        except OSError as exc:
            errors.append(RunbookError(directory, f"cannot list: {exc.strerror}"))
            continue
        for path in candidates:
            if path.suffix.lower() != SUFFIX or path.name.startswith((".", "_")):
                continue
            if path.name.lower() in SKIPPED_FILES or path.is_dir():
                continue
            if path.suffix != SUFFIX:
                # `--runbook NAME` looks for NAME.md: a file it can never find is an error.
                errors.append(RunbookError(path, f"rename it to {path.stem}{SUFFIX} (lower case)"))
                continue
            if path.stem in seen:
                hidden.append((path, seen[path.stem]))
                continue
            seen[path.stem] = path
            files.append(path)
    return files, errors, hidden


def load_runbooks(
    dirs: Iterable[Path], cache: RunbookCache = CACHE
) -> tuple[list[Runbook], list[RunbookError]]:
    """Every usable runbook in `dirs` (sorted by title) and an error for each one that is not."""
    files, errors = runbook_files(dirs)
    runbooks: list[Runbook] = []
    for path in files:
        loaded = cache.load(path)
        if isinstance(loaded, RunbookError):
            errors.append(loaded)
        else:
            runbooks.append(loaded)
    runbooks.sort(key=lambda r: (r.title.lower(), r.name))
    return runbooks, errors


def find_runbook(dirs: Sequence[Path], name: str, cache: RunbookCache = CACHE) -> Runbook:
    """The runbook called `name` (file name without `.md`); LookupError says what exists."""
    wanted = name.strip().removesuffix(SUFFIX)
    if not wanted or "/" in wanted or "\\" in wanted:
        raise LookupError(f"not a runbook name: {name!r} (use the file name without .md)")
    for directory in dirs:
        path = directory / f"{wanted}{SUFFIX}"
        if path.is_file():
            loaded = cache.load(path)
            if isinstance(loaded, RunbookError):
                raise LookupError(f"runbook {wanted!r} cannot be used: {loaded}")
            return loaded
    files, _ = runbook_files(dirs)
    names = [p.stem for p in files]
    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = ", ".join(names) if names else "none"
    raise LookupError(f"no runbook named {wanted!r}{hint} (known: {known}; see `cockpit runbooks`)")


def linked_runbook(
    dirs: Sequence[Path], name: str | None, cache: RunbookCache = CACHE
) -> Runbook | RunbookError | None:
    """The runbook an incident links, the error that makes it unusable, or None if none is
    linked. A few `stat` calls when nothing changed: cheap enough for a per-second tick."""
    if not name:
        return None
    for directory in dirs:
        loaded = cache.load(directory / f"{name}{SUFFIX}")
        if isinstance(loaded, Runbook) or loaded.problem != _MISSING:
            return loaded
    return RunbookError(Path(f"{name}{SUFFIX}"), NOT_FOUND)


# ---- the checklist, derived from the timeline --------------------------------------------------


def ticked_steps(entries: Iterable[Entry], runbook: str) -> set[int]:
    """The step numbers of `runbook` that are ticked, from `step` entries; the latest by the
    clock wins (what every laptop holding the same entries computes)."""
    state: dict[int, bool] = {}
    for entry in sorted(entries, key=lambda e: (e.hlc, e.uid)):
        meta = entry.meta
        if entry.kind is not Kind.STEP or meta.get("runbook") != runbook:
            continue
        step = meta.get("step")
        if isinstance(step, int) and not isinstance(step, bool):
            state[step] = meta.get("done") is True
    return {number for number, done in state.items() if done}


def step_state(store: Store, incident_id: int, runbook: str) -> set[int]:
    """The ticked steps of `runbook` on an incident, read from the store."""
    return ticked_steps(store.entries(incident_id, kinds=[Kind.STEP]), runbook)


def step_text(runbook: Runbook, number: int, done: bool) -> str:
    """The timeline text: "runbook step 2 done: Check error distribution"."""
    step = runbook.step(number)
    return f"runbook step {number} {'done' if done else 'undone'}: {step.title}"


def set_step(
    store: Store,
    incident_id: int,
    runbook: Runbook,
    number: int,
    done: bool,
    author: str,
) -> Entry | None:
    """Tick (or untick) a step by writing a `step` entry; None when it already is that way."""
    runbook.step(number)  # LookupError before anything is written
    if (number in step_state(store, incident_id, runbook.name)) == done:
        return None
    meta = {"runbook": runbook.name, "step": number, "done": done}
    return store.append(incident_id, Kind.STEP, step_text(runbook, number, done), author, meta=meta)


def toggle_step(
    store: Store, incident_id: int, runbook: Runbook, number: int, author: str
) -> Entry:
    """Flip a step's state (what `space` does); returns the entry written."""
    done = number not in step_state(store, incident_id, runbook.name)
    entry = set_step(store, incident_id, runbook, number, done, author)
    assert entry is not None  # the state was just read as the opposite
    return entry


# ---- escalation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    """A runbook's escalation rule applied to an incident: due `after_minutes` after declaring."""

    runbook: str
    to: str
    after_minutes: int
    due_at: datetime
    recorded_at: datetime | None = None  # when its `escalation` entry was written, if it was

    def remaining(self, now: datetime) -> timedelta:
        return self.due_at - now

    def due(self, now: datetime) -> bool:
        return now >= self.due_at

    def label(self, now: datetime) -> str:
        """ "escalate to Engineering Lead in 06:19"; "… now: due 02:10 ago" once due."""
        if self.due(now):
            return f"escalate to {self.to} now: due {format_countdown(now - self.due_at)} ago"
        return f"escalate to {self.to} in {format_countdown(self.remaining(now))}"


def escalation_for(
    incident: Incident, runbook: Runbook | None, recorded_at: datetime | None = None
) -> Escalation | None:
    """The escalation deadline while the incident is open, if the runbook has a rule."""
    if runbook is None or runbook.escalate_after_minutes is None or not incident.is_open:
        return None
    minutes = runbook.escalate_after_minutes
    return Escalation(
        runbook=runbook.name,
        to=runbook.escalate_to,
        after_minutes=minutes,
        due_at=incident.declared_at + timedelta(minutes=minutes),
        recorded_at=recorded_at,
    )


def escalation_recorded(store: Store, incident_id: int, runbook: str) -> datetime | None:
    """When the escalation for `runbook` was recorded on this incident, if it was."""
    entry = store.find_entry(incident_id, Kind.ESCALATION, {"runbook": runbook})
    return entry.at if entry else None


def record_escalation(
    store: Store, incident_id: int, runbook: Runbook, author: str = "cockpit"
) -> Entry | None:
    """Write the `escalation` entry if it is due and not yet written; None otherwise.

    The "not yet written" check runs inside the write transaction, so two processes (or a
    restarted app) that both see the deadline pass record it once.
    """
    incident = store.incident(incident_id)
    escalation = escalation_for(incident, runbook)
    now = store.now()
    if escalation is None or not escalation.due(now):
        return None
    text = (
        f"escalate to {escalation.to}: not resolved {escalation.after_minutes} min after "
        f"declaring (runbook {runbook.name})"
    )
    meta = {
        "runbook": runbook.name,
        "to": escalation.to,
        "after_minutes": escalation.after_minutes,
        "due_at": format_utc(escalation.due_at),
    }
    return store.append_once(
        incident_id, Kind.ESCALATION, text, author, meta=meta, key=("runbook",)
    )


# ---- drafting a runbook from an incident -------------------------------------------------------

DRAFT_OUTPUT_LINES = 8


def draft_name(incident: Incident) -> str:
    """A file name (without `.md`) for a runbook drafted from `incident`: its title, slugged."""
    slug = re.sub(r"[^a-z0-9]+", "-", incident.title.lower()).strip("-")[:50].strip("-")
    return slug or f"inc-{incident.id}"


def draft_runbook(
    incident: Incident, entries: Sequence[Entry], followed: Runbook | None = None
) -> str:
    """A runbook skeleton in Markdown from what was logged: the trigger from the title, the
    actions and decisions as steps, commands from captured `cockpit log -` output."""
    title = one_line(clean(incident.title)).strip()
    front = [f"title = {_toml_string(title)}", f"trigger = {_toml_string(title)}"]
    front.append(f"severity = {_toml_string(incident.severity)}")
    if incident.service.strip():
        front.append(f"tags = [{_toml_string(one_line(clean(incident.service)).strip())}]")
    # Keep the cadence and escalation of the runbook the incident followed, if it had them.
    if followed is not None and followed.update_every_minutes is not None:
        front.append(f"update_every_minutes = {followed.update_every_minutes}")
    else:
        front.append("# update_every_minutes = 15")
    if followed is not None and followed.escalate_after_minutes is not None:
        front.append(f"escalate_after_minutes = {followed.escalate_after_minutes}")
        front.append(f"escalate_to = {_toml_string(followed.escalate_to)}")
    else:
        front += ["# escalate_after_minutes = 30", '# escalate_to = "Engineering Lead"']
    stamp = "%Y-%m-%d %H:%M UTC"
    where = f"{incident.ref} ({incident.severity}, declared {incident.declared_at.strftime(stamp)}"
    if incident.resolved_at:
        where += f", resolved {incident.resolved_at.strftime(stamp)}"
    where += ")"
    intro = (
        f"Drafted by `cockpit runbooks draft` from {where}. Rewrite each step as an instruction "
        "for someone who was not there, make the trigger match the alert that fires, and delete "
        "what will not happen again."
    )
    if followed is not None:
        intro += f" That incident followed the runbook *{followed.title}* ({followed.name})."
    items = _draft_items(entries)
    if not items:
        items = ["**Describe the first check.** Nothing was logged as an action or decision."]
    lines = ["+++", *front, "+++", "", f"# {md_heading(title)}", "", intro]
    lines += ["", "## Steps", ""]
    for number, item in enumerate(items, start=1):
        marker = f"{number}. "
        first, *rest = item.split("\n")
        if number > 1:
            lines.append("")
        lines.append(marker + first[:1].upper() + first[1:])
        lines += [(" " * len(marker) + line) if line else "" for line in rest]
    lines += [
        "",
        "## Communicate",
        "",
        "- Say when updates are due and who escalates, if the defaults do not fit.",
        "",
    ]
    return "\n".join(lines)


def _draft_items(entries: Sequence[Entry]) -> list[str]:
    corrected = {e.corrects for e in entries if e.corrects}
    items: list[str] = []
    for entry in entries:
        if entry.id in corrected:
            continue  # a later entry corrects this one; use the correction
        when = entry.at.strftime("%H:%M UTC")
        captured = entry.meta.get("captured") is True
        if captured:
            items.append(_captured_item(entry.text, when))
        elif entry.kind in (Kind.ACTION, Kind.DECISION):
            # Typed text reads as typed (the export's escaping), but the commands people
            # wrote in backticks stay code spans: they become the step's commands.
            first, _, more = clean(entry.text).strip().partition("\n")
            label = "Action" if entry.kind is Kind.ACTION else "Decision"
            body = [md_line(first, code=True)]
            if more.strip():
                body += ["", *(md_line(line, code=True) for line in more.strip().split("\n"))]
            author = md_escape(one_line(clean(entry.author)).strip())
            body += ["", f"_{label} by {author} at {when}._"]
            items.append("\n".join(body))
    return items


def _captured_item(output: str, when: str) -> str:
    text = clean(output).rstrip()
    commands = [line[2:].strip() for line in text.split("\n") if line.startswith("$ ")]
    commands = [c for c in commands if c]
    if commands:
        spans = ", then ".join(_code_span(c) for c in commands)
        head = f"**Run and check the output.** {spans}"
    else:
        head = (
            "**Run the command whose output was captured.** Name it here as a code span, "
            "e.g. `kubectl get pods -n production`."
        )
    shown = text.split("\n")[:DRAFT_OUTPUT_LINES]
    if len(text.split("\n")) > DRAFT_OUTPUT_LINES:
        shown.append("…")
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return "\n".join([head, "", f"Output captured at {when}:", "", f"{fence}text", *shown, fence])


def _toml_string(text: str) -> str:
    import tomli_w

    return tomli_w.dumps({"v": text}).split("=", 1)[1].strip()


def _code_span(text: str) -> str:
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(run) for run in runs), default=0)
