"""Permission-matrix entries of emergency.addressbook (see tests/matrix_parts/base.py).

Inside grid 1: a manual group with one hand-added volunteer, a broadcast to the grid sent by the
community's staff (no matrix account is among its recipients), and a volunteer scoped to the grid
who may lead 1栋. Outside: the same in grid 2 (月亮小区 2栋).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.identity.permissions import Role
from cityos.places.models import Region
from tests.factories import World, make_account, make_actor
from tests.matrix_parts.base import Case


def _reads(perms: frozenset[str], role: str) -> bool:
    return "campaign:read" in perms or "campaign:task" in perms


CASES: tuple[Case, ...] = (
    Case(
        "GET",
        "/api/v1/address-groups",
        _reads,
        query=lambda i: {"region_id": i["grid"]},
        list_key="items",
        kind="address_group",
    ),
    Case(
        "POST",
        "/api/v1/address-groups",
        "campaign:manage",
        body=lambda i: {"region_id": i["grid"], "name": "矩阵新群", "members": [{"account_id": i["member_account"]}]},
    ),
    Case("POST", "/api/v1/address-groups/sync", "campaign:manage", body=lambda i: {"region_id": i["grid"]}),
    Case("GET", "/api/v1/address-groups/{address_group_id}/members", _reads),
    Case(
        "POST",
        "/api/v1/address-groups/{address_group_id}/members",
        "campaign:manage",
        body=lambda i: {"account_id": i["member_account"]},
    ),
    Case("DELETE", "/api/v1/address-groups/{address_group_id}/members/{address_member_id}", "campaign:manage"),
    Case(
        "PUT",
        "/api/v1/buildings/{building_id}/lead",
        "campaign:manage",
        body=lambda i: {"account_id": i["lead_account"]},
    ),
    Case(
        "POST",
        "/api/v1/broadcasts",
        "broadcast:send",
        body=lambda i: {"target_region_id": i["grid"], "title": "矩阵通知", "body": "矩阵"},
    ),
    # One's own received broadcasts (apps have no account, so none).
    Case(
        "GET",
        "/api/v1/broadcasts",
        lambda perms, role: True,
        list_key="items",
        kind="broadcast",
        outside=False,
    ),
    # Not a recipient: only staff reading campaigns over the grid see it (with its receipts).
    Case("GET", "/api/v1/broadcasts/{broadcast_id}", "campaign:read"),
    Case("GET", "/api/v1/broadcasts/{broadcast_id}/unread", "campaign:read"),
)
PATH_PARAMS: dict[str, str] = {
    "address_group_id": "address_group",
    "address_member_id": "address_member",
    "building_id": "building",
    "broadcast_id": "broadcast",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A manual group with a volunteer, a broadcast and a would-be lead in each of grid 1 and grid 2."""
    from cityos.emergency.addressbook import broadcasts, service

    building2 = session.get(Region, session.get(Region, world.other_room.parent_id).parent_id)  # type: ignore[union-attr]
    assert building2 is not None
    staff = make_actor(session, roles=[Role.COMMUNITY_STAFF], scope=world.community)
    for side, grid, building in ((inside, world.grid1, world.building), (outside, world.grid2, building2)):
        volunteer = make_account(session, roles=[Role.VOLUNTEER], scope=grid)
        lead = make_account(session, roles=[Role.VOLUNTEER], scope=grid)
        other = make_account(session, roles=[Role.VOLUNTEER], scope=grid)
        group = service.create_group(
            session, staff, region_id=grid.id, name="矩阵通讯群", members=[{"account_id": volunteer.id}]
        )
        member = service.members(session, group_id=group.id)[0]
        sent = broadcasts.send(session, staff, target_region_id=grid.id, title="矩阵", body="矩阵")
        side.update(
            address_group=group.id,
            address_member=member.id,
            broadcast=sent.id,
            lead_account=lead.id,
            member_account=other.id,
        )
        side.setdefault("building", building.id)
    # The grid's groups exist too (listed by GET /address-groups).
    service.sync_groups(session, region=world.community)
