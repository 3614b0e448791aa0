"""A known small campaign for the command tests, written straight into the campaign tables (so the
figures do not depend on the campaigns part's services).

幸福社区 of the test world, with a third building 3栋 in 阳光小区 (grid 1):

    grid 1  阳光小区 1栋 101: 张三 (reported), 李四 (reported, abnormal)     — household 101
                     1栋 102: 王五 (living alone; reported)                 — household 102
                     3栋 301: 赵六 (reached at the door), 钱七 (disabled)     — household 301
                     3栋 302: 孙八                                          — household 302
    grid 2  月亮小区 2栋 201: 周九 (reported, abnormal), 吴十                 — household 201
    district B: 郑一 (outside the community; reported to the city campaign)

Today: 4 reports (2 abnormal) + one enterprise staff report in grid 1; yesterday 张三 alone.
Tasks: 1栋 done, 3栋 and 2栋 open. Supplies: households 101 (two items) and 201.
Help: 1栋 open and overdue, 3栋 open and not due, 2栋 answered, 2栋 escalated and overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.emergency.campaigns.models import (
    Campaign,
    HelpRequest,
    OrgReport,
    Reach,
    Report,
    SuppliesDelivery,
    Task,
)
from cityos.emergency.command.service import local_today
from cityos.people.models import Household, Organisation, Person, Residence
from cityos.places.models import Region
from tests.factories import World, add_region, box, make_person, make_world


@dataclass
class Known:
    world: World
    building3: Region
    room301: Region
    room302: Region
    b2: Region  # 2栋 of 月亮小区 (grid 2)
    outside_district_room: Region
    campaign: Campaign  # over 幸福社区
    city_campaign: Campaign  # over the whole city
    today: date
    persons: dict[str, Person] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)


def _campaign(session: Session, scope: Region, title: str) -> Campaign:
    campaign = Campaign(
        title=title,
        description="",
        template_key="epidemic",
        scope_region_id=scope.id,
        scope_path=scope.path,
        status="published",
        settings={},
        form_version=1,
        started_at=utcnow() - timedelta(days=2),
        created_at=utcnow() - timedelta(days=3),
    )
    session.add(campaign)
    session.flush()
    return campaign


def report(
    session: Session, campaign: Campaign, person: Person, day: date, *, abnormal: bool = False, reach: bool = True
) -> Report:
    row = Report(
        campaign_id=campaign.id,
        person_id=person.id,
        region_path=person.region_path or "",
        day=day,
        form_version=1,
        answers={"temperature": 38.0 if abnormal else 36.5},
        abnormal=abnormal,
    )
    session.add(row)
    if reach and session.query(Reach).filter_by(campaign_id=campaign.id, person_id=person.id).first() is None:
        session.add(Reach(campaign_id=campaign.id, person_id=person.id, region_path=row.region_path, how="report"))
    session.flush()
    return row


def build_known(session: Session) -> Known:
    w = make_world(session)
    building3 = add_region(session, w.estate, "building", "3栋", geometry=box(104.014, 30.012, 0.001, 0.0005))
    unit3 = add_region(session, building3, "unit", "1单元")
    room301 = add_region(session, unit3, "room", "301")
    room302 = add_region(session, unit3, "room", "302")
    b2 = session.get(Region, w.other_room.parent_id)
    assert b2 is not None
    b2 = session.get(Region, b2.parent_id)
    assert b2 is not None
    street_b = add_region(session, w.district_b, "street", "二街道")
    community_b = add_region(session, street_b, "community", "平安社区")
    grid_b = add_region(session, community_b, "grid", "平安网格")
    estate_b = add_region(session, grid_b, "estate", "星星小区")
    building_b = add_region(session, estate_b, "building", "9栋", geometry=box(104.15, 30.05, 0.001, 0.0005))
    unit_b = add_region(session, building_b, "unit", "1单元")
    room_b = add_region(session, unit_b, "room", "901")
    today = local_today()
    campaign = _campaign(session, w.community, "幸福社区疫情筛查")
    city_campaign = _campaign(session, w.city, "全市疫情筛查")
    known = Known(w, building3, room301, room302, b2, room_b, campaign, city_campaign, today)

    people = {
        "张三": (w.room, []),
        "李四": (w.room, []),
        "王五": (w.room2, ["living_alone", "elderly"]),
        "赵六": (room301, []),
        "钱七": (room301, ["disabled"]),
        "孙八": (room302, []),
        "周九": (w.other_room, []),
        "吴十": (w.other_room, []),
        "郑一": (room_b, []),
    }
    phones = iter(f"1390000{n:04d}" for n in range(1, 100))
    for name, (room, tags) in people.items():
        person = make_person(session, name=name, region=room, tags=tags, phone=next(phones))
        key = room.name
        if key not in known.households:
            household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id)
            session.add(household)
            session.flush()
            known.households[key] = household.id
        session.add(
            Residence(
                person_id=person.id,
                room_id=room.id,
                household_id=known.households[key],
                relation="owner",
                since=date(2020, 1, 1),
            )
        )
        known.persons[name] = person
    session.flush()

    p = known.persons
    for name, abnormal in (("张三", False), ("李四", True), ("王五", False), ("周九", True)):
        report(session, campaign, p[name], today, abnormal=abnormal)
    report(session, campaign, p["张三"], today - timedelta(days=1), reach=False)
    session.add(Reach(campaign_id=campaign.id, person_id=p["赵六"].id, region_path=room301.path, how="door"))
    report(session, city_campaign, p["郑一"], today)
    report(session, city_campaign, p["张三"], today)

    org = Organisation(
        uscc="91510104MA6CMD0001", name="幸福商贸", kind="enterprise", region_id=w.grid1.id, region_path=w.grid1.path
    )
    session.add(org)
    session.flush()
    session.add(
        OrgReport(
            campaign_id=campaign.id,
            organisation_id=org.id,
            region_path=w.grid1.path,
            day=today,
            name="员工甲",
            phone_enc="x",
            phone_hash="h-1",
            form_version=1,
            answers={},
            abnormal=False,
        )
    )
    now = utcnow()
    for region, status in ((w.building, "done"), (building3, "open"), (b2, "open")):
        session.add(
            Task(
                campaign_id=campaign.id,
                kind="door_check",
                region_id=region.id,
                region_path=region.path,
                status=status,
                done_at=now if status == "done" else None,
            )
        )
    for room, item in ((w.room, "rice"), (w.room, "veg"), (w.other_room, "rice")):
        session.add(
            SuppliesDelivery(
                campaign_id=campaign.id,
                room_id=room.id,
                household_id=known.households[room.name],
                region_path=room.path,
                item_code=item,
                quantity=1,
            )
        )
    helps = (
        (w.room, "open", now - timedelta(hours=1)),
        (room301, "open", now + timedelta(hours=1)),
        (w.other_room, "answered", now - timedelta(hours=3)),
        (w.other_room, "escalated", now - timedelta(minutes=5)),
    )
    for room, status, due in helps:
        session.add(
            HelpRequest(
                campaign_id=campaign.id,
                region_path=room.path,
                category_code="help.01.01",
                text="买药",
                status=status,
                due_at=due,
                created_at=due - timedelta(hours=2),
            )
        )
    session.flush()
    return known
