"""Records of the alerts tests: a city with a 交警大队 answering for 道路交通运行 in district A, a
small grid network inside it, the shipped rules, an operator, and helpers that write the
monitor's bins directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.runtime import Runtime
from cityos.mobility.monitor.models import SegmentState, TrafficCorridor, VitalSign
from cityos.people.models import Department
from tests.factories import World

NETWORK = "alerts-test"
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in the city
BIN = timedelta(minutes=5)
EXPRESSWAY = "n0_0-n0_1"  # the grid's border is expressway
BRANCH = "n1_1-n1_2"
CORRIDOR = ["n0_0-n0_1", "n0_1-n0_2", "n0_2-n0_3"]


@dataclass
class AlertWorld:
    w: World
    runtime: Runtime
    operator: Actor  # traffic_operator of the whole city
    operator_id: int
    reader: Actor  # department staff: traffic:read only
    reader_id: int
    jj: Department


def at(k: int) -> datetime:
    """The start of bin k after T0."""
    return T0 + k * BIN


def put_state(
    session: Session, segment_id: str, k: int, *, state: int | None, speed: float | None = None, network: str = NETWORK
) -> None:
    session.add(
        SegmentState(
            network_code=network,
            segment_id=segment_id,
            bin_start=at(k),
            speed_kmh=speed if speed is not None else {1: 70.0, 2: 55.0, 3: 40.0, 4: 28.0, 5: 15.0}.get(state or 0),
            state=state,
            sources=1,
            disagree=False,
            probe_n=3.0,
            loop_n=0.0,
            nav_n=0.0,
        )
    )
    session.flush()


def put_band(session: Session, corridor: str, k: int, band: int) -> None:
    session.add(
        VitalSign(
            level="corridor",
            area_id=corridor,
            bin_start=at(k),
            segments=3,
            tpi=2.0 * band - 1,
            tpi_band=band,
            incidents=0.0,
            disagreements=0,
        )
    )
    session.flush()


def add_corridor(session: Session, code: str = "ring-east") -> TrafficCorridor:
    c = TrafficCorridor(code=code, name="东二环", name_en="East 2nd Ring", network_code=NETWORK, segment_ids=CORRIDOR)
    session.add(c)
    session.flush()
    return c
