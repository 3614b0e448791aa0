"""Loader for the real Los-loop week (207 Los Angeles loop detectors, 2,016 five-minute steps).

The files (see ``shared/data/traffic/los-loop/README.md``) are wide: one speed column per sensor,
in mph. The loader gives the mobility parts the shapes they use everywhere:

- ``sensors``: sensor_id (str), lon, lat, idx (the column order of the speed and adjacency files);
- ``speeds`` (long): sensor_id, ts (UTC, 5-minute steps from the anchor), step (0..2015), speed_kmh;
- ``adjacency``: a 207 × 207 list of weights in sensor order (``adjacency_edges`` gives the
  non-zero off-diagonal pairs as a table).

The slice is METR-LA from 1 March 2012, local time (Pacific, UTC-8 that week: no DST until
11 March), so the default anchor is 2012-03-01 08:00 UTC. Gaps are already filled upstream;
a non-positive or non-finite speed is still counted and dropped with a reason, never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from cityos.core.errors import Invalid, NotFound
from cityos.core.settings import ROOT_DIR

DEFAULT_DIR = ROOT_DIR.parent / "shared" / "data" / "traffic" / "los-loop"
DEFAULT_ANCHOR = datetime(2012, 3, 1, 8, 0, tzinfo=UTC)  # 2012-03-01 00:00 PST
STEP = timedelta(minutes=5)
KMH_PER_MPH = 1.609344


@dataclass
class LosLoop:
    sensors: pl.DataFrame
    speeds: pl.DataFrame
    adjacency: list[list[float]]
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> count

    @property
    def steps(self) -> int:
        return int(self.speeds.select(pl.col("step").max()).item()) + 1 if self.speeds.height else 0

    def adjacency_edges(self, min_weight: float = 0.0) -> pl.DataFrame:
        """Non-zero off-diagonal adjacency as (from_sensor, to_sensor, weight)."""
        ids = self.sensors.sort("idx")["sensor_id"].to_list()
        rows = [
            (ids[i], ids[j], w)
            for i, row in enumerate(self.adjacency)
            for j, w in enumerate(row)
            if i != j and w > min_weight
        ]
        return pl.DataFrame(
            rows, schema={"from_sensor": pl.String, "to_sensor": pl.String, "weight": pl.Float64}, orient="row"
        )


def _need(path: Path) -> Path:
    if not path.is_file():
        raise NotFound(f"Los-loop file missing: {path}")
    return path


def load_sensors(data_dir: Path = DEFAULT_DIR) -> pl.DataFrame:
    raw = pl.read_csv(_need(data_dir / "sensor_locations.csv"))
    return raw.select(
        pl.col("sensor_id").cast(pl.String),
        pl.col("longitude").cast(pl.Float64).alias("lon"),
        pl.col("latitude").cast(pl.Float64).alias("lat"),
        pl.col("index").cast(pl.Int32).alias("idx"),
    )


def load_speeds(data_dir: Path = DEFAULT_DIR, anchor: datetime = DEFAULT_ANCHOR) -> tuple[pl.DataFrame, dict[str, int]]:
    """The speed file as a long table sorted by sensor and time, and the rejected counts."""
    if anchor.tzinfo is None:
        raise Invalid("the Los-loop anchor must be timezone-aware")
    wide = pl.read_csv(_need(data_dir / "los_speed.csv"), infer_schema_length=0)
    wide = wide.with_columns(pl.all().cast(pl.Float64, strict=False)).with_row_index("step")
    long = wide.unpivot(index="step", variable_name="sensor_id", value_name="speed_mph")
    bad = pl.col("speed_mph").is_null() | ~pl.col("speed_mph").is_finite() | (pl.col("speed_mph") <= 0)
    n_bad = int(long.select(bad.sum()).item())
    rejected = {"speed not a positive number": n_bad} if n_bad else {}
    start = anchor.astimezone(UTC)
    out = (
        long.filter(~bad)
        .select(
            pl.col("sensor_id"),
            (pl.lit(start) + pl.duration(minutes=pl.col("step").cast(pl.Int64) * 5)).alias("ts"),
            pl.col("step").cast(pl.Int32),
            (pl.col("speed_mph") * KMH_PER_MPH).alias("speed_kmh"),
        )
        .sort("sensor_id", "step")
    )
    return out, rejected


def load_adjacency(data_dir: Path = DEFAULT_DIR) -> list[list[float]]:
    adj = pl.read_csv(_need(data_dir / "los_adj.csv"), has_header=False)
    if adj.height != adj.width:
        raise Invalid(f"Los-loop adjacency is not square: {adj.height} × {adj.width}")
    return [list(map(float, row)) for row in adj.rows()]


def load_los_loop(data_dir: Path = DEFAULT_DIR, anchor: datetime = DEFAULT_ANCHOR) -> LosLoop:
    sensors = load_sensors(data_dir)
    speeds, rejected = load_speeds(data_dir, anchor)
    adjacency = load_adjacency(data_dir)
    # The three files share one sensor order; a mismatch would silently mislabel every series.
    speed_ids = pl.read_csv(data_dir / "los_speed.csv", n_rows=0).columns
    if speed_ids != sensors.sort("idx")["sensor_id"].to_list():
        raise Invalid("Los-loop speed columns and sensor locations disagree on the sensor order")
    if len(adjacency) != sensors.height:
        raise Invalid("Los-loop adjacency size differs from the sensor count")
    return LosLoop(sensors=sensors, speeds=speeds, adjacency=adjacency, rejected=rejected)
