"""Small synthetic series for the forecast tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def long_frame(values: Mapping[str, Sequence[float | None]], start: datetime = T0) -> pl.DataFrame:
    """A long table with one row per value, 5 minutes apart, per sensor."""
    rows: dict[str, list[object]] = {"sensor_id": [], "ts": [], "speed_kmh": []}
    for sensor, series in values.items():
        for i, v in enumerate(series):
            rows["sensor_id"].append(sensor)
            rows["ts"].append(start + timedelta(minutes=5 * i))
            rows["speed_kmh"].append(v)
    return pl.DataFrame(rows, schema={"sensor_id": pl.String, "ts": pl.Datetime("us", "UTC"), "speed_kmh": pl.Float64})


def mean_reverting(n_sensors: int, days: int, *, seed: int = 0) -> pl.DataFrame:
    """Daily profile plus an AR(1) deviation (phi = 0.9): the best forecast is neither the last
    value nor the profile but in between, which a model on lags and time of day can learn."""
    rng = np.random.default_rng(seed)
    steps = days * 288
    minute = (np.arange(steps) % 288) * 5
    values: dict[str, list[float | None]] = {}
    for s in range(n_sensors):
        free = 60.0 + 10.0 * s
        profile = (
            free
            - 25.0 * np.exp(-(((minute - 8 * 60) / 60.0) ** 2))
            - 20.0 * np.exp(-(((minute - 18 * 60) / 70.0) ** 2))
        )
        dev = np.zeros(steps)
        noise = rng.normal(0.0, 4.0, steps)
        for t in range(1, steps):
            dev[t] = 0.9 * dev[t - 1] + noise[t]
        values[f"s{s}"] = list(np.clip(profile + dev, 3.0, None))
    return long_frame(values)
