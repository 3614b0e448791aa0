"""Imported OD records (an operator's commute survey, a ride-hailing OD export): reading a CSV
or Parquet file and checking every row.

Columns (a header row; names as below, extra columns ignored):

=============  ========  ===========================================================================
column         required  meaning
=============  ========  ===========================================================================
origin_lon     yes       WGS84 longitude of the trip's start
origin_lat     yes       latitude of the start
dest_lon       yes       longitude of the end
dest_lat       yes       latitude of the end
started_at     yes       ISO 8601 time; without an offset it is the city's local time
ended_at       one of    ISO 8601 end time …
duration_s     the two   … or the duration in seconds (both given: ended_at wins)
distance_m     no        travelled distance; missing: the straight line × 1.3 (an estimate)
mode           no        car, taxi, ridehail, bus, metro, bike, walk or other (default other)
trip_key       no        the source's id of the trip (default: derived from the row's values)
segment_ids    no        matched road segments, separated by spaces or ';'
=============  ========  ===========================================================================

Rows are numbered from 1 (the first row under the header). A bad row is reported with its number,
the field and the reason; the service writes nothing when any row is bad.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.mobility.commute import config
from cityos.mobility.commute.derive import TRIP_COLUMNS
from cityos.mobility.network.schema import haversine_m

REQUIRED = ("origin_lon", "origin_lat", "dest_lon", "dest_lat", "started_at")
OPTIONAL = ("ended_at", "duration_s", "distance_m", "mode", "trip_key", "segment_ids")
FIELDS = REQUIRED + OPTIONAL
MAX_ERRORS = 200  # problems reported at most
MAX_FILE_BYTES = 64 * 1024 * 1024  # an upload through the API; larger files go through the CLI
MAX_DURATION_S = 24 * 3600.0
MAX_DISTANCE_M = 500_000.0

MSG_REQUIRED = N_("Row {row}: {field} is required.")
MSG_NUMBER = N_("Row {row}: {field} must be a number.")
MSG_RANGE = N_("Row {row}: {field} must be between {low} and {high}.")
MSG_TIME = N_("Row {row}: {field} must be a date and time such as 2026-12-01T08:05:00+08:00.")
MSG_ORDER = N_("Row {row}: the trip ends before it starts.")
MSG_END = N_("Row {row}: give ended_at or duration_s.")
MSG_MODE = N_("Row {row}: mode must be one of: {expected}.")
MSG_DUPLICATE = N_("Row {row}: trip_key {key} appears twice in the file.")
MSG_COLUMNS = N_("The file lacks the columns: {columns}.")
MSG_FORMAT = N_("Give a .csv or .parquet file.")
MSG_UNREADABLE = N_("The file could not be read as {kind}.")
MSG_EMPTY = N_("The file has no rows.")
MSG_TOO_BIG = N_("The file is larger than {mb} MB; import it with the command line.")


def read_file(path: Path | str) -> list[dict[str, Any]]:
    """The rows of a CSV (every cell a string) or Parquet file."""
    p = Path(path)
    return read_bytes(p.read_bytes(), p.name)


def read_bytes(data: bytes, name: str) -> list[dict[str, Any]]:
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(details=[FieldError("file", MSG_TOO_BIG, {"mb": MAX_FILE_BYTES // (1024 * 1024)})])
    kind = Path(name).suffix.lower()
    try:
        if kind == ".csv":
            df = pl.read_csv(data, infer_schema=False)
        elif kind in (".parquet", ".pq"):
            df = pl.read_parquet(data)
        else:
            raise Invalid(details=[FieldError("file", MSG_FORMAT)])
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if isinstance(exc, Invalid):
            raise
        raise Invalid(details=[FieldError("file", MSG_UNREADABLE, {"kind": kind.lstrip(".")})]) from exc
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise Invalid(details=[FieldError("file", MSG_COLUMNS, {"columns": ", ".join(missing)})])
    if df.is_empty():
        raise Invalid(details=[FieldError("file", MSG_EMPTY)])
    return df.select([c for c in FIELDS if c in df.columns]).to_dicts()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Row:
    """One row's checks; problems are collected, not raised."""

    def __init__(self, n: int, raw: dict[str, Any], tz: ZoneInfo, errors: list[FieldError]) -> None:
        self.n, self.raw, self.tz, self.errors = n, raw, tz, errors

    def fail(self, field: str, message: str, **params: Any) -> None:
        self.errors.append(FieldError(f"rows.{self.n}.{field}", message, {"row": self.n, "field": field, **params}))

    def number(self, field: str, low: float, high: float, *, required: bool) -> float | None:
        value = self.raw.get(field)
        if _blank(value):
            if required:
                self.fail(field, MSG_REQUIRED)
            return None
        try:
            x = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(field, MSG_NUMBER)
            return None
        if not math.isfinite(x) or not low <= x <= high:
            self.fail(field, MSG_RANGE, low=low, high=high)
            return None
        return x

    def time(self, field: str, *, required: bool) -> datetime | None:
        value = self.raw.get(field)
        if _blank(value):
            if required:
                self.fail(field, MSG_REQUIRED)
            return None
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(field, MSG_TIME)
                return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return moment.astimezone(ZoneInfo("UTC"))


def _key(raw: dict[str, Any]) -> str:
    text = "|".join(str(raw.get(c, "")).strip() for c in FIELDS if c != "trip_key")
    return "import:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:24]


def _segments(value: Any) -> list[str]:
    if _blank(value):
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [s for s in str(value).replace(";", " ").split() if s]


def validate(rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, list[FieldError]]:
    """The rows as a ``derive.TRIP_COLUMNS`` frame (``source = imported``) and the problems found."""
    tz = ZoneInfo(get_settings().timezone)
    errors: list[FieldError] = []
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    for n, raw in enumerate(rows, start=1):
        before = len(errors)
        r = _Row(n, raw, tz, errors)
        o_lon = r.number("origin_lon", -180, 180, required=True)
        o_lat = r.number("origin_lat", -90, 90, required=True)
        d_lon = r.number("dest_lon", -180, 180, required=True)
        d_lat = r.number("dest_lat", -90, 90, required=True)
        started = r.time("started_at", required=True)
        ended = r.time("ended_at", required=False)
        duration = r.number("duration_s", 1, MAX_DURATION_S, required=False)
        distance = r.number("distance_m", 1, MAX_DISTANCE_M, required=False)
        mode = "other" if _blank(raw.get("mode")) else str(raw["mode"]).strip().lower()
        if mode not in config.MODES:
            r.fail("mode", MSG_MODE, expected=", ".join(config.MODES))
        if started is not None and ended is not None:
            if ended <= started:
                r.fail("ended_at", MSG_ORDER)
            elif (ended - started).total_seconds() > MAX_DURATION_S:
                r.fail("ended_at", MSG_RANGE, low=started.isoformat(), high=(started + timedelta(days=1)).isoformat())
        elif ended is None and duration is None and _blank(raw.get("ended_at")) and _blank(raw.get("duration_s")):
            r.fail("ended_at", MSG_END)
        key = _key(raw) if _blank(raw.get("trip_key")) else str(raw["trip_key"]).strip()[:160]
        if key in keys:
            r.fail("trip_key", MSG_DUPLICATE, key=key)
        keys.add(key)
        if len(errors) > before:
            continue
        assert o_lon is not None
        assert o_lat is not None
        assert d_lon is not None
        assert d_lat is not None
        assert started is not None
        if ended is None:
            assert duration is not None
            ended = started + timedelta(seconds=duration)
        if distance is None:
            distance = haversine_m(o_lon, o_lat, d_lon, d_lat) * config.DETOUR_FACTOR
        out.append(
            {
                "trip_key": key,
                "mode": mode,
                "source": "imported",
                "started_at": started,
                "ended_at": ended,
                "origin_lon": o_lon,
                "origin_lat": o_lat,
                "dest_lon": d_lon,
                "dest_lat": d_lat,
                "distance_m": max(distance, 1.0),
                "duration_s": (ended - started).total_seconds(),
                "segment_ids": _segments(raw.get("segment_ids")),
            }
        )
    return pl.DataFrame(out, schema=TRIP_COLUMNS), errors
