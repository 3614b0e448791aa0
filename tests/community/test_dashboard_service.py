"""一屏观社区 figures on a known community: age bands, groups, relations, buildings, cases, devices;
scope; masking and audit on the building drill-down; a failing part empties only its own panel."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cityos.community.dashboard import figures, service, situation
from cityos.core.errors import Forbidden, NotFound
from cityos.core.models import AuditRecord
from cityos.people.service import age_on
from tests.community.dashboard_fixtures import NOW, RESIDENTS, TODAY, Community, community_world  # noqa: F401
from tests.factories import make_actor


def _staff(session: Session, c: Community, **kwargs: object):  # type: ignore[no-untyped-def]
    return make_actor(session, roles=["community_staff"], scope=c.world.community, **kwargs)


def test_people_figures_match_a_hand_count(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    dash = service.dashboard(session, staff, today=TODAY, now=NOW)
    people = dash.people
    assert people is not None
    assert people.residents == 6  # the moved-out tenant lives in the street, not the community
    assert people.households == 3
    assert (people.owners, people.tenants, people.family, people.collective) == (2, 3, 1, 0)
    pyramid = people.pyramid
    assert pyramid.bands[0] == "0-4"
    assert pyramid.bands[-1] == "100+"
    assert len(pyramid.bands) == 21
    expected_male = [0] * 21
    expected_female = [0] * 21
    expected_other = [0] * 21
    for _name, gender, birth, _tags, _room, _rel in RESIDENTS:
        if birth is None:
            continue
        band = min(age_on(birth, TODAY) // 5, 20)
        {"male": expected_male, "female": expected_female}.get(gender, expected_other)[band] += 1
    assert pyramid.male == expected_male
    assert pyramid.female == expected_female
    assert pyramid.unknown_gender == expected_other
    assert pyramid.no_birth_date == 1
    # Exact on the birthday: 张三 turns 36 today (35-39), 李四 is 35 until tomorrow (35-39 too);
    # 赵六 is 4 (0-4) and 钱七 turned 100 this year (100+).
    assert pyramid.male[7] == 1
    assert pyramid.female[7] == 1
    assert pyramid.female[0] == 1
    assert pyramid.female[20] == 1
    assert people.elderly == 2
    assert people.elderly_share == 40.0  # 2 of the 5 residents with a birth date
    groups = {g.tag: g.count for g in people.groups}
    assert groups["elderly"] == 2
    assert groups["living_alone"] == 1
    assert groups["disabled"] == 1
    assert groups["key_group"] == 1
    assert groups["veteran"] == 0
    assert all(g.label for g in people.groups)


def test_a_grid_counts_only_its_own_people(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    dash = service.dashboard(session, staff, region_id=cw.world.grid1.id, today=TODAY, now=NOW)
    assert dash.people is not None
    assert dash.people.residents == 3
    assert dash.people.tenants == 0
    assert dash.region.level == "grid"
    assert [r.level for r in dash.lineage] == ["community", "grid"]  # from the staff's scope down


def test_buildings_for_the_3d_map(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    places = service.dashboard(session, staff, today=TODAY, now=NOW).places
    assert places is not None
    assert (places.estates, places.buildings, places.units, places.rooms) == (2, 3, 3, 4)
    assert places.occupied_rooms == 3
    assert places.occupancy == 75.0
    assert not places.truncated
    features = {f["properties"]["name"]: f for f in places.geojson["features"]}
    assert set(features) == {"1栋", "2栋", "3栋"}
    one = features["1栋"]
    assert one["geometry"]["type"] == "Polygon"
    assert one["properties"]["floors"] == 6
    assert one["properties"]["height"] == 18.0
    assert one["properties"]["rooms"] == 2
    assert one["properties"]["occupied"] == 2
    assert one["properties"]["occupancy"] == 1.0
    assert one["properties"]["residents"] == 3
    assert one["properties"]["open_cases"] == 1
    assert one["properties"]["estate"] == "阳光小区"
    three = features["3栋"]["properties"]
    assert (three["floors"], three["height"], three["rooms"]) == (3, 9.0, 1)
    assert (three["occupied"], three["residents"]) == (0, 0)
    assert features["2栋"]["properties"]["floors"] == 1  # no floor count recorded: one floor
    assert places.bounds is not None
    west, south, east, north = places.bounds
    assert west == pytest.approx(104.012)
    assert east == pytest.approx(104.063)
    assert south == pytest.approx(30.012)
    assert north == pytest.approx(30.0125)


def test_too_many_buildings_ask_for_a_smaller_area(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    places = service.dashboard(session, staff, today=TODAY, now=NOW, max_buildings=2).places
    assert places is not None
    assert places.truncated
    assert places.geojson["features"] == []
    assert places.buildings == 3
    assert places.occupied_rooms == 3


def test_cases_open_overdue_by_category(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    cases = service.dashboard(session, staff, region_id=cw.world.grid1.id, today=TODAY, now=NOW).cases
    assert cases is not None
    assert cases.open == 2  # the closed one and grid 2's are not counted
    assert cases.overdue == 1
    by = {c.code: (c.name, c.open, c.overdue) for c in cases.by_category}
    assert by == {"event.01": ("市容环境", 1, 1), "repair.01": ("公共部位", 1, 0)}
    assert [c.id for c in cases.overdue_cases] == [cw.case_ids["late"]]
    assert cases.reported == 3
    whole = service.dashboard(session, staff, today=TODAY, now=NOW).cases
    assert whole is not None
    assert whole.open == 3


def test_device_states(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    things = service.dashboard(session, staff, region_id=cw.world.grid1.id, today=TODAY, now=NOW).things
    assert things is not None
    assert things.total == 4
    assert things.by_status == {"online": 1, "offline": 1, "fault": 1, "alarm": 1}
    kinds = {k.kind: (k.total, k.by_status) for k in things.kinds}
    assert kinds == {"gate": (2, {"online": 1, "offline": 1}), "bin": (1, {"alarm": 1}), "elevator": (1, {"fault": 1})}
    assert {d.code for d in things.attention} == {"bin-1", "lift-1"}
    assert things.status_labels["fault"]


def test_scope_and_permission(session: Session, cw: Community) -> None:
    w = cw.world
    other = make_actor(session, roles=["community_staff"], scope=w.grid2)
    with pytest.raises(NotFound):
        service.dashboard(session, other, region_id=w.grid1.id, today=TODAY, now=NOW)
    with pytest.raises(NotFound):
        service.building(session, other, building_id=w.building.id)
    with pytest.raises(NotFound):
        service.dashboard(session, other, region_id=999_999, today=TODAY, now=NOW)
    resident = make_actor(session, roles=["resident"], scope=w.estate)
    with pytest.raises(Forbidden):
        service.dashboard(session, resident, today=TODAY, now=NOW)
    with pytest.raises(Forbidden):
        service.building(session, resident, building_id=w.building.id)
    with pytest.raises(NotFound):  # a room is not a building
        service.building(session, _staff(session, cw), building_id=w.room.id)
    observer = make_actor(session, roles=["street_observer"], scope=w.street)
    dash = service.dashboard(session, observer, region_id=w.community.id, today=TODAY, now=NOW)
    assert dash.people is not None
    assert dash.people.residents == 6


def test_drill_down_masks_names_and_is_audited(session: Session, cw: Community) -> None:
    staff = _staff(session, cw)
    view = service.building(session, staff, building_id=cw.world.building.id, today=TODAY, now=NOW)
    assert view.names_shown
    assert (view.floors, view.height, view.rooms, view.occupied_rooms, view.residents) == (6, 18.0, 2, 2, 3)
    assert [u.name for u in view.units] == ["1单元"]
    rooms = {r.name: r for r in view.units[0].rooms}
    assert [r.name for r in view.units[0].rooms] == ["101", "102"]
    assert rooms["101"].residents_count == 2
    names = {p.name: (p.relation, p.tags) for p in rooms["101"].residents}
    assert names == {"张*": ("owner", []), "李*": ("family", [])}  # 周九 moved out
    assert rooms["102"].residents[0].name == "王*"
    assert rooms["102"].residents[0].tags == ["elderly", "living_alone"]
    assert rooms["102"].residents[0].person_id == cw.persons["王五"].id
    assert view.open_cases == 1
    assert [c.title for c in view.cases] == ["电梯故障"]
    record = session.scalars(select(AuditRecord).where(AuditRecord.action == "community.building.read")).one()
    assert record.subject_id == str(cw.world.building.id)
    assert record.account_id == staff.account_id
    assert record.fields == "name,relation,tags"
    # No full name anywhere in the view.
    assert "张三" not in repr(view)
    assert "王五" not in repr(view)


def test_observer_drill_down_has_counts_only(session: Session, cw: Community) -> None:
    observer = make_actor(session, roles=["street_observer"], scope=cw.world.street)
    view = service.building(session, observer, building_id=cw.world.building.id, today=TODAY, now=NOW)
    assert not view.names_shown
    assert all(not r.residents for u in view.units for r in u.rooms)
    assert [r.residents_count for r in view.units[0].rooms] == [2, 1]
    record = session.scalars(select(AuditRecord).where(AuditRecord.action == "community.building.read")).one()
    assert record.fields is None


def test_mask_name() -> None:
    assert service.mask_name("张三") == "张*"
    assert service.mask_name("欧阳娜娜") == "欧***"
    assert service.mask_name(" 王 ") == "*"
    assert service.mask_name("") == ""


def test_a_failing_part_empties_only_its_panel(
    session: Session, cw: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, *, region: object) -> dict[str, int]:
        session.execute(text("SELECT no_such_column FROM region"))  # aborts a PostgreSQL transaction
        raise AssertionError("unreachable")

    def good(session: Session, *, region: object) -> dict[str, object]:
        return {"passes_active": 3, "bill_collection_rate": 0.725, "devices": {"online": 2}, "note": "text"}

    stats = {"access": broken, "property": good}
    monkeypatch.setattr(situation, "_stats_of", lambda part: stats.get(part))
    staff = _staff(session, cw)
    dash = service.dashboard(session, staff, today=TODAY, now=NOW)
    parts = {p.part: p for p in dash.situation}
    assert not parts["access"].ok
    assert parts["access"].error
    assert parts["property"].ok
    shown = {f.key: (f.value, f.unit) for f in parts["property"].figures}
    assert shown == {"passes_active": (3, ""), "bill_collection_rate": (72.5, "%"), "devices.online": (2, "")}
    assert not parts["commerce"].ok  # not written: says so
    assert dash.people is not None  # the other panels are whole
    assert dash.places is not None
    assert session.scalar(select(func.count()).select_from(AuditRecord)) is not None  # the transaction lives on


def test_a_failing_panel_leaves_the_others(session: Session, cw: Community, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(figures, "things", broken)
    staff = _staff(session, cw)
    dash = service.dashboard(session, staff, today=TODAY, now=NOW)
    assert dash.things is None
    assert "things" in dash.errors
    assert dash.people is not None
    assert dash.cases is not None
