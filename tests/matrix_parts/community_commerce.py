"""Permission-matrix entries of community.commerce (see tests/matrix_parts/base.py).

The "inside" records are an offer of the grid-1 merchant organisation at room 101's building and
an order of it by the grid-1 resident (not the matrix's own resident); the "outside" ones the
same in grid 2. The matrix's merchant account belongs to no shop, so it may not publish (422)
and sees no shop's orders; offers are public listings (no outside variant); an order is seen
by its resident, its shop and the operators of its area, and its steps belong to the resident
and the shop only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World, make_actor
from tests.matrix_parts.base import Case


def _buys_or_sells(perms: frozenset[str], role: str) -> bool:
    return "commerce:order" in perms or "commerce:sell" in perms


def _operator(perms: frozenset[str], role: str) -> bool:
    return role == "admin"


def _nobody(perms: frozenset[str], role: str) -> bool:
    return False


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/shop/categories", _buys_or_sells, outside=False),
    Case(
        "GET",
        "/api/v1/shop/offers",
        _buys_or_sells,
        query=lambda i: {"lon": i["lon"], "lat": 30.05},
        list_key="",
        kind="shop_offer",
        outside=False,
    ),
    Case("GET", "/api/v1/shop/offers/{shop_offer_id}", _buys_or_sells, outside=False),
    # The matrix's merchant has no shop (422); an operator publishes for a shop of its area.
    Case(
        "POST",
        "/api/v1/shop/offers",
        "commerce:sell",
        body=lambda i: {"organisation_id": i["organisation"], "category": "repair", "title": "矩阵维修"},
        allowed_status=(422,),
    ),
    Case("PATCH", "/api/v1/shop/offers/{shop_offer_id}", _operator, body=lambda i: {"title": "矩阵改名"}),
    Case("GET", "/api/v1/shop/my-offers", "commerce:sell", list_key="", kind="shop_offer", outside=False),
    # A resident orders from any shop that reaches them; an admin has no resident record (422).
    Case(
        "POST",
        "/api/v1/shop/offers/{shop_offer_id}/orders",
        "commerce:order",
        body=lambda i: {"address": "矩阵小区1栋1单元102"},
        outside=False,
        allowed_status=(422,),
    ),
    Case("GET", "/api/v1/shop/orders", _buys_or_sells, list_key="items", kind="shop_order", outside=False),
    Case("GET", "/api/v1/shop/orders/{shop_order_id}", _operator),
    Case("POST", "/api/v1/shop/orders/{shop_order_id}/steps/{step}", _nobody, body=lambda i: {}),
    Case("POST", "/api/v1/shop/orders/{shop_order_id}/rating", _nobody, body=lambda i: {"level": 5}),
)
PATH_PARAMS: dict[str, str] = {"shop_offer_id": "shop_offer", "shop_order_id": "shop_order", "step": "shop_step"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """An offer of each side's merchant organisation at its resident's building, and an order of
    it by that resident."""
    from cityos.community.commerce import orders, service
    from cityos.people.models import Organisation, Person

    for side, grid, room in ((inside, world.grid1, world.room), (outside, world.grid2, world.other_room)):
        org = session.get(Organisation, side["organisation"])
        person = session.get(Person, side["person"])
        assert org is not None
        assert person is not None
        merchant = make_actor(session, roles=["merchant"], scope=grid, organisation_id=org.id)
        point = service.point_of(session, room)
        assert point is not None
        offer = service.create_offer(
            session, merchant, category="repair", title="矩阵上门维修", lon=point[0], lat=point[1], radius_m=1000
        )
        resident = make_actor(session, roles=["resident"], scope=room, person_id=person.id)
        order = orders.place_order(session, resident, offer_id=offer.id)
        side.update(shop_offer=offer.id, shop_order=order.id, shop_step="accept")
