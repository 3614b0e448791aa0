"""Observations as Polars frames: one schema for rows read from the database and from the
Parquet archive, so queries, aggregations and the archive share the same columns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cityos.hub.temporal.models import SensorObservation
from cityos.hub.temporal.service import join_value

TIME = pl.Datetime("us", "UTC")
SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "tenant": pl.String(),
    "entity_id": pl.String(),
    "entity_type": pl.String(),
    "attr": pl.String(),
    "kind": pl.String(),
    "observed_at": TIME,
    "created_at": TIME,
    "value_num": pl.Float64(),
    "value_text": pl.String(),
    "value_json": pl.String(),  # JSON text (Parquet has no JSON type)
    "unit": pl.String(),
    "dataset_id": pl.String(),
    "source": pl.String(),
    "instance_id": pl.String(),
}
Obs = SensorObservation
COLUMNS = (
    Obs.id,
    Obs.tenant,
    Obs.entity_id,
    Obs.entity_type,
    Obs.attr,
    Obs.kind,
    Obs.observed_at,
    Obs.created_at,
    Obs.value_num,
    Obs.value_text,
    Obs.value_json,
    Obs.unit,
    Obs.dataset_id,
    Obs.source,
    Obs.instance_id,
)


def select_rows() -> Select[Any]:
    return select(*COLUMNS)


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def frame_of(rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """A frame of result rows of ``select_rows()`` (value_json as JSON text)."""
    data: dict[str, list[Any]] = {name: [] for name in SCHEMA}
    names = list(SCHEMA)
    json_at = names.index("value_json")
    for row in rows:
        for i, name in enumerate(names):
            value = row[i]
            data[name].append(_json_text(value) if i == json_at else value)
    return pl.DataFrame(data, schema=SCHEMA)


def fetch(session: Session, statement: Select[Any]) -> pl.DataFrame:
    return frame_of(session.execute(statement).all())


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def conform(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The frame with exactly the shared columns and types (older archives may lack some)."""
    lazy = frame.lazy()
    present = set(lazy.collect_schema().names())
    return lazy.select(
        [pl.col(n).cast(t) if n in present else pl.lit(None, dtype=t).alias(n) for n, t in SCHEMA.items()]
    )


def value_of(kind: str, num: float | None, text: str | None, js: str | None) -> Any:
    """The stored value of one row (numbers, text, or the decoded JSON)."""
    return join_value(num, text, None if js is None else json.loads(js))


def iso(moment: datetime) -> str:
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
