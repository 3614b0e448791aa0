"""Plain builder functions for tests. They write rows directly so every module's tests can
build a world without depending on another module's service code."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.runtime import blind_index, field_cipher
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account, AccountRole
from cityos.people.models import Person, PersonTag
from cityos.places.models import LEVEL_DEPTH, Region

_seq = itertools.count(1)


def box(lon: float, lat: float, w: float, h: float) -> dict:
    """GeoJSON polygon of a lon/lat rectangle with its south-west corner at (lon, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]],
    }


def add_region(
    session: Session,
    parent: Region | None,
    level: str,
    name: str,
    *,
    code: str | None = None,
    geometry: dict | None = None,
) -> Region:
    region = Region(
        code=code or f"T{next(_seq):08d}",
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path="/pending/",
        depth=LEVEL_DEPTH[level],
        geometry=geometry,
        attrs={},
    )
    if geometry:
        xs = [c[0] for c in geometry["coordinates"][0]]
        ys = [c[1] for c in geometry["coordinates"][0]]
        region.min_lon, region.max_lon, region.min_lat, region.max_lat = min(xs), max(xs), min(ys), max(ys)
        region.lon, region.lat = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    session.add(region)
    session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    session.flush()
    return region


@dataclass
class World:
    """A city with two districts; district A has a street, community, two grids and a building."""

    city: Region
    district_a: Region
    district_b: Region
    street: Region
    community: Region
    grid1: Region
    grid2: Region
    estate: Region
    building: Region
    unit: Region
    room: Region
    room2: Region
    other_room: Region  # in grid2


def make_world(session: Session) -> World:
    city = add_region(session, None, "city", "测试市", geometry=box(104.0, 30.0, 0.2, 0.1))
    da = add_region(session, city, "district", "甲区", geometry=box(104.0, 30.0, 0.1, 0.1))
    db = add_region(session, city, "district", "乙区", geometry=box(104.1, 30.0, 0.1, 0.1))
    street = add_region(session, da, "street", "一街道", geometry=box(104.0, 30.0, 0.1, 0.1))
    community = add_region(session, street, "community", "幸福社区", geometry=box(104.0, 30.0, 0.1, 0.1))
    g1 = add_region(session, community, "grid", "第一网格", geometry=box(104.0, 30.0, 0.05, 0.1))
    g2 = add_region(session, community, "grid", "第二网格", geometry=box(104.05, 30.0, 0.05, 0.1))
    estate = add_region(session, g1, "estate", "阳光小区", geometry=box(104.01, 30.01, 0.01, 0.01))
    building = add_region(session, estate, "building", "1栋", geometry=box(104.012, 30.012, 0.001, 0.0005))
    unit = add_region(session, building, "unit", "1单元")
    room = add_region(session, unit, "room", "101")
    room2 = add_region(session, unit, "room", "102")
    estate2 = add_region(session, g2, "estate", "月亮小区", geometry=box(104.06, 30.01, 0.01, 0.01))
    b2 = add_region(session, estate2, "building", "2栋", geometry=box(104.062, 30.012, 0.001, 0.0005))
    u2 = add_region(session, b2, "unit", "1单元")
    other = add_region(session, u2, "room", "201")
    return World(city, da, db, street, community, g1, g2, estate, building, unit, room, room2, other)


def make_account(
    session: Session,
    *,
    roles: list[str],
    scope: Region,
    username: str | None = None,
    department_id: int | None = None,
    person_id: int | None = None,
    organisation_id: int | None = None,
    password_hash: str | None = None,
) -> Account:
    account = Account(
        username=username or f"user{next(_seq)}",
        display_name=username or "Test user",
        scope_region_id=scope.id,
        scope_path=scope.path,
        department_id=department_id,
        person_id=person_id,
        organisation_id=organisation_id,
        password_hash=password_hash,
        active=True,
        failed_attempts=0,
    )
    session.add(account)
    session.flush()
    for role in roles:
        session.add(AccountRole(account_id=account.id, role=role))
    session.flush()
    return account


def make_actor(session: Session, *, roles: list[str], scope: Region, **kwargs: object) -> Actor:
    return actor_for_account(session, make_account(session, roles=roles, scope=scope, **kwargs))  # type: ignore[arg-type]


def make_person(
    session: Session,
    *,
    name: str = "张三",
    region: Region | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    birth_date: date | None = None,
    gender: str = "male",
    tags: list[str] | None = None,
) -> Person:
    cipher, index = field_cipher(), blind_index()
    person = Person(
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number_enc=cipher.encrypt(id_number, context="person.id_number") if id_number else None,
        id_number_hash=index.digest(id_number, purpose="id_number") if id_number else None,
        phone_enc=cipher.encrypt(phone, context="person.phone") if phone else None,
        phone_hash=index.digest(phone, purpose="phone") if phone else None,
        region_id=region.id if region else None,
        region_path=region.path if region else None,
    )
    session.add(person)
    session.flush()
    for tag in tags or []:
        session.add(PersonTag(person_id=person.id, tag=tag))
    session.flush()
    return person


def session_cookie(session: Session, account_id: int) -> str:
    """A recorded page-session token for the account (what signing in through the form sets)."""
    from cityos.identity.service import issue_session

    account = session.get(Account, account_id)
    assert account is not None
    token, _ = issue_session(session, account)
    session.commit()
    return token


def bearer(account_id: int) -> dict[str, str]:
    """Authorization header with a short access token for the account."""
    from datetime import timedelta

    from cityos.identity import tokens

    token, _ = tokens.issue("access", str(account_id), timedelta(minutes=5))
    return {"Authorization": f"Bearer {token}"}
