"""Files people name or folders hold: read regular files only, up to a stated size; write
through what is not a regular file instead of replacing it.

A FIFO blocks a reader forever, `/dev/zero` never ends, a 50 MB "runbook" takes a minute to
parse, and renaming a temporary file over a symlink or a device node replaces it (as root,
`-o /dev/null` would replace `/dev/null`). Every problem is a `FileProblem`: an `OSError`
whose `filename` and one-line `strerror` say what is wrong, so callers that already report
`OSError` as one line report these too.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterable
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB


class FileProblem(OSError):
    """A file that cannot be used as asked: `filename` and a one-line `strerror`."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(errno.EINVAL, problem, str(path))
        self.path = Path(path)
        self.problem = problem


def size_text(size: int) -> str:
    """`256 KiB`, `1,048,577 bytes`, `52.5 MiB`: sizes for messages, exact when it matters."""
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= KiB and size % KiB == 0:
        return f"{size // KiB} KiB"
    if size >= 10 * MiB:
        return f"{size / MiB:.1f} MiB"
    return f"{size:,} bytes"


def kind_of(mode: int) -> str:
    """What a non-regular file is, for "is a FIFO (named pipe), not a regular file"."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def user_path(text: str) -> Path:
    """`text` as a path with `~` and `~user` expanded; FileProblem for an unknown user, an
    empty text or a NUL byte (which no file name can hold) instead of a traceback."""
    if not text:
        raise FileProblem(text, "empty file name")
    if "\0" in text:
        raise FileProblem(text.replace("\0", "\\0"), "a file name cannot hold a NUL byte")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # `~nosuchuser/x`, or `~` with no home directory
        head = text.split("/", 1)[0]
        who = f"no user named {head[1:]!r}" if head[1:] else "no home directory"
        raise FileProblem(text, f"cannot expand {head} ({who}); give the full path") from None


def read_limited(path: Path, limit: int, what: str = "the file") -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.

    Anything else is a FileProblem, without blocking or reading on: a FIFO, a device (a
    symlink to `/dev/zero`), a directory, a socket, a file over `limit` bytes; so are the
    usual `OSError`s (missing, unreadable), which pass through unchanged.
    """
    try:
        before = os.stat(path)
    except ValueError:
        raise FileProblem(path, "the name contains a NUL byte") from None
    if not stat.S_ISREG(before.st_mode):
        raise FileProblem(path, f"is {kind_of(before.st_mode)}, not a regular file")
    if before.st_size > limit:
        raise FileProblem(path, _too_large(before.st_size, limit, what))
    # O_NONBLOCK: if the file was swapped for a FIFO since the stat, opening it cannot hang.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise FileProblem(path, f"is {kind_of(opened.st_mode)}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # the file may grow after the stat: read one byte past the cap
            chunk = os.read(fd, min(limit + 1 - size, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileProblem(path, _too_large(size, limit, what, grew=True))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _too_large(size: int, limit: int, what: str, grew: bool = False) -> str:
    got = "more than that" if grew else size_text(size)
    return f"too large: {what} may be at most {size_text(limit)} (this one is {got})"


def write_text(path: Path, text: str, *, private: bool = False) -> Path:
    """Write `text` as UTF-8 to `path` without ever replacing something that is not a file.

    A regular file (or a new one) is replaced atomically: a reader never sees half of it, its
    mode is kept (`private` makes it 0600). A symlink is followed and its target written the
    same way. A FIFO or a character device (`/dev/null`, `/dev/stdout`) gets the bytes as a
    stream. A directory, a block device or a socket is refused with a FileProblem.
    """
    data = text.encode("utf-8")
    try:
        current: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        current = None  # nothing there yet, or a symlink to nothing: create its target
    except ValueError:
        raise FileProblem(path, "the name contains a NUL byte") from None
    if current is not None and not stat.S_ISREG(current.st_mode):
        if is_stream(path):
            _stream(path, data)
            return path
        raise FileProblem(path, f"is {kind_of(current.st_mode)}; give the name of a file")
    real = Path(os.path.realpath(path))
    chmod = 0o600 if private else (stat.S_IMODE(current.st_mode) if current else None)
    _replace(real, data, chmod)
    return path


def is_stream(path: Path) -> bool:
    """Whether `path` is a FIFO or a character device (what `write_text` streams into)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _stream(path: Path, data: bytes) -> None:
    try:
        # Non-blocking so that a FIFO nobody reads fails at once (ENXIO) instead of hanging.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise FileProblem(path, "is a FIFO (named pipe) that nobody is reading") from None
        raise
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _replace(real: Path, data: bytes, chmod: int | None) -> None:
    """Write a temporary file beside `real` and rename it over `real`; `chmod` None means a
    new file's usual mode (0666 less the umask)."""
    for _ in range(100):
        tmp = real.with_name(f".{real.name}.{os.urandom(4).hex()}.tmp")
        try:
            # O_EXCL: never write through a symlink someone planted at the temporary name.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, chmod or 0o666)
        except FileExistsError:
            continue
        break
    else:
        raise FileProblem(real.parent, "cannot create a temporary file")
    try:
        try:
            if chmod is not None:
                os.fchmod(fd, chmod)  # the mode given to open() went through the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def markdown_files(dirs: Iterable[Path], setting: str) -> tuple[list[Path], list[FileProblem]]:
    """The `.md` files (any case of the suffix) in each folder of `dirs`, in the folders' order
    and sorted within each: not hidden or `_`-prefixed, not a README or index, not a folder.

    A missing folder is skipped (`cockpit doctor` points it out); one that cannot be listed is a
    problem naming `setting` (the configuration key that lists the folders), not a crash.
    """
    files: list[Path] = []
    problems: list[FileProblem] = []
    for directory in dirs:
        try:
            candidates = sorted(directory.iterdir())
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            problems.append(FileProblem(directory, f"not a directory ({setting} lists folders)"))
            continue
        except OSError as exc:
            problems.append(FileProblem(directory, f"cannot list: {exc.strerror}"))
            continue
        for path in candidates:
            if path.suffix.lower() != ".md" or path.name.startswith((".", "_")):
                continue
            if path.name.lower() not in _NOT_DOCUMENTS and not path.is_dir():
                files.append(path)
    return files, problems


_NOT_DOCUMENTS = frozenset({"readme.md", "index.md"})
"""Files a folder of runbooks or scenarios often holds that are about the folder."""
