"""Fixtures of the hub tests: the test world with its spatial index (for the point locate), a
TOCC operator of the city, one of district B only, and a reader; a simulated day's records."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.identity.deps import actor_for_account
from cityos.mobility.hubs import simulate
from cityos.places import index
from tests.factories import World, make_account, make_world

DAY = date(2026, 11, 20)
# the whole local day of DAY (UTC+8)
WINDOW = (datetime(2026, 11, 19, 16, 0, tzinfo=UTC), datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
HUB = (104.05, 30.05)  # in district A (甲区: 104.0-104.1), near district B (乙区: 104.1-104.2)


@dataclass
class People:
    world: World
    operator: Actor
    operator_id: int
    operator_b: Actor
    reader: Actor
    reader_id: int


@pytest.fixture
def people(session: Session) -> Iterator[People]:
    w = make_world(session)
    index.rebuild_cells(session)
    op = make_account(session, roles=["traffic_operator"], scope=w.city)
    ob = make_account(session, roles=["traffic_operator"], scope=w.district_b)
    rd = make_account(session, roles=["department_staff"], scope=w.city)
    session.flush()
    yield People(
        w,
        actor_for_account(session, op),
        op.id,
        actor_for_account(session, ob),
        actor_for_account(session, rd),
        rd.id,
    )
    index.invalidate()


def ends() -> list[tuple[float, float]]:
    """Trip ends: two thirds in district A, one third in district B."""
    a = [(104.02 + 0.01 * i, 30.02 + 0.01 * j) for i in range(6) for j in range(3)]
    b = [(104.12 + 0.01 * i, 30.03 + 0.01 * j) for i in range(3) for j in range(3)]
    return a + b


@pytest.fixture(scope="session")
def hub_day() -> simulate.HubDay:
    return simulate.simulate_day(
        hub_code="EAST", lon=HUB[0], lat=HUB[1], day=DAY, ends=ends(), rng=random.Random(8), scale=0.4
    )
