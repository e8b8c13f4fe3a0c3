"""How the export writes times: UTC to the second, local time with its zone, and spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from cockpit.domain.moments import format_duration


def utc_time(moment: datetime | None) -> str:
    """`2026-11-27 02:14:05` (isoformat is several times faster than strftime)."""
    return moment.astimezone(UTC).isoformat(" ", "seconds")[:19] if moment else "—"


def local_time(moment: datetime, tz: tzinfo | None) -> str:
    """`2026-11-27 03:14:05 CET` in `tz` (None: the machine's zone)."""
    local = moment.astimezone(tz)
    return f"{local.isoformat(' ', 'seconds')[:19]} {local.tzname()}"


def span_time(delta: timedelta | None) -> str:
    """`01:02:03`, or `—` for a span that never ended."""
    return format_duration(delta) if delta is not None else "—"
