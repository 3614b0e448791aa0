from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import NotFound
from cityos.mobility.indicators.fusion import OBS_SCHEMA
from cityos.mobility.ingest import frames, service
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import save_segments

from .conftest import T0, loop, nav


def test_observations_values(session: Session, operator: Actor, grid: Any) -> None:
    service.ingest(
        session,
        operator,
        source="loop",
        records=[
            loop(lane=1, count=30, occupancy=0.1, speed_kmh=40.0),
            loop(lane=2, count=10, occupancy=0.3, speed_kmh=20.0),
            loop(lane=3, count=0, occupancy=0.0, speed_kmh=None),
            loop(ts="2026-11-30T10:05:00+08:00"),  # the next interval: outside the window
        ],
    )
    service.ingest(session, operator, source="nav", records=[nav(), nav(provider="b", samples=...)])
    row = grid.filter(pl.col("segment_id") == "n0_1-n0_2").row(0, named=True)
    base = {"kind": "taxi", "lon": sum(row["lons"]) / 2, "lat": sum(row["lats"]) / 2, "heading_deg": 90.0}
    service.ingest(
        session,
        operator,
        source="probe",
        records=[
            {**base, "vehicle_id": "a", "ts": (T0 + timedelta(seconds=30)).isoformat(), "speed_kmh": 25.0},
            {**base, "vehicle_id": "b", "ts": (T0 + timedelta(seconds=60)).isoformat()},  # no speed
        ],
    )
    obs = frames.observations(session, start=T0, end=T0 + timedelta(minutes=5))
    assert obs.schema == pl.from_arrow(OBS_SCHEMA.empty_table()).schema  # type: ignore[union-attr]
    by = {s: obs.filter(pl.col("source") == s) for s in ("probe", "loop", "nav")}
    assert by["probe"].height == 1
    assert by["probe"].row(0, named=True) == {
        "source": "probe",
        "segment_id": "n0_1-n0_2",
        "ts": datetime(2026, 11, 30, 2, 0, 30),
        "speed": 25.0,
        "count": None,
        "occupancy": None,
        "n": 1.0,
    }
    lp = by["loop"].row(0, named=True)
    assert by["loop"].height == 1
    assert (lp["count"], lp["n"]) == (40.0, 40.0)
    assert lp["occupancy"] == pytest.approx(0.4 / 3)
    assert lp["speed"] == pytest.approx((30 * 40 + 10 * 20) / 40)
    assert lp["ts"] == datetime(2026, 11, 30, 2, 0)
    assert sorted(by["nav"]["n"].to_list()) == [1.0, 7.0]


def test_empty_window(session: Session) -> None:
    obs = frames.observations(session, start=T0, end=T0 + timedelta(minutes=1))
    assert obs.height == 0
    assert obs.schema == pl.from_arrow(OBS_SCHEMA.empty_table()).schema  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="aware"):
        frames.observations(session, start=datetime(2026, 1, 1), end=T0)


def test_observations_of_one_network(session: Session, operator: Actor, grid: Any) -> None:
    save_segments(session, "small", grid_network(2, 2, 300.0))
    service.ingest(session, operator, source="nav", records=[nav(segment_id="n2_2-n2_3")], network_code="ingest-grid")
    window = {"start": T0, "end": T0 + timedelta(minutes=5)}
    assert frames.observations(session, **window).height == 1
    assert frames.observations(session, network_code="ingest-grid", **window).height == 1
    assert frames.observations(session, network_code="small", **window).height == 0
    with pytest.raises(NotFound):
        frames.observations(session, network_code="nope", **window)
