"""The demo city's 应急 sign-in: demo-volunteer, the building lead of the demo resident's building."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.demo.accounts import demo_account
from cityos.demo.generator import generate
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account, AccountRole
from cityos.people.models import Person
from cityos.places.models import Region


def test_demo_volunteer_leads_the_demo_residents_building(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    generate(session_factory, size="tiny", traffic=False)
    accounts = {a.username: a for a in session.scalars(select(Account))}
    volunteer, resident, prop = accounts["demo-volunteer"], accounts["demo-resident"], accounts["demo-property"]
    roles = session.scalars(select(AccountRole.role).where(AccountRole.account_id == volunteer.id)).all()
    assert roles == ["volunteer"]
    assert demo_account("volunteer").username == "demo-volunteer"
    building = session.get(Region, volunteer.scope_region_id)
    estate = session.get(Region, prop.scope_region_id)
    assert building is not None
    assert estate is not None
    assert building.level == "building"
    assert building.path.startswith(estate.path)
    home = session.scalar(select(Person.region_path).where(Person.id == resident.person_id))
    assert home is not None
    assert home.startswith(building.path)
    actor = actor_for_account(session, volunteer)
    assert actor.can("campaign:task", region=building.path)
    assert actor.can("supplies:distribute", region=home)
    assert not actor.can("campaign:read")
