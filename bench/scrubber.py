"""What masking secrets costs, and why credentials shorter than 8 characters are refused.

Run: .venv/bin/python bench/scrubber.py [--lines N]

Figures:
- building the scrubber for a configuration with every credential set (six targets, each API
  URL with a user, password and query token, a webhook URL with `user:pass@` and `?token=`):
  forms and pieces it knows, time to build (once per set of secrets, then cached), beside
  building one for a single token;
- masking one 200-character error line, with an echoed secret and without, beside
  `one_line()` of the same line (what every stored error already goes through);
- the damage masking a short secret would do to ordinary text: over the lines of this
  project's own prose (README, RELIABILITY, docs), the share of lines a mask would alter if
  the secret were a word of n letters taken from that prose (a person's short password), and
  the chance that a random n-character alphanumeric secret occurs in it at all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.comms.scrubber import Scrubber  # noqa: E402
from cockpit.domain import one_line  # noqa: E402
from cockpit.secrets import secret_url_parts, url_secrets  # noqa: E402

TOKEN = "xoxb-2718281828-3141592653-SeCrEtToKeNvAlUe"


def every_secret() -> tuple[list[str], list[str]]:
    """Credentials and whole-secret texts of a configuration with everything set."""
    credentials = [
        TOKEN,
        "sp-0123456789abcdef-SECRETKEY-fedcba9876543210",
        "in5t4tu5-k3y-93f7c1d2e8b4a6f0",
        "bSt0kEn+Wz/9QpXk=Lm2Rv",
        "e93f0b1c5d7a4e2f9b8c6d4a2e0f1c3b",
        "whsec_Lk9%Qz!Pv7@Nw3#Tr5~é",
    ]
    for n in range(6):
        credentials += url_secrets(f"https://au{n}Qx7Lp2Vz:apw{n}Km4@api.example/x?t=aq{n}Zn5Hs3Wd")
    credentials += url_secrets("https://hookuser-7f3a:p%40ss%2Fw0rd@hooks.example/x?token=tok3n55")
    pieces, wholes = secret_url_parts(
        "https://hooks.slack.com/services/T0A1B2C3D/B0X9Y8Z7/Xq7vB2nL"
    )
    return credentials + pieces, wholes


def timed(action: object, repeat: int) -> float:
    """Median seconds of `action()` over `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def prose_lines() -> list[str]:
    files = [ROOT / "README.md", ROOT / "RELIABILITY.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [line for path in files if path.exists() for line in path.read_text().splitlines()]


def damage(lines: list[str], length: int) -> tuple[float, float, int]:
    """For words of `length` letters from the prose: the median and worst share of lines a
    mask of that word would alter, and how many such words there are."""
    words = {w.strip(".,;:()`*[]\"'") for line in lines for w in line.split()}
    chosen = sorted(w for w in words if len(w) == length and w.isalpha())
    shares = [sum(word in line for line in lines) / len(lines) for word in chosen]
    return (statistics.median(shares), max(shares), len(chosen)) if shares else (0.0, 0.0, 0)


def random_hit(lines: list[str], length: int) -> float:
    """Chance that a random alphanumeric secret of `length` occurs somewhere in the prose."""
    grams = {line[i : i + length] for line in lines for i in range(len(line) - length + 1)}
    alnum = sum(1 for gram in grams if gram.isascii() and gram.isalnum())
    return alnum / 62**length


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000, help="error lines masked per timing")
    args = parser.parse_args()

    credentials, wholes = every_secret()
    full = Scrubber(credentials, wholes)
    print(f"secrets: {len(credentials)} credentials, {len(wholes)} whole-URL texts")
    print(f"forms known: {len(full.forms)}; 12-character pieces: {len(full._pieces)}")
    build_all = timed(lambda: Scrubber(credentials, wholes), 5)
    build_one = timed(lambda: Scrubber([TOKEN]), 5)
    print(f"build, every credential : {build_all * 1000:7.1f} ms (once: cached per set)")
    print(f"build, one token        : {build_one * 1000:7.1f} ms (baseline)")

    clean = "HTTP 401 " + "the service refused the request: invalid authentication " * 4
    clean = clean[:200]
    echoed = clean[:120] + f"Bearer {TOKEN[:30]}…"
    for name, line in (("line without a secret", clean), ("line echoing a token ", echoed)):
        masked = timed(lambda line=line: [full.scrub(line) for _ in range(args.lines)], 3)
        base = timed(lambda line=line: [one_line(line) for _ in range(args.lines)], 3)
        each = masked / args.lines * 1e6
        print(
            f"mask a {name}: {each:7.1f} µs per line; one_line(): {base / args.lines * 1e6:.1f} µs"
        )

    lines = [line for line in prose_lines() if line.strip()]
    print(f"\nordinary text: {len(lines)} lines of this project's prose")
    print("length  words  median lines hit  worst lines hit  random secret occurs")
    for length in range(3, 11):
        median, worst, count = damage(lines, length)
        print(
            f"{length:6}  {count:5}  {median:15.2%}  {worst:15.2%}  {random_hit(lines, length):.1e}"
        )


if __name__ == "__main__":
    main()
