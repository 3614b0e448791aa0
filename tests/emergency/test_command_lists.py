"""The unreached residents (masked, special groups first), overdue help, the map's figures and the
daily report of the known campaign."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.core.models import AuditRecord
from cityos.core.pagination import PageParams
from cityos.emergency.command import report as daily
from cityos.emergency.command import service, store
from tests.emergency.command_fixtures import Known, build_known
from tests.factories import make_actor


@pytest.fixture
def known(session: Session) -> Known:
    return build_known(session)


def test_the_unreached_special_groups_first_then_room_by_room(session: Session, known: Known) -> None:
    staff = make_actor(session, roles=["community_staff"], scope=known.world.community)
    page = service.unreached(
        session, staff, campaign_id=known.campaign.id, region_id=None, params=PageParams(page=1, size=20)
    )
    assert page.total == 3
    assert [p.name for p in page.items] == ["钱七", "孙八", "吴十"]
    assert page.items[0].tags == ["disabled"]
    assert page.items[0].address == "阳光小区 3栋 1单元 301"
    assert page.items[0].building_id == known.building3.id
    assert page.items[0].phone == "139****0005"  # masked without pii:read
    one = service.unreached(
        session, staff, campaign_id=known.campaign.id, region_id=known.building3.id, params=PageParams(page=2, size=1)
    )
    assert (one.total, [p.name for p in one.items]) == (2, ["孙八"])
    assert session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "pii.read")) == 0


def test_names_are_masked_without_person_read_and_phones_shown_with_pii_read(session: Session, known: Known) -> None:
    observer = make_actor(session, roles=["street_observer"], scope=known.world.street)
    masked = service.unreached(
        session, observer, campaign_id=known.campaign.id, region_id=known.building3.id, params=PageParams()
    )
    assert [p.name for p in masked.items] == ["钱*", "孙*"]
    admin = make_actor(session, roles=["admin"], scope=known.world.city)
    shown = service.unreached(
        session, admin, campaign_id=known.campaign.id, region_id=known.building3.id, params=PageParams()
    )
    assert [p.phone for p in shown.items] == ["13900000005", "13900000006"]
    reads = session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")).all()
    assert sorted(int(r.subject_id or 0) for r in reads) == sorted(p.person_id for p in shown.items)


def test_lists_of_people_start_at_the_street(session: Session, known: Known) -> None:
    commander = make_actor(session, roles=["commander"], scope=known.world.city)
    with pytest.raises(Invalid) as refused:
        service.unreached(
            session, commander, campaign_id=known.campaign.id, region_id=known.world.district_a.id, params=PageParams()
        )
    assert [d.field for d in refused.value.details] == ["region_id"]
    street = service.unreached(
        session, commander, campaign_id=known.campaign.id, region_id=known.world.street.id, params=PageParams()
    )
    assert street.total == 3


def test_overdue_help_oldest_first(session: Session, known: Known) -> None:
    staff = make_actor(session, roles=["community_staff"], scope=known.world.community)
    items = service.overdue_help(session, staff, campaign_id=known.campaign.id)
    assert [(i.address, i.status) for i in items] == [
        ("阳光小区 1栋 1单元 101", "open"),
        ("月亮小区 2栋 1单元 201", "escalated"),
    ]
    grid1 = make_actor(session, roles=["grid_worker"], scope=known.world.grid1)
    assert [i.status for i in service.overdue_help(session, grid1, campaign_id=known.campaign.id)] == ["open"]


@pytest.mark.parametrize("built", [False, True])
def test_the_map_shows_buildings_from_the_community_down_and_parts_above(
    session: Session, known: Known, built: bool
) -> None:
    commander = make_actor(session, roles=["commander"], scope=known.world.city)
    if built:
        store.build(session, known.campaign)
    fc = service.map_features(session, commander, campaign_id=known.campaign.id, region_id=known.world.community.id)
    rates = {f["properties"]["name"]: f["properties"]["report_rate"] for f in fc["features"]}
    assert rates == {"1栋": 100.0, "3栋": 0.0, "2栋": 50.0}
    city = service.map_features(session, commander, campaign_id=known.campaign.id, region_id=known.world.city.id)
    assert [f["properties"]["name"] for f in city["features"]] == ["甲区"]
    assert city["features"][0]["properties"]["report_rate"] == 50.0


@pytest.mark.parametrize("built", [False, True])
def test_the_daily_report_has_a_table_per_level(session: Session, known: Known, built: bool) -> None:
    commander = make_actor(session, roles=["commander"], scope=known.world.city)
    if built:
        store.build(session, known.campaign)
    report = daily.daily_report(session, commander, campaign_id=known.campaign.id, region_id=known.world.street.id)
    assert report.campaign_title == "幸福社区疫情筛查"
    assert [t.level for t in report.levels] == ["community", "grid", "estate", "building"]
    buildings = report.levels[-1].rows
    assert [(r.parent, r.region.name, r.region.figures.reported) for r in buildings] == [
        ("阳光小区", "1栋", 3),
        ("阳光小区", "3栋", 0),
        ("月亮小区", "2栋", 1),
    ]
    assert sum(r.region.figures.residents for r in buildings) == report.region.figures.residents == 8
    grids = report.levels[1].rows
    assert [(g.region.name, g.region.figures.help_overdue) for g in grids] == [("第一网格", 1), ("第二网格", 1)]
    assert [h.status for h in report.overdue] == ["open", "escalated"]


def test_a_level_too_large_to_list_is_left_out(session: Session, known: Known, monkeypatch: pytest.MonkeyPatch) -> None:
    commander = make_actor(session, roles=["commander"], scope=known.world.city)
    monkeypatch.setattr(daily, "MAX_LEVEL_ROWS", 2)
    report = daily.daily_report(session, commander, campaign_id=known.campaign.id, region_id=known.world.community.id)
    assert [(t.level, len(t.rows), t.omitted) for t in report.levels] == [
        ("grid", 2, 0),
        ("estate", 2, 0),
        ("building", 0, 3),
    ]
