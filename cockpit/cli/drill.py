"""`cockpit drill`: practise an incident at a chosen speed on the drills database, scored.

    cockpit drill --list                        the scenarios, and every broken file
    cockpit drill SCENARIO [--speed N]          the app on a new drill (default 10×)
    cockpit drill start SCENARIO [--speed N]    a new drill without the app: prints DRILL-n
    cockpit drill score [DRILL-n] [--json] [--markdown] [-o FILE]
    cockpit drill end DRILL-n                   abandon a drill: scored on what happened
    cockpit drill history [--scenario NAME] [--json]

A drill is then played with the ordinary commands, naming it: `cockpit log --incident DRILL-2`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli.context import Context, UsageError, usage_error
from cockpit.cli.lines import write_document
from cockpit.domain import one_line, parse_drill_ref

if TYPE_CHECKING:
    from cockpit.drills.history import History
    from cockpit.drills.play import Drill
    from cockpit.drills.scorecard import Scorecard
    from cockpit.store.drills import DrillStore

ACTIONS = ("start", "score", "end", "history")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "drill",
        help="practise an incident at 10× speed, scored (sends nothing)",
        description=(
            "Drills: a scenario played as an incident on a separate drills database, at a "
            "chosen speed, with every target replaced by a sink that records what would have "
            "been sent. `cockpit drill SCENARIO` opens the app; `start` plays it from scripts "
            "(every incident command takes --incident DRILL-n); `score` and `history` show "
            "how the team did against its own policy."
        ),
    )
    p.add_argument("--list", action="store_true", help="list the scenarios (and broken files)")
    p.add_argument(
        "words",
        nargs="*",
        metavar="SCENARIO | start SCENARIO | score [DRILL-n] | end DRILL-n | history",
    )
    p.add_argument("--speed", metavar="N", help="times faster than real time (1 to 120; 10)")
    p.add_argument("--json", action="store_true", help="score, history: JSON for scripts")
    p.add_argument("--markdown", action="store_true", help="score: the scorecard as Markdown")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="score: write the Markdown scorecard here ('-' for standard output)",
    )
    p.add_argument("--scenario", metavar="NAME", help="history: only this scenario")
    p.set_defaults(handler=cmd_drill)


def cmd_drill(ctx: Context) -> int:
    words: list[str] = ctx.args.words
    if ctx.args.list:
        if words:
            raise UsageError("--list takes no scenario")
        return _list(ctx)
    if not words:
        raise UsageError("name a scenario (`cockpit drill --list` shows them)")
    action, rest = words[0], words[1:]
    if action == "start":
        return _start(ctx, _one(rest, "start needs a scenario: `cockpit drill start NAME`"))
    if action == "score":
        return _score(ctx, _optional(rest, "score"))
    if action == "end":
        return _end(ctx, _one(rest, "end needs a drill id: `cockpit drill end DRILL-n`"))
    if action == "history":
        if rest:
            raise UsageError("history takes no argument (use --scenario NAME)")
        return _history(ctx)
    if rest:
        raise UsageError(f"unexpected {' '.join(rest)!r} after the scenario")
    return _open_app(ctx, action)


def _one(rest: list[str], problem: str) -> str:
    if len(rest) != 1:
        raise UsageError(problem)
    return rest[0]


def _optional(rest: list[str], action: str) -> str | None:
    if len(rest) > 1:
        raise UsageError(f"{action} takes one drill id at most")
    return rest[0] if rest else None


def _speed(ctx: Context) -> float:
    from cockpit.drills.clock import DEFAULT_SPEED, parse_speed

    if ctx.args.speed is None:
        return DEFAULT_SPEED
    with usage_error():
        speed = parse_speed(ctx.args.speed)
    return speed


def _drill_id(raw: str) -> int:
    with usage_error():
        found = parse_drill_ref(raw)
    if found is None:
        raise UsageError(f"not a drill id: {raw!r} (expected DRILL-<n>)")
    return found


def drills_store(ctx: Context, *, create: bool = False, read_only: bool = False) -> DrillStore:
    """The drills database beside the incident database (`cockpit-drills.db`)."""
    from cockpit.comms.events import configure
    from cockpit.drills.play import drills_database
    from cockpit.store.drills import DrillStore

    store = DrillStore.open(
        drills_database(ctx.db_path),
        clock=ctx.clock,
        busy_timeout_ms=ctx.config.database.busy_timeout_ms,
        create=create,
        read_only=read_only,
    )
    configure(store, ctx.config)
    ctx._store = store  # closed with the context
    return store


def _scenario(ctx: Context, name: str) -> Any:
    from cockpit.drills import play
    from cockpit.drills.scenario import ScenarioError

    try:
        return play.find(ctx.config, name)
    except (LookupError, ScenarioError) as exc:
        raise UsageError(str(exc)) from None


def _list(ctx: Context) -> int:
    from cockpit.drills import play

    scenarios, errors = play.scenarios(ctx.config)
    for scenario in scenarios:
        print(
            f"{scenario.name:<30} {one_line(scenario.title)}\n"
            f"{'':<30} {scenario.starts_at_severity} → {scenario.expected_severity} · "
            f"runbook {scenario.runbook} · {len(scenario.injects)} injections"
            + (f"\n{'':<30} {one_line(scenario.description)}" if scenario.description else "")
        )
    for error in errors:
        print(f"cockpit: {one_line(str(error))}", file=sys.stderr)
    return 1 if errors else 0


def _start(ctx: Context, name: str) -> int:
    from cockpit.drills import play

    scenario = _scenario(ctx, name)
    speed = _speed(ctx)
    store = drills_store(ctx, create=True)
    drill = play.start(store, ctx.config, scenario, speed=speed, wall=ctx.clock)
    ctx.drill, ctx.clock = drill, drill.clock
    ctx.record_drill_deliveries()
    print(drill.ref)
    return 0


def _open_app(ctx: Context, name: str) -> int:
    from cockpit.drills import play
    from cockpit.tui.app import run_drill  # deferred: Textual, which no subcommand loads

    scenario = _scenario(ctx, name)
    speed = _speed(ctx)
    store = drills_store(ctx, create=True)
    drill = play.start(store, ctx.config, scenario, speed=speed, wall=ctx.clock)
    ctx._store = None  # the app closes it
    return run_drill(ctx.config, store, drill)


def _opened(ctx: Context, store: DrillStore, raw: str | None) -> Drill:
    from cockpit.drills import play
    from cockpit.drills.scenario import ScenarioError

    if raw is not None:
        drill_id = _drill_id(raw)
    else:
        rows = store.drills()
        if not rows:
            raise UsageError("no drill played yet (`cockpit drill start SCENARIO`)")
        drill_id = rows[-1].incident_id
    try:
        return play.open_drill(store, ctx.config, drill_id, ctx.clock)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None


def _score(ctx: Context, raw: str | None) -> int:
    from cockpit.drills import play

    store = drills_store(ctx)
    drill = _opened(ctx, store, raw)
    drill = play.settle(store, ctx.config, drill)
    card = play.score(store, ctx.config, drill)
    return _show_card(ctx, card)


def _show_card(ctx: Context, card: Scorecard) -> int:
    from cockpit.cli.show import json_text
    from cockpit.drills.scorecard import render_markdown

    if ctx.args.json:
        print(json_text(card.to_json()))
        return 0
    if ctx.args.output is not None:
        return _write_card(ctx, card)
    if ctx.args.markdown:
        sys.stdout.write(render_markdown(card))
        return 0
    for line in card_lines(card):
        print(line)
    return 0


def card_lines(card: Scorecard) -> list[str]:
    """The scorecard as plain lines for a terminal."""
    from cockpit.drills.clock import format_speed
    from cockpit.drills.scorecard import AREA_NAMES, minute

    state = "resolved" if card.resolved else "not resolved: scored on what happened so far"
    lines = [
        f"{card.drill}  {one_line(card.title)}  ({card.scenario}, {format_speed(card.speed)})",
        f"score {card.score}/100 · ended at {minute(card.duration_minutes)}, {state}",
        "",
    ]
    for check in card.checks:
        mark = "✓" if check.passed else "✗"
        lines.append(f"{mark} {one_line(check.name)}")
        lines.append(f"    expected {one_line(check.expected)}")
        lines.append(f"    actual   {one_line(check.actual)}")
        if check.detail:
            lines.append(f"    {one_line(check.detail)}")
    for skipped in card.not_scored:
        area = AREA_NAMES.get(skipped.area, skipped.area)
        lines.append(f"– {area}: not scored ({one_line(skipped.reason)})")
    return lines


def _write_card(ctx: Context, card: Scorecard) -> int:
    from cockpit.drills.scorecard import render_markdown, scorecard_filename
    from cockpit.files import user_path

    text = render_markdown(card)
    if ctx.args.output == "-":
        sys.stdout.write(text)
        return 0
    path = user_path(ctx.args.output)
    if path.is_dir():
        path = path / scorecard_filename(card)
    return write_document(path, text)


def _end(ctx: Context, raw: str) -> int:
    from cockpit.drills import play

    store = drills_store(ctx)
    drill = _opened(ctx, store, raw)
    if drill.ended:
        print(f"{drill.ref} had ended already", file=sys.stderr)
    drill = play.settle(store, ctx.config, drill, abandon=True)
    return _show_card(ctx, play.score(store, ctx.config, drill))


def _history(ctx: Context) -> int:
    from cockpit.cli.show import json_text
    from cockpit.drills import play

    store = drills_store(ctx)
    found = play.history(store, ctx.config, ctx.clock, ctx.args.scenario)
    if ctx.args.json:
        print(json_text(found.to_json()))
        return 0
    if not found.drills:
        print("no drill ended yet (a drill ends when it is resolved, or with `drill end`)")
        return 0
    for line in history_lines(found):
        print(line)
    return 0


def history_lines(found: History) -> list[str]:
    """The drills, oldest first, then the latest against the average before it."""
    from cockpit.domain import format_utc

    def figure(value: float | None, unit: str = "") -> str:
        return "—" if value is None else f"{round(value, 1):g}{unit}"

    lines = [f"{'DRILL':<9} {'PLAYED (UTC)':<17} {'SCENARIO':<30} {'SCORE':>5} {'ACK':>8} MISSED"]
    for d in found.drills:
        played = format_utc(d.played_at)
        lines.append(
            f"{d.drill:<9} {played[:10]} {played[11:16]} {one_line(d.scenario)[:30]:<30} "
            f"{d.score:>5} {figure(d.acknowledge_minutes, ' min'):>8} {d.deadlines_missed:>6}"
        )
    lines.append("")
    for name, trend, unit in (
        ("time to acknowledge", found.acknowledge, " min"),
        ("deadlines missed", found.deadlines_missed, ""),
        ("score", found.score, ""),
    ):
        lines.append(
            f"{name:<20} latest {figure(trend.latest, unit)}, earlier average "
            f"{figure(trend.earlier_average, unit)}: {trend.direction}"
        )
    return lines
