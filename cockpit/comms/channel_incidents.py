"""Before declaring with team sync on: is the outage already an incident in the channel?
(team-sync.md §3.4: nobody declares the same outage twice.)

One `conversations.history` read of the channel's latest roots finds the cockpit incidents
this team's app posted there and that moved within a day; each one this laptop does not hold
is read once (`conversations.replies`) and folded, so a resolved one is not offered. Only the
cockpit's own app's messages count (another app's look-alike root is text). The front ends
offer what is found: join it (`cockpit join`), or declare anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cockpit.comms.sync import ThreadSync
from cockpit.domain import Status
from cockpit.store import IncidentNotFound
from cockpit.sync.channel import OpenIncident
from cockpit.sync.entry import SyncEntry
from cockpit.sync.fold import fold
from cockpit.sync.slack_text import ThreadSource, is_ts, message_entries, ts_time
from cockpit.sync.wire import EVENT_INCIDENT, WireError, decode

RECENT = timedelta(hours=24)
"""A root whose thread has not moved for this long is not offered (an abandoned incident)."""
MOST = 3
"""Incidents offered at most (each one not held here costs one thread read)."""
ROOTS_READ = 100


async def open_incidents(sync: ThreadSync, now: datetime) -> list[OpenIncident]:
    """The open cockpit incidents in the sync's channel, newest first. SlackFailure when
    Slack cannot be read (the caller declares all the same, saying so)."""
    identity = await sync.identity()
    channel = sync.channel
    found: list[OpenIncident] = []
    for message in await sync.api.recent_roots(channel, ROOTS_READ):
        if len(found) >= MOST:
            break
        ts, metadata = message.get("ts"), message.get("metadata")
        if not is_ts(ts) or not isinstance(metadata, dict):
            continue
        assert isinstance(ts, str)
        if metadata.get("event_type") != EVENT_INCIDENT:
            continue
        source = ThreadSource("0" * 32, channel, identity.app_id, identity.bot_id)
        if not source.is_ours(message):
            continue
        moved = ts_time(ts)
        latest = message.get("latest_reply")
        if isinstance(latest, str) and is_ts(latest):
            moved = max(moved, ts_time(latest))
        if now - moved > RECENT:
            continue
        try:
            gid = decode(metadata).gid
        except WireError:
            continue
        incident = await _open_incident(sync, gid, channel, ts, identity.app_id, identity.bot_id)
        if incident is not None:
            found.append(incident)
    return found


async def _open_incident(
    sync: ThreadSync, gid: str, channel: str, root_ts: str, app_id: str, bot_id: str
) -> OpenIncident | None:
    """The incident of one root, unless it is resolved (here, or as its thread says)."""
    try:
        held = sync.store.incident_by_gid(gid)
    except IncidentNotFound:
        held = None
    if held is not None:
        if not held.is_open:
            return None
        thread = sync.store.thread_for(held.id)
        return OpenIncident(
            gid,
            channel,
            root_ts,
            held.title,
            held.severity,
            held.declared_by,
            held.declared_at,
            thread.permalink if thread else None,
            held.ref,
        )
    source = ThreadSource(gid, channel, app_id, bot_id)
    entries: list[SyncEntry] = []
    for message in await sync.api.replies(channel, root_ts):
        if source.is_ours(message):  # only the app's own messages change state
            entries += [wire.entry for wire in message_entries(message, source).entries]
    state = fold(entries)
    if state.status is Status.RESOLVED or state.declared_uid is None:
        return None
    return OpenIncident(
        gid,
        channel,
        root_ts,
        state.title,
        state.severity or "",
        state.declared_by,
        state.declared_at,
        await sync.api.permalink(channel, root_ts),
    )
