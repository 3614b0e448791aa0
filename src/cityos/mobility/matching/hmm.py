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
from cityos.mobility.matching.index import CandidateTable, SegmentIndex

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
    # vehicles as consecutive integers (the frame is sorted by vehicle): NumPy compares ints,
    # not Python strings, when it looks for the start of each trace
    vcode = (pl.col("vehicle_id") != pl.col("vehicle_id").shift(1)).fill_null(True).cum_sum()
    df = df.with_columns(reason.alias("reason"), vcode.alias("_v"))

    n = df.height
    seg_out = np.full(n, -1, dtype=np.int64)
    off_out = np.full(n, np.nan)
    dist_out = np.full(n, np.nan)
    good = np.nonzero(df["reason"].is_null().to_numpy())[0]
    if len(good):
        g = df.select("_v", "_t", "lon", "lat", "speed", "heading")[good]
        x, y = index.projection.forward(g["lon"].to_numpy(), g["lat"].to_numpy())
        table = index.candidate_table(x, y, cfg.radius_m, cfg.max_candidates)
        has = table.seg[:, 0] >= 0
        # points without candidates leave the chain (reason no_candidate); the chain bridges them
        keep = np.nonzero(has)[0]
        if not has.all():
            table = table.rows(keep)
        chosen = (
            _empty_choice()
            if len(keep) == 0
            else _viterbi(
                index,
                cfg,
                vehicle=g["_v"].to_numpy()[keep],
                t=g["_t"].to_numpy()[keep],
                x=x[keep],
                y=y[keep],
                speed=g["speed"].to_numpy()[keep],
                heading=g["heading"].to_numpy()[keep],
                table=table,
            )
        )
        cseg, coff, cdist = chosen
        rows = good[keep]
        seg_out[rows], off_out[rows], dist_out[rows] = cseg, coff, cdist
        if not has.all():
            no_cand = np.zeros(n, dtype=bool)
            no_cand[good[~has]] = True
            df = df.with_columns(
                pl.when(pl.Series(no_cand)).then(pl.lit(NO_CANDIDATE)).otherwise(pl.col("reason")).alias("reason")
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
    table: CandidateTable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(t)
    S, OFF, D = table.seg, table.offset, table.dist

    # chain boundaries: new vehicle, long silence or a jump beyond the routing bound
    newveh = np.ones(n, dtype=bool)
    newveh[1:] = vehicle[1:] != vehicle[:-1]
    ddx, ddy = np.diff(x), np.diff(y)
    step = np.hypot(ddx, ddy)
    gc = np.zeros(n)
    gc[1:] = step
    dt = np.zeros(n)
    dt[1:] = np.diff(t)
    brk = newveh | (dt > cfg.max_gap_s) | (gc > cfg.max_route_m)

    # Direction penalty w·(1 − cos(bearing − direction))/2, with cos as the dot product of unit
    # vectors: the candidate's (from the index) and the point's — its heading when it reports one
    # and moves, else the bearing of its movement to the next point when that is clear. Each
    # point gets at most one of the two; w is 0 where neither is known.
    hx, hy, w = np.zeros(n), np.zeros(n), np.zeros(n)
    far = np.zeros(n, dtype=bool)
    far[:-1] = ~newveh[1:] & (step > 3 * cfg.sigma_m)
    with_m = far & ~np.isfinite(heading)
    mv = np.flatnonzero(with_m)
    hx[mv], hy[mv], w[mv] = ddx[mv] / step[mv], ddy[mv] / step[mv], cfg.movement_weight
    moving = ~(speed < cfg.moving_speed_ms)  # NaN speed (unknown) counts as moving
    hd = np.flatnonzero(moving & np.isfinite(heading))
    rad = np.radians(heading[hd])
    hx[hd], hy[hd], w[hd] = np.sin(rad), np.cos(rad), cfg.heading_weight
    # in float32 and in place: these are the largest arrays of a call. An empty slot's distance
    # is inf, so its emission is -inf (its direction is 0, which keeps the penalty finite).
    emit = D.astype(np.float32)
    emit *= np.float32(1.0 / cfg.sigma_m)
    np.square(emit, out=emit)
    emit *= np.float32(-0.5)
    penalty = table.ux * hx.astype(np.float32)[:, None]
    penalty += table.uy * hy.astype(np.float32)[:, None]
    penalty -= np.float32(1.0)
    penalty *= (0.5 * w).astype(np.float32)[:, None]  # −w·(1 − cos)/2
    emit += penalty
    del penalty

    choice = _forward_backward(index, cfg, newveh, brk, S, OFF.astype(np.float32), emit, gc.astype(np.float32))
    rows = np.arange(n)
    return S[rows, choice], OFF[rows, choice], np.where(np.isfinite(D[rows, choice]), D[rows, choice], np.nan)


def _forward_backward(
    index: SegmentIndex,
    cfg: MatchConfig,
    newveh: np.ndarray,
    brk: np.ndarray,
    S: np.ndarray,
    OFF: np.ndarray,
    emit: np.ndarray,
    gc: np.ndarray,
) -> np.ndarray:
    """Viterbi over every trace at once; the chosen candidate slot per point (input order).

    The points are laid out step-major with the traces sorted longest first: step i of the
    traces still running is then one contiguous block whose first m rows follow, row by row,
    the first m rows of step i − 1's block. Each step is slices, not gathers.
    """
    n = len(newveh)
    starts = np.flatnonzero(newveh)
    lengths = np.diff(np.append(starts, n))
    rank = np.empty(len(starts), dtype=np.int64)
    rank[np.argsort(-lengths, kind="stable")] = np.arange(len(starts))
    trace = np.cumsum(newveh) - 1
    pos = np.arange(n) - starts[trace]
    # step i holds the traces longer than i, which are ranks 0 .. m_i − 1: a point's place in
    # the step-major order is its step's first row plus its trace's rank (no sort needed)
    active = np.bincount(np.minimum(lengths, lengths.max()), minlength=int(lengths.max()) + 1)
    m = len(starts) - np.cumsum(active)[:-1]  # m[i] = traces longer than i
    bounds = np.concatenate([[0], np.cumsum(m)])
    perm = np.empty(n, dtype=np.int64)
    perm[bounds[pos] + rank[trace]] = np.arange(n)
    Sp, Op, Ep = S[perm], OFF[perm], emit[perm]
    # as a "from" candidate an empty slot is -2, so that it never equals an empty "to" slot (-1)
    Sfrom = np.where(Sp < 0, np.int32(-2), Sp)
    Bp, Gp = brk[perm], gc[perm]

    score = np.empty_like(Ep)
    back = np.full(Ep.shape, -1, dtype=np.int8)
    score[bounds[0] : bounds[1]] = Ep[bounds[0] : bounds[1]]
    for i in range(1, len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        plo = bounds[i - 1]
        cur, prev = slice(lo, hi), slice(plo, plo + hi - lo)
        tot = _transition(index, cfg, Sfrom[prev], Op[prev], Sp[cur], Op[cur], Gp[cur])
        tot += score[prev][:, None, :]  # [m, b, a]
        best = np.argmax(tot, axis=2)
        val = np.take_along_axis(tot, best[:, :, None], axis=2)[:, :, 0] + Ep[cur]
        # a chain break, or no candidate pair that connects (an HMM break): start afresh
        restart = Bp[cur] | ~np.isfinite(val).any(axis=1)
        val[restart] = Ep[cur][restart]
        best[restart] = -1
        val -= np.max(val, axis=1, keepdims=True)  # keeps scores bounded over long traces
        score[cur], back[cur] = val, best

    # backtrack every trace at once: a trace's last point takes its best slot, every other
    # point the slot its successor's back pointer names (its best where the chain broke)
    choice = np.empty(n, dtype=np.int64)
    follow = np.empty(0, dtype=np.int64)
    for i in range(len(bounds) - 2, -1, -1):
        lo, hi = bounds[i], bounds[i + 1]
        c = np.argmax(score[lo:hi], axis=1)
        c[: len(follow)] = np.where(follow >= 0, follow, c[: len(follow)])
        choice[lo:hi] = c
        ptr = back[lo:hi][np.arange(hi - lo), c].astype(np.int64)
        follow = np.where(Bp[lo:hi], -1, ptr)
    out = np.empty(n, dtype=np.int64)
    out[perm] = choice
    return out


def _transition(
    index: SegmentIndex,
    cfg: MatchConfig,
    sa: np.ndarray,
    oa: np.ndarray,
    sb: np.ndarray,
    ob: np.ndarray,
    gc: np.ndarray,
) -> np.ndarray:
    """log transition [m, K_b, K_a] (float32) from candidates (sa, oa) to (sb, ob); offsets and
    the straight-line distance ``gc`` in float32.

    The "from" candidate is the last axis so that Viterbi's max runs over contiguous memory.
    Empty slots (segment -1 "to", -2 "from") get arbitrary finite values here: their score and emission are
    -inf already, which keeps them out of every maximum.
    """
    a, b = np.maximum(sa, 0), np.maximum(sb, 0)
    # route = rest of segment a + a→b over the graph + offset on b; minus the straight line
    lead = index.seg_len32[a] - oa - gc[:, None]  # [m, K_a]
    route = index.segment_via(a[:, None, :], b[:, :, None])  # [m, K_b, K_a]
    route += lead[:, None, :]
    route += ob[:, :, None]
    # On one segment (at most one "from" candidate per "to" candidate, so few pairs): forward,
    # or backward within the noise tolerance, is the distance moved; farther backward is read
    # as reversing on the spot, charged like two U-turns.
    i, jb, ja = np.nonzero(sb[:, :, None] == sa[:, None, :])  # empty slots: -1 to, -2 from
    if len(i):
        moved = ob[i, jb] - oa[i, ja]
        back = moved < -cfg.back_tolerance_m
        along = np.where(back, -moved + np.float32(2 * index.uturn_penalty_m), np.maximum(moved, np.float32(0.0)))
        route[i, jb, ja] = along - gc[i]
    np.abs(route, out=route)
    route *= np.float32(-1.0 / cfg.beta_m)
    return route
