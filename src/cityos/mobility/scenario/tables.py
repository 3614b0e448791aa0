"""The scenario output tables, the same whether SUMO or the built-in generator made them.

Written as Parquet files in one output folder (``segments.parquet`` is the road-segment
contract; the others below). Times are UTC; speeds km/h; positions WGS84.

- probes: vehicle_id, ts, lon, lat (GPS noise added), speed_kmh, heading_deg, true_segment_id
  (the edge the vehicle was really on: ground truth for map matching)
- loops: detector_id, segment_id, lon, lat, offset_m (E1 induction loops on arterials)
- loop_counts: detector_id, ts (interval start), interval_s, count, speed_kmh (time-mean, null
  when nobody passed), occupancy_pct
- edge_truth: segment_id, ts (interval start), interval_s, entered, speed_kmh (space-mean,
  null when empty), travel_time_s
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cityos.core.errors import NotFound
from cityos.mobility.network.schema import conform

TS = pl.Datetime("us", "UTC")

PROBE_SCHEMA: dict[str, pl.DataType] = {
    "vehicle_id": pl.String(),
    "ts": TS,
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "speed_kmh": pl.Float64(),
    "heading_deg": pl.Float64(),
    "true_segment_id": pl.String(),
}
LOOP_SCHEMA: dict[str, pl.DataType] = {
    "detector_id": pl.String(),
    "segment_id": pl.String(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "offset_m": pl.Float64(),
}
LOOP_COUNT_SCHEMA: dict[str, pl.DataType] = {
    "detector_id": pl.String(),
    "ts": TS,
    "interval_s": pl.Int32(),
    "count": pl.Int32(),
    "speed_kmh": pl.Float64(),
    "occupancy_pct": pl.Float64(),
}
EDGE_TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "segment_id": pl.String(),
    "ts": TS,
    "interval_s": pl.Int32(),
    "entered": pl.Int32(),
    "speed_kmh": pl.Float64(),
    "travel_time_s": pl.Float64(),
}

_SCHEMAS = {
    "probes": PROBE_SCHEMA,
    "loops": LOOP_SCHEMA,
    "loop_counts": LOOP_COUNT_SCHEMA,
    "edge_truth": EDGE_TRUTH_SCHEMA,
}


def _cast(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


@dataclass
class ScenarioTables:
    segments: pl.DataFrame
    probes: pl.DataFrame
    loops: pl.DataFrame
    loop_counts: pl.DataFrame
    edge_truth: pl.DataFrame

    def conformed(self) -> ScenarioTables:
        return ScenarioTables(
            segments=conform(self.segments),
            probes=_cast(self.probes, PROBE_SCHEMA),
            loops=_cast(self.loops, LOOP_SCHEMA),
            loop_counts=_cast(self.loop_counts, LOOP_COUNT_SCHEMA),
            edge_truth=_cast(self.edge_truth, EDGE_TRUTH_SCHEMA),
        )

    def write(self, out_dir: Path) -> dict[str, Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        t = self.conformed()
        paths = {}
        for name in ("segments", *_SCHEMAS):
            path = out_dir / f"{name}.parquet"
            getattr(t, name).write_parquet(path)
            paths[name] = path
        return paths


def read_scenario(out_dir: Path) -> ScenarioTables:
    frames = {}
    for name in ("segments", *_SCHEMAS):
        path = out_dir / f"{name}.parquet"
        if not path.is_file():
            raise NotFound(f"scenario table missing: {path}")
        frames[name] = pl.read_parquet(path)
    return ScenarioTables(**frames).conformed()
