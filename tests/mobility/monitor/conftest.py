"""The ``tw`` fixture: a city with two districts, a 6 × 6 grid network across their border, and
helpers that write ingest rows directly (the monitor only reads them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.core.actor import Actor
from cityos.identity.deps import actor_for_account
from cityos.mobility.ingest.models import NavSpeed, ProbePoint, TrafficObservation
from cityos.mobility.monitor import areas, forecasts
from cityos.mobility.network import service as network
from cityos.mobility.network.schema import grid_network
from cityos.places import index
from tests.factories import World, make_account, make_world

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # a bin boundary (08:00 in the city)


@dataclass
class TrafficWorld:
    w: World
    segments: pl.DataFrame
    operator: Actor
    operator_id: int
    reader: Actor
    reader_id: int
    outsider_id: int
    _seq: list[int] = field(default_factory=lambda: [0])

    def probes(self, session: Session, segment_id: str, ts: datetime, speeds: list[float]) -> None:
        rows = []
        for i, v in enumerate(speeds):
            self._seq[0] += 1
            rows.append(
                {"kind": "taxi", "vehicle_key": f"v{self._seq[0]}", "ts": ts + timedelta(seconds=i),
                 "lon": 104.1, "lat": 30.05, "speed_kmh": v, "segment_id": segment_id}
            )  # fmt: skip
        session.execute(insert(ProbePoint), rows)

    def loop(self, session: Session, segment_id: str, ts: datetime, count: int, speed: float | None,
             occupancy: float = 0.1, lane: int = 0) -> None:  # fmt: skip
        session.execute(
            insert(TrafficObservation),
            [{"detector_id": f"D-{segment_id}", "segment_id": segment_id, "lane": lane, "ts": ts,
              "interval_s": 300, "count": count, "occupancy": occupancy, "speed_kmh": speed}],
        )  # fmt: skip

    def nav(self, session: Session, segment_id: str, ts: datetime, speed: float, samples: int = 10) -> None:
        session.execute(
            insert(NavSpeed),
            [{"provider": "amap", "segment_id": segment_id, "ts": ts, "interval_s": 300, "speed_kmh": speed,
              "samples": samples}],
        )  # fmt: skip


@pytest.fixture
def tw(
    session: Session, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TrafficWorld]:
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    segments = grid_network(6, 6, 300.0, centre_lon=104.1, centre_lat=30.05)
    network.save_segments(session, "t", segments, name="Test grid")
    operator = make_account(session, roles=["traffic_operator"], scope=w.city)
    reader = make_account(session, roles=["commander"], scope=w.city)
    outsider = make_account(session, roles=["resident"], scope=w.city)
    session.flush()
    folder = tmp_path_factory.mktemp("monitor-archive")
    monkeypatch.setattr(forecasts, "model_path", lambda code: folder / f"traffic-forecast-{code}.pkl")
    areas.forget()
    yield TrafficWorld(
        w, network.load_segments(session, "t"), actor_for_account(session, operator), operator.id,
        actor_for_account(session, reader), reader.id, outsider.id,
    )  # fmt: skip
    areas.forget()
    index.invalidate()
