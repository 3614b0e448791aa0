"""Benchmark: 10M loop, probe and navigation records → the five vital signs, against a bare
Polars group-by of the same data in the same run; then the same pipeline on the Spark runner.

Usage: nice -n 10 .venv/bin/python bench/indicators.py [--records 10000000] [--grid 20]
       [--hours 24] [--rounds 3] [--spark-records 10000000 | --no-spark] [--seed 7]

Data: part ``network``'s ``grid_network`` (a 20 × 20 grid: 1,520 directed segments), four
districts (quadrants) and one corridor (the northern arterials). Records are spread over
``--hours`` of 5-minute bins: 70 % probe points, 20 % loop records (loops on every third
segment, count ~ Poisson(6) per record), 10 % navigation values; speeds follow a two-peak
day; 0.1 % are bad (unknown segment, negative speed) and must come out as quarantine.

Ours (``pipeline.compute_local``): validation with reasons, fusion (per-source means and
inverse-variance weights, disagreement flags), segment states, membership join, the five
vital signs per city/district/corridor and bin. Baseline: a bare Polars group-by of the same
long table by (segment, 5-minute bin) with the mean speed and the summed count, joined to the
segment lengths and grouped again per bin (a crude city VKT and mean speed) — what any
hand-written script does first. Rounds alternate; medians are compared: the ratio is bare
time ÷ our time (target ≥ 0.5). The Spark runner (``compute_spark``, ``local[2]``, same
kernels via mapInArrow/applyInArrow over hash buckets) reads the same records from Parquet;
its time is reported against the same bare figure, and its vital signs are checked against
the local ones.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from cityos.mobility.indicators.fusion import OBS_SCHEMA
from cityos.mobility.indicators.pipeline import compute_local, compute_spark
from cityos.mobility.indicators.vitals import membership
from cityos.mobility.network.schema import DEMO_CENTRE, grid_network

TARGET_RATIO = 0.5
DAY0 = datetime(2026, 3, 2)


def network(grid: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    segs = grid_network(grid, grid, 300.0, *DEMO_CENTRE)
    lon = segs["lons"].list.first()
    lat = segs["lats"].list.first()
    segs = segs.with_columns(
        (pl.when(lat >= DEMO_CENTRE[1]).then(pl.lit("N")).otherwise(pl.lit("S"))
         + pl.when(lon >= DEMO_CENTRE[0]).then(pl.lit("E")).otherwise(pl.lit("W"))).alias("district")
    )
    corridor = segs.filter((pl.col("road_class") == "arterial") & (lat >= DEMO_CENTRE[1]))["segment_id"].to_list()
    return segs, membership(segs, city_id="5101", district_col="district", corridors={"north-arterials": corridor})


def records(segs: pl.DataFrame, n: int, hours: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ids = segs["segment_id"].to_numpy()
    ff = segs["free_speed_kmh"].to_numpy()
    lanes = segs["lanes"].to_numpy()
    n_probe, n_loop = int(n * 0.7), int(n * 0.2)
    n_nav = n - n_probe - n_loop
    seconds = hours * 3600

    def speeds(seg: np.ndarray, ts: np.ndarray, sd: float) -> np.ndarray:
        h = (ts % 86400) / 3600.0
        peak = 0.55 * np.exp(-((h - 8.0) ** 2) / 1.5) + 0.5 * np.exp(-((h - 18.0) ** 2) / 2.0)
        mood = 0.85 + 0.3 * ((seg * 2654435761) % 1000) / 1000.0  # a fixed factor per segment
        return np.clip(ff[seg] * mood * (1.0 - peak) + rng.normal(0, sd, seg.size), 0.0, 150.0)

    parts = []
    seg = rng.integers(0, ids.size, n_probe)
    ts = rng.integers(0, seconds, n_probe)
    parts.append(("probe", seg, ts, speeds(seg, ts, 8.0), None, None))
    looped = np.arange(0, ids.size, 3)
    seg = looped[rng.integers(0, looped.size, n_loop)]
    ts = rng.integers(0, seconds, n_loop)
    count = rng.poisson(6 * lanes[seg] / 2).astype(np.float64)
    parts.append(("loop", seg, ts, speeds(seg, ts, 3.0), count, np.clip(count / 40.0, 0, 1)))
    seg = rng.integers(0, ids.size, n_nav)
    ts = rng.integers(0, seconds, n_nav)
    parts.append(("nav", seg, ts, speeds(seg, ts, 5.0), None, None))

    frames = []
    for source, seg, ts, speed, cnt, occ in parts:
        size = seg.size
        frames.append(
            pl.DataFrame(
                {
                    "source": pl.Series([source], dtype=pl.String).extend_constant(source, size - 1),
                    "segment_id": ids[seg],
                    "ts": pl.Series(ts * 1_000_000, dtype=pl.Int64),
                    "speed": speed,
                    "count": cnt if cnt is not None else np.full(size, np.nan),
                    "occupancy": occ if occ is not None else np.full(size, np.nan),
                    "n": cnt if cnt is not None else np.ones(size),
                }
            )
        )
    df = pl.concat(frames).with_columns(
        (pl.lit(DAY0) + pl.duration(microseconds=pl.col("ts"))).cast(pl.Datetime("us")).alias("ts"),
        pl.col("count").fill_nan(None),
        pl.col("occupancy").fill_nan(None),
    )
    # 0.1 % bad records: half on an unknown segment, half with a negative speed.
    bad = rng.random(df.height) < 0.001
    half = rng.random(df.height) < 0.5
    df = df.with_columns(
        pl.when(pl.Series(bad & half)).then(pl.lit("no-such-edge")).otherwise(pl.col("segment_id")).alias("segment_id"),
        pl.when(pl.Series(bad & ~half)).then(pl.lit(-5.0)).otherwise(pl.col("speed")).alias("speed"),
    )
    return df.select([f.name for f in OBS_SCHEMA]).sample(fraction=1.0, shuffle=True, seed=seed)


def bare(obs: pl.DataFrame, segs: pl.DataFrame) -> pl.DataFrame:
    per_seg = (
        obs.lazy()
        .group_by("segment_id", pl.col("ts").dt.truncate("5m").alias("bin_start"))
        .agg(pl.col("speed").mean(), pl.col("count").sum())
        .join(segs.lazy().select("segment_id", "length_m"), on="segment_id")
    )
    return (
        per_seg.group_by("bin_start")
        .agg((pl.col("count") * pl.col("length_m") / 1000).sum().alias("vkt_km"), pl.col("speed").mean())
        .collect()
    )


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--grid", type=int, default=20)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--spark-records", type=int, default=None, help="default: --records")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    segs, areas = network(args.grid)
    t_gen, obs = timed(lambda: records(segs, args.records, args.hours, args.seed))
    incidents = (
        obs.filter(pl.col("source") == "loop").head(200)
        .select(pl.lit("5101").alias("area_id"), "ts", pl.lit(1).alias("count"))
    )
    print(f"{obs.height:,} records ({obs['source'].value_counts().sort('source').rows()}), "
          f"{segs.height:,} segments, {args.hours} h; generated in {t_gen:.1f} s")

    ours_t, bare_t = [], []
    result = None
    for _ in range(args.rounds):
        t, result = timed(lambda: compute_local(obs, segs, areas, incidents))
        ours_t.append(t)
        t, _b = timed(lambda: bare(obs, segs))
        bare_t.append(t)
    assert result is not None
    ours, base = statistics.median(ours_t), statistics.median(bare_t)
    ratio = base / ours
    print(f"local runner : {ours:.2f} s median of {[round(t, 2) for t in ours_t]} "
          f"→ {obs.height / ours / 1e6:.2f} M records/s; {result.vitals.height:,} vital-sign rows, "
          f"{result.segments.height:,} segment-bins, {result.quarantine.height:,} quarantined "
          f"({dict(result.quarantine['reason'].value_counts().rows())})")
    print(f"bare group-by: {base:.2f} s median of {[round(t, 2) for t in bare_t]} "
          f"→ {obs.height / base / 1e6:.2f} M records/s")
    print(f"ratio (bare time / ours): {ratio:.2f} (target ≥ {TARGET_RATIO})")
    city = result.vitals.filter(pl.col("level") == "city")
    worst = city.sort("tpi", descending=True).row(0, named=True)
    print(f"city: VKT {city['vkt_km'].sum():,.0f} km, peak TPI {worst['tpi']:.1f} ({worst['tpi_band_name']}) "
          f"at {worst['bin_start']:%H:%M}, TTI {worst['tti']:.2f}")

    ok = ratio >= TARGET_RATIO
    if not args.no_spark:
        ok = spark_round(args, obs, segs, areas, incidents, result.vitals, base) and ok
    return 0 if ok else 1


def spark_round(args, obs, segs, areas, incidents, local_vitals, base) -> bool:  # type: ignore[no-untyped-def]
    from cityos.mobility.indicators.runners import local_spark

    n = args.spark_records or args.records
    sub = obs.head(n)
    if n != obs.height:
        local_vitals = compute_local(sub, segs, areas, incidents).vitals
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "obs.parquet"
        sub.write_parquet(path)
        t_start, spark = timed(lambda: local_spark("cityos-bench-indicators", cores=2))
        try:
            t, res = timed(lambda: compute_spark(spark, spark.read.parquet(str(path)), segs, areas, incidents,
                                                 buckets=8))
        finally:
            spark.stop()
    keys = ["level", "area_id", "bin_start"]
    a, b = res.vitals.sort(keys), local_vitals.sort(keys)
    same = a.height == b.height and (a["tpi"] - b["tpi"]).abs().max() < 1e-9  # type: ignore[operator]
    same = same and ((a["vkt_km"] - b["vkt_km"]).abs() / b["vkt_km"].abs().clip(1e-9)).max() < 1e-9  # type: ignore[operator]
    print(f"spark runner : {t:.2f} s for {n:,} records (session start {t_start:.1f} s, not counted) "
          f"→ {n / t / 1e6:.2f} M records/s; ratio to bare Polars {base * n / obs.height / t:.2f}; "
          f"vital signs equal to local: {same}")
    return bool(same)


if __name__ == "__main__":
    sys.exit(main())
