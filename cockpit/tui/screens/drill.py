"""The cockpit screen in a drill: the same panes and keys on the drill incident, under a
banner nobody can mistake for a real incident, with what the scenario injects arriving on
drill time and the scorecard at the end.

The screen's clock is the drill's (`cockpit.drills.clock.DrillClock`): countdowns, escalation
and the timeline follow drill time. Each tick writes what is due (`cockpit.drills.play`)
through the app's writer, like the escalation, so the screen never waits on the database.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from cockpit.config import Config
from cockpit.domain import Entry, Status
from cockpit.drills import play
from cockpit.drills.scorecard import Scorecard
from cockpit.store import Store
from cockpit.store.drills import DrillStore
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.drill_banner import DrillBanner

NOT_IN_A_DRILL = {"incidents"}
"""Actions a drill screen does not offer: it plays one drill, never a real incident."""


class DrillScreen(CockpitScreen):
    """The drill incident on the cockpit screen; the scorecard once it is resolved or ended."""

    BINDINGS = [
        Binding(
            "x",
            "end_drill",
            "end drill",
            id="drill.end",
            tooltip="End the drill now and see the scorecard (scored on what happened so far)",
            show=False,  # no room at 80 columns: the banner is enough of a reminder
        ),
    ]

    def __init__(self, config: Config, store: Store, drill: play.Drill) -> None:
        super().__init__(config, store, drill.clock)
        self.drill = drill
        self.scorecard: Scorecard | None = None
        self._ending = False
        self.add_class("-drill")

    def compose(self) -> ComposeResult:
        yield DrillBanner(id="drill-banner")
        yield from super().compose()

    def _open_first(self) -> None:
        self.show_incident(self.drill.id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NOT_IN_A_DRILL:
            return False
        if action == "end_drill":
            return self.scorecard is None
        return super().check_action(action, parameters)

    def tick(self) -> None:
        super().tick()
        now = self.clock()
        self.query_one(DrillBanner).show(self.drill, now, self.scorecard is not None)
        if self.scorecard is not None or self._ending or self.writing("inject"):
            return
        resolved = self.board is not None and self.board.incident.status is Status.RESOLVED
        if resolved or self.drill.ended:
            self._ending = True  # every redraw ticks: one end, however many ticks see it
            self.run_worker(self._end(abandon=False), group="drill-end")
            return
        drill = self.drill
        self.run_worker(
            self.commit(
                lambda store: play.inject_due(_drills(store), drill), self._injected, key="inject"
            ),
            group="drill-inject",
        )

    def _injected(self, entries: list[Entry]) -> None:
        if entries:
            self.app.bell()  # a page, a message: something arrived
            self._written(entries)

    async def action_end_drill(self) -> None:
        await self._end(abandon=True)

    async def _end(self, *, abandon: bool) -> None:
        config, drill = self.config, self.drill
        await self.commit(
            lambda store: play.settle(_drills(store), config, drill, abandon=abandon),
            self._ended,
            key="end",
            failed=self._not_ended,
        )

    def _not_ended(self, error: Exception) -> None:
        self._ending = False  # said by the commit; the next tick tries again

    def _ended(self, drill: play.Drill) -> None:
        self.drill = drill
        self._ending = False
        if not drill.ended:
            return
        from cockpit.tui.screens.scorecard import ScorecardScreen

        store = _drills(self.store)
        self.scorecard = play.score(store, self.config, drill)
        self.refresh_bindings()
        self.tick()
        self.app.push_screen(ScorecardScreen(self.config, self.scorecard))


def _drills(store: Store) -> DrillStore:
    if not isinstance(store, DrillStore):  # the app opens a drill on the drills database only
        raise TypeError(f"{store.path} is not a drills database")
    return store
