"""Probes are map-matched at ingest to the active network (HMM per vehicle, cached index)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.mobility.ingest import matcher, service
from cityos.mobility.ingest.models import ProbePoint
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import active_network, save_segments
from cityos.mobility.scenario.generator import GeneratorConfig, generate

from .conftest import T0


def _probe_records(segments: pl.DataFrame, vehicles: int = 12) -> tuple[list[dict[str, Any]], list[str]]:
    cfg = GeneratorConfig(start=T0, duration_s=900, vehicles=vehicles, peaks_local_h=(10.0,), seed=3)
    probes = generate(segments, cfg).probes.sort("vehicle_id", "ts").head(300)
    records = [
        {
            "kind": "taxi",
            "vehicle_id": str(r["vehicle_id"]),
            "ts": r["ts"].isoformat(),
            "lon": r["lon"],
            "lat": r["lat"],
            "speed_kmh": r["speed_kmh"],
            "heading_deg": r["heading_deg"],
        }
        for r in probes.iter_rows(named=True)
    ]
    return records, probes["true_segment_id"].to_list()


def test_generated_probes_are_matched(session: Session, operator: Actor, grid: pl.DataFrame) -> None:
    records, truth = _probe_records(grid)
    report = service.ingest(session, operator, source="probe", records=records)
    assert report.accepted + report.duplicates + report.quarantined == len(records)
    assert report.accepted >= 0.95 * len(records)
    stored = {(p.vehicle_key, p.ts): p.segment_id for p in session.scalars(select(ProbePoint))}
    hits = 0
    for rec, seg in zip(records, truth, strict=True):
        key = (service.vehicle_key(rec["vehicle_id"]), pl.Series([rec["ts"]]).str.to_datetime().item())
        hits += stored.get(key) == seg
    assert hits >= 0.85 * len(records)


def test_single_point_follows_heading(session: Session, operator: Actor, grid: pl.DataFrame) -> None:
    # a point on the first west-east street, heading east, then the same place heading west
    row = grid.filter(pl.col("segment_id") == "n0_1-n0_2").row(0, named=True)
    lon, lat = sum(row["lons"]) / 2, sum(row["lats"]) / 2
    base = {"kind": "taxi", "ts": T0.isoformat(), "lon": lon, "lat": lat + 0.00003, "speed_kmh": 30.0}
    service.ingest(session, operator, source="probe", records=[{**base, "vehicle_id": "e", "heading_deg": 90.0}])
    service.ingest(session, operator, source="probe", records=[{**base, "vehicle_id": "w", "heading_deg": 270.0}])
    segs = {p.vehicle_key: p.segment_id for p in session.scalars(select(ProbePoint))}
    assert segs[service.vehicle_key("e")] == "n0_1-n0_2"
    assert segs[service.vehicle_key("w")] == "n0_2-n0_1"


def test_far_point_outside_network(session: Session, operator: Actor, grid: pl.DataFrame) -> None:
    far = {"kind": "taxi", "vehicle_id": "x", "ts": T0.isoformat(), "lon": 100.0, "lat": 20.0}
    report = service.ingest(session, operator, source="bus", records=[{**far, "route_id": "R1"}])
    assert report.reasons == {"outside_network": 1}
    assert report.errors[0]["field"] == "lon"


def test_index_rebuilt_when_network_changes(session: Session, operator: Actor, grid: pl.DataFrame) -> None:
    net = active_network(session)
    assert net is not None
    assert net.code == "ingest-grid"
    first = matcher.view(session, net)
    assert matcher.view(session, net) is first
    bigger = grid_network(5, 5, 300.0)
    net = save_segments(session, "ingest-grid", bigger, replace=True)
    net.imported_at = net.imported_at + timedelta(seconds=1)
    second = matcher.view(session, net)
    assert second is not first
    assert second is not None
    assert len(second.segment_ids) == bigger.height
    other = save_segments(session, "other-grid", grid_network(2, 2, 100.0))
    other.imported_at = net.imported_at + timedelta(seconds=1)
    session.flush()
    newest = active_network(session)
    assert newest is not None
    assert newest.code == "other-grid"
    assert active_network(session, "ingest-grid") is net
    assert active_network(session, "missing") is None
