"""A fast built-in traffic generator (no SUMO): the scenario tables on any segment table.

Vehicles depart following a demand curve with a morning and an evening peak, take a random walk
(no immediate U-turns) over the directed segments, and drive each segment at its congested
speed at entry:

    v = free_speed × (1 − depth[class] × peak(t)) × (1 + ε),  ε ~ N(0, speed_jitter)
    peak(t) = max over peaks of exp(−½ ((t − centre) / width)²)

so ground truth (``edge_truth``, space-mean speed Σlength / Σtime per interval of entry) and
loop readings (``loop_counts``, vehicles crossing mid-segment) come from the same traversals.
Probes are the vehicles' positions every ``probe_interval_s`` (each vehicle with its own
phase) plus Gaussian GPS noise in metres, converted to lon/lat. Deterministic for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import shapely

from cityos.mobility.network.index import SegmentIndex
from cityos.mobility.network.schema import conform

from .tables import ScenarioTables

PEAK_DEPTH: dict[str, float] = {"expressway": 0.55, "arterial": 0.6, "secondary": 0.4, "branch": 0.25}
VEHICLE_LENGTH_M = 5.0
LOOP_LENGTH_M = 1.5  # SUMO's E1 default detector length is 0; occupancy here counts the loop


@dataclass
class GeneratorConfig:
    # Local 06:00 to 20:00 on the demo day (UTC+8) by default; peaks are in local hours.
    start: datetime = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    duration_s: int = 14 * 3600
    utc_offset_h: float = 8.0
    vehicles: int = 2000
    peaks_local_h: tuple[float, ...] = (8.0, 18.0)
    peak_width_h: float = 0.75
    base_demand: float = 0.3  # off-peak departure rate relative to the peak's
    segments_per_trip: int = 12
    probe_interval_s: int = 15
    probe_share: float = 1.0  # share of vehicles that report probes (floating cars)
    gps_noise_m: float = 8.0
    speed_jitter: float = 0.08
    loop_classes: tuple[str, ...] = ("arterial", "expressway")
    loop_interval_s: int = 300
    edge_interval_s: int = 300
    seed: int = 7
    depth: dict[str, float] = field(default_factory=lambda: dict(PEAK_DEPTH))


def peak_factor(ts_s: np.ndarray, cfg: GeneratorConfig) -> np.ndarray:
    """0..1 peak intensity at seconds since ``cfg.start``."""
    local_h = ((cfg.start.hour + cfg.start.minute / 60 + cfg.utc_offset_h) + np.asarray(ts_s) / 3600.0) % 24
    out = np.zeros_like(local_h, dtype=np.float64)
    for centre in cfg.peaks_local_h:
        d = np.minimum(np.abs(local_h - centre), 24 - np.abs(local_h - centre))
        out = np.maximum(out, np.exp(-0.5 * (d / cfg.peak_width_h) ** 2))
    return out


def _departures(cfg: GeneratorConfig, rng: np.random.Generator) -> np.ndarray:
    # Inverse-CDF sampling of the demand curve on a 1-minute grid.
    grid = np.arange(0, cfg.duration_s, 60, dtype=np.float64)
    weight = cfg.base_demand + peak_factor(grid, cfg)
    cdf = np.cumsum(weight) / weight.sum()
    return np.sort(np.interp(rng.random(cfg.vehicles), cdf, grid) + rng.random(cfg.vehicles) * 60)


def generate(segments: pl.DataFrame, cfg: GeneratorConfig | None = None) -> ScenarioTables:
    cfg = cfg or GeneratorConfig()
    seg = conform(segments)
    rng = np.random.default_rng(cfg.seed)
    ix = SegmentIndex(seg)
    sid = seg["segment_id"].to_list()
    frm, to = seg["from_node"].to_list(), seg["to_node"].to_list()
    length = seg["length_m"].to_numpy()
    free = seg["free_speed_kmh"].to_numpy()
    depth = np.array([cfg.depth.get(c, 0.3) for c in seg["road_class"].to_list()])
    out_of: dict[str, list[int]] = {}
    for i, node in enumerate(frm):
        out_of.setdefault(node, []).append(i)

    # Traversals: one row per vehicle and segment driven.
    t_veh, t_seg, t_in, t_out, t_v = [], [], [], [], []
    for v, dep in enumerate(_departures(cfg, rng)):
        cur, t = int(rng.integers(len(sid))), float(dep)
        for _ in range(cfg.segments_per_trip):
            if t >= cfg.duration_s:
                break
            speed = free[cur] * (1 - depth[cur] * float(peak_factor(np.array([t]), cfg)[0]))
            speed = max(3.0, speed * (1 + rng.normal(0, cfg.speed_jitter)))
            dt = length[cur] / (speed / 3.6)
            t_veh.append(v)
            t_seg.append(cur)
            t_in.append(t)
            t_out.append(t + dt)
            t_v.append(speed)
            t += dt
            nxt = [j for j in out_of.get(to[cur], []) if to[j] != frm[cur]] or out_of.get(to[cur], [])
            if not nxt:
                break
            cur = int(nxt[int(rng.integers(len(nxt)))])
    tv, ts_, ti, to_, tsp = (np.asarray(a) for a in (t_veh, t_seg, t_in, t_out, t_v))
    start = cfg.start.astimezone(UTC)

    probes = _probes(ix, sid, tv, ts_, ti, to_, tsp, cfg, rng, start)
    loops, loop_counts = _loops(ix, seg, ts_, ti, to_, tsp, cfg, start)
    bins = (ti // cfg.edge_interval_s).astype(np.int64) if len(ts_) else np.empty(0, dtype=np.int64)
    groups = _sums(
        ts_.astype(np.int64),
        bins,
        len_m=length[ts_] if len(ts_) else np.empty(0),
        dt=to_ - ti if len(ts_) else np.empty(0),
    )
    truth = (
        groups.with_columns(
            (pl.col("bin") * cfg.edge_interval_s).cast(pl.Float64).alias("bin"),
            pl.col("n").alias("entered"),
            (pl.col("dt") / pl.col("n")).alias("tt"),
            pl.col("len_m").alias("len"),
        )
        .select(
            pl.col("seg").map_elements(lambda i: sid[i], return_dtype=pl.String).alias("segment_id"),
            (pl.lit(start) + pl.duration(seconds=pl.col("bin"))).alias("ts"),
            pl.lit(cfg.edge_interval_s).alias("interval_s"),
            pl.col("entered"),
            (pl.col("len") / pl.col("dt") * 3.6).alias("speed_kmh"),
            pl.col("tt").alias("travel_time_s"),
        )
        .sort("segment_id", "ts")
    )
    return ScenarioTables(seg, probes, loops, loop_counts, truth).conformed()


def _probes(
    ix: SegmentIndex,
    sid: list[str],
    tv: np.ndarray,
    ts_: np.ndarray,
    ti: np.ndarray,
    to_: np.ndarray,
    tsp: np.ndarray,
    cfg: GeneratorConfig,
    rng: np.random.Generator,
    start: datetime,
) -> pl.DataFrame:
    n_veh = int(tv.max()) + 1 if len(tv) else 0
    reporting = rng.random(n_veh) < cfg.probe_share
    phase = rng.random(n_veh) * cfg.probe_interval_s
    rows_v, rows_t, rows_k = [], [], []
    bounds = np.flatnonzero(np.diff(tv, prepend=-1, append=-1))  # traversal runs per vehicle
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        v = int(tv[a])
        if not reporting[v]:
            continue
        first = ti[a] + (phase[v] - ti[a]) % cfg.probe_interval_s
        times = np.arange(first, min(to_[b - 1], cfg.duration_s), cfg.probe_interval_s)
        k = a + np.searchsorted(to_[a:b], times, side="right")
        rows_v.append(np.full(len(times), v))
        rows_t.append(times)
        rows_k.append(np.minimum(k, b - 1))
    if not rows_t:
        return pl.DataFrame()
    pv, pt, pk = np.concatenate(rows_v), np.concatenate(rows_t), np.concatenate(rows_k)
    frac = np.clip((pt - ti[pk]) / (to_[pk] - ti[pk]), 0.0, 1.0)
    lines = ix.lines[ts_[pk]]
    p = shapely.line_interpolate_point(lines, frac, normalized=True)
    ahead = shapely.line_interpolate_point(lines, np.minimum(frac + 0.01, 1.0), normalized=True)
    behind = shapely.line_interpolate_point(lines, np.maximum(frac - 0.01, 0.0), normalized=True)
    x, y = shapely.get_x(p), shapely.get_y(p)
    heading = (
        np.degrees(
            np.arctan2(shapely.get_x(ahead) - shapely.get_x(behind), shapely.get_y(ahead) - shapely.get_y(behind))
        )
        % 360
    )
    x = x + rng.normal(0, cfg.gps_noise_m, len(x))
    y = y + rng.normal(0, cfg.gps_noise_m, len(y))
    lon, lat = ix.to_lonlat(x, y)
    ids = np.asarray(sid, dtype=object)
    return pl.DataFrame(
        {
            "vehicle_id": [f"veh{v}" for v in pv],
            "ts": [start + timedelta(seconds=float(s)) for s in pt],
            "lon": lon,
            "lat": lat,
            "speed_kmh": tsp[pk],
            "heading_deg": heading,
            "true_segment_id": ids[ts_[pk]].tolist(),
        }
    ).sort("vehicle_id", "ts")


def _loops(
    ix: SegmentIndex,
    seg: pl.DataFrame,
    ts_: np.ndarray,
    ti: np.ndarray,
    to_: np.ndarray,
    tsp: np.ndarray,
    cfg: GeneratorConfig,
    start: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    idx = [i for i, c in enumerate(seg["road_class"].to_list()) if c in cfg.loop_classes]
    sid = seg["segment_id"].to_list()
    length = seg["length_m"].to_numpy()
    positions = [ix.point_on(sid[i], 0.5) for i in idx]
    loops = pl.DataFrame(
        {
            "detector_id": [f"e1_{sid[i]}" for i in idx],
            "segment_id": [sid[i] for i in idx],
            "lon": [p[0] for p in positions],
            "lat": [p[1] for p in positions],
            "offset_m": [length[i] / 2 for i in idx],
        },
        schema={
            "detector_id": pl.String,
            "segment_id": pl.String,
            "lon": pl.Float64,
            "lat": pl.Float64,
            "offset_m": pl.Float64,
        },
    )
    on_loop = np.isin(ts_, idx)
    cross = ti[on_loop] + (to_[on_loop] - ti[on_loop]) / 2  # constant speed: mid-segment at half time
    n_bins = math.ceil(cfg.duration_s / cfg.loop_interval_s)
    within = cross < cfg.duration_s
    v = tsp[on_loop][within].astype(np.float64)
    agg = _sums(
        ts_[on_loop][within].astype(np.int64),
        (cross[within] // cfg.loop_interval_s).astype(np.int64),
        v=v,
        occ_s=(VEHICLE_LENGTH_M + LOOP_LENGTH_M) / (v / 3.6),  # seconds the loop is occupied
    ).select("seg", "bin", pl.col("n").alias("count"), (pl.col("v") / pl.col("n")).alias("speed_kmh"), "occ_s")
    # Every detector reports every interval, zero counts included (as E1 does).
    full = pl.DataFrame({"seg": idx}, schema={"seg": pl.Int64}).join(
        pl.DataFrame({"bin": list(range(n_bins))}, schema={"bin": pl.Int64}), how="cross"
    )
    counts = (
        full.join(agg, on=["seg", "bin"], how="left")
        .select(
            pl.col("seg").map_elements(lambda i: f"e1_{sid[i]}", return_dtype=pl.String).alias("detector_id"),
            (pl.lit(start) + pl.duration(seconds=pl.col("bin") * cfg.loop_interval_s)).alias("ts"),
            pl.lit(cfg.loop_interval_s).alias("interval_s"),
            pl.col("count").fill_null(0),
            pl.col("speed_kmh"),
            (pl.col("occ_s").fill_null(0.0) / cfg.loop_interval_s * 100).clip(0, 100).alias("occupancy_pct"),
        )
        .sort("detector_id", "ts")
    )
    return loops, counts


def _sums(seg: np.ndarray, bins: np.ndarray, **weights: np.ndarray) -> pl.DataFrame:
    """Rows per (segment, bin): ``n`` and the sum of each weight, in (segment, bin) order.

    NumPy's ``bincount`` adds in input order, so a scenario is the same to the last bit every
    time (a parallel group-by may add a group's floats in another order from run to run).
    """
    span = int(bins.max()) + 1 if len(bins) else 1
    keys, inverse = np.unique(seg * span + bins, return_inverse=True)
    columns: dict[str, np.ndarray] = {
        "seg": keys // span,
        "bin": keys % span,
        "n": np.bincount(inverse, minlength=len(keys)).astype(np.uint32),
    }
    for name, weight in weights.items():
        columns[name] = np.bincount(inverse, weights=weight, minlength=len(keys))
    return pl.DataFrame(columns, schema_overrides={"seg": pl.Int64, "bin": pl.Int64})
