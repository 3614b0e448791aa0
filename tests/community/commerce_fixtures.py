"""Builders for the neighbourhood-commerce tests: the test world with two merchants and an
enterprise in grid 1, residents of room 101 and 201, and offers placed at a given distance
from the resident's home (the building's centre point)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cityos.community.commerce import service
from cityos.community.commerce.models import Offer
from cityos.core.actor import Actor
from cityos.identity.models import Account
from cityos.people.models import Organisation, Residence
from cityos.people.validation import org_code_check_char, uscc_check_char
from cityos.places import index
from tests.factories import World, make_account, make_person, make_world

METRES_PER_DEGREE = service.EARTH_RADIUS_M * math.pi / 180


def uscc(n: int) -> str:
    org = f"MA7C{n:04d}"
    body = f"91510104{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


@dataclass
class Shops:
    world: World
    shop_a: Organisation
    shop_b: Organisation
    enterprise: Organisation
    merchant_a: Account
    merchant_b: Account
    resident: Account  # owner of room 101, phone 13900001111
    neighbour: Account  # tenant of room 102, no phone on record
    far_resident: Account  # room 201 in grid 2 (about 5 km east)
    admin: Account
    home: tuple[float, float]  # room 101's point (the building's centre)


def actor(session: Session, account: Account) -> Actor:
    from cityos.identity.deps import actor_for_account

    return actor_for_account(session, account)


def _org(session: Session, world: World, n: int, name: str, kind: str) -> Organisation:
    org = Organisation(
        uscc=uscc(n), name=name, kind=kind, region_id=world.grid1.id, region_path=world.grid1.path, address="一街道1号"
    )
    session.add(org)
    session.flush()
    return org


def _resident(session: Session, world: World, room, name: str, relation: str, phone: str | None) -> Account:  # type: ignore[no-untyped-def]
    person = make_person(session, name=name, region=room, phone=phone)
    session.add(Residence(person_id=person.id, room_id=room.id, relation=relation, since=date(2020, 1, 1)))
    session.flush()
    return make_account(session, roles=["resident"], scope=room, person_id=person.id)


def make_shops(session: Session) -> Shops:
    world = make_world(session)
    index.rebuild_cells(session)
    shop_a = _org(session, world, 1, "阳光家政服务部", "merchant")
    shop_b = _org(session, world, 2, "老王维修店", "merchant")
    enterprise = _org(session, world, 3, "成都某某科技有限公司", "enterprise")
    home = service.point_of(session, world.room)
    assert home is not None
    return Shops(
        world=world,
        shop_a=shop_a,
        shop_b=shop_b,
        enterprise=enterprise,
        merchant_a=make_account(session, roles=["merchant"], scope=world.grid1, organisation_id=shop_a.id),
        merchant_b=make_account(session, roles=["merchant"], scope=world.grid1, organisation_id=shop_b.id),
        resident=_resident(session, world, world.room, "王秀英", "owner", "13900001111"),
        neighbour=_resident(session, world, world.room2, "李四", "tenant", None),
        far_resident=_resident(session, world, world.other_room, "赵六", "owner", "13900003333"),
        admin=make_account(session, roles=["admin"], scope=world.city),
        home=home,
    )


def point_from(origin: tuple[float, float], *, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    lon, lat = origin
    dlat = north_m / METRES_PER_DEGREE
    dlon = east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def offer_at(
    session: Session,
    shops: Shops,
    *,
    north_m: float = 0.0,
    east_m: float = 0.0,
    shop: str = "a",
    radius_m: int = 3000,
    category: str = "repair",
    title: str = "上门维修",
    price_fen: int | None = 8000,
    opening_hours: str = "",
) -> Offer:
    """An offer of shop a or b placed ``north_m``/``east_m`` from room 101's point."""
    lon, lat = point_from(shops.home, north_m=north_m, east_m=east_m)
    merchant = shops.merchant_a if shop == "a" else shops.merchant_b
    return service.create_offer(
        session,
        actor(session, merchant),
        category=category,
        title=title,
        price_fen=price_fen,
        unit="次",
        radius_m=radius_m,
        lon=lon,
        lat=lat,
        opening_hours=opening_hours,
    )
