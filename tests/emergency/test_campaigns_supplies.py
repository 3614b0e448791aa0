"""Supplies per household (deliveries by volunteers and grid workers, totals, households not yet
served per building) and enterprises (staff report with the organisation's code; the street sees
the roll-up per organisation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Forbidden, Invalid, NotFound, RateLimited
from cityos.emergency.campaigns import enterprises, supplies
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import OrgReport, SuppliesDelivery
from cityos.people.models import Organisation
from tests.emergency.campaigns_fixtures import FEVER, GOOD, NOW, TODAY, CampWorld, camp_world, uscc  # noqa: F401


def test_deliveries_per_household_and_the_unserved_per_building(session: Session, cw: CampWorld) -> None:
    rows = supplies.deliver(
        session,
        cw.volunteer,
        campaign_id=cw.campaign.id,
        room_id=cw.world.room.id,
        quantities={"rice": 2, "vegetables": 1, "masks": 0},
        note="放门口",
        now=NOW,
    )
    assert sorted((r.item_code, r.quantity) for r in rows) == [("rice", 2.0), ("vegetables", 1.0)]
    assert rows[0].household_id is not None
    supplies.deliver(
        session, cw.grid_worker, campaign_id=cw.campaign.id, room_id=cw.world.room.id, quantities={"rice": 1.5}, now=NOW
    )
    totals = supplies.household_totals(session, cw.staff, campaign_id=cw.campaign.id, room_id=cw.world.room.id)
    assert totals == {"rice": 3.5, "vegetables": 1.0}
    unserved = supplies.households(session, cw.staff, campaign_id=cw.campaign.id, unserved_only=True)
    # 102 (a pregnant resident: listed first) in 1栋, and 2栋's home.
    assert [(b.building, [h.room for h in b.households]) for b in unserved] == [("1栋", ["102"]), ("2栋", ["201"])]
    assert unserved[0].households[0].special
    no_masks = supplies.households(session, cw.staff, campaign_id=cw.campaign.id, unserved_only=True, item_code="masks")
    assert sum(len(b.households) for b in no_masks) == 3
    everyone = supplies.households(session, cw.volunteer, campaign_id=cw.campaign.id)
    assert [(b.building, b.served, len(b.households)) for b in everyone] == [("1栋", 1, 2)]
    assert supplies.coverage(session, cw.staff, campaign_id=cw.campaign.id) == (1, 3)


def test_bad_deliveries_are_refused_and_nothing_is_written(session: Session, cw: CampWorld) -> None:
    with pytest.raises(Invalid) as exc:
        supplies.deliver(
            session,
            cw.volunteer,
            campaign_id=cw.campaign.id,
            room_id=cw.world.unit.id,
            quantities={"gold": 1, "rice": -1, "masks": "many", "vegetables": 5000},
            note="x" * 501,
        )
    assert {d.field for d in exc.value.details} == {
        "quantities.gold",
        "quantities.rice",
        "quantities.masks",
        "quantities.vegetables",
        "note",
        "room_id",
    }
    with pytest.raises(Invalid) as exc:
        supplies.deliver(session, cw.volunteer, campaign_id=cw.campaign.id, room_id=cw.world.room.id, quantities={})
    assert [d.field for d in exc.value.details] == ["quantities"]
    with pytest.raises(Invalid):  # grid 2's home is outside the volunteer's building
        supplies.deliver(
            session, cw.volunteer, campaign_id=cw.campaign.id, room_id=cw.world.other_room.id, quantities={"rice": 1}
        )
    with pytest.raises(Forbidden):
        supplies.deliver(
            session, cw.resident, campaign_id=cw.campaign.id, room_id=cw.world.room.id, quantities={"rice": 1}
        )
    assert session.scalar(select(func.count()).select_from(SuppliesDelivery)) == 0
    with pytest.raises(Forbidden):
        supplies.add_item(session, cw.volunteer, campaign_id=cw.campaign.id, code="milk", name="牛奶", unit="箱")
    with pytest.raises(Invalid) as exc:
        supplies.add_item(session, cw.staff, campaign_id=cw.campaign.id, code="rice", name="", unit="")
    assert {d.field for d in exc.value.details} == {"name", "unit"}
    with pytest.raises(Invalid) as exc:
        supplies.add_item(session, cw.staff, campaign_id=cw.campaign.id, code="rice", name="米", unit="袋")
    assert [d.field for d in exc.value.details] == ["code"]
    milk = supplies.add_item(session, cw.staff, campaign_id=cw.campaign.id, code="milk", name="牛奶", unit="箱")
    assert [i.code for i in supplies.items(session, cw.volunteer, campaign_id=cw.campaign.id)][-1] == milk.code


def test_enterprise_staff_report_with_the_organisations_code(session: Session, cw: CampWorld) -> None:
    code = cw.org.uscc
    first = enterprises.submit(
        session,
        campaign_id=cw.campaign.id,
        org_code=code.lower(),
        name="王 五",
        phone="139 1234 5678",
        answers=FEVER,
        ip="10.0.0.1",
        now=NOW,
    )
    assert first.abnormal
    assert first.region_path == cw.world.grid1.path
    again = enterprises.submit(
        session,
        campaign_id=cw.campaign.id,
        org_code=code,
        name="王五",
        phone="13912345678",
        answers=GOOD,
        now=NOW + timedelta(hours=1),
    )
    assert again.id == first.id
    assert again.entries == 2
    assert not again.abnormal
    enterprises.submit(
        session, campaign_id=cw.campaign.id, org_code=code, name="赵六", phone="13912345679", answers=FEVER, now=NOW
    )
    other = Organisation(
        uscc=uscc("MA6C0102"),
        name="月亮商贸",
        kind="enterprise",
        region_id=cw.world.grid2.id,
        region_path=cw.world.grid2.path,
    )
    session.add(other)
    session.flush()
    lines = enterprises.rollup(session, cw.observer, campaign_id=cw.campaign.id, day=TODAY)
    assert [(x.name, x.reported, x.abnormal) for x in lines] == [("阳光科技有限公司", 2, 1), ("月亮商贸", 0, 0)]
    staff = enterprises.staff_reports(
        session, cw.staff, campaign_id=cw.campaign.id, organisation_id=cw.org.id, day=TODAY
    )
    assert [(s.name, s.phone, s.abnormal) for s in staff] == [
        ("赵*", "139****5679", True),
        ("王*", "139****5678", False),
    ]
    assert session.scalar(select(OrgReport.phone_enc).limit(1)) != "13912345678"  # sealed
    assert [x.name for x in enterprises.rollup(session, cw.grid_worker2, campaign_id=cw.campaign.id, day=TODAY)] == [
        "月亮商贸"
    ]
    with pytest.raises(NotFound):
        enterprises.rollup(session, cw.other_staff, campaign_id=cw.campaign.id, day=TODAY)


def test_bad_enterprise_reports_are_refused(session: Session, cw: CampWorld) -> None:
    with pytest.raises(Invalid) as exc:
        enterprises.submit(
            session, campaign_id=cw.campaign.id, org_code="123", name="", phone="12345", answers={"temperature": "x"}
        )
    assert {d.field for d in exc.value.details} >= {"org_code", "name", "phone", "temperature"}
    stranger = Organisation(
        uscc=uscc("MA6C0103"),
        name="和平公司",
        kind="enterprise",
        region_id=cw.other_community.id,
        region_path=cw.other_community.path,
    )
    session.add(stranger)
    session.flush()
    with pytest.raises(Invalid) as exc:  # registered, but outside the campaign
        enterprises.submit(
            session, campaign_id=cw.campaign.id, org_code=stranger.uscc, name="甲", phone="13912345678", answers=GOOD
        )
    assert exc.value.details[0].message == enterprises.MSG_ORG_UNKNOWN
    draft = campaigns.create_from_template(
        session, cw.staff, template="epidemic_screening", scope_region_id=cw.world.grid1.id
    )
    with pytest.raises(NotFound):
        enterprises.submit(
            session, campaign_id=draft.id, org_code=cw.org.uscc, name="甲", phone="13912345678", answers=GOOD
        )
    assert session.scalar(select(func.count()).select_from(OrgReport)) == 0
    refused = 0
    for _ in range(enterprises.REPORTS_PER_MINUTE + 5):
        try:
            enterprises.submit(
                session, campaign_id=cw.campaign.id, org_code="bad", name="甲", phone="1", answers={}, ip="10.9.9.9"
            )
        except Invalid:
            continue
        except RateLimited:
            refused += 1
    assert refused == 5
