"""Builders for the catalogue tests: two departments of the test city (the owner 城管局 and the
requester 民政局), their accounts, and a shared file dataset with personal fields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.settings import Settings
from cityos.hub.catalogue import grants
from cityos.hub.catalogue import service as catalogue
from cityos.hub.catalogue.models import Dataset
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account
from cityos.people.models import Department
from cityos.places import index
from tests.factories import World, make_account, make_world

CSV = (
    "name,phone,street,note,lon,lat,visits\n"
    "张三,13800000001,一街道,每周探访一次，子女在外地,104.01234,30.05678,3\n"
    "欧阳娜娜,13900000002,二街道,行动不便,104.06789,30.01234,1\n"
    "李四,13700000003,一街道,,104.02,30.03,0\n"
)
FIELDS = [
    {"name": "name", "type": "name", "description": "姓名", "sensitivity": "personal"},
    {"name": "phone", "type": "phone", "description": "电话", "sensitivity": "personal"},
    {"name": "street", "type": "string", "description": "街道", "sensitivity": "none"},
    {"name": "note", "type": "text", "description": "备注", "sensitivity": "sensitive"},
    {"name": "lon", "type": "lon", "description": "经度", "sensitivity": "personal"},
    {"name": "lat", "type": "lat", "description": "纬度", "sensitivity": "personal"},
    {"name": "visits", "type": "integer", "description": "探访次数", "sensitivity": "none"},
]
SECRETS = ("张三", "13800000001", "欧阳娜娜", "13900000002", "子女在外地", "104.01234", "30.05678")


@dataclass
class Cat:
    world: World
    owner: Department
    other: Department
    officer: Actor  # data officer of the owner
    officer2: Actor  # a second data officer of the owner
    staff: Actor  # department staff of the requester
    requester_officer: Actor
    admin: Actor
    accounts: dict[str, Account]
    upload_dir: Path


def _actor(session: Session, account: Account) -> Actor:
    return actor_for_account(session, account)


@pytest.fixture
def cat(session: Session, settings: Settings) -> Iterator[Cat]:
    world = make_world(session)
    index.rebuild_cells(session)
    owner = Department(code="cg", name="城管局", region_id=world.city.id, region_path=world.city.path)
    other = Department(code="mz", name="民政局", region_id=world.city.id, region_path=world.city.path)
    session.add_all([owner, other])
    session.flush()
    accounts = {
        "officer": make_account(session, roles=["data_officer"], scope=world.city, department_id=owner.id),
        "officer2": make_account(session, roles=["data_officer"], scope=world.city, department_id=owner.id),
        "staff": make_account(session, roles=["department_staff"], scope=world.city, department_id=other.id),
        "requester_officer": make_account(session, roles=["data_officer"], scope=world.city, department_id=other.id),
        "admin": make_account(session, roles=["admin"], scope=world.city),
    }
    grants.install(session)
    session.commit()
    yield Cat(
        world,
        owner,
        other,
        _actor(session, accounts["officer"]),
        _actor(session, accounts["officer2"]),
        _actor(session, accounts["staff"]),
        _actor(session, accounts["requester_officer"]),
        _actor(session, accounts["admin"]),
        accounts,
        settings.upload_dir,
    )
    index.invalidate()


def publish_file(session: Session, c: Cat, *, code: str = "elderly", access_class: str = "shared") -> Dataset:
    return catalogue.create_dataset(
        session,
        c.officer,
        code=code,
        name="独居老人名册",
        description="城管局的独居老人探访名册",
        access_class=access_class,
        kind="file",
        fields=[dict(f) for f in FIELDS],
        tags=["养老", "民生"],
        file=CSV.encode("utf-8"),
        file_name="elderly.csv",
        upload_dir=c.upload_dir,
    )
