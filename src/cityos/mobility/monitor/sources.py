"""What the monitor reads from other parts: the observations of a time window and the traffic
incidents (cases of category ``event.09.02`` 交通事故) reported in it."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import case, func, literal, null, select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.core.actor import SYSTEM
from cityos.core.pagination import PageParams
from cityos.mobility.indicators.fusion import OBS_SCHEMA
from cityos.mobility.ingest.models import NavSpeed, ProbePoint, TrafficObservation

INCIDENT_CATEGORY = "event.09.02"
_PAGE = 200


def _empty() -> pl.DataFrame:
    frame = pl.from_arrow(OBS_SCHEMA.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def observations(session: Session, *, start: datetime, end: datetime, network_code: str | None = None) -> pl.DataFrame:
    """The long observation table (``fusion.OBS_SCHEMA``) of [start, end): the ingest part's
    ``frames.observations`` when it is installed, else the same read of its tables here."""
    try:
        frames: Any = importlib.import_module("cityos.mobility.ingest.frames")
    except ModuleNotFoundError:
        return _read_tables(session, start=start, end=end)
    out: pl.DataFrame = frames.observations(session, start=start, end=end, network_code=network_code)
    return out


def _frame(rows: list[tuple[Any, ...]], source: str) -> pl.DataFrame:
    return pl.DataFrame(
        [(source, *r) for r in rows],
        schema={
            "source": pl.String,
            "segment_id": pl.String,
            "ts": pl.Datetime("us", "UTC"),
            "speed": pl.Float64,
            "count": pl.Float64,
            "occupancy": pl.Float64,
            "n": pl.Float64,
        },
        orient="row",
    ).with_columns(pl.col("ts").dt.replace_time_zone(None))


def _read_tables(session: Session, *, start: datetime, end: datetime) -> pl.DataFrame:
    probe = session.execute(
        select(ProbePoint.segment_id, ProbePoint.ts, ProbePoint.speed_kmh, null(), null(), literal(1.0)).where(
            ProbePoint.ts >= start, ProbePoint.ts < end, ProbePoint.segment_id.is_not(None)
        )
    ).all()
    # Loops: lanes of one detector interval summed; speed weighted by the lanes' counts.
    t = TrafficObservation
    weighted = func.sum(t.speed_kmh * t.count)
    counted = func.sum(case((t.speed_kmh.is_not(None), t.count), else_=0))
    loop = session.execute(
        select(
            t.segment_id,
            t.ts,
            weighted / func.nullif(counted, 0),
            func.sum(t.count),
            func.avg(t.occupancy),
            func.sum(t.count),
        )
        .where(t.ts >= start, t.ts < end, t.segment_id.is_not(None))
        .group_by(t.detector_id, t.segment_id, t.ts)
    ).all()
    nav = session.execute(
        select(
            NavSpeed.segment_id, NavSpeed.ts, NavSpeed.speed_kmh, null(), null(), func.coalesce(NavSpeed.samples, 1)
        ).where(NavSpeed.ts >= start, NavSpeed.ts < end)
    ).all()
    parts = [_frame([tuple(r) for r in rows], s) for rows, s in ((probe, "probe"), (loop, "loop"), (nav, "nav"))]
    return pl.concat([_empty(), *parts], how="vertical_relaxed").cast(
        {"ts": pl.Datetime("us"), "count": pl.Float64, "n": pl.Float64}
    )


def incidents(
    session: Session, *, start: datetime, end: datetime
) -> list[tuple[datetime, float | None, float | None, str | None]]:
    """(reported at, lon, lat, region path) of every traffic accident reported in [start, end),
    through the cases service (newest first, so paging stops at the first older one)."""
    out: list[tuple[datetime, float | None, float | None, str | None]] = []
    page = 1
    while True:
        rows, _ = cases.list_cases(
            session, SYSTEM, PageParams(page=page, size=_PAGE), cases.CaseFilter(category_code=INCIDENT_CATEGORY)
        )
        for found in rows:
            if found.created_at < start:
                return out
            if found.created_at < end:
                out.append((found.created_at, found.lon, found.lat, found.region_path))
        if len(rows) < _PAGE:
            return out
        page += 1
