"""The Los-loop week (``../shared/data/traffic/los-loop/``) in the shapes forecasting uses.

Reading is done by the scenario part's loader (``cityos.mobility.scenario.los_loop``); this module
only turns its result into the forecaster's ``(long, edges)`` pair. The files carry no timestamps:
the 2,016 rows are 7 days × 288 five-minute steps from midnight. The forecaster places them from
``NOMINAL_START`` (midnight UTC) rather than the loader's local-time anchor, so the time-of-day
features and the published backtest figures stay what they were. Speeds are km/h (× 1.609344).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from cityos.core.errors import Invalid, NotFound
from cityos.mobility.forecast.features import edges_from_adjacency
from cityos.mobility.scenario import los_loop

MPH_TO_KMH = los_loop.KMH_PER_MPH
NOMINAL_START = datetime(2012, 3, 1, tzinfo=UTC)


def read_los_loop(directory: Path, *, start: datetime = NOMINAL_START) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(long, edges)``: long is ``(sensor_id, ts, speed_kmh)`` sorted; edges from ``los_adj.csv``."""
    try:
        week = los_loop.load_los_loop(directory, anchor=start)
    except NotFound as exc:
        # the forecaster's callers (CLI, bench) report a missing file as bad input
        raise Invalid("The Los-loop file is missing.", params={"path": str(directory)}) from exc
    ids = week.sensors.sort("idx")["sensor_id"].to_list()
    long = week.speeds.select("sensor_id", "ts", "speed_kmh").sort("sensor_id", "ts")
    return long, edges_from_adjacency(np.asarray(week.adjacency, dtype=np.float64), ids)


def load_los_loop(directory: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The Los-loop week at the nominal start (see the module docstring)."""
    return read_los_loop(directory)
