"""Builders for the consultation tests: the shipped knowledge base, a resident and staff."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.identity.models import Account
from cityos.services.consult import service
from tests.factories import World, make_account, make_actor, make_person, make_world


@dataclass
class ConsultWorld:
    world: World
    resident: Actor
    resident_account: Account
    staff: Actor  # window clerk of district A (consult:answer)
    other_staff: Actor  # window clerk of district B
    editor: Actor  # admin (service:write)


def make_consult_world(session: Session) -> ConsultWorld:
    """A test world with the shipped knowledge base, a resident of room 101, and staff."""
    world = make_world(session)
    service.install(session)
    person = make_person(session, name="王大妈", region=world.room)
    account = make_account(session, roles=["resident"], scope=world.city, person_id=person.id)
    from cityos.identity.deps import actor_for_account

    return ConsultWorld(
        world=world,
        resident=actor_for_account(session, account),
        resident_account=account,
        staff=make_actor(session, roles=["window_clerk"], scope=world.district_a),
        other_staff=make_actor(session, roles=["window_clerk"], scope=world.district_b),
        editor=make_actor(session, roles=["admin"], scope=world.city),
    )
