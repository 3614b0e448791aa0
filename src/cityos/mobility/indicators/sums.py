"""Per (segment, bin) sums of each source: the one pass over the raw records that fusion needs.

Every good record gets one integer key ``cell × SLOTS + source``, where ``cell = (bin − first
bin) × segments + segment position``. Summing by that key is the whole cost of fusion, so it is
done the cheapest way the key range allows:

- dense (the usual case: a day of 5-minute bins on a city network is a few million keys):
  ``numpy.bincount`` per column — a single sequential pass, no hashing;
- sparse (long spans on large networks): a Polars group-by on the key.

Both give the same sums (up to summation order); the split by source then runs on the small
per-key result with NumPy (each cell has at most ``SLOTS`` keys, adjacent once sorted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cityos.mobility.indicators.config import IndicatorConfig

SOURCES: tuple[str, ...] = ("probe", "loop", "nav")
# Slots per cell in the key; one more than the sources, so a key's source is ``key % SLOTS``.
SLOTS = len(SOURCES) + 1
LOOP = SOURCES.index("loop")
# The dense path allocates a few arrays of the key range: at most this many keys, and at most
# this many keys per record (a sparse day of a huge network goes through the group-by instead).
DENSE_MAX_KEYS = 1 << 23
DENSE_KEYS_PER_RECORD = 8
SUM_COLUMNS = ("N", "S1", "S2", "count", "occ", "occ_n")


@dataclass
class CellSums:
    """``frame``: one row per (segment, bin) with any good record — ``_cell``, per source
    ``_{source}_N``, ``_S1``, ``_S2`` (0 when absent), ``flow_veh`` (loop count sum),
    ``_has_loop`` and ``occupancy`` (mean of the loop records; null without one).
    ``first``: the bin number (epoch microseconds ÷ bin length) that cell 0 starts at."""

    frame: pl.DataFrame
    first: int


def cell_sums(obs: pl.DataFrame, nseg: int, config: IndicatorConfig, *, checked: bool) -> CellSums:
    """``obs`` holds only records to fuse, with ``seg_idx`` (< ``nseg``) and ``src_idx`` set.

    ``checked``: validation passed them (a weight ``n`` ≥ 0 and a speed wherever ``n`` > 0);
    otherwise a record without a usable speed gets no weight here.
    """
    step = config.interval_us
    first_bin = obs.select((pl.col("ts").dt.epoch("us") // step).min()).item()
    first = int(first_bin) if first_bin is not None else 0
    n, speed = pl.col("n"), pl.col("speed")
    if not checked:
        n = pl.when(speed.is_not_null() & (n > 0)).then(n).otherwise(0.0)
    cell = (pl.col("ts").dt.epoch("us") // step - first) * nseg + pl.col("seg_idx").cast(pl.Int64)
    cols = obs.lazy().select(
        (cell * SLOTS + pl.col("src_idx").cast(pl.Int64)).alias("key"),
        n.fill_null(0.0).alias("N"),
        (n * speed).fill_null(0.0).alias("S1"),
        (n * speed * speed).fill_null(0.0).alias("S2"),
        pl.col("count").fill_null(0.0).alias("count"),
        pl.col("occupancy").fill_null(0.0).alias("occ"),
        pl.col("occupancy").is_not_null().cast(pl.Float64).alias("occ_n"),
    )
    span = obs.select(pl.col("ts").dt.epoch("us").max() // step).item()
    n_keys = ((int(span) - first + 1) * nseg * SLOTS) if span is not None else 0
    if 0 < n_keys <= min(DENSE_MAX_KEYS, DENSE_KEYS_PER_RECORD * max(obs.height, 1)):
        return CellSums(frame=_dense(cols.collect(), n_keys), first=first)
    keys, sums = _sparse(cols)
    return CellSums(frame=_by_source(keys, sums), first=first)


def _dense(cols: pl.DataFrame, n_keys: int) -> pl.DataFrame:
    """``bincount`` per column over the whole key range, seen as [cells, SLOTS]: a source's sums
    are one column of it, so the split by source is a strided gather of the present cells."""
    key = cols["key"].to_numpy()
    rows = np.bincount(key, minlength=n_keys).reshape(-1, SLOTS)
    cells = np.flatnonzero(rows.any(axis=1))

    def per_cell(column: str) -> np.ndarray:
        return np.bincount(key, weights=cols[column].to_numpy(), minlength=n_keys).reshape(-1, SLOTS)[cells]

    out: dict[str, np.ndarray | pl.Series] = {"_cell": cells.astype(np.int64)}
    for k in ("N", "S1", "S2"):
        table = per_cell(k)
        for code, s in enumerate(SOURCES):
            out[f"_{s}_{k}"] = np.ascontiguousarray(table[:, code])
    out["flow_veh"] = np.ascontiguousarray(per_cell("count")[:, LOOP])
    out["_has_loop"] = rows[cells, LOOP] > 0
    occ, occ_n = per_cell("occ")[:, LOOP], per_cell("occ_n")[:, LOOP]
    return pl.DataFrame(out).with_columns(_mean_occupancy(occ, occ_n))


def _mean_occupancy(occ: np.ndarray, occ_n: np.ndarray) -> pl.Series:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(occ_n > 0, occ / occ_n, np.nan)
    return pl.Series("occupancy", mean).fill_nan(None)


def _sparse(cols: pl.LazyFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    g = cols.group_by("key").agg([pl.col(c).sum() for c in SUM_COLUMNS]).sort("key").collect()
    return g["key"].to_numpy(), {c: g[c].to_numpy() for c in SUM_COLUMNS}


def _by_source(keys: np.ndarray, sums: dict[str, np.ndarray]) -> pl.DataFrame:
    """Per-key sums (keys sorted) → one row per cell with a column per source."""
    cells = keys // SLOTS
    src = keys % SLOTS
    starts = np.ones(len(cells), dtype=bool)
    starts[1:] = cells[1:] != cells[:-1]
    row = np.cumsum(starts) - 1
    n_cells = int(starts.sum())
    out: dict[str, np.ndarray | pl.Series] = {"_cell": cells[starts]}
    for code, s in enumerate(SOURCES):
        mine = src == code
        for k in ("N", "S1", "S2"):
            col = np.zeros(n_cells)
            col[row[mine]] = sums[k][mine]
            out[f"_{s}_{k}"] = col
    loop = src == LOOP
    has_loop = np.zeros(n_cells, dtype=bool)
    has_loop[row[loop]] = True
    flow, occ, occ_n = np.zeros(n_cells), np.zeros(n_cells), np.zeros(n_cells)
    flow[row[loop]] = sums["count"][loop]
    occ[row[loop]] = sums["occ"][loop]
    occ_n[row[loop]] = sums["occ_n"][loop]
    out["flow_veh"] = flow
    out["_has_loop"] = has_loop
    return pl.DataFrame(out).with_columns(_mean_occupancy(occ, occ_n))
