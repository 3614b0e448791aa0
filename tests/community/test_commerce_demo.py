"""The demo seed of 邻里商业: merchants around the estate with realistic offers that reach it,
orders by its residents in every state, and a second run changes nothing."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.commerce import demo, service
from cityos.community.commerce.models import Offer, Order
from cityos.core.actor import SYSTEM
from cityos.people.models import Organisation, Residence
from cityos.places import index
from tests.factories import make_person, make_world


def test_the_seed_makes_a_living_neighbourhood_once(session: Session) -> None:
    world = make_world(session)
    index.rebuild_cells(session)
    for n in range(10):
        room = world.room if n % 2 else world.room2
        person = make_person(session, name=f"居民{n}", region=room, phone=f"1390000{n:04d}" if n % 3 else None)
        session.add(Residence(person_id=person.id, room_id=room.id, relation="owner", since=date(2020, 1, 1)))
    session.flush()
    demo.seed(session, estate=world.estate, community=world.community, rng=random.Random(5))
    shops = session.scalars(select(Organisation).where(Organisation.kind == "merchant")).all()
    assert len(shops) == demo.MERCHANTS
    offers = session.scalars(select(Offer)).all()
    assert len(offers) >= 10
    assert {o.category for o in offers} >= {"housekeeping", "repair", "electronics", "fresh", "laundry"}
    point = service.point_of(session, world.estate)
    assert point is not None
    nearby = service.nearby(session, SYSTEM, lon=point[0], lat=point[1], limit=1000)
    assert len(nearby) == len(offers)  # every offer reaches the estate
    statuses = set(session.scalars(select(Order.status)))
    assert statuses == {"placed", "accepted", "in_service", "done", "rejected", "cancelled"}
    assert session.scalar(select(func.count()).select_from(Order).where(Order.rating.is_not(None))) >= 2
    figures = service.stats(session, region=world.community)
    assert figures["offers_active"] == len(offers)
    assert figures["average_rating"] > 0
    before = (len(offers), session.scalar(select(func.count()).select_from(Order)))
    demo.seed(session, estate=world.estate, community=world.community, rng=random.Random(6))
    after = (
        session.scalar(select(func.count()).select_from(Offer)),
        session.scalar(select(func.count()).select_from(Order)),
    )
    assert after == before


def test_the_commands(cli_db: str) -> None:
    from typer.testing import CliRunner

    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        world = make_world(session)
        code = world.community.code
        session.commit()
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["community", "shop-stats", "--region", code])
    assert shown.exit_code == 0, shown.output
    assert "幸福社区" in shown.output
    assert "offers_active: 0" in shown.output
    assert runner.invoke(app, ["community", "shop-stats", "--region", "nowhere"]).exit_code != 0
    expired = runner.invoke(app, ["community", "shop-expire"])
    assert expired.exit_code == 0, expired.output
    assert "Orders cancelled: 0" in expired.output
