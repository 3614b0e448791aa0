"""What the monitor reads from other parts: the observations of a time window (the ingest
part's frames) and the traffic incidents (cases of category ``event.09.02`` 交通事故) reported in it."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.core.actor import SYSTEM
from cityos.core.pagination import PageParams
from cityos.mobility.ingest import frames

INCIDENT_CATEGORY = "event.09.02"
_PAGE = 200


def observations(session: Session, *, start: datetime, end: datetime, network_code: str | None = None) -> pl.DataFrame:
    """The long observation table (``fusion.OBS_SCHEMA``) of [start, end), from the ingest part."""
    return frames.observations(session, start=start, end=end, network_code=network_code)


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
