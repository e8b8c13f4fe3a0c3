"""The durable store: one SQLite file (WAL, synchronous=FULL), schema migrations, appends.

Every change to an incident goes through a `Store` method, in one `BEGIN IMMEDIATE` transaction
committed before the method returns: the CLI and the TUI share these code paths. Modules:
`schema` (tables and migrations), `guard` (the file checks before and while a store holds it),
`errors` (one-line errors), `rows` (rows to domain objects), `connection` (opening and the write
transaction), `identity` and `backfill` (global ids and the clock), and the parts of `Store`:
`timeline`, `incidents`, `outbox`, `threads`, `sharing`, `syncing`, `postmortems`.
Only the standard library and the domain are imported here (sqlite-utils is loaded when a
migration or a query needs it), so `cockpit log` starts fast.
"""

from __future__ import annotations

from cockpit.domain.delivery import DELIVERY_STATES, Delivery, EventHook, IncidentEvent
from cockpit.store.errors import (
    CannotWrite,
    DatabaseDamaged,
    DatabaseReplaced,
    IncidentNotFound,
    IncidentResolved,
    StoreError,
    TextTooLong,
    UnknownRole,
    fits,
    recovery_advice,
)
from cockpit.store.guard import QUICK_CHECK_BUDGET, SQLITE_MAGIC
from cockpit.store.rows import UnreadableRow
from cockpit.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES_ADDED
from cockpit.store.sharing import Peer
from cockpit.store.store import Store
from cockpit.store.threads import RootClaim, SyncThread

__all__ = [
    "DELIVERY_STATES",
    "MIGRATIONS",
    "QUICK_CHECK_BUDGET",
    "SCHEMA_VERSION",
    "SQLITE_MAGIC",
    "TABLES_ADDED",
    "CannotWrite",
    "DatabaseDamaged",
    "DatabaseReplaced",
    "Delivery",
    "EventHook",
    "IncidentEvent",
    "IncidentNotFound",
    "IncidentResolved",
    "Peer",
    "RootClaim",
    "Store",
    "StoreError",
    "SyncThread",
    "TextTooLong",
    "UnknownRole",
    "UnreadableRow",
    "fits",
    "recovery_advice",
]
