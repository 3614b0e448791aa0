"""Builders for the campaigns tests: the test world with residents living in its rooms (with
residence records and households), a second community of the same street, the accounts of each
side, and a published epidemic-screening campaign over the first community."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.runtime import Runtime
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns import tasks as campaign_tasks
from cityos.emergency.campaigns.models import Campaign
from cityos.people.models import Household, Organisation, Person, Residence
from cityos.places import index
from cityos.places.models import Region
from cityos.workflow.calendar import seed_years
from tests.factories import World, add_region, box, make_account, make_actor, make_person, make_world

# Monday 7 December 2026, 10:00 in the city (02:00 UTC). The campaign started the day before that
# or before the real clock, whichever is earlier, so the service tests (at NOW) and the pages (at
# the real time) both find it running.
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
TODAY = date(2026, 12, 7)
STARTED = min(NOW, datetime.now(UTC)) - timedelta(days=1)

GOOD = {"temperature": 36.6, "symptoms": ["none"], "test_result": "negative", "close_contact": False}
FEVER = {"temperature": 38.2, "symptoms": ["fever", "cough"], "test_result": "pending", "close_contact": False}


def live(session: Session, person: Person, room: Region, relation: str = "owner") -> Residence:
    household = session.query(Household).filter(Household.room_id == room.id).first()
    if household is None:
        household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id)
        session.add(household)
        session.flush()
    residence = Residence(
        person_id=person.id, room_id=room.id, household_id=household.id, relation=relation, since=date(2020, 1, 1)
    )
    session.add(residence)
    session.flush()
    return residence


def uscc(org: str) -> str:
    from cityos.people.validation import org_code_check_char, uscc_check_char

    body = f"91510104{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


@dataclass
class CampWorld:
    world: World
    building2: Region  # 2栋 in grid 2 of the same community
    other_community: Region
    other_building: Region
    other_room: Region
    person: Person  # 居民甲 in room 101 (owner); signs in
    family: Person  # 居民乙, same room
    neighbour: Person  # 居民丙 in room 102, pregnant (a special group)
    key: Person  # 居民丁 in room 102, a key-group member (tag key_group)
    far: Person  # 居民戊 in grid 2
    stranger: Person  # 居民己 in the other community
    resident: Actor  # 居民甲's account
    resident_account_id: int
    staff: Actor  # community worker of 幸福社区
    staff_account_id: int
    grid_worker: Actor  # grid 1
    grid_worker_account_id: int
    grid_worker2: Actor  # grid 2
    volunteer: Actor  # 楼栋长 of building 1栋
    volunteer_account_id: int
    observer: Actor  # street observer of 一街道
    other_staff: Actor  # community worker of the other community
    org: Organisation  # an enterprise in grid 1
    campaign: Campaign  # published epidemic screening over 幸福社区


def build(session: Session) -> CampWorld:
    from cityos.cases import processes
    from cityos.cases import service as cases

    w = make_world(session)
    other = add_region(session, w.street, "community", "和平社区", geometry=box(104.2, 30.2, 0.05, 0.05))
    og = add_region(session, other, "grid", "和平一网格", geometry=box(104.2, 30.2, 0.05, 0.05))
    oe = add_region(session, og, "estate", "和平小区", geometry=box(104.21, 30.21, 0.01, 0.01))
    ob = add_region(session, oe, "building", "9栋", geometry=box(104.212, 30.212, 0.001, 0.0005))
    ou = add_region(session, ob, "unit", "1单元")
    oroom = add_region(session, ou, "room", "901")
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    seed_years(session, [2026, 2027])
    campaigns.install(session)
    person = make_person(session, name="居民甲", region=w.room, phone="13900000001")
    family = make_person(session, name="居民乙", region=w.room)
    neighbour = make_person(session, name="居民丙", region=w.room2, tags=["pregnant"], phone="13900000003")
    key = make_person(session, name="居民丁", region=w.room2, tags=["key_group"])
    far = make_person(session, name="居民戊", region=w.other_room)
    stranger = make_person(session, name="居民己", region=oroom)
    live(session, person, w.room)
    live(session, family, w.room, "family")
    live(session, neighbour, w.room2)
    live(session, key, w.room2, "family")
    live(session, far, w.other_room)
    live(session, stranger, oroom)
    resident_account = make_account(session, roles=["resident"], scope=w.room, person_id=person.id)
    staff_account = make_account(session, roles=["community_staff"], scope=w.community, username="camp-staff")
    gw_account = make_account(session, roles=["grid_worker"], scope=w.grid1, username="camp-grid1")
    volunteer_account = make_account(session, roles=["volunteer"], scope=w.building, username="camp-lead")
    org = Organisation(
        uscc=uscc("MA6C0101"),
        name="阳光科技有限公司",
        kind="enterprise",
        region_id=w.grid1.id,
        region_path=w.grid1.path,
    )
    session.add(org)
    session.flush()
    from cityos.identity.deps import actor_for_account

    staff = actor_for_account(session, staff_account)
    campaign = campaigns.create_from_template(
        session, staff, template="epidemic_screening", scope_region_id=w.community.id, now=STARTED
    )
    campaigns.publish(session, staff, campaign_id=campaign.id, now=STARTED)
    session.commit()
    return CampWorld(
        world=w,
        building2=session.get(Region, session.get(Region, w.other_room.parent_id).parent_id),  # type: ignore[union-attr]
        other_community=other,
        other_building=ob,
        other_room=oroom,
        person=person,
        family=family,
        neighbour=neighbour,
        key=key,
        far=far,
        stranger=stranger,
        resident=actor_for_account(session, resident_account),
        resident_account_id=resident_account.id,
        staff=staff,
        staff_account_id=staff_account.id,
        grid_worker=actor_for_account(session, gw_account),
        grid_worker_account_id=gw_account.id,
        grid_worker2=make_actor(session, roles=["grid_worker"], scope=w.grid2),
        volunteer=actor_for_account(session, volunteer_account),
        volunteer_account_id=volunteer_account.id,
        observer=make_actor(session, roles=["street_observer"], scope=w.street),
        other_staff=make_actor(session, roles=["community_staff"], scope=other),
        org=org,
        campaign=campaign,
    )


@pytest.fixture(name="cw")
def camp_world(session: Session, runtime: Runtime) -> Iterator[CampWorld]:
    from cityos.cases import tasks as cases_tasks

    cases_tasks.register(runtime.bus)
    campaign_tasks.register(runtime.bus)
    world = build(session)
    session.commit()
    yield world
    index.invalidate()


def signed_in(client, session: Session, account_id: int):  # type: ignore[no-untyped-def]
    from cityos.core.settings import get_settings
    from tests.factories import session_cookie

    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))
    return client
