"""Finding runbooks: the files in `runbooks.dirs` (the first directory wins a name), the
cache that parses each file once per change, and lookup by name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from cockpit.domain import is_file_stem, no_such_name
from cockpit.files import markdown_files
from cockpit.runbooks.model import SUFFIX, Runbook, RunbookError
from cockpit.runbooks.parse import read_runbook

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
    hidden: list[tuple[Path, Path]] = []
    found, problems = markdown_files(dirs, "runbooks.dirs")
    errors: list[RunbookError] = [RunbookError(p.path, p.problem) for p in problems]
    for path in found:
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
    if not is_file_stem(wanted):
        raise LookupError(f"not a runbook name: {name!r} (use the file name without .md)")
    for directory in dirs:
        path = directory / f"{wanted}{SUFFIX}"
        if path.is_file():
            loaded = cache.load(path)
            if isinstance(loaded, RunbookError):
                raise LookupError(f"runbook {wanted!r} cannot be used: {loaded}")
            return loaded
    names = [p.stem for p in runbook_files(dirs)[0]]
    raise LookupError(no_such_name("runbook", wanted, names, "; see `cockpit runbooks`"))


def linked_runbook(
    dirs: Sequence[Path], name: str | None, cache: RunbookCache = CACHE
) -> Runbook | RunbookError | None:
    """The runbook an incident links, the error that makes it unusable, or None if none is
    linked. A few `stat` calls when nothing changed: cheap enough for a per-second tick."""
    if not name:
        return None
    if not is_file_stem(name):  # from another laptop or a hand-edited database: never a path
        return RunbookError(Path("runbook"), f"not a runbook name: {name!r}")
    for directory in dirs:
        loaded = cache.load(directory / f"{name}{SUFFIX}")
        if isinstance(loaded, Runbook) or loaded.problem != _MISSING:
            return loaded
    return RunbookError(Path(f"{name}{SUFFIX}"), NOT_FOUND)
