"""Synthetic drives along a grid network, for the matcher's tests."""

from __future__ import annotations

import numpy as np
import polars as pl

from cityos.mobility.matching.index import Projection


def drive(
    segments: pl.DataFrame,
    path: list[str],
    *,
    vehicle_id: str = "v1",
    speed_ms: float = 10.0,
    dt_s: float = 10.0,
    noise_m: float = 0.0,
    seed: int = 0,
    t0: float = 0.0,
    start_m: float = 50.0,
) -> tuple[pl.DataFrame, list[str]]:
    """Points every ``dt_s`` along ``path`` (segment ids), and the true segment of each point."""
    seg = {r["segment_id"]: r for r in segments.iter_rows(named=True)}
    lon0 = float(np.mean([np.mean(seg[s]["lons"]) for s in path]))
    lat0 = float(np.mean([np.mean(seg[s]["lats"]) for s in path]))
    proj = Projection(lon0, lat0)
    xs, ys, owner = [], [], []
    for s in path:
        x, y = proj.forward(np.array(seg[s]["lons"]), np.array(seg[s]["lats"]))
        xs.append(x)
        ys.append(y)
        owner.append(s)
    lengths = [float(np.hypot(np.diff(x), np.diff(y)).sum()) for x, y in zip(xs, ys, strict=True)]
    total = sum(lengths)
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    d, t = start_m, t0  # 50 m in: points right at a junction are a coin toss under noise
    while d < total - 1.0:
        acc, i = d, 0
        while acc > lengths[i]:
            acc -= lengths[i]
            i += 1
        x, y = xs[i], ys[i]
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        j = min(int(np.searchsorted(cum, acc, side="right")) - 1, len(x) - 2)
        f = (acc - cum[j]) / max(cum[j + 1] - cum[j], 1e-9)
        px, py = x[j] + f * (x[j + 1] - x[j]), y[j] + f * (y[j + 1] - y[j])
        px, py = px + rng.normal(0, noise_m) if noise_m else px, py + rng.normal(0, noise_m) if noise_m else py
        hd = float(np.degrees(np.arctan2(x[j + 1] - x[j], y[j + 1] - y[j])) % 360)
        lon, lat = proj.inverse(np.array([px]), np.array([py]))
        rows.append(
            {
                "vehicle_id": vehicle_id,
                "ts": t,
                "lon": float(lon[0]),
                "lat": float(lat[0]),
                "speed": speed_ms,
                "heading": hd,
            }
        )
        truth.append(owner[i])
        d += speed_ms * dt_s
        t += dt_s
    return pl.DataFrame(rows), truth
