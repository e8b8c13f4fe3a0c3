"""Special files where a file is expected: read regular files only, up to a stated size, and
write through what is not a regular file instead of replacing it.

Each case runs as a real process with a timeout, so a hang fails the test instead of the run.
"""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from cockpit.config import CONFIG_MAX_BYTES
from cockpit.files import FileProblem, read_limited, write_text
from cockpit.runbooks import MAX_BYTES as RUNBOOK_MAX_BYTES
from cockpit.store import Store
from tests.conftest import ROOT, FakeClock, cli_env
from tests.test_hostile import without_root_overrides

TIMEOUT = 20  # seconds; each command takes well under one
MEMORY = 1536 * 1024 * 1024  # bytes of address space: a regression that reads /dev/zero stops


def capped(then: Callable[[], None] | None = None) -> Callable[[], None]:
    def preexec() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        if then is not None:
            then()

    return preexec


def run_cli(
    *args: str, db: Path | None = None, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`cockpit ARGS` as a process with a timeout and a memory cap, so that a regression hangs
    or eats memory in the test, not on the machine."""
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=cli_env(db, config),
        cwd=ROOT,
        preexec_fn=capped(),
        timeout=TIMEOUT,
    )


def null_device(folder: Path) -> Path:
    """A private twin of /dev/null (same device numbers): what these tests write to, so that a
    regression replaces the twin, never the machine's /dev/null."""
    path = folder / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.close(os.open(path, os.O_WRONLY))
    except PermissionError:  # not root, or a `nodev` mount
        pytest.skip("needs a device node (root, and a temporary folder without nodev)")
    return path


def special_files(folder: Path) -> dict[str, str]:
    """Make every kind of non-file (and a huge file) under `folder`; name -> expected problem."""
    os.mkfifo(folder / "fifo.md")
    (folder / "zero.md").symlink_to("/dev/zero")
    (folder / "null.md").symlink_to("/dev/null")
    (folder / "random.md").symlink_to("/dev/urandom")
    with open(folder / "huge.md", "wb") as handle:  # sparse: 50 MB that costs no disk
        handle.truncate(50 * 1024 * 1024)
    (folder / "big.md").write_bytes(b"# big\n" + b"x" * RUNBOOK_MAX_BYTES)
    return {
        "fifo.md": "is a FIFO (named pipe), not a regular file",
        "zero.md": "is a character device, not a regular file",
        "null.md": "is a character device, not a regular file",
        "random.md": "is a character device, not a regular file",
        "huge.md": "too large: a runbook may be at most 256 KiB (this one is 50 MiB)",
        "big.md": "too large: a runbook may be at most 256 KiB",
    }


@pytest.fixture
def runbook_folder(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    problems = special_files(folder)
    (folder / "dir.md").symlink_to(tmp_path)  # a folder named like a runbook: not a runbook
    (folder / "good.md").write_text("# Good runbook\n\n## Do\n\n1. **Check.**\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[runbooks]\ndirs = ["{folder}"]\ninclude_bundled = false\n')
    return folder, config, problems


def test_cockpit_runbooks_lists_special_files_as_errors_without_hanging(runbook_folder, tmp_path):
    folder, config, problems = runbook_folder
    done = run_cli("runbooks", config=config, db=tmp_path / "c.db")
    assert done.returncode == 0, done.stderr
    assert "good · Good runbook" in done.stdout
    for name, problem in problems.items():
        assert f"  {folder / name}: cannot read: {problem}" in done.stdout, done.stdout
    assert "dir.md" not in done.stdout
    checked = run_cli("runbooks", "--check", config=config, db=tmp_path / "c.db")
    assert checked.returncode == 1


def test_doctor_reports_special_runbook_files_without_hanging(runbook_folder, tmp_path):
    folder, config, problems = runbook_folder
    done = run_cli("doctor", config=config, db=tmp_path / "c.db")
    for name, problem in problems.items():
        assert f"FAIL  runbook        {folder / name}: cannot read: {problem}" in done.stdout
    assert "Traceback" not in done.stderr


def test_declaring_with_a_special_runbook_explains_it(runbook_folder, tmp_path):
    _, config, _ = runbook_folder
    for name in ("fifo", "zero", "huge"):
        done = run_cli("declare", "x", "--runbook", name, config=config, db=tmp_path / "c.db")
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_runbook_file_nobody_may_read(tmp_path: Path):
    folder = tmp_path / "runbooks"
    folder.mkdir()
    secret = folder / "secret.md"
    secret.write_text("# Secret\n")
    secret.chmod(0)
    config = tmp_path / "config.toml"
    config.write_text(f'[runbooks]\ndirs = ["{folder}"]\ninclude_bundled = false\n')
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "runbooks"],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path / "c.db", config),
        cwd=ROOT,
        preexec_fn=capped(without_root_overrides if os.geteuid() == 0 else None),
        timeout=TIMEOUT,
    )
    assert f"{secret}: cannot read: Permission denied" in done.stdout


# ---- the configuration file and the database ----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: os.mkfifo(p), "is a FIFO (named pipe), not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "is a character device, not a regular file"),
        (lambda p: p.mkdir(), "is a directory, not a regular file"),
        (
            lambda p: p.write_bytes(b"#" * (CONFIG_MAX_BYTES + 1)),
            "too large: a configuration file may be at most 1 MiB (this one is 1,048,577 bytes)",
        ),
    ],
)
def test_config_that_is_not_a_regular_file_is_one_line(tmp_path: Path, make, problem):
    config = tmp_path / "config.toml"
    make(config)
    for args in (["--config", str(config), "list"], ["list"]):  # the option and the variable
        done = run_cli(*args, config=config, db=tmp_path / "c.db")
        assert done.returncode == 1
        assert done.stderr == f"cockpit: {config}: cannot read: {problem}\n"
    doctor = run_cli("doctor", config=config, db=tmp_path / "c.db")
    assert f"FAIL  config         {config}: cannot read: {problem}" in doctor.stdout


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a FIFO (named pipe)"),
        (lambda p: p.symlink_to("/dev/zero"), "a character device"),
        (lambda p: p.symlink_to(null_device(p.parent)), "a character device"),
    ],
)
def test_a_database_name_that_is_not_a_file_is_refused(tmp_path: Path, make, kind):
    db = tmp_path / "c.db"
    make(db)
    for args in (["--db", str(db), "log", "x"], ["show"]):
        done = run_cli(*args, db=db)
        assert done.returncode == 1
        assert done.stderr.endswith(f"{db}: is {kind}, not a database file\n")
        assert done.stderr.count("\n") == 1
    assert not stat.S_ISREG(os.stat(db).st_mode)  # left as it was


# ---- writing: export -o, init, runbooks draft --------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "c.db"
    with Store.open(path, clock=FakeClock()) as store:
        store.declare("Checkout errors", "SEV-2", "alice")
    return path


def test_export_to_a_null_device_writes_through_and_leaves_the_device(db, tmp_path: Path):
    device = null_device(tmp_path)
    link = tmp_path / "to-dev-null.md"
    link.symlink_to("/dev/null")  # the machine's: a regression replaces the link, not it
    before = os.stat(device)
    for target in (device, link):
        done = run_cli("export", "-o", str(target), db=db)
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""  # nothing printed: the path is not a file the export went to
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)


def test_export_to_standard_output_by_name_streams_the_document_alone(db, tmp_path: Path):
    link = tmp_path / "stdout.md"
    link.symlink_to("/proc/self/fd/1")  # what /dev/stdout is; the link, not /dev, is at risk
    done = run_cli("export", "-o", str(link), db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# INC-1 post-mortem: Checkout errors")
    assert str(link) not in done.stdout
    assert link.is_symlink()


def test_export_through_a_symlink_keeps_the_link_and_the_mode(db, tmp_path: Path):
    target = tmp_path / "docs" / "real.md"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.md"
    link.symlink_to(target)
    done = run_cli("export", "-o", str(link), db=db)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("# INC-1 post-mortem")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.md"]  # no temp file left


def test_export_through_a_dangling_symlink_creates_its_target(db, tmp_path: Path):
    link = tmp_path / "link.md"
    link.symlink_to("made.md")
    done = run_cli("export", "-o", str(link), db=db)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and (tmp_path / "made.md").read_text().startswith("# INC-1")


def test_export_into_a_fifo_streams_to_its_reader(db, tmp_path: Path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = run_cli("export", "-o", str(fifo), db=db)
    reader.join(TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert received[0].startswith(b"# INC-1 post-mortem")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: os.mkfifo(p), "is a FIFO (named pipe) that nobody is reading"),
        (lambda p: p.mkdir(), "is a directory; give the name of a file"),
        (lambda p: p.symlink_to("/nonexistent-folder/x.md"), "No such file or directory"),
    ],
)
def test_export_to_what_cannot_take_a_document_is_one_line(db, tmp_path: Path, make, problem):
    out = tmp_path / "out.md"
    make(out)
    kind = os.lstat(out).st_mode
    done = run_cli("export", "-o", str(out), db=db)
    assert done.returncode == 1
    assert done.stderr == f"cockpit: {out}: cannot write: {problem}\n"
    assert os.lstat(out).st_mode == kind  # left as it was


def test_export_never_replaces_a_block_device(db, tmp_path: Path):
    device = tmp_path / "disk"
    try:
        os.mknod(device, 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    done = run_cli("export", "-o", str(device), db=db)
    assert done.returncode == 1
    assert "is a block device; give the name of a file" in done.stderr
    assert stat.S_ISBLK(os.lstat(device).st_mode)


def test_init_writes_through_a_symlink_and_never_replaces_a_device(tmp_path: Path):
    target = tmp_path / "dotfiles" / "cockpit.toml"
    target.parent.mkdir()
    link = tmp_path / "config.toml"
    link.symlink_to(target)
    done = run_cli("init", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and target.read_text().startswith("# cockpit configuration")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = run_cli("init", str(link))
    assert again.returncode == 1 and "already exists" in again.stderr
    device = null_device(tmp_path)
    forced = run_cli("init", "--force", str(device))
    assert forced.returncode == 0, forced.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode)
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    refused = run_cli("init", "--force", str(fifo))
    assert refused.returncode == 1
    assert "nobody is reading" in refused.stderr and refused.stderr.count("\n") == 1


def test_runbooks_draft_into_a_fifo_or_past_a_planted_symlink(db, tmp_path: Path):
    fifo = tmp_path / "drafts"
    os.mkfifo(fifo)
    done = run_cli("runbooks", "draft", "INC-1", "--dir", str(fifo), db=db)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    folder = tmp_path / "rb"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (folder / "checkout-errors.md").symlink_to(victim)
    done = run_cli("runbooks", "draft", "INC-1", "--dir", str(folder), db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(folder / "checkout-errors-2.md")
    assert victim.read_text() == "keep"


# ---- the functions themselves -----------------------------------------------------------------


def test_read_limited_refuses_a_file_that_grows_past_the_cap(tmp_path: Path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_limited(path, 10) == b"x" * 10
    with pytest.raises(FileProblem, match=r"too large: the file may be at most 9 bytes"):
        read_limited(path, 9)
    with pytest.raises(FileProblem, match="NUL"):
        read_limited(Path("a\0b"), 9)
    with pytest.raises(FileNotFoundError):
        read_limited(tmp_path / "missing", 9)


def test_write_text_replaces_a_regular_file_atomically(tmp_path: Path):
    path = tmp_path / "f.md"
    path.write_text("old")
    inode = path.stat().st_ino
    write_text(path, "new")
    assert path.read_text() == "new" and path.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["f.md"]
