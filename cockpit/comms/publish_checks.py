"""What to ask before a status update goes out (team-sync.md §3.6): another update arrived
since this one was started, or someone else holds the communicator role.

Two people publishing in the same minute tell customers two stories; the communicator is the
one voice the practice asks for. Neither is forbidden (the communicator may be asleep, the other
update may say something else): both are asked about. The app's composer and `cockpit update`
ask the same questions in the same words, from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cockpit.config import Config
from cockpit.domain import Kind, format_local, one_line
from cockpit.plaintext import clean_line
from cockpit.store import Store

COMMUNICATOR = "communicator"
QUOTED_CHARS = 300
"""Characters of the other update quoted in the question (the app shows it whole below)."""


@dataclass(frozen=True)
class PublishCheck:
    """One reason to ask before publishing: `key` names what was asked about (asked once),
    `reason` is the one line shown, `text` the other update's whole text (or "")."""

    key: str
    reason: str
    text: str = ""


def publish_checks(
    store: Store, config: Config, incident_id: int, seen_through: int, now: datetime
) -> list[PublishCheck]:
    """The questions to ask before publishing on `incident_id`, for a person who started the
    update when the incident's newest entry was `seen_through` (`Store.last_entry_id`)."""
    checks = [
        PublishCheck(
            f"update:{entry.uid or entry.id}",
            f"{one_line(entry.author) or 'someone'} published an update at "
            f"{format_local(entry.at, now)} since you started this one: "
            f"“{clean_line(entry.text, QUOTED_CHARS)}”",
            entry.text,
        )
        for entry in store.entries_after(incident_id, seen_through)
        if entry.kind is Kind.UPDATE
    ]
    communicator = _communicator_check(store, config, incident_id)
    if communicator is not None:
        checks.append(communicator)
    return checks


def _communicator_check(store: Store, config: Config, incident_id: int) -> PublishCheck | None:
    holder = store.incident(incident_id).roles.get(COMMUNICATOR, "").strip()
    me = config.author.strip()
    if not holder or holder.casefold() == me.casefold():
        return None  # nobody to step on, or it is me
    who = one_line(holder)
    if not config.user.name.strip():
        # Without a configured name, "me" is only the login name: say so instead of
        # claiming the person is not the communicator.
        reason = (
            f"{who} is communicator, and this laptop has no [user] name to tell whether that "
            f"is you (its entries are signed {one_line(me)!r}; set [user] name in config.toml)"
        )
    else:
        reason = f"{who} is communicator, not you ({one_line(me)}): customers should hear one voice"
    return PublishCheck(f"communicator:{holder.casefold()}", reason)
