"""What parsing runbooks costs: the three bundled runbooks, and one runbook at the size cap.

Run: .venv/bin/python bench/runbook_parse.py [--runs N]
Prints the median and best CPU time (steadier than wall time on a shared machine) of N parses
of the bundled runbooks (together) and of a 256 KiB runbook made of their bodies repeated under
numbered sections, and of the first parse of a bundled runbook in a fresh process (importing
`cockpit.runbooks` and the Markdown parser included: what a process pays for its first runbook).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.config import PACKAGE_RUNBOOKS  # noqa: E402
from cockpit.runbooks import MAX_BYTES, parse_runbook  # noqa: E402

FIRST_PARSE = """
import sys, time
from pathlib import Path
start = time.process_time()
from cockpit.runbooks import parse_runbook
path = Path(sys.argv[1])
parse_runbook(path.read_text(), path)
print((time.process_time() - start) * 1000)
"""


def capped(texts: list[str]) -> str:
    """A runbook of just under `MAX_BYTES`: the bundled bodies repeated, one section each."""
    bodies = [text.split("+++", 2)[2] for text in texts]
    parts = ['+++\ntitle = "At the size cap"\n+++\n']
    size, index = len(parts[0]), 0
    while True:
        section = f"\n# Copy {index}\n" + bodies[index % len(bodies)]
        if size + len(section.encode()) > MAX_BYTES:
            return "".join(parts)
        parts.append(section)
        size += len(section.encode())
        index += 1


def timed(runs: int, work: list[tuple[str, Path]]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.process_time()
        for text, path in work:
            parse_runbook(text, path)
        times.append((time.process_time() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    paths = sorted(PACKAGE_RUNBOOKS.glob("*.md"))
    bundled = [(path.read_text(), path) for path in paths]
    big_text = capped([text for text, _ in bundled])
    big = (big_text, Path("/bench/at-the-cap.md"))
    steps = len(parse_runbook(*big).steps)
    timed(2, [*bundled, big])  # warm up: imports, regex compilation
    small_times = timed(args.runs, bundled)
    big_times = timed(max(3, args.runs // 4), [big])
    first = [
        float(
            subprocess.run(
                [sys.executable, "-c", FIRST_PARSE, str(paths[0])],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(5)
    ]
    kib = len(big_text.encode()) / 1024
    print(f"parse_runbook, {args.runs} runs (median / best)")
    print(
        f"3 bundled runbooks              {statistics.median(small_times):8.2f} / "
        f"{min(small_times):8.2f} ms"
    )
    print(
        f"{kib:.0f} KiB runbook, {steps} steps  {statistics.median(big_times):8.2f} / "
        f"{min(big_times):8.2f} ms"
    )
    print(
        f"import + first parse, new process {statistics.median(first):8.2f} / {min(first):8.2f} ms"
    )


if __name__ == "__main__":
    main()
