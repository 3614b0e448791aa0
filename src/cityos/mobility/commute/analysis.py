"""OD matrices and the average commute per district, from the stored trips (Polars over the rows).

* ``od_matrix``: trips, mean duration and mean distance per (origin, destination) pair, at the
  district level (the districts holding the ends) or on H3 cells (resolution 8); for one local
  day or a range, and for the AM peak, the PM peak or the whole day (peaks by start time in the
  city's local time, ``config.PEAKS``).
* ``district_commutes``: trips that start in the AM peak, by home district (the origin): mean
  commute time and distance, beside the published reference (``config.REFERENCE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import h3
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.mobility.commute import config
from cityos.mobility.commute.models import CommuteTrip
from cityos.mobility.commute.service import READ, DistrictLocator, scope_clause
from cityos.places.models import Region

MAX_RANGE = timedelta(days=31)
MSG_PEAK = N_("Must be one of: {expected}.")
MSG_RANGE = N_("Give a day, or a start and an end at most 31 days apart.")


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC
    end: datetime
    day: date | None  # the local day, when the window is one


@dataclass
class Zone:
    key: str  # a district's id or an H3 cell
    name: str
    lon: float
    lat: float


@dataclass
class OdPair:
    origin: str
    dest: str
    trips: int
    mean_minutes: float
    mean_km: float


@dataclass
class OdMatrix:
    level: str
    peak: str
    window: Window
    pairs: list[OdPair]
    zones: dict[str, Zone] = field(default_factory=dict)
    trips: int = 0


@dataclass
class DistrictCommute:
    district_id: int
    name: str
    trips: int
    mean_minutes: float
    mean_km: float


@dataclass
class DistrictCommutes:
    window: Window
    districts: list[DistrictCommute]
    reference: config.Reference


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_day(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz())
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=1)).astimezone(ZoneInfo("UTC"))


def default_day(session: Session) -> date:
    """The local day of the latest trip; yesterday instead of a day not over yet, when it has trips
    (a live feed's derived trips reach into today, whose peaks may not have come)."""
    today = datetime.now(tz()).date()
    latest = session.scalar(select(func.max(CommuteTrip.started_at)))
    chosen = latest.astimezone(tz()).date() if latest else today
    if chosen >= today:
        s, e = local_day(today - timedelta(days=1))
        q = select(CommuteTrip.id).where(CommuteTrip.started_at >= s, CommuteTrip.started_at < e).limit(1)
        if session.scalar(q) is not None:
            return today - timedelta(days=1)
    return chosen


def window(
    session: Session,
    *,
    day: date | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Window:
    """The UTC bounds of a local day or of [start, end); neither given: ``default_day``."""
    if day is not None:
        s, e = local_day(day)
        return Window(s, e, day)
    if start is None and end is None:
        chosen = default_day(session)
        s, e = local_day(chosen)
        return Window(s, e, chosen)
    if start is None or end is None or end <= start or end - start > MAX_RANGE:
        raise Invalid(details=[FieldError("end", MSG_RANGE)])
    utc = ZoneInfo("UTC")
    start = start if start.tzinfo else start.replace(tzinfo=tz())
    end = end if end.tzinfo else end.replace(tzinfo=tz())
    return Window(start.astimezone(utc), end.astimezone(utc), None)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise Invalid(details=[FieldError(name, MSG_PEAK, {"expected": ", ".join(choices)})])


def trips_frame(session: Session, actor: Actor, win: Window, *, peak: str, peaks: config.Peaks) -> pl.DataFrame:
    """The visible trips of the window (and peak) with the columns the analyses need."""
    q = select(
        CommuteTrip.started_at,
        CommuteTrip.origin_district_id,
        CommuteTrip.dest_district_id,
        CommuteTrip.origin_h3,
        CommuteTrip.dest_h3,
        CommuteTrip.origin_lon,
        CommuteTrip.origin_lat,
        CommuteTrip.dest_lon,
        CommuteTrip.dest_lat,
        CommuteTrip.duration_s,
        CommuteTrip.distance_m,
        CommuteTrip.segment_ids,
    ).where(CommuteTrip.started_at >= win.start, CommuteTrip.started_at < win.end)
    clause = scope_clause(actor)
    if clause is not None:
        q = q.where(clause)
    schema = {
        "started_at": pl.Datetime("us", "UTC"),
        "origin_district_id": pl.Int64(),
        "dest_district_id": pl.Int64(),
        "origin_h3": pl.String(),
        "dest_h3": pl.String(),
        "origin_lon": pl.Float64(),
        "origin_lat": pl.Float64(),
        "dest_lon": pl.Float64(),
        "dest_lat": pl.Float64(),
        "duration_s": pl.Float64(),
        "distance_m": pl.Float64(),
        "segment_ids": pl.List(pl.String()),
    }
    df = pl.DataFrame([tuple(r) for r in session.execute(q).all()], schema=schema, orient="row")
    hours = peaks.hours(peak)
    if hours is not None:
        hour = pl.col("started_at").dt.convert_time_zone(get_settings().timezone).dt.hour()
        df = df.filter((hour >= hours[0]) & (hour < hours[1]))
    return df


def _keys(level: str) -> tuple[str, str]:
    if level == "district":
        return "origin_district_id", "dest_district_id"
    return "origin_h3", "dest_h3"


def keyed(df: pl.DataFrame, level: str) -> pl.DataFrame:
    """The trips with string ``o``/``d`` zone keys, those with an end outside every zone left out."""
    o, d = _keys(level)
    return df.filter(pl.col(o).is_not_null() & pl.col(d).is_not_null()).with_columns(
        o=pl.col(o).cast(pl.String), d=pl.col(d).cast(pl.String)
    )


def zones(session: Session, level: str, keys: set[str]) -> dict[str, Zone]:
    """Names and centres of zone keys: districts by their representative point, cells by their centre."""
    out: dict[str, Zone] = {}
    if level == "district":
        ids = [int(k) for k in keys]
        for r in session.scalars(select(Region).where(Region.id.in_(ids))) if ids else []:
            out[str(r.id)] = Zone(str(r.id), r.name, float(r.lon or 0.0), float(r.lat or 0.0))
        return out
    # A cell is named by the street (or district) at its centre and a short part of its id.
    locator = DistrictLocator(session)
    for k in keys:
        lat, lon = h3.cell_to_latlng(k)
        area = locator.area_name(lon, lat)
        out[k] = Zone(k, f"{area} · {k[4:10]}" if area else k, lon, lat)
    return out


def od_matrix(
    session: Session,
    actor: Actor,
    *,
    day: date | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    peak: str = "all",
    level: str = "district",
    peaks: config.Peaks = config.PEAKS,
) -> OdMatrix:
    actor.require(READ)
    check_choice("peak", peak, config.PEAK_NAMES)
    check_choice("level", level, config.LEVELS)
    win = window(session, day=day, start=start, end=end)
    df = keyed(trips_frame(session, actor, win, peak=peak, peaks=peaks), level)
    grouped = (
        df.group_by("o", "d")
        .agg(
            trips=pl.len(),
            mean_minutes=pl.col("duration_s").mean() / 60.0,
            mean_km=pl.col("distance_m").mean() / 1000.0,
        )
        .sort(["trips", "o", "d"], descending=[True, False, False])
    )
    pairs = [
        OdPair(r["o"], r["d"], int(r["trips"]), round(r["mean_minutes"], 1), round(r["mean_km"], 2))
        for r in grouped.iter_rows(named=True)
    ]
    names = zones(session, level, {p.origin for p in pairs} | {p.dest for p in pairs})
    return OdMatrix(level, peak, win, pairs, names, trips=df.height)


def district_commutes(
    session: Session,
    actor: Actor,
    *,
    day: date | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    peaks: config.Peaks = config.PEAKS,
) -> DistrictCommutes:
    """Mean commute time and distance of the trips starting in the AM peak, by home (origin) district."""
    actor.require(READ)
    win = window(session, day=day, start=start, end=end)
    df = trips_frame(session, actor, win, peak="am", peaks=peaks).filter(pl.col("origin_district_id").is_not_null())
    grouped = (
        df.group_by("origin_district_id")
        .agg(
            trips=pl.len(), mean_minutes=pl.col("duration_s").mean() / 60.0, mean_km=pl.col("distance_m").mean() / 1000
        )
        .sort("origin_district_id")
    )
    names = zones(session, "district", {str(i) for i in grouped["origin_district_id"].to_list()})
    rows = [
        DistrictCommute(
            int(r["origin_district_id"]),
            names[str(r["origin_district_id"])].name if str(r["origin_district_id"]) in names else "",
            int(r["trips"]),
            round(r["mean_minutes"], 1),
            round(r["mean_km"], 2),
        )
        for r in grouped.iter_rows(named=True)
    ]
    return DistrictCommutes(win, rows, config.REFERENCE)
