"""Fixtures of the ingest tests: the test world, the shipped profiles, data officers of district
A and of district B, and a registered device of each profile in grid 1."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.hub.ingest import api, profiles, service
from cityos.places.devices.models import Device
from tests.factories import World, make_actor, make_world


@dataclass
class IngestWorld:
    world: World
    officer: Actor  # data officer of district A
    far: Actor  # data officer of district B
    resident: Actor


@pytest.fixture
def iw(session: Session) -> IngestWorld:
    profiles.install(session)
    world = make_world(session)
    return IngestWorld(
        world=world,
        officer=make_actor(session, roles=["data_officer"], scope=world.district_a),
        far=make_actor(session, roles=["data_officer"], scope=world.district_b),
        resident=make_actor(session, roles=["resident"], scope=world.room),
    )


def register(
    session: Session, iw: IngestWorld, code: str, profile: str, kind: str = "sensor", **kw: object
) -> tuple[Device, str]:
    return service.register_device(
        session,
        iw.officer,
        code=code,
        kind=kind,
        name=f"设备 {code}",
        region_id=iw.world.grid1.id,
        profile_code=profile,
        lon=104.06,
        lat=30.65,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def _free_gate() -> None:
    api.gate = api.Gate(api.HTTP_SLOTS)
