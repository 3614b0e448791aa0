"""The entity store's batch statements in the driver's own SQL (``load_many``, ``save_many``).

They run once per group-commit batch of the NGSI-LD writer, inside the write lock that every
process's writes wait for, so what they cost limits the updates per second of the whole
machine. SQLAlchemy's compiled statements spend about twice the driver's time there (the
expanding ``IN``, bind processors per row); these run on the driver's cursor in the open
transaction (``core.db.driver_rows`` and ``driver_write``, which marks the transaction as one
that wrote), and convert the values as the ORM columns would: ``data`` as the compact JSON text
of ``core.db.json_text`` (JSONB on PostgreSQL), ``modified_at`` as ``UTCDateTime`` stores it.

On SQLite the ``IN`` list is padded to a power of two (the last id repeated), so that a few
statements serve every batch size from the driver's statement cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from cityos.core.db import driver_rows, driver_write, json_text, sqlite_timestamp

LOCATED = ("lon", "lat", "min_lon", "min_lat", "max_lon", "max_lat")
_SELECT = "SELECT id, entity_id, type, data FROM hub_ngsi_entity WHERE tenant = {m} AND entity_id {ids} ORDER BY id"


_SELECT_LOCKED = _SELECT.format(m="%s", ids="= ANY(%s)") + " FOR UPDATE"  # PostgreSQL


@lru_cache(maxsize=16)
def _select_in(size: int) -> str:
    return _SELECT.format(m="?", ids=f"IN ({', '.join('?' * size)})")


def _padded(ids: Sequence[str]) -> list[str]:
    size = 1
    while size < len(ids):
        size *= 2
    return [*ids, *[ids[-1]] * (size - len(ids))]


def select_many(connection: Connection, tenant: str, ids: Sequence[str]) -> list[tuple[int, str, str, Any]]:
    """(pk, entity id, type, data) of the entities of ``ids`` (sorted, not empty) in one tenant,
    by pk; locked for the update on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        found = driver_rows(connection, _SELECT_LOCKED, (tenant, list(ids)))
    else:
        padded = _padded(ids)
        found = driver_rows(connection, _select_in(len(padded)), (tenant, *padded))
    return [
        (pk, entity_id, kind, json.loads(data) if isinstance(data, str | bytes) else data)
        for pk, entity_id, kind, data in found
    ]


# (pk, data, modified at, the location columns or None when they stay)
Update = tuple[int, dict[str, Any], datetime, dict[str, Any] | None]


def update_many(connection: Connection, rows: Iterable[Update]) -> None:
    """The UPDATEs, as at most two executemany statements (with and without the location
    columns)."""
    postgres = connection.dialect.name == "postgresql"
    mark, data_mark = ("%s", "%s::jsonb") if postgres else ("?", "?")
    plain: list[tuple[Any, ...]] = []
    moved: list[tuple[Any, ...]] = []
    for pk, data, at, located in rows:
        stamp: Any = at if postgres else sqlite_timestamp(at)
        if located is None:
            plain.append((json_text(data), stamp, pk))
        else:
            moved.append((json_text(data), stamp, *(located[c] for c in LOCATED), pk))
    head = f"UPDATE hub_ngsi_entity SET data = {data_mark}, modified_at = {mark}"
    driver_write(connection, f"{head} WHERE id = {mark}", plain)
    if moved:
        extra = "".join(f", {c} = {mark}" for c in LOCATED)
        driver_write(connection, f"{head}{extra} WHERE id = {mark}", moved)
