"""The address book's groups: one per building and per grid, built idempotently from roles,
areas and residences; members by role; building leads; manual groups and hand-linked
volunteers; masking; scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import AuditRecord
from cityos.core.pagination import PageParams
from cityos.emergency.addressbook import candidates, service
from cityos.emergency.addressbook.models import Group, Member
from cityos.people.models import Residence
from tests.emergency.addressbook_fixtures import Book, address_book  # noqa: F401
from tests.factories import make_account, make_actor, make_person


def _group(session: Session, key: str) -> Group:
    group = session.scalar(select(Group).where(Group.auto_key == key))
    assert group is not None, key
    return group


def _roles(session: Session, group: Group) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in service.members(session, group_id=group.id):
        out.setdefault(m.role, set()).add(m.member_key)
    return out


def test_sync_makes_one_group_per_building_and_grid_and_is_idempotent(session: Session, book: Book) -> None:
    w = book.world
    first = service.sync_groups(session, region=w.community)
    assert (first.groups, first.created) == (4, 4)  # 2 grids, 2 buildings
    kinds = sorted(
        (g.kind, g.name) for g in session.scalars(select(Group).where(Group.region_path.like(w.community.path + "%")))
    )
    assert kinds == [
        ("building", "月亮小区 2栋"),
        ("building", "阳光小区 1栋"),
        ("grid", "第一网格"),
        ("grid", "第二网格"),
    ]
    rows = session.scalar(select(func.count()).select_from(Member))
    again = service.sync_groups(session, region=w.community)
    assert (again.groups, again.created, again.added, again.removed, again.updated) == (4, 0, 0, 0, 0)
    assert session.scalar(select(func.count()).select_from(Member)) == rows
    # The other community has no groups until its own subtree is synced.
    assert session.scalar(select(Group).where(Group.region_id == book.other_building.id)) is None


def test_members_by_role(session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    building = _roles(session, _group(session, f"building:{w.building.id}"))
    assert building["staff"] == {f"a{book.staff.account_id}", f"a{book.street_staff.account_id}"}
    assert building["grid_worker"] == {f"a{book.grid_worker.account_id}"}
    assert building["volunteer"] == {f"a{book.volunteer.account_id}"}  # not the community-wide one
    assert building["resident"] == {f"p{book.person1.id}", f"p{book.person2.id}", f"p{book.no_account.id}"}
    assert "lead" not in building
    rows = service.members(session, group_id=_group(session, f"building:{w.building.id}").id)
    residents = {m.person_id: m.account_id for m in rows if m.role == "resident"}
    assert residents[book.person1.id] == book.resident1.id
    assert residents[book.no_account.id] is None  # listed, but reached only by phone or at the door
    grid = _roles(session, _group(session, f"grid:{w.grid1.id}"))
    assert grid["grid_worker"] == {f"a{book.grid_worker.account_id}"}
    assert grid["volunteer"] == {f"a{book.volunteer.account_id}"}
    assert "resident" not in grid
    other_grid = _roles(session, _group(session, f"grid:{w.grid2.id}"))
    assert other_grid["grid_worker"] == {f"a{book.grid_worker2.account_id}"}
    b2 = _roles(session, _group(session, f"building:{book.building2.id}"))
    assert b2["resident"] == {f"p{book.resident3.person_id}"}
    # Leads first in the listing.
    service.set_lead(session, book.staff, building_id=w.building.id, account_id=book.volunteer.account_id)
    listed = service.members(session, group_id=_group(session, f"building:{w.building.id}").id)
    assert listed[0].role == "lead"


def test_sync_follows_the_data(session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    residence = session.scalar(select(Residence).where(Residence.person_id == book.person2.id))
    assert residence is not None
    residence.until = date(2025, 6, 30)  # moved out
    newcomer = make_person(session, name="新住户", region=w.room2)
    session.add(Residence(person_id=newcomer.id, room_id=w.room2.id, relation="tenant", since=date(2026, 1, 1)))
    account = make_account(session, roles=["resident"], scope=w.room, person_id=book.no_account.id)
    session.flush()
    result = service.sync_groups(session, region=w.community)
    assert (result.added, result.removed, result.updated) == (1, 1, 1)
    rows = {m.member_key: m for m in service.members(session, group_id=_group(session, f"building:{w.building.id}").id)}
    assert f"p{book.person2.id}" not in rows
    assert rows[f"p{newcomer.id}"].account_id is None
    assert rows[f"p{book.no_account.id}"].account_id == account.id


def test_groups_for_a_room_are_its_buildings_and_grids(session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    team = service.create_group(session, book.staff, region_id=w.community.id, name="党员突击队", members=[])
    found = service.groups_for(session, region=w.room)
    assert [g.auto_key for g in found] == [f"building:{w.building.id}", f"grid:{w.grid1.id}", None]
    assert found[-1].id == team.id
    assert [g.kind for g in service.groups_for(session, region=w.building)] == ["building", "grid", "manual"]
    assert service.groups_for(session, region=book.other_building) == []


def test_set_lead(session: Session, book: Book) -> None:
    w = book.world
    assert service.building_lead(session, building=w.building) is None
    lead = service.set_lead(session, book.staff, building_id=w.building.id, account_id=book.volunteer.account_id)
    assert lead is not None
    assert lead.id == book.volunteer.account_id
    assert service.building_lead(session, building=w.building.id).id == book.volunteer.account_id  # type: ignore[union-attr]
    grid = _roles(session, _group(session, f"grid:{w.grid1.id}"))
    assert grid["lead"] == {f"a{book.volunteer.account_id}"}
    # A grid worker of the grid may lead too; the lead is replaced, also in the grid's group.
    service.set_lead(session, book.staff, building_id=w.building.id, account_id=book.grid_worker.account_id)
    assert service.building_lead(session, building=w.building).id == book.grid_worker.account_id  # type: ignore[union-attr]
    assert _roles(session, _group(session, f"grid:{w.grid1.id}"))["lead"] == {f"a{book.grid_worker.account_id}"}
    assert service.set_lead(session, book.staff, building_id=w.building.id, account_id=None) is None
    assert service.building_lead(session, building=w.building) is None
    assert "lead" not in _roles(session, _group(session, f"grid:{w.grid1.id}"))


@pytest.mark.parametrize(
    "who",
    ["resident1", "grid_worker2", "nobody", "other_staff"],
)
def test_set_lead_refuses_bad_accounts(session: Session, book: Book, who: str) -> None:
    w = book.world
    service.set_lead(session, book.staff, building_id=w.building.id, account_id=book.volunteer.account_id)
    account_id = {
        "resident1": book.resident1.id,
        "grid_worker2": book.grid_worker2.account_id,
        "nobody": 987654,
        "other_staff": book.other_staff.account_id,
    }[who]
    with pytest.raises(Invalid) as caught:
        service.set_lead(session, book.staff, building_id=w.building.id, account_id=account_id)
    assert [d.field for d in caught.value.details] == ["account_id"]
    assert service.building_lead(session, building=w.building).id == book.volunteer.account_id  # type: ignore[union-attr]


def test_set_lead_scope_and_permission(session: Session, book: Book) -> None:
    w = book.world
    with pytest.raises(NotFound):
        service.set_lead(session, book.other_staff, building_id=w.building.id, account_id=book.volunteer.account_id)
    with pytest.raises(Forbidden):
        service.set_lead(session, book.grid_worker, building_id=w.building.id, account_id=book.volunteer.account_id)
    with pytest.raises(Invalid) as caught:
        service.set_lead(session, book.staff, building_id=w.unit.id, account_id=book.volunteer.account_id)
    assert [d.field for d in caught.value.details] == ["building_id"]
    assert session.scalar(select(func.count()).select_from(Member)) == 0


def test_manual_groups(session: Session, book: Book) -> None:
    w = book.world
    team = service.create_group(
        session,
        book.staff,
        region_id=w.community.id,
        name="  党员 突击队 ",
        members=[
            {"account_id": book.volunteer.account_id},
            {"account_id": book.grid_worker.account_id, "role": "lead"},
            {"account_id": book.resident1.id},
        ],
    )
    assert team.name == "党员 突击队"
    assert {(m.role, m.account_id) for m in service.members(session, group_id=team.id)} == {
        ("volunteer", book.volunteer.account_id),
        ("lead", book.grid_worker.account_id),
        ("resident", book.resident1.id),
    }
    added = service.add_member(session, book.staff, group_id=team.id, account_id=book.resident2.id, role="volunteer")
    assert added.role == "volunteer"
    with pytest.raises(Invalid) as twice:
        service.add_member(session, book.staff, group_id=team.id, account_id=book.resident2.id, role="volunteer")
    assert [d.field for d in twice.value.details] == ["account_id"]
    service.remove_member(session, book.staff, group_id=team.id, member_id=added.id)
    assert book.resident2.id not in {m.account_id for m in service.members(session, group_id=team.id)}


def test_manual_group_bad_input_writes_nothing(session: Session, book: Book) -> None:
    w = book.world
    service.create_group(session, book.staff, region_id=w.community.id, name="楼栋长群")
    before = session.scalar(select(func.count()).select_from(Group))
    with pytest.raises(Invalid) as caught:
        service.create_group(
            session,
            book.staff,
            region_id=book.other_building.id,
            name="",
            members=[
                {"account_id": book.other_staff.account_id},
                {"account_id": book.volunteer.account_id, "role": "boss"},
            ],
        )
    assert [d.field for d in caught.value.details] == ["region_id", "name", "members.0.account_id", "members.1.role"]
    with pytest.raises(Invalid) as taken:
        service.create_group(session, book.staff, region_id=w.community.id, name="楼栋长群")
    assert [d.field for d in taken.value.details] == ["name"]
    with pytest.raises(Invalid) as long:
        service.create_group(session, book.staff, region_id=w.community.id, name="长" * 65, members="x")
    assert [d.field for d in long.value.details] == ["name", "members"]
    with pytest.raises(Forbidden):
        service.create_group(session, book.observer, region_id=w.community.id, name="观察")
    assert session.scalar(select(func.count()).select_from(Group)) == before


def test_volunteers_linked_by_hand(session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    building = _group(session, f"building:{w.building.id}")
    link = service.add_member(session, book.staff, group_id=building.id, account_id=book.community_volunteer.account_id)
    assert (link.role, link.source, link.building_id) == ("volunteer", "manual", w.building.id)
    grid = _group(session, f"grid:{w.grid1.id}")
    assert f"a{book.community_volunteer.account_id}" in _roles(session, grid)["volunteer"]
    again = service.sync_groups(session, region=w.community)
    assert (again.added, again.removed) == (0, 0)
    with pytest.raises(Invalid) as not_volunteer:
        service.add_member(session, book.staff, group_id=building.id, account_id=book.resident1.id)
    assert [d.field for d in not_volunteer.value.details] == ["account_id"]
    with pytest.raises(Invalid) as wrong_role:
        service.add_member(session, book.staff, group_id=building.id, account_id=book.volunteer.account_id, role="lead")
    assert [d.field for d in wrong_role.value.details] == ["role"]
    automatic = next(m for m in service.members(session, group_id=building.id) if m.role == "resident")
    with pytest.raises(Conflict):
        service.remove_member(session, book.staff, group_id=building.id, member_id=automatic.id)
    service.remove_member(session, book.staff, group_id=building.id, member_id=link.id)
    assert f"a{book.community_volunteer.account_id}" not in _roles(session, building).get("volunteer", set())
    assert f"a{book.community_volunteer.account_id}" not in _roles(session, grid)["volunteer"]


def test_members_are_masked_unless_pii_read(session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    building = _group(session, f"building:{w.building.id}")
    page = candidates.member_page(session, book.staff, group_id=building.id, role="resident", params=PageParams())
    assert page.unmasked is False
    shown = {v.person_id: v for v in page.items}
    assert shown[book.person1.id].name == "王**"
    assert shown[book.person1.id].phone == "139****0001"
    assert shown[book.person1.id].place == "1栋 1单元 101"
    staff_rows = candidates.member_page(session, book.staff, group_id=building.id, role="staff", params=PageParams())
    assert {v.name for v in staff_rows.items} == {"周社工", "街道社工"}  # staff are named, phones masked
    assert "139****0009" in {v.phone for v in staff_rows.items}
    pii_reads = select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "pii.read")
    audits = session.scalar(pii_reads)
    admin = make_actor(session, roles=["admin"], scope=w.city)
    clear = candidates.member_page(session, admin, group_id=building.id, role="resident", params=PageParams())
    assert clear.unmasked is True
    assert {v.name for v in clear.items} == {"王秀英", "李建国", "王小明"}
    assert "13900000001" in {v.phone for v in clear.items}
    assert session.scalar(pii_reads) == audits + 1  # type: ignore[operator]
    with pytest.raises(Invalid):
        candidates.member_page(session, book.staff, group_id=building.id, role="boss", params=PageParams())


def test_scope_of_reading(session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    building = _group(session, f"building:{w.building.id}")
    assert service.get_group(session, book.volunteer, building.id).id == building.id  # campaign:task
    assert service.get_group(session, book.observer, building.id).id == building.id  # campaign:read
    with pytest.raises(NotFound):
        service.get_group(session, book.other_staff, building.id)
    with pytest.raises(NotFound):
        service.get_group(session, book.grid_worker2, building.id)
    resident = make_actor(session, roles=["resident"], scope=w.building)
    with pytest.raises(Forbidden):
        service.get_group(session, resident, building.id)
    page = service.list_groups(session, book.grid_worker, region_id=w.grid1.id, params=PageParams())
    assert {g.auto_key for g in page.items} == {f"grid:{w.grid1.id}", f"building:{w.building.id}"}
    assert page.counts[building.id]["resident"] == 3
    volunteer_view = service.list_groups(session, book.volunteer, region_id=w.building.id, params=PageParams())
    assert [g.auto_key for g in volunteer_view.items] == [f"building:{w.building.id}"]  # not the grid's
    with pytest.raises(NotFound):
        service.list_groups(session, book.other_staff, region_id=w.community.id, params=PageParams())
