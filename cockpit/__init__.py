"""cockpit: a terminal incident cockpit.

The house, floor by floor (`lint-imports` enforces the floors and the absence of cycles; the
contracts are in `pyproject.toml`):

Front ends (the only floor that may import Textual or print for people)
    tui/        the Textual app: `app` (CockpitApp), `screens/` (cockpit, incident view, drill,
                scorecard, post-mortem, details), `dialogs/` (one `Dialog` base for save / error
                / cancel), `widgets/` (panes, timeline, runbook, deliveries, drill banner),
                `writer` (writes on a thread of their own), `delivery_runner` and `team`
                (delivery and team sync in the background), `keymap`/`keys`, `unsaved`.
    cli/        one module per subcommand (`log.py` is `cockpit log`) over `context.py`
                (Context, UsageError, the incident resolvers); `lines.py` holds what several
                subcommands print alike.

Delivery (HTTP; never Textual)
    comms/      the outbox worker, one module per target (Slack, Statuspage, Instatus, Better
                Stack, PagerDuty, webhook, and the drill `sink`), rendering and templates,
                the secret scrubber, service probes for the doctor, events (the store's hook),
                and team sync through the Slack thread (`slack_thread`, `sync` over
                `sync_read`, what a read imports, confirms and corrects, and
                `sync_post`, the root and this laptop's echoes, paced).
                `worker` (DeliveryWorker) schedules lanes, claims and sends; `attempt` is what
                a target sees of one attempt; `outcomes` records what each attempt came to.

The core (no Textual, Rich or httpx; `cockpit log` loads only what it needs)
    domain/     the incident, entries, times people type (`moments`), deadlines, text limits,
                what a resolved incident keeps, post-mortem and delivery models.
    store/      SQLite: `schema` (migrations), `guard` (foreign, damaged, replaced files),
                `rows`, `incidents`, `timeline`, `outbox`, `postmortems`, `syncing` (imports,
                shared remote ids), `sharing` (shared entries, what to send, the fold, peers),
                `threads`, `drills`; `Store` composes them.
    sync/       team sync's pure core: ids, the hybrid logical clock, the state as a fold over
                entries, the Slack wire format, people's Slack text.
    runbooks/   runbook model, front matter, steps parsed with markdown-it-py, the library,
                the checklist, escalation, drafting.
    drills/     scenarios, the drill clock, injections, playing a drill, the scorecard.
    postmortem/ due dates, the report (metrics from the timeline), Markdown and Mermaid render.
    config/     the tables, services, loading and locating, checks, the starter file.
    board.py (the read model of one incident), metrics.py, runbook_policy.py (the cadence and
    escalation rules both front ends use), markdown.py (the one Markdown escaping dialect),
    plaintext.py, secrets.py, files.py, oncall.py, keymap.py, doctor.py, demo.py.
"""

__version__ = "0.1.0"
