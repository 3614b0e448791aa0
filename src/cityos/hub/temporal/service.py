"""The observations store: bulk append (ingest, the temporal API) and the entity store's change
listener (every written attribute instance becomes one ``sensor_observation`` row).

Contract for the other hub parts (see the hub brief)::

    append_observations(session, [ObservationRow(...), ...]) -> int
    record_changes(session, [EntityChange, ...])            # listener of hub/ngsi/changes.py
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cityos.core.db import driver_write, note_write, sqlite_timestamp, utcnow
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.temporal.models import SensorObservation

INSTANCE_PREFIX = "urn:ngsi-ld:attribute-instance:"
HISTORY_KINDS = frozenset({"created", "updated", "replaced"})
# Keys of a canonical entity that are not attributes.
ENTITY_KEYS = frozenset({"id", "type", "@id", "@type", "@context", "createdAt", "modifiedAt", "deletedAt", "scope"})
# Where each NGSI-LD attribute type keeps its value.
VALUE_KEYS = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "JsonProperty": "json",
    "VocabProperty": "vocab",
}
_CHUNK = 5000
_COPY_FROM = 50  # PostgreSQL: this many rows or more go by COPY (fewer: one pipelined executemany)
DRIVER_DIALECTS = ("sqlite", "postgresql")  # driver-level executemany; a Core insert elsewhere


@dataclass(frozen=True)
class ObservationRow:
    """One attribute instance to store (``attr`` and ``entity_type`` are expanded IRIs)."""

    tenant: str
    entity_id: str
    entity_type: str
    attr: str
    observed_at: datetime
    value: Any
    unit: str | None = None
    dataset_id: str | None = None
    source: str = "ngsi"  # "ngsi" | "device" | a device code
    kind: str | None = None  # NGSI-LD attribute type; None = guessed from the value
    instance_id: str | None = None  # None = a new urn:ngsi-ld:attribute-instance:<uuid>


def new_instance_id() -> str:
    return f"{INSTANCE_PREFIX}{uuid.uuid4()}"


def guess_kind(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("type"), str) and "coordinates" in value:
        return "GeoProperty"
    return "Property"


def split_value(value: Any) -> tuple[float | None, str | None, Any]:
    """(value_num, value_text, value_json) of one value: finite numbers are numbers, strings are
    text, anything else (booleans, objects, lists, NaN) is JSON."""
    if isinstance(value, bool) or value is None:
        return None, None, value
    if isinstance(value, int | float):
        number = float(value)
        if math.isfinite(number):
            return number, None, None
        return None, None, None
    if isinstance(value, str):
        return None, value, None
    return None, None, value


def join_value(value_num: float | None, value_text: str | None, value_json: Any) -> Any:
    """The value stored by ``split_value`` (an integral number comes back as an int)."""
    if value_num is not None:
        if value_num.is_integer() and abs(value_num) < 2**53:
            return int(value_num)
        return value_num
    if value_text is not None:
        return value_text
    return value_json


def _params(row: ObservationRow, now: datetime) -> dict[str, Any]:
    if row.observed_at.tzinfo is None:
        raise ValueError("observed_at must be timezone-aware")
    num, text, js = split_value(row.value)
    return {
        "tenant": row.tenant,
        "entity_id": row.entity_id,
        "entity_type": row.entity_type,
        "attr": row.attr,
        "kind": row.kind or guess_kind(row.value),
        "observed_at": row.observed_at,
        "value_num": num,
        "value_text": text,
        "value_json": js,
        "unit": row.unit,
        "dataset_id": row.dataset_id,
        "source": row.source,
        "instance_id": row.instance_id or new_instance_id(),
        "created_at": now,
    }


_COLUMNS = (
    "tenant",
    "entity_id",
    "entity_type",
    "attr",
    "kind",
    "observed_at",
    "value_num",
    "value_text",
    "value_json",
    "unit",
    "dataset_id",
    "source",
    "instance_id",
    "created_at",
)
_COPY_SQL = f"COPY sensor_observation ({', '.join(_COLUMNS)}) FROM STDIN"


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _driver_statement(dialect: str) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    marks = [f"{mark}::jsonb" if c == "value_json" and dialect == "postgresql" else mark for c in _COLUMNS]
    return f"INSERT INTO sensor_observation ({', '.join(_COLUMNS)}) VALUES ({', '.join(marks)})"


def instance_ids(n: int) -> list[str]:
    """``n`` new instance ids (random UUIDs, version 4), from one read of the system's randomness."""
    raw = os.urandom(16 * n).hex()
    out = []
    for i in range(0, 32 * n, 32):
        h = raw[i : i + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        out.append(f"{INSTANCE_PREFIX}{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return out


def _driver_params(row: ObservationRow, now: Any, sqlite: bool, instance_id: str) -> tuple[Any, ...]:
    if row.observed_at.tzinfo is None:
        raise ValueError("observed_at must be timezone-aware")
    num, text, js = split_value(row.value)
    return (
        row.tenant,
        row.entity_id,
        row.entity_type,
        row.attr,
        row.kind or guess_kind(row.value),
        sqlite_timestamp(row.observed_at) if sqlite else row.observed_at,
        num,
        text,
        _json_text(js),
        row.unit,
        row.dataset_id,
        row.source,
        row.instance_id or instance_id,
        now,
    )


def _copy(connection: Connection, params: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: the rows through ``COPY … FROM STDIN`` in the open transaction, 2–3× less
    CPU than psycopg's pipelined executemany (one INSERT per row). COPY does not pass through
    SQLAlchemy's statement events, so the transaction is marked as one that wrote, as the
    platform's listener does for every other write (a request that wrote must commit)."""
    note_write(connection)
    driver: Any = connection.connection.dbapi_connection  # psycopg's Connection
    with driver.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
        for row in params:
            copy.write_row(row)


def append_observations(session: Session, rows: Sequence[ObservationRow]) -> int:
    """Appends the rows in bulk (one driver-level executemany per 5,000 rows on SQLite and
    PostgreSQL, a Core insert elsewhere); returns how many were stored."""
    if not rows:
        return 0
    now = utcnow()
    connection = session.connection()
    dialect = connection.dialect.name
    stored = 0
    if dialect in DRIVER_DIALECTS:
        sqlite = dialect == "sqlite"
        statement = _driver_statement(dialect)
        stamp: Any = sqlite_timestamp(now) if sqlite else now
        for start in range(0, len(rows), _CHUNK):
            part = rows[start : start + _CHUNK]
            params = [_driver_params(r, stamp, sqlite, i) for r, i in zip(part, instance_ids(len(part)), strict=True)]
            if sqlite or len(params) < _COPY_FROM:
                driver_write(connection, statement, params)
            else:
                _copy(connection, params)
            stored += len(params)
        return stored
    table = cast(Table, SensorObservation.__table__)
    for start in range(0, len(rows), _CHUNK):
        chunk = [_params(row, now) for row in rows[start : start + _CHUNK]]
        session.execute(insert(table), chunk)
        stored += len(chunk)
    return stored


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive = UTC); None when not one."""
    if isinstance(text, datetime):
        moment = text
    elif isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def instance_value(instance: dict[str, Any]) -> tuple[str, Any]:
    """(kind, value) of a normalized attribute instance."""
    kind = str(instance.get("type") or "Property")
    key = VALUE_KEYS.get(kind)
    if key is None:
        key = next(
            (k for k in ("value", "object", "languageMap", "valueList", "objectList", "json") if k in instance), "value"
        )
    return kind, instance.get(key)


def instances(attribute: Any) -> Iterable[dict[str, Any]]:
    """The instances of a canonical attribute (one object, or a list for several datasetIds)."""
    if isinstance(attribute, dict):
        yield attribute
    elif isinstance(attribute, list):
        for item in attribute:
            if isinstance(item, dict):
                yield item


def rows_of_change(change: EntityChange) -> list[ObservationRow]:
    """One row per attribute instance the change wrote (nothing for deletions or history=False)."""
    if not change.history or change.kind not in HISTORY_KINDS or change.entity is None:
        return []
    rows: list[ObservationRow] = []
    for attr in sorted(change.attrs):
        if attr in ENTITY_KEYS:
            continue
        for instance in instances(change.entity.get(attr)):
            kind, value = instance_value(instance)
            observed = parse_time(instance.get("observedAt")) or change.at
            unit = instance.get("unitCode")
            dataset = instance.get("datasetId")
            rows.append(
                ObservationRow(
                    tenant=change.tenant,
                    entity_id=change.entity_id,
                    entity_type=change.entity_type,
                    attr=attr,
                    observed_at=observed,
                    value=value,
                    unit=unit if isinstance(unit, str) else None,
                    dataset_id=dataset if isinstance(dataset, str) else None,
                    source="ngsi",
                    kind=kind,
                )
            )
    return rows


def record_changes(session: Session, changes: Sequence[EntityChange]) -> None:
    """The entity store's listener: appends the written attribute instances of every change."""
    rows = [row for change in changes for row in rows_of_change(change)]
    append_observations(session, rows)
