"""Scenario files: what parses, and every malformed scenario refused in one line naming the file
and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cockpit.config import PACKAGE_RUNBOOKS
from cockpit.domain import DEFAULT_SEVERITIES, Kind
from cockpit.drills.library import check_scenario
from cockpit.drills.parse import parse_scenario, read_scenario
from cockpit.drills.scenario import Event, InjectKind, Scenario, ScenarioError
from cockpit.runbooks import Runbook, find_runbook

PATH = Path("/drills/sample.md")
HEAD = """\
title = "Checkout fails"
service = "api"
starts_at_severity = "SEV-2"
expected_severity = "SEV-1"
runbook = "api-high-error-rate"
"""
PAGE = """
[[inject]]
kind = "alert"
source = "grafana"
at = 0
text = "api-5xx-rate 6.8%"
"""


def scenario_text(head: str = HEAD, injects: str = PAGE, body: str = "You are paged.") -> str:
    return f"+++\n{head}{injects}+++\n\n{body}\n"


def parse(head: str = HEAD, injects: str = PAGE, body: str = "You are paged.") -> Scenario:
    return parse_scenario(scenario_text(head, injects, body), PATH)


def problem(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, PATH)
    message = str(caught.value)
    assert message.startswith(f"{PATH}: ")
    assert "\n" not in message
    return caught.value.problem


def with_inject(extra: str) -> str:
    """The page, then one more injection made of `extra`."""
    return PAGE + "\n[[inject]]\n" + extra


MESSAGE = 'kind = "message"\nauthor = "Maya (support)"\ntext = "tickets"\n'


# ---- what parses -----------------------------------------------------------------------------


def test_a_minimal_scenario() -> None:
    scenario = parse()
    assert scenario.name == "sample"
    assert scenario.title == "Checkout fails"
    assert (scenario.starts_at_severity, scenario.expected_severity) == ("SEV-2", "SEV-1")
    assert scenario.runbook == "api-high-error-rate"
    assert scenario.briefing == "You are paged."
    assert scenario.page.kind is InjectKind.ALERT
    assert scenario.page.who == "grafana"
    assert scenario.page.id == "1"
    assert scenario.expected_steps == ()
    assert scenario.mitigate_within is None


def test_injections_sorted_by_minute_then_conditional_ones_in_file_order() -> None:
    injects = (
        "\n[[inject]]\nid = 'late'\n" + MESSAGE + "at = 30\n"
        "\n[[inject]]\nid = 'when-fixed'\n"
        + MESSAGE
        + "after = { status = 'monitoring' }\n"
        + PAGE
        + "\n[[inject]]\nid = 'tweet'\n"
        + MESSAGE
        + "unless = { update = 1 }\nwithin = 10\n"
        "\n[[inject]]\nid = 'early'\n" + MESSAGE + "at = 5\n"
        "\n[[inject]]\nid = 'relapse'\n" + MESSAGE + "after = { injected = 'when-fixed' }\n"
    )
    scenario = parse(injects=injects)
    assert [i.id for i in scenario.injects] == [
        "3",
        "early",
        "tweet",
        "late",
        "when-fixed",
        "relapse",
    ]
    assert [i.index for i in scenario.injects] == [3, 5, 4, 1, 2, 6]


def test_every_event_and_its_description() -> None:
    events = {
        "logged": "{ logged = ['Rolled  BACK', 'revert'], kind = ['action', 'update'] }",
        "status": "{ status = 'Monitoring' }",
        "severity": "{ severity = 'SEV-1' }",
        "step": "{ step = 6 }",
        "update": "{ update = 2 }",
        "role": "{ role = 'communicator' }",
        "escalated": "{ escalated = true }",
        "injected": "{ injected = 'page' }",
    }
    injects = PAGE.replace("[[inject]]", "[[inject]]\nid = 'page'")
    for name, condition in events.items():
        injects += f"\n[[inject]]\nid = '{name}'\n{MESSAGE}after = {condition}\ndelay = 2\n"
    scenario = parse(injects=injects)
    described = {i.id: i.when() for i in scenario.injects if i.after}
    assert described == {
        "logged": "2 min after an action or update saying “rolled back” or “revert”",
        "status": "2 min after status monitoring",
        "severity": "2 min after severity SEV-1",
        "step": "2 min after runbook step 6 ticked",
        "update": "2 min after status update #2 published",
        "role": "2 min after someone assigned as communicator",
        "escalated": "2 min after the escalation recorded",
        "injected": "2 min after injection page arrived",
    }
    logged = scenario.inject("logged").after
    assert logged is not None and logged.event is Event.LOGGED
    assert logged.phrases == ("rolled back", "revert")
    assert logged.kinds == (Kind.ACTION, Kind.UPDATE)


def test_logged_searches_what_people_type_by_default() -> None:
    scenario = parse(injects=with_inject(MESSAGE + "after = { logged = 'rollback' }\n"))
    condition = scenario.injects[-1].after
    assert condition is not None
    assert condition.kinds == (Kind.NOTE, Kind.ACTION, Kind.DECISION)
    assert scenario.injects[-1].when() == "on a note, action or decision saying “rollback”"


def test_unless_and_within_read_as_a_deadline() -> None:
    extra = MESSAGE + "after = { severity = 'SEV-1' }\nunless = { role = 'communicator' }\n"
    scenario = parse(injects=with_inject(extra + "within = 5\n"))
    assert scenario.injects[-1].when() == (
        "5 min after severity SEV-1, unless someone assigned as communicator by then"
    )
    tweet = parse(injects=with_inject(MESSAGE + "unless = { update = 1 }\nwithin = 10\n"))
    assert tweet.injects[-1].earliest == 10
    assert tweet.injects[-1].when() == "at 10 min, unless the first status update published by then"


def test_optional_keys() -> None:
    head = HEAD + (
        'description = "A deploy goes wrong"\nexpected_steps = [1, 2, 6, 9]\n'
        "mitigate_within = 20\nresolve_within = 45\n"
    )
    scenario = parse(head=head)
    assert scenario.description == "A deploy goes wrong"
    assert scenario.expected_steps == (1, 2, 6, 9)
    assert (scenario.mitigate_within, scenario.resolve_within) == (20, 45)


def test_states_of_metrics_and_status_pages() -> None:
    extra = 'kind = "metric"\nsource = "grafana"\nstate = "relapses"\ntext = "up"\nat = 3\n'
    extra += '\n[[inject]]\nkind = "status_page"\nsource = "status.stripe.com"\n'
    extra += 'state = "red"\ntext = "down"\nat = 4\n'
    scenario = parse(injects=with_inject(extra))
    metric, page = scenario.injects[1], scenario.injects[2]
    assert (metric.kind, metric.state, metric.kind.entry_kind) == (
        InjectKind.METRIC,
        "relapses",
        Kind.EXTERNAL,
    )
    assert (page.kind, page.state) == (InjectKind.STATUS_PAGE, "red")
    assert InjectKind.MESSAGE.entry_kind is Kind.NOTE


def test_bom_crlf_and_control_characters() -> None:
    text = "\ufeff" + scenario_text(body="Paged \x1b[31mnow\x1b[0m.").replace("\n", "\r\n")
    scenario = parse_scenario(text, PATH)
    assert scenario.briefing == "Paged now."
    hostile = parse(
        injects=PAGE.replace('"api-5xx-rate 6.8%"', '"rate\\u001b]0;pwned\\u0007 6.8%"')
    )
    assert hostile.page.text == "rate 6.8%"


def test_the_briefing_keeps_its_markdown() -> None:
    scenario = parse(body="# Paged\n\n- one\n- two\n\n```sh\nkubectl get pods\n```")
    assert scenario.briefing.startswith("# Paged\n\n- one")
    assert "kubectl get pods" in scenario.briefing


# ---- malformed scenarios: one line naming the key --------------------------------------------

TIMED = MESSAGE + "at = 3\n"
MALFORMED: list[tuple[str, str, str]] = [
    # (what, text, the problem starts with)
    ("no front matter", "# Just a briefing\n", "front matter: missing"),
    ("front matter after a blank line", "\n" + scenario_text(), "front matter: missing"),
    ("yaml", "---\ntitle: x\n---\nbody\n", "front matter must be TOML"),
    ("never closed", "+++\ntitle = 'x'\n\nbody\n", "front matter opened with +++"),
    ("toml syntax", "+++\ntitle = \n+++\nbody\n", "front matter: TOML syntax error"),
    (
        "no title",
        scenario_text(HEAD.replace('title = "Checkout fails"\n', "")),
        "front matter: title: missing",
    ),
    (
        "title a number",
        scenario_text(HEAD.replace('"Checkout fails"', "3")),
        "front matter: title: expected a string, got the number 3",
    ),
    (
        "title empty",
        scenario_text(HEAD.replace('"Checkout fails"', '"  "')),
        "front matter: title: is empty",
    ),
    (
        "no service",
        scenario_text(HEAD.replace('service = "api"\n', "")),
        "front matter: service: missing",
    ),
    (
        "no starting severity",
        scenario_text(HEAD.replace('starts_at_severity = "SEV-2"\n', "")),
        "front matter: starts_at_severity: missing",
    ),
    (
        "expected severity a list",
        scenario_text(HEAD.replace('"SEV-1"', '["SEV-1"]')),
        "front matter: expected_severity: expected a string",
    ),
    (
        "no runbook",
        scenario_text(HEAD.replace('runbook = "api-high-error-rate"\n', "")),
        "front matter: runbook: missing",
    ),
    (
        "runbook a path",
        scenario_text(HEAD.replace('"api-high-error-rate"', '"../etc/passwd"')),
        "front matter: runbook: not a runbook name",
    ),
    (
        "runbook a number",
        scenario_text(HEAD.replace('"api-high-error-rate"', "7")),
        "front matter: runbook: expected a runbook name, got the number 7",
    ),
    (
        "misspelt key",
        scenario_text(HEAD + 'titel = "x"\n'),
        "front matter: titel: unknown key (did you mean title?)",
    ),
    (
        "unknown key",
        scenario_text(HEAD + "speed = 10\n"),
        "front matter: speed: unknown key (expected one of title, ",
    ),
    (
        "steps empty",
        scenario_text(HEAD + "expected_steps = []\n"),
        "front matter: expected_steps: expected a list of step numbers, got an empty list",
    ),
    (
        "steps zero",
        scenario_text(HEAD + "expected_steps = [0]\n"),
        "front matter: expected_steps: expected step numbers from 1 to 1000, got 0",
    ),
    (
        "steps strings",
        scenario_text(HEAD + 'expected_steps = ["1"]\n'),
        "front matter: expected_steps: expected step numbers, got the string '1'",
    ),
    (
        "steps repeated",
        scenario_text(HEAD + "expected_steps = [1, 2, 1]\n"),
        "front matter: expected_steps: step 1 is listed twice",
    ),
    (
        "steps a table",
        scenario_text(HEAD + "expected_steps = { a = 1 }\n"),
        "front matter: expected_steps: expected a list of step numbers, got a table",
    ),
    (
        "mitigate zero",
        scenario_text(HEAD + "mitigate_within = 0\n"),
        "front matter: mitigate_within: expected 1 to 1440 minutes",
    ),
    (
        "mitigate two days",
        scenario_text(HEAD + "mitigate_within = 2880\n"),
        "front matter: mitigate_within: expected 1 to 1440 minutes (a day of drill time), got 2880",
    ),
    (
        "mitigate fractional",
        scenario_text(HEAD + "mitigate_within = 2.5\n"),
        "front matter: mitigate_within: expected a whole number of minutes, got the number 2.5",
    ),
    (
        "mitigate boolean",
        scenario_text(HEAD + "mitigate_within = true\n"),
        "front matter: mitigate_within: expected a whole number of minutes, got a boolean",
    ),
    (
        "resolve before mitigate",
        scenario_text(HEAD + "mitigate_within = 30\nresolve_within = 20\n"),
        "front matter: mitigate_within: 30 is later than resolve_within (20)",
    ),
    ("no injections", scenario_text(injects=""), "front matter: inject: missing"),
    (
        "injections empty",
        scenario_text(injects="inject = []\n"),
        "front matter: inject: no injections",
    ),
    (
        "inject a string",
        scenario_text(injects='inject = "page"\n'),
        "front matter: inject: expected [[inject]] tables (an array of tables), got the string "
        "'page'",
    ),
    (
        "inject a table",
        scenario_text(injects="\n[inject]\nkind = 'alert'\n"),
        "front matter: inject: expected [[inject]] tables (an array of tables), got a table",
    ),
    (
        "no page at 0",
        scenario_text(injects=PAGE.replace("at = 0", "at = 1")),
        "front matter: inject: no alert at minute 0",
    ),
    (
        "page is conditional",
        scenario_text(injects=PAGE.replace("at = 0", "after = { update = 1 }")),
        "front matter: inject: no alert at minute 0",
    ),
    (
        "kind missing",
        scenario_text(injects=with_inject('source = "x"\ntext = "t"\nat = 1\n')),
        "front matter: inject[2].kind: expected one of alert, message, metric, status_page; "
        "missing",
    ),
    (
        "kind unknown",
        scenario_text(injects=with_inject('kind = "tweet"\ntext = "t"\nat = 1\n')),
        "front matter: inject[2].kind: expected one of alert, message, metric, status_page; got "
        "the string 'tweet'",
    ),
    (
        "kind a list",
        scenario_text(injects=with_inject('kind = ["alert"]\ntext = "t"\nat = 1\n')),
        "front matter: inject[2].kind: expected one of alert, message, metric, status_page; got a "
        "list",
    ),
    (
        "inject key misspelt",
        scenario_text(injects=with_inject(TIMED + 'sorce = "x"\n')),
        "front matter: inject[2].sorce: unknown key (did you mean source?)",
    ),
    (
        "inject key unknown",
        scenario_text(injects=with_inject(TIMED + "when = 3\n")),
        "front matter: inject[2].when: unknown key (did you mean within?)",
    ),
    (
        "alert with an author",
        scenario_text(injects=PAGE.replace("source", "author")),
        "front matter: inject[1].author: use source for an alert, not author",
    ),
    (
        "message with a source",
        scenario_text(injects=with_inject(TIMED.replace("author", "source"))),
        "front matter: inject[2].source: use author for a message, not source",
    ),
    (
        "alert without a source",
        scenario_text(injects=PAGE.replace('source = "grafana"\n', "")),
        "front matter: inject[1].source: missing (who the alert comes from)",
    ),
    (
        "empty author",
        scenario_text(injects=with_inject(TIMED.replace('"Maya (support)"', '""'))),
        "front matter: inject[2].author: is empty",
    ),
    (
        "no text",
        scenario_text(injects=PAGE.replace('text = "api-5xx-rate 6.8%"\n', "")),
        "front matter: inject[1].text: missing (what arrives)",
    ),
    (
        "empty text",
        scenario_text(injects=PAGE.replace('"api-5xx-rate 6.8%"', '" \\n "')),
        "front matter: inject[1].text: is empty",
    ),
    (
        "text a number",
        scenario_text(injects=PAGE.replace('"api-5xx-rate 6.8%"', "6.8")),
        "front matter: inject[1].text: expected a string, got the number 6.8",
    ),
    (
        "state on an alert",
        scenario_text(injects=PAGE + 'state = "red"\n'),
        "front matter: inject[1].state: only a metric or a status_page has a state, not an alert",
    ),
    (
        "metric without state",
        scenario_text(injects=with_inject('kind = "metric"\nsource = "g"\ntext = "t"\nat = 1\n')),
        "front matter: inject[2].state: expected recovers or relapses; missing",
    ),
    (
        "status page state",
        scenario_text(
            injects=with_inject(
                'kind = "status_page"\nsource = "s"\nstate = "amber"\ntext = "t"\nat = 1\n'
            )
        ),
        "front matter: inject[2].state: expected red or green; got the string 'amber'",
    ),
    (
        "at negative",
        scenario_text(injects=with_inject(MESSAGE + "at = -1\n")),
        "front matter: inject[2].at: expected 0 to 1440 minutes",
    ),
    (
        "at beyond a day",
        scenario_text(injects=with_inject(MESSAGE + "at = 1441\n")),
        "front matter: inject[2].at: expected 0 to 1440 minutes (a day of drill time), got 1441",
    ),
    (
        "at fractional",
        scenario_text(injects=with_inject(MESSAGE + "at = 1.5\n")),
        "front matter: inject[2].at: expected a whole number of minutes, got the number 1.5",
    ),
    (
        "at a string",
        scenario_text(injects=with_inject(MESSAGE + 'at = "5"\n')),
        "front matter: inject[2].at: expected a whole number of minutes, got the string '5'",
    ),
    (
        "at a time of day",
        scenario_text(injects=with_inject(MESSAGE + "at = 02:14:00\n")),
        "front matter: inject[2].at: expected a whole number of minutes, got time",
    ),
    (
        "delay beyond a day",
        scenario_text(injects=with_inject(MESSAGE + "after = { step = 1 }\ndelay = 5000\n")),
        "front matter: inject[2].delay: expected 0 to 1440 minutes",
    ),
    (
        "within zero",
        scenario_text(injects=with_inject(MESSAGE + "unless = { step = 1 }\nwithin = 0\n")),
        "front matter: inject[2].within: expected 1 to 1440 minutes",
    ),
    (
        "no when",
        scenario_text(injects=with_inject(MESSAGE)),
        "front matter: inject[2].at: missing: say when",
    ),
    (
        "at and after",
        scenario_text(injects=with_inject(MESSAGE + "at = 3\nafter = { step = 1 }\n")),
        "front matter: inject[2].at: goes alone; with after, say when with delay",
    ),
    (
        "at and unless",
        scenario_text(injects=with_inject(MESSAGE + "at = 3\nunless = { step = 1 }\nwithin = 2\n")),
        "front matter: inject[2].at: goes alone; with unless, say when with within",
    ),
    (
        "delay alone",
        scenario_text(injects=with_inject(MESSAGE + "delay = 3\n")),
        "front matter: inject[2].delay: goes with after",
    ),
    (
        "within alone",
        scenario_text(injects=with_inject(MESSAGE + "within = 3\n")),
        "front matter: inject[2].within: goes with unless",
    ),
    (
        "unless alone",
        scenario_text(injects=with_inject(MESSAGE + "unless = { update = 1 }\n")),
        "front matter: inject[2].unless: needs within",
    ),
    (
        "delay with unless",
        scenario_text(
            injects=with_inject(
                MESSAGE + "after = { step = 1 }\nunless = { step = 2 }\nwithin = 3\ndelay = 1\n"
            )
        ),
        "front matter: inject[2].delay: with unless, within says when",
    ),
    (
        "after a string",
        scenario_text(injects=with_inject(MESSAGE + 'after = "monitoring"\n')),
        'front matter: inject[2].after: expected a table such as { status = "monitoring" }, got '
        "the string 'monitoring'",
    ),
    (
        "after empty",
        scenario_text(injects=with_inject(MESSAGE + "after = {}\n")),
        "front matter: inject[2].after: no event (expected one of logged, status, severity, step, "
        "update, role, escalated, injected)",
    ),
    (
        "two events",
        scenario_text(
            injects=with_inject(MESSAGE + "after = { status = 'monitoring', step = 3 }\n")
        ),
        "front matter: inject[2].after: one event per condition, got status and step",
    ),
    (
        "event misspelt",
        scenario_text(injects=with_inject(MESSAGE + "after = { stauts = 'monitoring' }\n")),
        "front matter: inject[2].after.stauts: unknown key (did you mean status?)",
    ),
    (
        "unknown status",
        scenario_text(injects=with_inject(MESSAGE + "after = { status = 'fixed' }\n")),
        "front matter: inject[2].after.status: unknown status 'fixed'",
    ),
    (
        "status investigating",
        scenario_text(injects=with_inject(MESSAGE + "after = { status = 'investigating' }\n")),
        "front matter: inject[2].after.status: every drill starts investigating",
    ),
    (
        "status a number",
        scenario_text(injects=with_inject(MESSAGE + "after = { status = 3 }\n")),
        "front matter: inject[2].after.status: expected a status, got the number 3",
    ),
    (
        "step zero",
        scenario_text(injects=with_inject(MESSAGE + "after = { step = 0 }\n")),
        "front matter: inject[2].after.step: expected a step number from 1 to 1000, got 0",
    ),
    (
        "step a string",
        scenario_text(injects=with_inject(MESSAGE + "after = { step = '1' }\n")),
        "front matter: inject[2].after.step: expected a step number, got the string '1'",
    ),
    (
        "update zero",
        scenario_text(injects=with_inject(MESSAGE + "unless = { update = 0 }\nwithin = 5\n")),
        "front matter: inject[2].unless.update: expected an update number (1: the first) from 1 "
        "to 1000, got 0",
    ),
    (
        "escalated false",
        scenario_text(injects=with_inject(MESSAGE + "after = { escalated = false }\n")),
        "front matter: inject[2].after.escalated: expected true, got a boolean",
    ),
    (
        "escalated a string",
        scenario_text(injects=with_inject(MESSAGE + "after = { escalated = 'yes' }\n")),
        "front matter: inject[2].after.escalated: expected true, got the string 'yes'",
    ),
    (
        "role empty",
        scenario_text(injects=with_inject(MESSAGE + "after = { role = '' }\n")),
        "front matter: inject[2].after.role: is empty",
    ),
    (
        "severity empty",
        scenario_text(injects=with_inject(MESSAGE + "after = { severity = ' ' }\n")),
        "front matter: inject[2].after.severity: is empty",
    ),
    (
        "severity at the start",
        scenario_text(injects=with_inject(MESSAGE + "after = { severity = 'sev2' }\n")),
        "front matter: inject[2].after.severity: the drill starts at SEV-2, so this is true at "
        "minute 0",
    ),
    (
        "logged empty",
        scenario_text(injects=with_inject(MESSAGE + "after = { logged = ' ' }\n")),
        "front matter: inject[2].after.logged: an empty phrase matches everything",
    ),
    (
        "logged empty list",
        scenario_text(injects=with_inject(MESSAGE + "after = { logged = [] }\n")),
        "front matter: inject[2].after.logged: expected a phrase or a list of phrases, got a list",
    ),
    (
        "logged numbers",
        scenario_text(injects=with_inject(MESSAGE + "after = { logged = [1] }\n")),
        "front matter: inject[2].after.logged: expected a phrase or a list of phrases, got a list "
        "with non-strings",
    ),
    (
        "logged kind unknown",
        scenario_text(injects=with_inject(MESSAGE + "after = { logged = 'x', kind = 'status' }\n")),
        "front matter: inject[2].after.kind: expected one of note, action, decision, update, got "
        "'status'",
    ),
    (
        "kind without logged",
        scenario_text(injects=with_inject(MESSAGE + "after = { step = 1, kind = 'note' }\n")),
        "front matter: inject[2].after.kind: goes with logged",
    ),
    (
        "injected unknown",
        scenario_text(injects=with_inject(MESSAGE + "after = { injected = 'nope' }\n")),
        "front matter: inject[2].after.injected: no injection has the id 'nope'",
    ),
    (
        "injected not an id",
        scenario_text(injects=with_inject(MESSAGE + "after = { injected = 'Bad Id' }\n")),
        "front matter: inject[2].after.injected: not an injection id: 'Bad Id'",
    ),
    (
        "injected by position",
        scenario_text(injects=with_inject(MESSAGE + "after = { injected = '1' }\n")),
        "front matter: inject[2].after.injected: not an injection id: '1' (give that injection an "
        "id)",
    ),
    (
        "waits for itself",
        scenario_text(injects=with_inject("id = 'a'\n" + MESSAGE + "after = { injected = 'a' }\n")),
        "front matter: inject[2].after.injected: an injection cannot wait for itself",
    ),
    (
        "after loop",
        scenario_text(
            injects=with_inject(
                "id = 'a'\n"
                + MESSAGE
                + "after = { injected = 'b' }\n[[inject]]\nid = 'b'\n"
                + MESSAGE
                + "after = { injected = 'a' }\n"
            )
        ),
        "front matter: inject[2].after.injected: injections wait for each other in a loop (a → b "
        "→ a)",
    ),
    (
        "unless loop",
        scenario_text(
            injects=with_inject(
                "id = 'a'\n"
                + MESSAGE
                + "unless = { injected = 'b' }\nwithin = 5\n[[inject]]\nid = 'b'\n"
                + MESSAGE
                + "after = { injected = 'c' }\n[[inject]]\nid = 'c'\n"
                + MESSAGE
                + "after = { injected = 'a' }\n"
            )
        ),
        "front matter: inject[2].unless.injected: injections wait for each other in a loop (a → b "
        "→ c → a)",
    ),
    (
        "same event twice",
        scenario_text(
            injects=with_inject(
                MESSAGE + "after = { step = 2 }\nunless = { step = 2 }\nwithin = 3\n"
            )
        ),
        "front matter: inject[2].unless: the same event as after, so the injection can never "
        "arrive",
    ),
    (
        "duplicate ids",
        scenario_text(injects=with_inject("id = 'x'\n" + TIMED + "[[inject]]\nid = 'x'\n" + TIMED)),
        "front matter: inject[3].id: 'x' is already the id of inject[2]",
    ),
    (
        "id upper case",
        scenario_text(injects=with_inject("id = 'Tweet'\n" + TIMED)),
        "front matter: inject[2].id: not an id: 'Tweet' (lower-case letters, digits, - and _, "
        "starting with a letter)",
    ),
    (
        "id a number",
        scenario_text(injects=with_inject("id = 3\n" + TIMED)),
        "front matter: inject[2].id: not an id: the number 3",
    ),
    (
        "id with a slash",
        scenario_text(injects=with_inject("id = 'a/b'\n" + TIMED)),
        "front matter: inject[2].id: not an id: 'a/b'",
    ),
    (
        "empty briefing",
        scenario_text(body=" \n\n "),
        "briefing: the body after the front matter is empty",
    ),
]


@pytest.mark.parametrize(("what", "text", "expected"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_scenarios_name_file_and_key(what: str, text: str, expected: str) -> None:
    assert problem(text).startswith(expected), what


def test_read_scenario_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        read_scenario(tmp_path / "missing.md")
    with pytest.raises(ScenarioError, match="is a directory"):
        read_scenario(tmp_path)
    latin = tmp_path / "latin.md"
    latin.write_bytes(scenario_text(body="Caf\xe9").encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin\.md: not UTF-8 text"):
        read_scenario(latin)
    good = tmp_path / "good.md"
    good.write_text(scenario_text(), encoding="utf-8")
    assert read_scenario(good).name == "good"


# ---- checked against the runbook and the configuration --------------------------------------


def api_runbook() -> Runbook:
    return find_runbook([PACKAGE_RUNBOOKS], "api-high-error-rate")


def check_problem(scenario: Scenario, **given: object) -> str:
    with pytest.raises(ScenarioError) as caught:
        check_scenario(scenario, **given)  # type: ignore[arg-type]
    assert str(caught.value).startswith(f"{PATH}: front matter: ")
    return caught.value.problem


def test_a_step_the_runbook_does_not_have() -> None:
    runbook = api_runbook()
    late = parse(injects=with_inject(MESSAGE + "after = { step = 12 }\n"))
    assert check_problem(late, runbook=runbook) == (
        "front matter: inject[2].after.step: runbook 'api-high-error-rate' has no step 12 "
        "(it has 9 steps), so this never happens"
    )
    unless = parse(injects=with_inject(MESSAGE + "unless = { step = 10 }\nwithin = 4\n"))
    assert check_problem(unless, runbook=runbook).startswith(
        "front matter: inject[2].unless.step: runbook 'api-high-error-rate' has no step 10"
    )
    steps = parse(head=HEAD + "expected_steps = [1, 2, 10]\n")
    assert check_problem(steps, runbook=runbook) == (
        "front matter: expected_steps: runbook 'api-high-error-rate' has no step 10 "
        "(it has 9 steps)"
    )
    fine = parse(injects=with_inject(MESSAGE + "after = { step = 9 }\n"))
    assert check_scenario(fine, runbook=runbook) == fine


def test_escalation_needs_a_rule_in_the_runbook() -> None:
    runbook = api_runbook()
    no_rule = dataclasses.replace(runbook, escalate_after_minutes=None)
    scenario = parse(injects=with_inject(MESSAGE + "after = { escalated = true }\n"))
    assert check_scenario(scenario, runbook=runbook) == scenario
    assert check_problem(scenario, runbook=no_rule) == (
        "front matter: inject[2].after.escalated: runbook 'api-high-error-rate' has no "
        "escalation rule, so nothing is escalated"
    )


def test_severity_names_against_the_taxonomy() -> None:
    assert check_problem(
        parse(head=HEAD.replace('"SEV-2"', '"SEV-0"')), severities=DEFAULT_SEVERITIES
    ).startswith("front matter: starts_at_severity: unknown severity 'SEV-0' (expected one of")
    assert check_problem(
        parse(head=HEAD.replace('"SEV-1"', '"critical"')), severities=DEFAULT_SEVERITIES
    ).startswith("front matter: expected_severity: unknown severity 'critical'")
    odd = parse(injects=with_inject(MESSAGE + "after = { severity = 'SEV-9' }\n"))
    assert check_problem(odd, severities=DEFAULT_SEVERITIES).startswith(
        "front matter: inject[2].after.severity: unknown severity 'SEV-9'"
    )
    spelt = parse(
        head=HEAD.replace('"SEV-1"', '"sev1"').replace('"SEV-2"', '"Sev 2"'),
        injects=with_inject(MESSAGE + "after = { severity = 'sev_1' }\n"),
    )
    checked = check_scenario(spelt, severities=DEFAULT_SEVERITIES)
    assert (checked.starts_at_severity, checked.expected_severity) == ("SEV-2", "SEV-1")
    after = checked.injects[-1].after
    assert after is not None and after.name == "SEV-1"


def test_role_names_against_the_configuration() -> None:
    scenario = parse(injects=with_inject(MESSAGE + "after = { role = 'comms' }\n"))
    assert check_problem(scenario, roles=["commander", "communicator"]) == (
        "front matter: inject[2].after.role: no role 'comms' (roles: commander, communicator)"
    )
    assert check_scenario(scenario) == scenario  # nothing to check against


def test_the_runbook_must_be_the_scenarios() -> None:
    other = find_runbook([PACKAGE_RUNBOOKS], "db-connection-pool-exhausted")
    with pytest.raises(ValueError, match="not the scenario's"):
        check_scenario(parse(), runbook=other)
