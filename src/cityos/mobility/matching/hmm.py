"""HMM map matching (Newson & Krumm 2009), vectorised across traces.

Emission: log N(d; 0, sigma) on the perpendicular distance, plus a heading penalty.
Transition: log of (1/beta) exp(-|route - great_circle| / beta) on the directed segment graph.
Viterbi runs one time step for *all* vehicles at once (NumPy over [traces, K, K]), so the
Python loop has as many turns as the longest trace, not as many as there are points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cityos.core.errors import Invalid
from cityos.mobility.matching.index import SegmentIndex

OUTPUT_SCHEMA = {
    "vehicle_id": pl.Utf8,
    "segment_id": pl.Utf8,
    "offset_m": pl.Float64,
    "distance_m": pl.Float64,
    "matched": pl.Boolean,
    "reason": pl.Utf8,
}

# reasons a point is left unmatched (the quarantine vocabulary)
MISSING_FIELD = "missing_field"
BAD_COORDINATES = "bad_coordinates"
OUT_OF_RANGE = "out_of_range"
DUPLICATE_TS = "duplicate_ts"
NO_CANDIDATE = "no_candidate"


@dataclass(frozen=True)
class MatchConfig:
    radius_m: float = 50.0  # candidate search radius
    max_candidates: int = 6
    sigma_m: float = 10.0  # GPS noise (emission sigma)
    beta_m: float = 60.0  # transition scale: tolerated |route - great circle| (tuned on 30 s SUMO probes)
    max_gap_s: float = 180.0  # a longer silence starts a new chain
    max_route_m: float = 3000.0  # Dijkstra bound; a farther jump starts a new chain
    uturn_penalty_m: float = 30.0  # added route length for turning onto the opposite direction (SUMO does U-turn)
    back_tolerance_m: float = 25.0  # backward drift on one segment read as standing still (noise)
    heading_weight: float = 6.0  # log-penalty for a candidate opposite the heading
    # same, for the bearing of the movement to the next point; used only where no heading is
    # known, because at 30 s sampling the movement often cuts a corner (it costs accuracy when
    # a heading is there: 0.991 -> 0.986 on the SUMO bench)
    movement_weight: float = 1.5
    moving_speed_ms: float = 1.0  # below this the heading is not trusted


@dataclass
class MatchResult:
    points: pl.DataFrame
    counts: dict[str, int]  # reason -> number of points; "matched" and "unsorted" included


def match_traces(
    points: pl.DataFrame, segments: pl.DataFrame | SegmentIndex, config: MatchConfig | None = None
) -> pl.DataFrame:
    """Polars in, Polars out: one output row per input point, sorted by (vehicle_id, ts)."""
    return match(points, segments, config).points


def match(
    points: pl.DataFrame, segments: pl.DataFrame | SegmentIndex, config: MatchConfig | None = None
) -> MatchResult:
    cfg = config or MatchConfig()
    for col in ("vehicle_id", "ts", "lon", "lat"):
        if col not in points.columns:
            raise Invalid(f"points lack column {col!r}")
    index = (
        segments
        if isinstance(segments, SegmentIndex)
        else SegmentIndex.build(
            segments, radius_m=cfg.radius_m, max_route_m=cfg.max_route_m, uturn_penalty_m=cfg.uturn_penalty_m
        )
    )
    cols = [
        pl.col("vehicle_id").cast(pl.Utf8),
        pl.col("ts"),
        pl.col("lon").cast(pl.Float64),
        pl.col("lat").cast(pl.Float64),
    ]
    for opt in ("speed", "heading"):
        cols.append(pl.col(opt).cast(pl.Float64) if opt in points.columns else pl.lit(None, pl.Float64).alias(opt))
    df = points.select(cols).with_row_index("_in")
    ts_num = pl.col("ts").dt.epoch("ms") / 1000.0 if df.schema["ts"].is_temporal() else pl.col("ts").cast(pl.Float64)
    df = df.with_columns(ts_num.alias("_t"))
    unsorted = int(
        df.select(
            ((pl.col("vehicle_id") == pl.col("vehicle_id").shift(1)) & (pl.col("_t") < pl.col("_t").shift(1))).sum()
        ).item()
        or 0
    )
    df = df.sort(["vehicle_id", "_t", "_in"], nulls_last=True)
    reason = (
        pl.when(pl.any_horizontal(pl.col("vehicle_id", "_t", "lon", "lat").is_null()))
        .then(pl.lit(MISSING_FIELD))
        .when(~(pl.col("lon").is_finite() & pl.col("lat").is_finite() & pl.col("_t").is_finite()))
        .then(pl.lit(BAD_COORDINATES))
        .when((pl.col("lon").abs() > 180) | (pl.col("lat").abs() > 90))
        .then(pl.lit(OUT_OF_RANGE))
        .when((pl.col("vehicle_id") == pl.col("vehicle_id").shift(1)) & (pl.col("_t") == pl.col("_t").shift(1)))
        .then(pl.lit(DUPLICATE_TS))
    )
    df = df.with_columns(reason.alias("reason"))

    n = df.height
    seg_out = np.full(n, -1, dtype=np.int64)
    off_out = np.full(n, np.nan)
    dist_out = np.full(n, np.nan)
    good = np.nonzero(df["reason"].is_null().to_numpy())[0]
    if len(good):
        g = df[good]
        x, y = index.projection.forward(g["lon"].to_numpy(), g["lat"].to_numpy())
        pt, seg, off, dist, bear = index.candidates(x, y, cfg.radius_m, cfg.max_candidates)
        has = np.zeros(len(g), dtype=bool)
        has[pt] = True
        # points without candidates leave the chain (reason no_candidate); the chain bridges them
        keep = np.nonzero(has)[0]
        remap = np.full(len(g), -1)
        remap[keep] = np.arange(len(keep))
        chosen = (
            _empty_choice()
            if len(keep) == 0
            else _viterbi(
                index,
                cfg,
                vehicle=g["vehicle_id"].to_numpy()[keep],
                t=g["_t"].to_numpy()[keep],
                x=x[keep],
                y=y[keep],
                speed=g["speed"].to_numpy()[keep],
                heading=g["heading"].to_numpy()[keep],
                cand=(remap[pt], seg, off, dist, bear),
            )
        )
        cseg, coff, cdist = chosen
        rows = good[keep]
        seg_out[rows], off_out[rows], dist_out[rows] = cseg, coff, cdist
        no_cand = good[~has]
        df = df.with_columns(
            pl.when(pl.int_range(pl.len()).is_in(pl.Series(no_cand, dtype=pl.Int64).implode()))
            .then(pl.lit(NO_CANDIDATE))
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
    matched = seg_out >= 0
    ids = pl.Series("segment_id", index.segment_ids.tolist(), dtype=pl.Utf8)
    gathered = ids.gather(pl.Series(np.maximum(seg_out, 0)))
    seg_ids = pl.select(pl.when(pl.Series(matched)).then(gathered)).to_series()
    out = df.select(
        "vehicle_id",
        "ts",
        pl.Series("segment_id", seg_ids, dtype=pl.Utf8),
        pl.Series("offset_m", off_out).fill_nan(None),
        pl.Series("distance_m", dist_out).fill_nan(None),
        pl.Series("matched", matched),
        "reason",
    )
    counts = {str(k): int(v) for k, v in out.group_by("reason").len().iter_rows() if k is not None}
    counts["matched"] = int(matched.sum())
    counts["unsorted"] = unsorted
    return MatchResult(points=out, counts=counts)


def _empty_choice() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Viterbi's answer for no points (every good point lacked a candidate)."""
    return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)


def _angle_penalty(bearing: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """0 when aligned, 1 when opposite; 0 where the direction is unknown (NaN)."""
    pen = (1.0 - np.cos(np.radians(bearing - direction))) / 2.0
    return np.where(np.isfinite(pen), pen, 0.0)


def _viterbi(
    index: SegmentIndex,
    cfg: MatchConfig,
    *,
    vehicle: np.ndarray,
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    speed: np.ndarray,
    heading: np.ndarray,
    cand: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, k = len(t), cfg.max_candidates
    pt, seg, off, dist, bear = cand
    slot = np.arange(len(pt)) - np.searchsorted(pt, pt, side="left")
    S = np.full((n, k), -1, dtype=np.int64)
    OFF = np.zeros((n, k))
    D = np.full((n, k), np.inf)
    B = np.zeros((n, k))
    S[pt, slot], OFF[pt, slot], D[pt, slot], B[pt, slot] = seg, off, dist, bear

    # chain boundaries: new vehicle, long silence or a jump beyond the routing bound
    newveh = np.ones(n, dtype=bool)
    newveh[1:] = vehicle[1:] != vehicle[:-1]
    gc = np.zeros(n)
    gc[1:] = np.hypot(x[1:] - x[:-1], y[1:] - y[:-1])
    dt = np.zeros(n)
    dt[1:] = t[1:] - t[:-1]
    brk = newveh | (dt > cfg.max_gap_s) | (gc > cfg.max_route_m)

    # movement bearing towards the next point of the same vehicle, when it moved clearly
    mdir = np.full(n, np.nan)
    nxt_ok = ~newveh[1:]
    step = np.hypot(x[1:] - x[:-1], y[1:] - y[:-1])
    far = nxt_ok & (step > 3 * cfg.sigma_m)
    mdir[:-1][far] = np.degrees(np.arctan2(x[1:] - x[:-1], y[1:] - y[:-1]))[far] % 360.0
    moving = ~(speed < cfg.moving_speed_ms)  # NaN speed (unknown) counts as moving
    hdg = np.where(moving, heading, np.nan)
    emit = -0.5 * (D / cfg.sigma_m) ** 2
    # each point gets at most one direction penalty: its heading when it reports one, else
    # the movement bearing (computed only on the rows that need it)
    with_h = np.flatnonzero(np.isfinite(hdg))
    emit[with_h] -= cfg.heading_weight * _angle_penalty(B[with_h], hdg[with_h, None])
    with_m = np.flatnonzero(~np.isfinite(heading) & np.isfinite(mdir))
    emit[with_m] -= cfg.movement_weight * _angle_penalty(B[with_m], mdir[with_m, None])
    emit[S < 0] = -np.inf

    # position of each point inside its vehicle's trace -> one Viterbi step per position
    vstart = np.maximum.accumulate(np.where(newveh, np.arange(n), 0))
    pos = np.arange(n) - vstart
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(pos.max() + 2))
    emit = emit.astype(np.float32)
    score = np.full((n, k), -np.inf, dtype=np.float32)
    back = np.full((n, k), -1, dtype=np.int64)
    first = order[bounds[0] : bounds[1]]
    score[first] = emit[first]
    for step_i in range(1, len(bounds) - 1):
        q = order[bounds[step_i] : bounds[step_i + 1]]
        cont = q[~brk[q]]
        score[q[brk[q]]] = emit[q[brk[q]]]
        if len(cont) == 0:
            continue
        p = cont - 1
        trans = _transition(index, cfg, S[p], OFF[p], S[cont], OFF[cont], gc[cont])
        tot = trans + score[p][:, None, :]  # [m, b, a]
        best = np.argmax(tot, axis=2)
        val = np.take_along_axis(tot, best[:, :, None], axis=2)[:, :, 0] + emit[cont]
        dead = ~np.isfinite(val).any(axis=1)  # HMM break: no candidate pair connects
        val[dead] = emit[cont[dead]]
        best[dead] = -1
        val -= np.max(val, axis=1, keepdims=True)  # keeps scores bounded over long traces
        score[cont], back[cont] = val, best

    # backtrack every trace at once, from each trace's last point
    choice = np.full(n, -1, dtype=np.int64)
    last = np.ones(n, dtype=bool)
    last[:-1] = newveh[1:]
    for step_i in range(len(bounds) - 2, -1, -1):
        q = order[bounds[step_i] : bounds[step_i + 1]]
        c = np.where(last[q], np.argmax(score[q], axis=1), choice[q])
        choice[q] = c
        has_prev = pos[q] > 0
        qp = q[has_prev]
        if len(qp) == 0:
            continue
        prev = back[qp, c[has_prev]]
        restart = (prev < 0) | brk[qp]
        prev = np.where(restart, np.argmax(score[qp - 1], axis=1), prev)
        choice[qp - 1] = prev
    rows = np.arange(n)
    return S[rows, choice], OFF[rows, choice], np.where(np.isfinite(D[rows, choice]), D[rows, choice], np.nan)


def _transition(
    index: SegmentIndex,
    cfg: MatchConfig,
    sa: np.ndarray,
    oa: np.ndarray,
    sb: np.ndarray,
    ob: np.ndarray,
    gc: np.ndarray,
) -> np.ndarray:
    """log transition [m, K_b, K_a] (float32) from candidates (sa, oa) to (sb, ob).

    The "from" candidate is the last axis so that Viterbi's max runs over contiguous memory.
    Padding slots (segment -1) get arbitrary finite values here: their score and emission are
    -inf already, which keeps them out of every maximum.
    """
    a, b = np.maximum(sa, 0), np.maximum(sb, 0)
    oa32, ob32 = oa.astype(np.float32), ob.astype(np.float32)
    rem_a = (index.seg_len[a] - oa).astype(np.float32)  # metres left on the first segment
    via = index.segment_via(a[:, None, :], b[:, :, None])
    step = ob32[:, :, None] - oa32[:, None, :]
    same = sb[:, :, None] == sa[:, None, :]
    route = rem_a[:, None, :] + via + ob32[:, :, None]
    # on one segment: forward (or backward within the noise tolerance) is the distance moved;
    # farther backward is read as reversing on the spot, charged like two U-turns
    route = np.where(same, np.where(step >= -cfg.back_tolerance_m, np.maximum(step, 0.0), -step), route)
    route = np.where(same & (step < -cfg.back_tolerance_m), route + 2 * index.uturn_penalty_m, route)
    route -= gc.astype(np.float32)[:, None, None]
    np.abs(route, out=route)
    route *= np.float32(-1.0 / cfg.beta_m)
    return np.asarray(route, dtype=np.float32)
