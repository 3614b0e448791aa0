"""The demo records of 电子出入码: rules, two gates, passes, a visitor, a goods slip and a day of
events for one estate, only once; and the demo city's estate gets them."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityos.community.access import demo, service
from cityos.community.access.models import AccessEvent, AccessRules, EntryPass, GoodsSlip
from cityos.places.devices.models import Device
from cityos.places.models import Region
from tests.community.access_fixtures import make_access_world, residence
from tests.factories import make_person


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_seed_one_estate_once(session: Session) -> None:
    aw = make_access_world(session)
    session.query(Device).delete()  # the fixture's own gate: the estate starts without any
    for i in range(6):
        person = make_person(session, name=f"居民{i}")
        residence(session, person, aw.world.room2 if i % 2 else aw.world.room, "family")
    demo.seed(session, estate=aw.estate, community=aw.world.community, rng=random.Random(7))
    assert {d.name for d in session.scalars(select(Device).where(Device.kind == "gate"))} == {"东门", "南门"}
    rules = session.scalars(select(AccessRules)).one()
    assert rules.windows == {"tenant": ["06:00", "23:00"]}
    residents = session.scalar(select(func.count()).where(EntryPass.kind == "resident"))
    assert residents == 8  # the owner, the tenant and six family members
    assert session.scalar(select(func.count()).where(EntryPass.kind == "visitor")) == 1
    assert _count(session, GoodsSlip) == 1
    events = _count(session, AccessEvent)
    assert events >= 2 * 8
    # The day of the latest event (just after midnight the demo's day is yesterday, locally).
    latest = session.scalar(select(func.max(AccessEvent.at)))
    figures = service.stats(session, region=aw.world.community, now=latest)
    assert figures["gates_total"] == 2
    assert figures["refused_today"] + figures["entries_today"] + figures["exits_today"] > 0
    assert session.scalar(select(func.count()).where(AccessEvent.result == "refused")) >= 2  # a screenshot, a forgery

    demo.seed(session, estate=aw.estate, community=aw.world.community, rng=random.Random(7))
    assert _count(session, AccessEvent) == events
    assert session.scalar(select(func.count()).where(Device.kind == "gate")) == 2


def test_demo_city_estate_has_passes_and_gates(session_factory: sessionmaker[Session], session: Session) -> None:
    from cityos.demo.generator import generate

    summary = generate(session_factory, size="tiny", traffic=False)
    assert "access" in summary.community_seeded
    assert "access" not in summary.community_failed
    estate_ids = set(session.scalars(select(Device.region_id).where(Device.kind == "gate")))
    assert len(estate_ids) == 1
    estate = session.get(Region, estate_ids.pop())
    assert estate is not None
    assert estate.level == "estate"
    assert session.scalar(select(func.count()).where(EntryPass.estate_id == estate.id)) >= 2
