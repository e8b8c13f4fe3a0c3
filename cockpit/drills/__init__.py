"""Drills: rehearse an incident at a chosen speed, scored against the team's own policy.

The pure core, with no Textual and no HTTP client:

- `scenario`  the scenario file (Markdown with TOML front matter) and its injections
- `clock`     the drill clock: drill time from the wall clock, a start and a speed
- `inject`    which injections are due at a drill moment, given the timeline so far
- `score`     the scorecard of a played drill, as checks, Markdown and JSON
- `history`   the team's trend across drills

The scenario format and the condition vocabulary are documented in `docs/drills.md`.
"""
