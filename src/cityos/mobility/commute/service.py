"""Commute trips: writing them (derived from probe traces, imported from OD files) and listing them.

``save_trips`` is the one bulk path: it locates both ends of every trip in the region tree (the
district that holds the point, through ``places.service.locate``), computes their H3 cells and
inserts the rows in chunks, skipping trip keys already stored (a file or a day derived twice
stores each trip once). Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import h3
import polars as pl
from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import ROOT_PATH, SYSTEM, Actor
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.commute import config, imports
from cityos.mobility.commute.derive import PROBE_COLUMNS, TRIP_COLUMNS, trips_from_probes
from cityos.mobility.commute.models import CommuteTrip
from cityos.mobility.ingest.models import ProbePoint
from cityos.places import service as places
from cityos.places.models import Region, RegionLevel

READ = "traffic:read"
MANAGE = "traffic:manage"
_CHUNK = 2000
Progress = Callable[[int, int], None]

MSG_WINDOW = N_("The end must be after the start.")
MSG_CHOICE = N_("Must be one of: {expected}.")


@dataclass
class SaveResult:
    written: int
    duplicates: int


@dataclass
class DeriveResult:
    points: int
    trips: int
    written: int
    duplicates: int


class DistrictLocator:
    """Where a point lies: the deepest region holding it (whose path scopes the trip) and its
    district (区), through the places index; cached per deepest region."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._district_of: dict[int, Region | None] = {}
        # The identity map holds regions weakly: keeping them here lets ``locate``'s
        # ``session.get`` answer from memory instead of a query per point.
        self._held: dict[int, Region] = {}
        self._name_of: dict[int, str] = {}

    def locate(self, lon: float, lat: float) -> tuple[Region | None, Region | None]:
        """(the deepest region, its district); (None, None) outside the region tree."""
        try:
            region = places.locate(self.session, SYSTEM, lon=lon, lat=lat)
        except NotFound:
            return None, None
        if region.id not in self._district_of:
            self._held[region.id] = region
            self._district_of[region.id] = self._find(region)
        return region, self._district_of[region.id]

    def district(self, lon: float, lat: float) -> Region | None:
        return self.locate(lon, lat)[1]

    def _find(self, region: Region) -> Region | None:
        return self._ancestor(region, RegionLevel.DISTRICT)

    def _ancestor(self, region: Region, level: RegionLevel) -> Region | None:
        if region.level == level:
            return region
        ids = [int(p) for p in region.path.strip("/").split("/") if p]
        return self.session.scalar(select(Region).where(Region.id.in_(ids), Region.level == level))

    def area_name(self, lon: float, lat: float) -> str | None:
        """The name of the street (else the district) holding a point, to name an H3 cell by."""
        try:
            region = places.locate(self.session, SYSTEM, lon=lon, lat=lat)
        except NotFound:
            return None
        self._held[region.id] = region
        if region.id not in self._name_of:
            area = self._ancestor(region, RegionLevel.STREET) or self._find(region)
            self._name_of[region.id] = area.name if area is not None else region.name
        return self._name_of[region.id]


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(session.scalars(select(CommuteTrip.trip_key).where(CommuteTrip.trip_key.in_(chunk))))
    return found


def save_trips(session: Session, trips: pl.DataFrame, *, progress: Progress | None = None) -> SaveResult:
    """Store a ``derive.TRIP_COLUMNS`` frame; trips whose key is stored already are skipped."""
    missing = [c for c in TRIP_COLUMNS if c not in trips.columns]
    if missing:
        raise ValueError(f"trip frame lacks columns: {missing}")
    df = trips.select([pl.col(c).cast(t) for c, t in TRIP_COLUMNS.items()]).unique("trip_key", keep="first")
    df = df.sort("started_at")
    keys = df["trip_key"].to_list()
    existing = _existing_keys(session, keys)
    locator = DistrictLocator(session)
    batch: list[dict[str, Any]] = []
    written = 0
    total = df.height
    if progress:
        progress(0, total)
    for done, row in enumerate(df.iter_rows(named=True), start=1):
        if row["trip_key"] in existing:
            continue
        o_place, origin = locator.locate(row["origin_lon"], row["origin_lat"])
        d_place, dest = locator.locate(row["dest_lon"], row["dest_lat"])
        batch.append(
            {
                **{c: row[c] for c in TRIP_COLUMNS if c != "segment_ids"},
                "segment_ids": list(row["segment_ids"] or []),
                "origin_district_id": origin.id if origin else None,
                "dest_district_id": dest.id if dest else None,
                "origin_path": o_place.path if o_place else None,
                "dest_path": d_place.path if d_place else None,
                "origin_h3": h3.latlng_to_cell(row["origin_lat"], row["origin_lon"], config.H3_RESOLUTION),
                "dest_h3": h3.latlng_to_cell(row["dest_lat"], row["dest_lon"], config.H3_RESOLUTION),
            }
        )
        if len(batch) >= _CHUNK:
            session.execute(insert(CommuteTrip), batch)
            written += len(batch)
            batch = []
            if progress:
                progress(done, total)
    if batch:
        session.execute(insert(CommuteTrip), batch)
        written += len(batch)
    session.flush()
    if progress:
        progress(total, total)
    return SaveResult(written=written, duplicates=total - written)


def probe_points(session: Session, *, start: datetime, end: datetime) -> pl.DataFrame:
    """The probe fixes of [start, end) as a ``derive.PROBE_COLUMNS`` frame."""
    q = select(
        ProbePoint.kind,
        ProbePoint.vehicle_key,
        ProbePoint.ts,
        ProbePoint.lon,
        ProbePoint.lat,
        ProbePoint.speed_kmh,
        ProbePoint.occupied,
        ProbePoint.segment_id,
    ).where(ProbePoint.ts >= start, ProbePoint.ts < end)
    rows = session.execute(q).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=PROBE_COLUMNS, orient="row")


def count_probe_points(session: Session, *, start: datetime, end: datetime) -> int:
    q = select(func.count()).select_from(ProbePoint).where(ProbePoint.ts >= start, ProbePoint.ts < end)
    return int(session.scalar(q) or 0)


def derive_trips(session: Session, *, start: datetime, end: datetime, progress: Progress | None = None) -> DeriveResult:
    """Trips of the probe traces of [start, end) (see ``derive``), stored with ``source = derived``.

    A trip still running at ``end`` is cut there; derive whole days (``… derive --day``)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise Invalid(details=[FieldError("end", MSG_WINDOW)])
    points = probe_points(session, start=start, end=end)
    trips = trips_from_probes(points)
    saved = save_trips(session, trips, progress=progress)
    return DeriveResult(points=points.height, trips=trips.height, written=saved.written, duplicates=saved.duplicates)


def import_trips(
    session: Session,
    actor: Actor,
    *,
    rows: list[dict[str, Any]],
    progress: Progress | None = None,
) -> SaveResult:
    """Import OD records (``imports.FIELDS``); any bad row refuses the whole file (``Invalid`` with
    one detail per problem, ``rows.<n>.<field>``), so nothing partial is written."""
    actor.require(MANAGE)
    trips, errors = imports.validate(rows)
    if errors:
        raise Invalid(N_("Some rows are not valid; nothing was imported."), details=errors[: imports.MAX_ERRORS])
    return save_trips(session, trips, progress=progress)


def scope_clause(actor: Actor) -> ColumnElement[bool] | None:
    """Trips the actor sees: those starting or ending in its area (all for the whole city)."""
    if actor.scope_path == ROOT_PATH:
        return None
    return or_(actor.scope_clause(CommuteTrip.origin_path), actor.scope_clause(CommuteTrip.dest_path))


def list_trips(
    session: Session,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    mode: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[CommuteTrip], int]:
    # Single trips are personal movements (exact ends and times): the traffic managers only, never
    # the read-only holders of traffic:read (department staff, third-party apps); they see the OD
    # matrices, corridors and district averages, which aggregate.
    actor.require(MANAGE)
    if end <= start:
        raise Invalid(details=[FieldError("end", MSG_WINDOW)])
    q = select(CommuteTrip).where(CommuteTrip.started_at >= start, CommuteTrip.started_at < end)
    clause = scope_clause(actor)
    if clause is not None:
        q = q.where(clause)
    if mode is not None:
        if mode not in config.MODES:
            raise Invalid(details=[FieldError("mode", MSG_CHOICE, {"expected": ", ".join(config.MODES)})])
        q = q.where(CommuteTrip.mode == mode)
    total = int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = session.scalars(q.order_by(CommuteTrip.started_at, CommuteTrip.id).offset(offset).limit(limit)).all()
    return list(rows), total
