"""Demo records of 邻里商业 for one estate of the demo city: the merchants of its community (some
added when there are few) with realistic offers placed within a few kilometres of the estate,
and orders by its residents in every state (waiting, accepted, in service, done and rated,
declined, cancelled). Guarded: a community whose merchants already offer something is left as
it is."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.commerce import orders, service
from cityos.community.commerce.models import Offer, Order
from cityos.core.actor import SYSTEM, Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import DomainError
from cityos.people.models import Organisation, OrganisationKind, Person, Residence
from cityos.people.validation import org_code_check_char, uscc_check_char
from cityos.places.models import Region

MERCHANTS = 6
ORDERS = 8


@dataclass(frozen=True)
class Template:
    category: str
    title: str
    price_fen: int | None
    unit: str
    hours: str
    description: str


TEMPLATES: dict[str, tuple[Template, ...]] = {
    "housekeeping": (
        Template("housekeeping", "日常保洁（2小时）", 9900, "次", "08:00-20:00", "两小时上门保洁，自带工具和清洁剂。"),
        Template("housekeeping", "空调清洗", 12000, "台", "08:00-20:00", "挂机拆洗，柜机另议。"),
    ),
    "repair": (
        Template("repair", "水电维修上门", 5000, "次", "08:00-21:00", "上门费，材料按实结算。"),
        Template("repair", "管道疏通", 8000, "次", "08:00-21:00", "厨房、卫生间下水道疏通。"),
        Template("repair", "门窗维修", None, "次", "08:00-18:00", "合页、滑轮、密封条更换，看过再报价。"),
    ),
    "electronics": (
        Template("electronics", "手机换屏", 19900, "次", "09:00-21:00", "常见机型当天取。"),
        Template("electronics", "电脑清灰装系统", 6000, "次", "09:00-21:00", "台式机、笔记本均可。"),
    ),
    "fresh": (
        Template("fresh", "当日蔬菜套餐", 2990, "份", "07:00-20:00", "五种时令蔬菜，下午五点前下单当天送到。"),
        Template("fresh", "鲜肉鲜鱼配送", None, "单", "07:00-19:00", "按斤称重，到货后按实价收费。"),
    ),
    "laundry": (
        Template("laundry", "衣物干洗", 1500, "件", "08:30-20:30", "上门取送，三天内送回。"),
        Template("laundry", "被褥清洗", 4000, "床", "08:30-20:30", "除螨烘干。"),
    ),
    "locksmith": (Template("locksmith", "开锁换锁芯", 8000, "次", "00:00-24:00", "公安备案，开锁需出示身份证。"),),
    "elderly_meals": (
        Template("elderly_meals", "长者午餐", 1200, "份", "10:30-13:00", "两荤一素一汤，60岁以上居民。"),
        Template("elderly_meals", "长者晚餐送餐上门", 1500, "份", "16:30-18:30", "行动不便的老人可送餐上门。"),
    ),
    "moving": (Template("moving", "小区内搬家", None, "次", "08:00-18:00", "小件搬运、家具拆装，看过再报价。"),),
}
SHOPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("邻家便民家政", ("housekeeping",)),
    ("老李水电维修", ("repair", "locksmith")),
    ("速修3C快修", ("electronics",)),
    ("鲜丰生鲜", ("fresh",)),
    ("洁净洗衣", ("laundry",)),
    ("幸福长者食堂", ("elderly_meals",)),
    ("顺达搬家", ("moving",)),
)
NOTES = ("下午在家", "请先电话联系", "家里有老人，请轻声", "小区东门进", "")
REASONS = ("师傅今天都排满了，明天可以吗？", "这个型号暂时没有配件。")
CANCEL_NOTES = ("家里人已经修好了", "临时出门，改天再约")
PLAYS: dict[str, tuple[str, ...]] = {
    "placed": (),
    "accepted": ("accept",),
    "in_service": ("accept", "start"),
    "done": ("accept", "start", "done"),
}


def _merchant(organisation_id: int) -> Actor:
    return Actor(
        account_id=None,
        label=f"demo-merchant:{organisation_id}",
        roles=frozenset({"merchant"}),
        permissions=frozenset({"commerce:sell"}),
        organisation_id=organisation_id,
    )


def _resident(person_id: int) -> Actor:
    return Actor(
        account_id=None,
        label=f"demo-resident:{person_id}",
        roles=frozenset({"resident"}),
        permissions=frozenset({"commerce:order"}),
        person_id=person_id,
    )


def _uscc(session: Session, rng: random.Random, area: str) -> str:
    while True:
        org = f"{rng.randrange(10**8):08d}"
        body = f"92{area}{org}{org_code_check_char(org)}"
        code = body + uscc_check_char(body)
        if session.scalar(select(Organisation.id).where(Organisation.uscc == code)) is None:
            return code


def _shops(session: Session, estate: Region, community: Region, rng: random.Random) -> list[Organisation]:
    """The community's merchants (those of the estate's grid first), topped up to ``MERCHANTS``."""
    found = list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.MERCHANT, subtree_clause(Organisation.region_path, community.path)
            )
            .order_by(Organisation.id)
            .limit(50)
        )
    )
    grid = (session.get(Region, estate.parent_id) if estate.parent_id else None) or community
    found.sort(key=lambda o: (not o.region_path.startswith(grid.path), o.id))
    shops = found[:MERCHANTS]
    area = (community.code + "000000")[:6] if community.code[:6].isdigit() else "510104"
    for name, _ in SHOPS[len(shops) : MERCHANTS]:
        org = Organisation(
            uscc=_uscc(session, rng, area),
            name=f"{name}（{estate.name}店）",
            kind=OrganisationKind.MERCHANT,
            region_id=grid.id,
            region_path=grid.path,
            address=f"{estate.name}底商",
        )
        session.add(org)
        shops.append(org)
    session.flush()
    return shops


def seed(session: Session, *, estate: Region, community: Region, rng: random.Random) -> None:
    """Merchants, offers and orders in every state around ``estate``."""
    origin = service.point_of(session, estate)
    if origin is None:
        return
    merchant_ids = select(Organisation.id).where(
        Organisation.kind == OrganisationKind.MERCHANT, subtree_clause(Organisation.region_path, community.path)
    )
    if session.scalar(select(Offer.id).where(Offer.organisation_id.in_(merchant_ids)).limit(1)) is not None:
        return
    shops = _shops(session, estate, community, rng)
    offers: list[Offer] = []
    for i, shop in enumerate(shops):
        categories = SHOPS[i % len(SHOPS)][1]
        for category in categories:
            for template in TEMPLATES[category]:
                lon, lat = _near(origin, rng)
                offers.append(
                    service.create_offer(
                        session,
                        SYSTEM,
                        organisation_id=shop.id,
                        category=template.category,
                        title=template.title,
                        description=template.description,
                        price_fen=template.price_fen,
                        unit=template.unit,
                        radius_m=rng.choice((2000, 2500, 3000)),
                        lon=lon,
                        lat=lat,
                        opening_hours=template.hours,
                    )
                )
    _orders(session, estate, offers, rng)


def _near(origin: tuple[float, float], rng: random.Random) -> tuple[float, float]:
    """A point 150 m to 1.8 km from ``origin`` in a random direction."""
    distance = rng.uniform(150, 1800)
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = math.degrees(distance * math.cos(bearing) / service.EARTH_RADIUS_M)
    dlon = math.degrees(distance * math.sin(bearing) / service.EARTH_RADIUS_M) / math.cos(math.radians(origin[1]))
    return origin[0] + dlon, origin[1] + dlat


def _orders(session: Session, estate: Region, offers: list[Offer], rng: random.Random) -> None:
    """Orders by residents of the estate, one in each state and a few more done and rated."""
    rows = session.execute(
        select(Residence.person_id, Person.phone_enc)
        .join(Region, Region.id == Residence.room_id)
        .join(Person, Person.id == Residence.person_id)
        .where(subtree_clause(Region.path, estate.path), Residence.until.is_(None))
        .order_by(Residence.id)
        .limit(ORDERS * 3)
    ).all()
    people = [int(pid) for pid, _ in rows][:ORDERS]
    phones = {int(pid): bool(enc) for pid, enc in rows}
    plans = ("placed", "accepted", "in_service", "done", "done", "rejected", "cancelled", "done")
    now = utcnow()
    for n, (person_id, plan) in enumerate(zip(people, plans, strict=False)):
        resident = _resident(person_id)
        offer = offers[(n * 3 + rng.randrange(3)) % len(offers)]
        started = now - timedelta(hours=1 if plan == "placed" else rng.randint(3, 240))
        try:
            order = orders.place_order(
                session,
                resident,
                offer_id=offer.id,
                phone=None if phones.get(person_id) else f"139{rng.randrange(10**8):08d}",
                note=rng.choice(NOTES),
                now=started,
            )
        except DomainError:
            continue  # the shop's radius does not reach this home
        _play(session, order, plan, rng, started)


def _play(session: Session, order: Order, plan: str, rng: random.Random, started: datetime) -> None:
    shop, resident = _merchant(order.organisation_id), _resident(order.person_id or 0)
    at = started + timedelta(minutes=rng.randint(5, 40))
    if plan == "rejected":
        orders.act(session, shop, order_id=order.id, action="reject", note=rng.choice(REASONS), now=at)
        return
    if plan == "cancelled":
        orders.act(session, resident, order_id=order.id, action="cancel", note=rng.choice(CANCEL_NOTES), now=at)
        return
    latest = utcnow() - timedelta(minutes=1)
    for step in PLAYS[plan]:
        orders.act(session, shop, order_id=order.id, action=step, now=min(at, latest))
        at += timedelta(minutes=rng.randint(20, 120))
    if plan == "done":
        orders.rate(
            session,
            resident,
            order_id=order.id,
            level=rng.choice((5, 5, 4, 4, 3)),
            comment=rng.choice(("师傅很专业", "准时上门，满意", "价格实在", "")),
            now=min(at, latest),
        )
