"""Reading a GTFS static feed (through gtfs-kit) into the tables the TOCC keeps, and checking it.

A feed with an error (a required file or column missing, an id repeated, a trip of an unknown
route, a stop time of an unknown trip or stop, coordinates out of range, a time that does not
parse) is refused with one field-level message per problem; what a feed may lack and still be
useful (shapes, times at non-timepoint stops, trips without stop times) is a warning kept with
the feed. Times become seconds after the service day's midnight; missing times at intermediate
stops are interpolated along the trip.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.mobility.network.schema import M_PER_DEG_LAT, polyline_length_m

REQUIRED: dict[str, tuple[str, ...]] = {
    "routes": ("route_id",),
    "stops": ("stop_id", "stop_lat", "stop_lon"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "stop_id", "stop_sequence"),
}
FIELD = "file"  # the form field every message of the feed refers to

MSG_NOT_ZIP = N_("The file is not a GTFS zip archive.")
MSG_UNREADABLE = N_("The GTFS feed could not be read: %(reason)s")
MSG_MISSING_FILE = N_("The feed lacks %(file)s.")
MSG_MISSING_COLUMN = N_("%(file)s lacks the column %(column)s.")
MSG_DUPLICATE = N_("%(file)s repeats %(count)s values of %(column)s.")
MSG_UNKNOWN_REF = N_("%(count)s rows of %(file)s refer to an unknown %(column)s.")
MSG_COORDINATES = N_("%(count)s stops have no coordinates or coordinates out of range.")
MSG_TIMES = N_("%(count)s trips of stop_times.txt have no valid arrival or departure time.")
MSG_EMPTY = N_("The feed has no trips with stop times.")


@dataclass
class GtfsTables:
    """The feed's rows as Polars frames, with what was wrong but tolerable."""

    timezone: str | None
    routes: pl.DataFrame  # route_id, short_name, long_name, route_type, color
    stops: pl.DataFrame  # stop_id, name, lon, lat
    trips: pl.DataFrame  # trip_id, route_id, service_id, direction_id, shape_id, headsign
    stop_times: pl.DataFrame  # trip_id, stop_id, stop_sequence, arrival_s, departure_s
    shapes: pl.DataFrame  # shape_id, coordinates (list of [lon, lat]), length_m, derived
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _frame(feed: Any, name: str) -> pl.DataFrame | None:
    table = getattr(feed, name, None)
    if table is None:
        return None
    # Everything as text first: gtfs-kit's nullable pandas dtypes do not all cross to Arrow.
    return pl.from_pandas(table.astype("string").astype(object).where(table.notna(), None)).cast(pl.String)


def _text(df: pl.DataFrame, column: str, default: str = "") -> pl.Expr:
    if column in df.columns:
        return pl.col(column).fill_null(default).str.strip_chars()
    return pl.lit(default)


def _seconds(column: str) -> pl.Expr:
    """'HH:MM:SS' (hours may pass 24) as seconds; null when it does not parse."""
    parts = pl.col(column).str.strip_chars().str.extract_groups(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
    return (
        parts.struct.field("1").cast(pl.Int64) * 3600
        + parts.struct.field("2").cast(pl.Int64) * 60
        + parts.struct.field("3").cast(pl.Int64)
    )


def _duplicates(df: pl.DataFrame, file: str, column: str, errors: list[FieldError]) -> None:
    n = df.height - df[column].n_unique()
    if n:
        errors.append(FieldError(FIELD, MSG_DUPLICATE, {"file": f"{file}.txt", "column": column, "count": n}))


def _unknown(df: pl.DataFrame, column: str, known: pl.Series, file: str, errors: list[FieldError]) -> None:
    n = df.filter(~pl.col(column).is_in(known.implode()) | pl.col(column).is_null()).height
    if n:
        errors.append(FieldError(FIELD, MSG_UNKNOWN_REF, {"file": f"{file}.txt", "column": column, "count": n}))


def read_feed(path: Path | str) -> GtfsTables:
    """The feed at ``path`` read and checked; raises ``Invalid`` listing every error found."""
    import gtfs_kit

    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise Invalid(details=[FieldError(FIELD, MSG_NOT_ZIP)])
    try:
        feed = gtfs_kit.read_feed(path, dist_units="km")
    except Exception as exc:  # gtfs-kit raises whatever pandas raises on a broken table
        raise Invalid(details=[FieldError(FIELD, MSG_UNREADABLE, {"reason": type(exc).__name__})]) from exc
    raw: dict[str, pl.DataFrame] = {}
    errors: list[FieldError] = []
    for name, columns in REQUIRED.items():
        df = _frame(feed, name)
        if df is None:
            errors.append(FieldError(FIELD, MSG_MISSING_FILE, {"file": f"{name}.txt"}))
            continue
        missing = [c for c in columns if c not in df.columns]
        for c in missing:
            errors.append(FieldError(FIELD, MSG_MISSING_COLUMN, {"file": f"{name}.txt", "column": c}))
        if not missing:
            raw[name] = df
    if errors:
        raise Invalid(details=errors)
    tables = _convert(raw, errors)
    shapes_raw = _frame(feed, "shapes")
    agency = _frame(feed, "agency")
    if errors:
        raise Invalid(details=errors)
    if tables["stop_times"].is_empty():
        raise Invalid(details=[FieldError(FIELD, MSG_EMPTY)])
    warnings: list[dict[str, Any]] = tables.pop("warnings_frame").to_dicts()
    shapes = _shapes(shapes_raw, tables, warnings)
    tz = None
    if agency is not None and "agency_timezone" in agency.columns and agency.height:
        tz = agency["agency_timezone"].drop_nulls().first()
    return GtfsTables(
        timezone=str(tz) if tz else None,
        routes=tables["routes"],
        stops=tables["stops"],
        trips=tables["trips"],
        stop_times=tables["stop_times"],
        shapes=shapes,
        warnings=[w for w in warnings if w["count"]],
    )


def _convert(raw: dict[str, pl.DataFrame], errors: list[FieldError]) -> dict[str, pl.DataFrame]:
    r, s, t, st = raw["routes"], raw["stops"], raw["trips"], raw["stop_times"]
    routes = r.select(
        pl.col("route_id").str.strip_chars(),
        _text(r, "route_short_name").alias("short_name"),
        _text(r, "route_long_name").alias("long_name"),
        _text(r, "route_type", "3").cast(pl.Int16, strict=False).fill_null(3).alias("route_type"),
        _text(r, "route_color").alias("color"),
    )
    stops = s.select(
        pl.col("stop_id").str.strip_chars(),
        _text(s, "stop_name").alias("name"),
        pl.col("stop_lon").cast(pl.Float64, strict=False).alias("lon"),
        pl.col("stop_lat").cast(pl.Float64, strict=False).alias("lat"),
    )
    trips = t.select(
        pl.col("trip_id").str.strip_chars(),
        pl.col("route_id").str.strip_chars(),
        pl.col("service_id").str.strip_chars(),
        _text(t, "direction_id").cast(pl.Int16, strict=False).alias("direction_id"),
        (_text(t, "shape_id") if "shape_id" in t.columns else pl.lit("")).alias("shape_id"),
        _text(t, "trip_headsign").alias("headsign"),
    ).with_columns(pl.when(pl.col("shape_id") == "").then(None).otherwise(pl.col("shape_id")).alias("shape_id"))
    times = st.select(
        pl.col("trip_id").str.strip_chars(),
        pl.col("stop_id").str.strip_chars(),
        pl.col("stop_sequence").cast(pl.Int64, strict=False),
        _seconds("arrival_time").alias("arrival_s") if "arrival_time" in st.columns else pl.lit(None, pl.Int64),
        _seconds("departure_time").alias("departure_s") if "departure_time" in st.columns else pl.lit(None, pl.Int64),
    )
    for df, file, column in ((routes, "routes", "route_id"), (stops, "stops", "stop_id"), (trips, "trips", "trip_id")):
        _duplicates(df, file, column, errors)
    bad_xy = stops.filter(
        pl.col("lon").is_null() | pl.col("lat").is_null() | (pl.col("lon").abs() > 180) | (pl.col("lat").abs() > 90)
    )
    if bad_xy.height:
        errors.append(FieldError(FIELD, MSG_COORDINATES, {"count": bad_xy.height}))
    _unknown(trips, "route_id", routes["route_id"], "trips", errors)
    _unknown(times, "trip_id", trips["trip_id"], "stop_times", errors)
    _unknown(times, "stop_id", stops["stop_id"], "stop_times", errors)
    if times["stop_sequence"].null_count():
        errors.append(
            FieldError(
                FIELD,
                MSG_UNKNOWN_REF,
                {"file": "stop_times.txt", "column": "stop_sequence", "count": times["stop_sequence"].null_count()},
            )
        )
    _duplicates(
        times.select(pl.concat_str("trip_id", pl.col("stop_sequence").cast(pl.String), separator="|").alias("k")),
        "stop_times",
        "k",
        errors,
    )
    times, missing = _fill_times(times)
    unusable = times.filter(pl.col("arrival_s").is_null()).select("trip_id").unique().height
    if unusable:
        errors.append(FieldError(FIELD, MSG_TIMES, {"count": unusable}))
    without = trips.filter(~pl.col("trip_id").is_in(times["trip_id"].implode())).height
    warnings = pl.DataFrame(
        {
            "code": ["times_interpolated", "trips_without_stop_times", "stops_unused"],
            "count": [
                missing,
                without,
                stops.filter(~pl.col("stop_id").is_in(times["stop_id"].implode())).height,
            ],
        }
    )
    return {"routes": routes, "stops": stops, "trips": trips, "stop_times": times, "warnings_frame": warnings}


def _fill_times(times: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """A time given only as arrival or departure serves as both; times missing at intermediate
    (non-timepoint) stops are interpolated by stop order within the trip."""
    times = times.sort("trip_id", "stop_sequence").with_columns(
        pl.coalesce("arrival_s", "departure_s").alias("arrival_s"),
        pl.coalesce("departure_s", "arrival_s").alias("departure_s"),
    )
    missing = times["arrival_s"].null_count()
    if missing:
        times = times.with_columns(
            pl.col("arrival_s").cast(pl.Float64).interpolate().over("trip_id").round().cast(pl.Int64),
            pl.col("departure_s").cast(pl.Float64).interpolate().over("trip_id").round().cast(pl.Int64),
        )
    return times, missing


def _shapes(raw: pl.DataFrame | None, tables: dict[str, pl.DataFrame], warnings: list[dict[str, Any]]) -> pl.DataFrame:
    """shapes.txt as lines; a trip without a (known) shape gets one drawn through its route and
    direction's longest trip's stops (so every route can be drawn on the map)."""
    lines: list[dict[str, Any]] = []
    if raw is not None and {"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"} <= set(raw.columns):
        pts = raw.select(
            pl.col("shape_id").str.strip_chars(),
            pl.col("shape_pt_lon").cast(pl.Float64, strict=False).alias("lon"),
            pl.col("shape_pt_lat").cast(pl.Float64, strict=False).alias("lat"),
            pl.col("shape_pt_sequence").cast(pl.Int64, strict=False).alias("seq"),
        ).drop_nulls()
        for (shape_id,), g in pts.sort("shape_id", "seq").group_by("shape_id", maintain_order=True):
            lines.append(_line(str(shape_id), g["lon"].to_list(), g["lat"].to_list(), derived=False))
    known = {line["shape_id"] for line in lines}
    trips = tables["trips"]
    lacking = trips.filter(pl.col("shape_id").is_null() | ~pl.col("shape_id").is_in(list(known)))
    if lacking.height:
        warnings.append({"code": "trips_without_shapes", "count": lacking.height})
        seq = tables["stop_times"].join(tables["stops"], on="stop_id").sort("trip_id", "stop_sequence")
        counts = seq.group_by("trip_id").len()
        longest = (
            lacking.join(counts, on="trip_id")
            .with_columns(pl.col("direction_id").fill_null(0))
            .sort("len", "trip_id", descending=[True, False])
            .unique(["route_id", "direction_id"], keep="first", maintain_order=True)
        )
        derived: dict[tuple[str, int], str] = {}
        for row in longest.iter_rows(named=True):
            shape_id = f"~{row['route_id']}~{row['direction_id']}"
            g = seq.filter(pl.col("trip_id") == row["trip_id"])
            lines.append(_line(shape_id, g["lon"].to_list(), g["lat"].to_list(), derived=True))
            derived[(row["route_id"], row["direction_id"])] = shape_id
        keys = pl.DataFrame(
            {
                "route_id": [k[0] for k in derived],
                "direction_id": [k[1] for k in derived],
                "derived_shape": list(derived.values()),
            },
            schema={"route_id": pl.String, "direction_id": pl.Int16, "derived_shape": pl.String},
        )
        fixed = (
            trips.with_columns(pl.col("direction_id").fill_null(0).alias("_d"))
            .join(keys, left_on=["route_id", "_d"], right_on=["route_id", "direction_id"], how="left")
            .with_columns(
                pl.when(pl.col("shape_id").is_null() | ~pl.col("shape_id").is_in(list(known)))
                .then(pl.col("derived_shape"))
                .otherwise(pl.col("shape_id"))
                .alias("shape_id")
            )
            .drop("_d", "derived_shape")
        )
        tables["trips"] = fixed
    return pl.DataFrame(
        lines,
        schema={
            "shape_id": pl.String,
            "coordinates": pl.List(pl.List(pl.Float64)),
            "length_m": pl.Float64,
            "derived": pl.Boolean,
        },
    )


def _line(shape_id: str, lons: list[float], lats: list[float], *, derived: bool) -> dict[str, Any]:
    coords = [[round(x, 7), round(y, 7)] for x, y in zip(lons, lats, strict=True)]
    if len(coords) == 1:
        coords.append(list(coords[0]))
    return {"shape_id": shape_id, "coordinates": coords, "length_m": polyline_length_m(lons, lats), "derived": derived}


def metres_per_degree_lon(lat: float) -> float:
    return M_PER_DEG_LAT * math.cos(math.radians(lat))
