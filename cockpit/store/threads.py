"""The incident's Slack thread as this laptop knows it (root, how far it was read), the
cache of Slack people's names, and this laptop's clock against Slack's: what team sync reads
the thread with."""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from cockpit.domain.moments import format_utc, read_stored
from cockpit.store.connection import guarded
from cockpit.store.outbox import Outbox


class SyncThread(NamedTuple):
    """The incident's Slack thread as this laptop knows it, and how far it has read it."""

    incident_id: int
    channel: str
    root_ts: str
    permalink: str | None = None
    last_ts: str | None = None  # the newest message `ts` read
    last_read_at: datetime | None = None  # when the thread was last read
    last_full_scan_at: datetime | None = None


class RootClaim(NamedTuple):
    """Who may post an incident's root message now (`Threads.claim_root`)."""

    thread: SyncThread | None = None  # the root is known already: use it, post none
    mine: bool = False  # this caller may post the root (nobody else will meanwhile)
    in_doubt: bool = False  # an earlier claim ended without a root: look for one first
    busy_until: datetime | None = None  # another poster holds the claim until then


class Threads(Outbox):
    """The thread of each incident, and Slack names."""

    # -- the thread

    @guarded
    def thread_for(self, incident_id: int) -> SyncThread | None:
        """The incident's Slack thread, if this laptop knows it."""
        row = self.conn.execute(
            "SELECT * FROM sync_threads WHERE incident_id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            return None
        return SyncThread(
            incident_id=row["incident_id"],
            channel=row["channel"],
            root_ts=row["root_ts"],
            permalink=row["permalink"],
            last_ts=row["last_ts"],
            last_read_at=_time(row["last_read_at"]),
            last_full_scan_at=_time(row["last_full_scan_at"]),
        )

    @guarded
    def set_thread(
        self, incident_id: int, channel: str, root_ts: str, *, permalink: str | None = None
    ) -> SyncThread:
        """Record the incident's thread root (posted here, or joined); a new root starts
        reading from the beginning."""
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            conn.execute(
                "INSERT INTO sync_threads (incident_id, channel, root_ts, permalink) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET "
                "permalink = coalesce(excluded.permalink, permalink), "
                "last_ts = CASE WHEN channel = excluded.channel AND root_ts = excluded.root_ts "
                "THEN last_ts END, "
                "last_full_scan_at = CASE WHEN channel = excluded.channel AND "
                "root_ts = excluded.root_ts THEN last_full_scan_at END, "
                "channel = excluded.channel, root_ts = excluded.root_ts",
                (incident_id, channel, root_ts, permalink),
            )
            # The root is known now: nobody posts another (claims on it are spent).
            conn.execute(
                "DELETE FROM remote_refs WHERE incident_id = ? AND target = 'slack' "
                "AND key LIKE 'root_claim:%'",
                (incident_id,),
            )
        thread = self.thread_for(incident_id)
        assert thread is not None
        return thread

    @guarded
    def threads_to_send(self) -> list[int]:
        """Incidents with a thread here and entries of this laptop not yet in it: a resolved
        incident still has to tell the team it was resolved."""
        rows = self.conn.execute(
            "SELECT incident_id FROM sync_threads t WHERE EXISTS (SELECT 1 FROM entries e "
            "WHERE e.incident_id = t.incident_id AND e.origin = 'local' AND e.remote_ts IS NULL) "
            "ORDER BY incident_id"
        )
        return [int(row[0]) for row in rows]

    def claim_root(self, incident_id: int, channel: str, owner: str, until: datetime) -> RootClaim:
        """Decide, in one transaction, who posts the incident's root message: the thread
        already known, or the right to post it until `until` (for `owner`, a poster's own
        token), or busy when another poster holds a claim that has not ended. A claim that
        ended without a root (the poster died, or its post may have landed) leaves the next
        poster in doubt: it must look for the root before posting one."""
        key = _claim_key(channel)
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            known = conn.execute(
                "SELECT 1 FROM sync_threads WHERE incident_id = ?", (incident_id,)
            ).fetchone()
            if known is None:
                row = conn.execute(
                    "SELECT value FROM remote_refs WHERE incident_id = ? AND target = 'slack' "
                    "AND key = ?",
                    (incident_id, key),
                ).fetchone()
                held = _claim(row[0]) if row else None
                if held is not None and held[0] != owner and held[1] > self.now():
                    return RootClaim(busy_until=held[1])
                value = json.dumps({"owner": owner, "until": format_utc(until)})
                self._set_ref(conn, incident_id, "slack", key, value)
                return RootClaim(mine=True, in_doubt=row is not None)
        return RootClaim(thread=self.thread_for(incident_id))

    @guarded
    def release_root(self, incident_id: int, channel: str, owner: str) -> None:
        """Give up `owner`'s claim to post the root (its post surely did not land)."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM remote_refs WHERE incident_id = ? AND target = 'slack' AND key = ? "
                "AND json_extract(value, '$.owner') = ?",
                (incident_id, _claim_key(channel), owner),
            )

    @guarded
    def note_read(
        self,
        incident_id: int,
        *,
        last_ts: str | None = None,
        full_scan: bool = False,
    ) -> None:
        """Record a read of the thread now: the newest `ts` seen (never moved back), and
        whether it was a full rescan."""
        stamp = format_utc(self.now())
        with self._write() as conn:
            conn.execute(
                "UPDATE sync_threads SET last_read_at = ?, "
                "last_ts = CASE WHEN last_ts IS NULL OR CAST(? AS REAL) > CAST(last_ts AS REAL) "
                "THEN coalesce(?, last_ts) ELSE last_ts END, "
                "last_full_scan_at = CASE WHEN ? THEN ? ELSE last_full_scan_at END "
                "WHERE incident_id = ?",
                (stamp, last_ts, last_ts, full_scan, stamp, incident_id),
            )

    # -- this laptop's clock against Slack's

    @guarded
    def note_skew(self, skew_ms: int) -> None:
        """Record how far this laptop's clock is ahead of Slack's (negative: behind), now."""
        with self._write() as conn:
            conn.execute(
                "UPDATE sync_node SET skew_ms = ?, skew_at = ? WHERE id = 1",
                (skew_ms, format_utc(self.now())),
            )

    @guarded
    def clock_skew(self) -> tuple[int, datetime] | None:
        """The latest skew measured against Slack (ms, positive: ahead) and when; None if
        this laptop has not posted to Slack yet."""
        row = self.conn.execute("SELECT skew_ms, skew_at FROM sync_node WHERE id = 1").fetchone()
        if row is None or not isinstance(row[0], int):
            return None
        at = _time(row[1])
        return (row[0], at) if at is not None else None

    # -- Slack names

    @guarded
    def slack_user(self, user_id: str) -> str | None:
        """The name cached for a Slack user id, if any."""
        row = self.conn.execute(
            "SELECT name FROM slack_users WHERE user_id = ?", (user_id,)
        ).fetchone()
        return str(row[0]) if row else None

    @guarded
    def set_slack_user(self, user_id: str, name: str) -> None:
        """Cache a Slack user's name (from `users.info`)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO slack_users (user_id, name, fetched_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, "
                "fetched_at = excluded.fetched_at",
                (user_id, name, format_utc(self.now())),
            )


def _claim_key(channel: str) -> str:
    return f"root_claim:{channel}"


def _claim(raw: str) -> tuple[str, datetime] | None:
    """(owner, until) of a stored root claim; None when unreadable (then it has ended)."""
    try:
        value = json.loads(raw)
        return str(value["owner"]), read_stored(str(value["until"]))
    except (ValueError, TypeError, KeyError):
        return None


def _time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return read_stored(raw)
    except ValueError:
        return None
