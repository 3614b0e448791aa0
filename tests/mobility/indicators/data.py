"""Small hand-made tables shared by the indicator tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

T0 = datetime(2026, 3, 2, 8, 0, 0)


def segments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment_id": ["e1", "e2", "a1", "a2", "s1", "b1"],
            "road_class": ["expressway", "expressway", "arterial", "arterial", "secondary", "branch"],
            "length_m": [2000.0, 1000.0, 1000.0, 500.0, 400.0, 200.0],
            "lanes": [3, 3, 2, 2, 1, 1],
            "free_speed_kmh": [80.0, 80.0, 60.0, 60.0, 40.0, 30.0],
            "district": ["510104", "510105", "510104", "510105", "510104", "510105"],
        },
        schema_overrides={"lanes": pl.Int16},
    )


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def many_observations(bins: int = 6, seed: int = 3) -> pl.DataFrame:
    """A few thousand mixed records over ``bins`` 5-minute bins, with some bad ones."""
    import random

    from cityos.mobility.indicators.fusion import observations

    rnd = random.Random(seed)
    ids = segments()["segment_id"].to_list()
    probes, loops, nav = [], [], []
    for b in range(bins):
        for sid in ids:
            base = rnd.uniform(8, 90)
            for _ in range(rnd.randint(0, 25)):
                probes.append((sid, at(b * 5 + rnd.uniform(0, 4.99)), max(0.0, rnd.gauss(base, 8))))
            if sid != "b1":
                for _lane in range(2):
                    loops.append((sid, at(b * 5 + 1), float(rnd.randint(0, 60)), rnd.uniform(0, 0.5), base + 2))
            nav.append((sid, at(b * 5 + 2), base * rnd.uniform(0.6, 1.4)))
    probes += [("zz", at(1), 30.0), (None, at(1), 30.0), ("a1", at(1), 400.0)]
    loops += [("a1", at(1), -3.0, 0.1, 20.0), ("a1", at(1), 10.0, 1.7, 20.0)]
    p = pl.DataFrame(probes, schema=["segment_id", "ts", "speed"], orient="row")
    lo = pl.DataFrame(loops, schema=["segment_id", "ts", "count", "occupancy", "speed"], orient="row")
    n = pl.DataFrame(nav, schema=["segment_id", "ts", "speed"], orient="row")
    return observations(p, lo, n)
