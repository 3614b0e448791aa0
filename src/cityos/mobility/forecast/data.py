"""Reading the Los-loop week (``../shared/data/traffic/los-loop/``) as a long table and an edge table.

A small private reader until ``cityos.mobility.network.los_loop`` (part ``network``) is in
place; ``load_los_loop`` uses that loader when it exists and this one otherwise.
The files carry no timestamps: the 2,016 rows are 7 days × 288 five-minute steps starting at
midnight, so the steps are placed from a nominal ``start`` (a clock time, used only for time of
day). Speeds are mph in the files and km/h in the long table (× 1.609344).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cityos.core.errors import Invalid
from cityos.mobility.forecast import STEP_MIN
from cityos.mobility.forecast.features import edges_from_adjacency

MPH_TO_KMH = 1.609344
NOMINAL_START = datetime(2012, 3, 1, tzinfo=UTC)


def read_los_loop(directory: Path, *, start: datetime = NOMINAL_START) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(long, edges)``: long is ``(sensor_id, ts, speed_kmh)`` sorted; edges from ``los_adj.csv``."""
    speed_path = directory / "los_speed.csv"
    adj_path = directory / "los_adj.csv"
    for path in (speed_path, adj_path):
        if not path.is_file():
            raise Invalid("The Los-loop file is missing.", params={"path": str(path)})
    wide = pl.read_csv(speed_path, infer_schema_length=0).cast(pl.Float64)
    ids = wide.columns
    ts = pl.datetime_range(
        start, start + timedelta(minutes=STEP_MIN * (wide.height - 1)), timedelta(minutes=STEP_MIN), eager=True
    ).dt.cast_time_unit("us")
    long = (
        wide.with_columns(ts.alias("ts"))
        .unpivot(index="ts", variable_name="sensor_id", value_name="speed_mph")
        .select("sensor_id", "ts", (pl.col("speed_mph") * MPH_TO_KMH).alias("speed_kmh"))
        .sort("sensor_id", "ts")
    )
    adj = np.loadtxt(adj_path, delimiter=",", dtype=np.float64)
    return long, edges_from_adjacency(adj, ids)


def load_los_loop(directory: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The network part's loader when present, else ``read_los_loop`` (same result shape)."""
    return read_los_loop(directory)
