"""Finding scenarios: the bundled ones and the team's own directories, the first directory
winning for each name, broken files reported one line each, and files that must not be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cockpit.config import PACKAGE_RUNBOOKS
from cockpit.domain import DEFAULT_SEVERITIES
from cockpit.drills.inject import due_injections
from cockpit.drills.library import PACKAGE_DRILLS, find_scenario, load_scenarios
from cockpit.drills.parse import MAX_BYTES, parse_scenario, read_scenario
from cockpit.drills.scenario import MAX_INJECTS, ScenarioError
from tests.drills.test_scenario_parse import HEAD, PAGE, scenario_text
from tests.drills.timeline import ZERO, m


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_teams_scenarios_come_first_and_broken_ones_are_listed(tmp_path: Path) -> None:
    ours = tmp_path / "drills"
    write(ours, "api-high-error-rate.md", scenario_text(HEAD.replace("Checkout fails", "Ours")))
    write(ours, "broken.md", scenario_text(HEAD + "speed = 3\n"))
    write(ours, "README.md", "# Our drills\n")
    write(ours, ".hidden.md", "x")
    write(ours, "notes.txt", "x")
    (ours / "folder.md").mkdir()
    scenarios, errors = load_scenarios([ours, PACKAGE_DRILLS])
    names = {s.name: s.title for s in scenarios}
    assert names["api-high-error-rate"] == "Ours"
    assert set(names) == {
        "api-high-error-rate",
        "db-connection-pool-exhausted",
        "third-party-dependency-down",
    }
    assert [str(e) for e in errors] == [
        f"{ours / 'broken.md'}: front matter: speed: unknown key (expected one of title, service, "
        "starts_at_severity, expected_severity, runbook, description, expected_steps, "
        "mitigate_within, resolve_within, inject)"
    ]


def test_a_missing_directory_is_skipped_and_a_file_is_an_error(tmp_path: Path) -> None:
    not_a_dir = write(tmp_path, "drills.md", "x")
    scenarios, errors = load_scenarios([tmp_path / "nowhere", not_a_dir, PACKAGE_DRILLS])
    assert len(scenarios) == 3
    assert [e.problem for e in errors] == ["not a directory (drills.dirs lists folders)"]


def test_checked_against_the_runbook_when_runbooks_are_known(tmp_path: Path) -> None:
    ours = tmp_path / "drills"
    write(ours, "late.md", scenario_text(HEAD + "expected_steps = [1, 12]\n"))
    write(ours, "lost.md", scenario_text(HEAD.replace("api-high-error-rate", "no-such-runbook")))
    _, unchecked = load_scenarios([ours])
    assert unchecked == []
    _, errors = load_scenarios([ours], runbook_dirs=[PACKAGE_RUNBOOKS])
    assert [e.problem for e in errors] == [
        "front matter: expected_steps: runbook 'api-high-error-rate' has no step 12 "
        "(it has 9 steps)",
        "front matter: runbook: no runbook named 'no-such-runbook' (known: api-high-error-rate, "
        "db-connection-pool-exhausted, third-party-dependency-down; see `cockpit runbooks`)",
    ]


def test_find_scenario(tmp_path: Path) -> None:
    found = find_scenario(
        [PACKAGE_DRILLS],
        "api-high-error-rate.md",
        runbook_dirs=[PACKAGE_RUNBOOKS],
        severities=DEFAULT_SEVERITIES,
    )
    assert found.name == "api-high-error-rate"
    with pytest.raises(LookupError, match="did you mean 'api-high-error-rate'"):
        find_scenario([PACKAGE_DRILLS], "api-high-error")
    for bad in ("../api-high-error-rate", "", "a\\b"):
        with pytest.raises(LookupError, match="not a scenario name"):
            find_scenario([PACKAGE_DRILLS], bad)
    with pytest.raises(LookupError, match=r"\(known: none\)"):
        find_scenario([tmp_path], "x")


def test_files_that_must_not_be_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(ScenarioError, match=r"fifo\.md: not a regular file"):
        read_scenario(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        find_scenario([tmp_path], "fifo")
    _, errors = load_scenarios([tmp_path])
    assert [e.problem for e in errors] == ["not a regular file"]
    huge = write(tmp_path / "big", "huge.md", scenario_text(body="x" * MAX_BYTES))
    with pytest.raises(ScenarioError, match=r"huge\.md: larger than 1000 kB"):
        read_scenario(huge)


def test_an_unreadable_file(tmp_path: Path) -> None:
    locked = write(tmp_path, "locked.md", scenario_text())
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions do not apply")
        with pytest.raises(ScenarioError, match=r"locked\.md: cannot read: Permission denied"):
            read_scenario(locked)
    finally:
        locked.chmod(0o644)


def chain(length: int) -> str:
    """The page, then `length - 1` injections each waiting for the one before."""
    parts = [PAGE.replace("[[inject]]", '[[inject]]\nid = "i1"')]
    for k in range(2, length + 1):
        parts.append(
            f'\n[[inject]]\nid = "i{k}"\nkind = "message"\nauthor = "a"\ntext = "t{k}"\n'
            f'after = {{ injected = "i{k - 1}" }}\ndelay = 1\n'
        )
    return scenario_text(injects="".join(parts))


def test_at_most_a_hundred_injections_and_a_long_chain_works() -> None:
    longest = parse_scenario(chain(MAX_INJECTS), Path("/drills/chain.md"))
    due = due_injections(longest, ZERO, m(10_000), [])
    assert [i.minute for i in due] == list(range(MAX_INJECTS))
    with pytest.raises(ScenarioError, match=r"inject: 101 injections, at most 100"):
        parse_scenario(chain(MAX_INJECTS + 1), Path("/drills/chain.md"))


def test_a_loop_at_the_end_of_a_long_chain() -> None:
    text = chain(MAX_INJECTS).replace(
        'after = { injected = "i1" }', 'after = { injected = "i100" }'
    )  # i2 now waits for i100, which waits for ... i2
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, Path("/drills/loop.md"))
    assert caught.value.problem.startswith(
        "front matter: inject[2].after.injected: injections wait for each other in a loop "
        "(i2 → i100 → i99 → "
    )
    assert caught.value.problem.endswith("i3 → i2)")


def test_injections_waiting_on_the_same_one_are_no_loop() -> None:
    extra = "".join(
        f'\n[[inject]]\nid = "{name}"\nkind = "message"\nauthor = "a"\ntext = "t"\n{when}\n'
        for name, when in (
            ("a", "at = 1"),
            ("b", 'after = { injected = "a" }'),
            ("c", 'after = { injected = "a" }\nunless = { injected = "b" }\nwithin = 2'),
            ("d", 'after = { injected = "c" }\nunless = { injected = "b" }\nwithin = 2'),
        )
    )
    scenario = parse_scenario(scenario_text(injects=PAGE + extra), Path("/drills/diamond.md"))
    assert [i.inject.id for i in due_injections(scenario, ZERO, m(60), [])] == ["1", "a", "b"]


def test_the_example_in_the_format_reference_parses() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "drills.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    scenario = parse_scenario(example, Path("/drills/example.md"))
    assert [i.kind.value for i in scenario.injects] == ["alert", "message", "metric"]
    assert scenario.briefing.startswith("# Checkout fails after the 02:00 deploy")
