"""Permission-matrix entries of community.access (see tests/matrix_parts/base.py).

Each side's estate (阳光小区 in grid 1, 月亮小区 in grid 2) gets a gate, its owner's entry pass,
a visitor pass and a goods slip of that owner, one access event and a blocked room. The matrix's
own resident has no residence (the matrix gives it none), so asking for a pass, a visitor pass
or a slip is answered 422 "ask the property office" — that is its answer; only a pass's holder
(or a visit's host) reads its token or cancels it, and nobody in the matrix is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import World, make_actor
from tests.matrix_parts.base import Case


def _nobody(perms: frozenset[str], role: str) -> bool:
    return False


CASES: tuple[Case, ...] = (
    # The resident's own passes, visitors and slips.
    Case("GET", "/api/v1/passes", "pass:request", list_key="", kind="entry_pass", outside=False),
    Case(
        "POST",
        "/api/v1/passes",
        "pass:request",
        body=lambda i: {"estate_id": i["estate"]},
        outside=False,
        allowed_status=(422,),
    ),
    # The join page's data: the estate's name (printed at its gates) and the caller's own rooms
    # there. A residence, not the account's area, is what counts, so there is no "outside".
    Case("GET", "/api/v1/estates/{estate_id}/join", "pass:request", outside=False),
    Case("GET", "/api/v1/passes/{pass_id}/token", _nobody),
    Case("POST", "/api/v1/passes/{pass_id}/cancel", _nobody),
    Case("GET", "/api/v1/visitor-passes", "pass:request", list_key="", kind="visitor_pass", outside=False),
    Case(
        "POST",
        "/api/v1/visitor-passes",
        "pass:request",
        body=lambda i: {"room_id": i["room2"], "name": "矩阵访客", "phone": "13900000009"},
        outside=False,
        allowed_status=(422,),
    ),
    Case("POST", "/api/v1/visitor-passes/{pass_id}/cancel", _nobody),
    Case("GET", "/api/v1/goods-slips", "pass:request", list_key="", kind="goods_slip", outside=False),
    Case(
        "POST",
        "/api/v1/goods-slips",
        "pass:request",
        body=lambda i: {"room_id": i["room2"], "description": "矩阵物品"},
        outside=False,
        allowed_status=(422,),
    ),
    Case("POST", "/api/v1/goods-slips/{slip_id}/cancel", _nobody),
    # The property office.
    Case("POST", "/api/v1/passes/{pass_id}/revoke", "pass:manage", body=lambda i: {"reason": "矩阵撤销"}),
    Case("GET", "/api/v1/estates/{estate_id}/passes", "access:read", list_key="items", kind="entry_pass"),
    Case("GET", "/api/v1/estates/{estate_id}/access-rules", "access:read"),
    Case("PATCH", "/api/v1/estates/{estate_id}/access-rules", "pass:manage", body=lambda i: {"validity_days": 14}),
    Case("GET", "/api/v1/estates/{estate_id}/blocked-rooms", "access:read"),
    Case(
        "POST",
        "/api/v1/estates/{estate_id}/blocked-rooms",
        "pass:manage",
        body=lambda i: {"room_id": i["room2"], "reason": "矩阵封控"},
    ),
    Case("DELETE", "/api/v1/estates/{estate_id}/blocked-rooms/{blocked_room_id}", "pass:manage"),
    Case("GET", "/api/v1/estates/{estate_id}/gates", "access:read"),
    Case("POST", "/api/v1/estates/{estate_id}/gates", "pass:manage", body=lambda i: {"name": "矩阵门"}),
    Case("GET", "/api/v1/estates/{estate_id}/access-events", "access:read", list_key="items", kind="access_event"),
    Case("GET", "/api/v1/estates/{estate_id}/goods-slips", "access:read", list_key="items", kind="goods_slip"),
    Case(
        "POST",
        "/api/v1/estates/{estate_id}/goods-slips/check",
        "pass:manage",
        body=lambda i: {"code": i["goods_slip_code"]},
    ),
    Case("GET", "/api/v1/estates/{estate_id}/access-stats", "access:read"),
)
PATH_PARAMS: dict[str, str] = {
    "estate_id": "estate",
    "pass_id": "entry_pass",
    "slip_id": "goods_slip",
    "blocked_room_id": "blocked_room",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Creates this module's records inside grid 1 and outside it and adds their ids."""
    from cityos.community.access import gates, goods, service, visitors
    from cityos.core.actor import SYSTEM
    from cityos.places.models import Region

    for side, room_id in ((inside, world.room.id), (outside, world.other_room.id)):
        room = session.get(Region, room_id)
        assert room is not None
        ids = [int(p) for p in room.path.strip("/").split("/") if p]
        estate = session.scalar(select(Region).where(Region.id.in_(ids), Region.level == "estate"))
        assert estate is not None
        owner = make_actor(session, roles=["resident"], scope=world.city, person_id=side["person"])
        gate = gates.register_gate(session, SYSTEM, estate_id=estate.id, name="矩阵东门")
        entry_pass = service.issue_pass(session, owner, estate_id=estate.id, room_id=room.id)
        visitor = visitors.invite(
            session,
            owner,
            room_id=room.id,
            name="矩阵访客",
            phone="13900000008",
            valid_from=None,
            valid_until=None,
            max_entries=None,
        ).entry_pass
        slip = goods.register(
            session, owner, room_id=room.id, description="矩阵物品", valid_from=None, valid_until=None
        )
        token = service.sign_token(session, entry_pass).token
        decision = gates.verify(session, gates.Gate(gate.device, estate), token=token, direction="in")
        service.block_room(session, SYSTEM, estate_id=estate.id, room_id=room.id, reason="矩阵")
        side.setdefault("estate", estate.id)
        side.update(
            entry_pass=entry_pass.id,
            visitor_pass=visitor.id,
            goods_slip=slip.id,
            goods_slip_code=slip.code,
            access_event=decision.event.id,
            blocked_room=room.id,
        )
