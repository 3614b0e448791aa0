"""Builders for the applications tests: a world with district departments, service items written
here (so the tests do not follow the shipped catalogue's edits), residents with registry
credentials, and the accounts of each side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.runtime import Runtime
from cityos.people.models import Department, Person
from cityos.people.validation import id_check_char
from cityos.places import index
from cityos.places.models import Region
from cityos.services.applications import service as applications
from cityos.services.applications import tasks
from cityos.services.catalogue.models import ServiceBundle, ServiceItem
from cityos.services.licences import service as licences
from cityos.workflow.calendar import seed_years
from tests.factories import World, make_account, make_actor, make_person, make_world

ELDERLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "姓名", "minLength": 2, "maxLength": 30},
        "id_number": {"type": "string", "title": "公民身份号码", "format": "id-number"},
        "phone": {"type": "string", "title": "联系电话", "format": "phone"},
        "address": {"type": "string", "title": "住址", "maxLength": 200},
        "bus_card": {"type": "boolean", "title": "同时办理老年人公交卡"},
    },
    "required": ["name", "id_number", "phone"],
    "additionalProperties": False,
}

SINGLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "姓名", "minLength": 2, "maxLength": 30},
        "household_size": {"type": "integer", "title": "家庭人口", "minimum": 1, "maximum": 20},
        "income": {"type": "number", "title": "月收入(元)", "minimum": 0},
        "reason": {"type": "string", "title": "申请理由", "minLength": 2, "maxLength": 10},
        "kind": {"type": "string", "title": "类别", "enum": ["a", "b"], "x-enumTitles": ["城市", "农村"]},
        "since": {"type": "string", "title": "开始日期", "format": "date"},
        "code": {"type": "string", "title": "编号", "pattern": "^[0-9]{4}$"},
    },
    "required": ["name", "household_size", "reason", "kind"],
    "additionalProperties": False,
}

INSTANT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "姓名"},
        "purpose": {"type": "string", "title": "用途", "maxLength": 50},
    },
    "required": ["name", "purpose"],
}


def valid_id(birth: date, seq: str = "123") -> str:
    body = f"510104{birth:%Y%m%d}{seq}"
    return body + id_check_char(body)


def add_item(session: Session, code: str, **values: Any) -> ServiceItem:
    item = ServiceItem(
        code=code,
        name=values.pop("name", code),
        kind="public_service",
        audience=values.pop("audience", "person"),
        department_kinds=values.pop("department_kinds", ["mzj"]),
        conditions="",
        materials=values.pop("materials", []),
        form_schema=values.pop("form_schema", {}),
        process_key=values.pop("process_key", "service_approval"),
        time_limit_days=values.pop("time_limit_days", 10),
        fee="",
        channels=values.pop("channels", ["online", "counter", "kiosk"]),
        online_depth="full_online",
        result_credential_kind=values.pop("result_credential_kind", None),
        guide="",
        instant=values.pop("instant", False),
        active=values.pop("active", True),
    )
    assert not values, values
    session.add(item)
    session.flush()
    return item


@dataclass
class AppWorld:
    world: World
    mzj: Department  # 甲区民政局
    jtj: Department  # 甲区交通运输局
    mzj_b: Department  # 乙区民政局
    city_gaj: Department
    person: Person  # a resident of district A aged over 60, with registry credentials
    resident: Actor
    neighbour: Actor  # another resident of district A
    clerk: Actor  # window clerk of district A
    clerk_b: Actor  # window clerk of district B
    mzj_staff: Actor
    jtj_staff: Actor
    mzj_b_staff: Actor
    commander: Actor
    commander_b: Actor
    elderly: ServiceItem  # parallel: mzj + jtj, result elderly_card, id_card proved by credential
    single: ServiceItem  # mzj only, no credential, many field types
    instant: ServiceItem  # 即办, result approval_notice
    resident_account_id: int


def _dept(session: Session, region: Region, kind: str, name: str) -> Department:
    dept = Department(code=f"{region.code}-{kind}", name=name, region_id=region.id, region_path=region.path)
    session.add(dept)
    session.flush()
    return dept


def build(session: Session) -> AppWorld:
    w = make_world(session)
    index.rebuild_cells(session)
    seed_years(session, [2026, 2027])
    licences.install(session)
    applications.install(session)
    mzj = _dept(session, w.district_a, "mzj", "甲区民政局")
    jtj = _dept(session, w.district_a, "jtj", "甲区交通运输局")
    mzj_b = _dept(session, w.district_b, "mzj", "乙区民政局")
    city_gaj = _dept(session, w.city, "gaj", "测试市公安局")
    person = make_person(
        session,
        name="王秀英",
        region=w.room,
        id_number=valid_id(date(1960, 3, 1)),
        phone="13912345678",
        birth_date=date(1960, 3, 1),
        gender="female",
    )
    licences.registry_credentials(session, person.id)
    account = make_account(session, roles=["resident"], scope=w.room, person_id=person.id)
    from cityos.identity.deps import actor_for_account

    resident = actor_for_account(session, account)
    other = make_person(session, name="李四", region=w.room2, id_number=valid_id(date(1990, 1, 1), "456"))
    neighbour = make_actor(session, roles=["resident"], scope=w.room2, person_id=other.id)
    elderly = add_item(
        session,
        "t-elderly",
        name="老年人优待证办理",
        department_kinds=["mzj", "jtj"],
        materials=[{"key": "id_card", "title": "居民身份证", "credential_kind": "id_card", "required": True}],
        form_schema=ELDERLY_SCHEMA,
        process_key="service_parallel",
        time_limit_days=5,
        result_credential_kind="elderly_card",
    )
    single = add_item(
        session,
        "t-single",
        name="最低生活保障申请",
        materials=[{"key": "reason", "title": "申请理由", "field": "reason", "required": True}],
        form_schema=SINGLE_SCHEMA,
        time_limit_days=20,
    )
    instant = add_item(
        session,
        "t-instant",
        name="证明开具",
        form_schema=INSTANT_SCHEMA,
        instant=True,
        time_limit_days=1,
        result_credential_kind="approval_notice",
    )
    session.add(ServiceBundle(code="t-bundle", name="测试一件事", item_codes=["t-single", "t-instant"], active=True))
    session.flush()
    return AppWorld(
        world=w,
        mzj=mzj,
        jtj=jtj,
        mzj_b=mzj_b,
        city_gaj=city_gaj,
        person=person,
        resident=resident,
        neighbour=neighbour,
        clerk=make_actor(session, roles=["window_clerk"], scope=w.district_a),
        clerk_b=make_actor(session, roles=["window_clerk"], scope=w.district_b),
        mzj_staff=make_actor(session, roles=["department_staff"], scope=w.district_a, department_id=mzj.id),
        jtj_staff=make_actor(session, roles=["department_staff"], scope=w.district_a, department_id=jtj.id),
        mzj_b_staff=make_actor(session, roles=["department_staff"], scope=w.district_b, department_id=mzj_b.id),
        commander=make_actor(session, roles=["commander"], scope=w.district_a),
        commander_b=make_actor(session, roles=["commander"], scope=w.district_b),
        elderly=elderly,
        single=single,
        instant=instant,
        resident_account_id=account.id,
    )


SINGLE_FORM = {"name": "王秀英", "household_size": 2, "income": 800.0, "reason": "生活困难", "kind": "a"}


@pytest.fixture(name="aw")
def app_world(session: Session, runtime: Runtime) -> Iterator[AppWorld]:
    from cityos.registry import subscribe_all

    subscribe_all(runtime.bus)
    tasks.register(runtime.bus)
    built = build(session)
    session.commit()
    yield built
    index.invalidate()
