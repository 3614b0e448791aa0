"""People API: masking, scope, field-level 422s in the caller's language, nothing stored on bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.models import AuditRecord
from cityos.people.models import Organisation, Person
from cityos.people.validation import id_check_char, org_code_check_char, uscc_check_char
from tests.factories import World, bearer, make_account, make_person, make_world

ID_1980 = "51010419800101123" + id_check_char("51010419800101123")


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session)
    session.commit()
    return w


def _headers(session: Session, world: World, role: str, scope_name: str = "city", **kw: object) -> dict[str, str]:
    account = make_account(session, roles=[role], scope=getattr(world, scope_name), **kw)  # type: ignore[arg-type]
    session.commit()
    return bearer(account.id)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_list_is_masked_and_scoped(client: TestClient, session: Session, world: World) -> None:
    person = make_person(session, name="王五", region=world.room, id_number=ID_1980, phone="13812345678")
    make_person(session, name="赵六", region=world.other_room)
    headers = _headers(session, world, "grid_worker", "grid1")
    r = client.get("/api/v1/people", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["id"] == person.id
    assert item["id_number"] == "510104********" + ID_1980[-4:]
    assert item["phone"] == "138****5678"
    assert item["region_name"] == "101"
    assert ID_1980 not in r.text
    assert client.get("/api/v1/people").status_code == 401
    assert client.get(f"/api/v1/people?region_id={world.grid2.id}", headers=headers).status_code == 404


def test_create_validation_errors_in_both_languages(client: TestClient, session: Session, world: World) -> None:
    headers = _headers(session, world, "grid_worker", "grid1")
    bad = {"name": "", "region_id": world.room.id, "id_number": "110105194912310021", "phone": "123"}
    r = client.post("/api/v1/people", json=bad, headers=headers)
    assert r.status_code == 422
    details = {d["field"]: d["message"] for d in r.json()["error"]["details"]}
    assert set(details) == {"name", "id_number", "phone"}
    assert "11 digits" in details["phone"]
    r = client.post("/api/v1/people", json=bad, headers={**headers, "Accept-Language": "zh-CN"})
    details = {d["field"]: d["message"] for d in r.json()["error"]["details"]}
    assert "11 位" in details["phone"]
    assert "校验" in details["id_number"]
    r = client.post("/api/v1/people", json={"region_id": "x", "extra": 1}, headers=headers)
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["error"]["details"]} >= {"name", "region_id", "extra"}
    assert _count(session, Person) == 0


def test_create_read_update(client: TestClient, session: Session, world: World) -> None:
    headers = _headers(session, world, "grid_worker", "grid1")
    r = client.post(
        "/api/v1/people",
        json={
            "name": "孙七",
            "region_id": world.room.id,
            "id_number": ID_1980,
            "relation": "owner",
            "tags": ["veteran"],
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["gender"], created["birth_date"], created["tags"]) == ("male", "1980-01-01", ["veteran"])
    assert (
        client.post(
            "/api/v1/people", json={"name": "重复", "region_id": world.room.id, "id_number": ID_1980}, headers=headers
        ).status_code
        == 409
    )
    r = client.patch(f"/api/v1/people/{created['id']}", json={"phone": "13900001111"}, headers=headers)
    assert r.json()["phone"] == "139****1111"
    assert client.patch(f"/api/v1/people/{created['id']}", json={"phone": "1"}, headers=headers).status_code == 422
    residences = client.get(f"/api/v1/people/{created['id']}/residences", headers=headers).json()
    assert [(x["relation"], x["until"]) for x in residences] == [("owner", None)]
    household = client.get(f"/api/v1/households/{residences[0]['household_id']}", headers=headers).json()
    assert [m["name"] for m in household["members"]] == ["孙七"]
    assert household["members"][0]["head"] is True
    listed = client.get("/api/v1/households", headers=headers).json()
    assert listed["items"][0]["members"] == 1


def test_lookup_keeps_numbers_out_of_urls(client: TestClient, session: Session, world: World) -> None:
    person = make_person(session, region=world.room, id_number=ID_1980)
    headers = _headers(session, world, "grid_worker", "grid1")
    r = client.post("/api/v1/people/lookup", json={"id_number": ID_1980}, headers=headers)
    assert [p["id"] for p in r.json()] == [person.id]
    assert client.post("/api/v1/people/lookup", json={}, headers=headers).status_code == 422


def test_reveal_is_audited_and_needs_permission(client: TestClient, session: Session, world: World) -> None:
    person = make_person(session, region=world.room, id_number=ID_1980, phone="13812345678")
    worker = _headers(session, world, "grid_worker", "grid1")
    assert client.post(f"/api/v1/people/{person.id}/reveal", json={}, headers=worker).status_code == 403
    admin = _headers(session, world, "admin")
    r = client.post(f"/api/v1/people/{person.id}/reveal", json={"reason": "户籍核查"}, headers=admin)
    assert r.json() == {"person_id": person.id, "id_number": ID_1980, "phone": "13812345678"}
    reads = session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")).all()
    assert [(a.subject_id, a.detail) for a in reads] == [(str(person.id), "户籍核查")]
    denied = session.scalars(select(AuditRecord).where(AuditRecord.outcome == "denied")).all()
    assert len(denied) == 1


def test_resident_sees_only_themself(client: TestClient, session: Session, world: World) -> None:
    me = make_person(session, name="居民甲", region=world.room, phone="13812345678")
    neighbour = make_person(session, name="邻居", region=world.room)
    headers = _headers(session, world, "resident", "room", person_id=me.id)
    assert client.get("/api/v1/me", headers=headers).json()["name"] == "居民甲"
    assert client.get(f"/api/v1/people/{me.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/people/{neighbour.id}", headers=headers).status_code == 403
    assert client.get("/api/v1/people", headers=headers).status_code == 403
    staff = _headers(session, world, "dispatcher", "district_a")
    assert client.get("/api/v1/me", headers=staff).status_code == 404


def test_organisation_api(client: TestClient, session: Session, world: World) -> None:
    body = "91510104MA6CXXXX"
    body += org_code_check_char("MA6CXXXX")
    uscc = body + uscc_check_char(body)
    admin = _headers(session, world, "admin")
    bad = client.post(
        "/api/v1/organisations",
        json={"uscc": uscc[:-1] + "0", "name": " ", "kind": "merchant", "region_id": world.grid1.id},
        headers=admin,
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"uscc", "name"}
    assert _count(session, Organisation) == 0
    r = client.post(
        "/api/v1/organisations",
        json={"uscc": uscc, "name": "便利店", "kind": "merchant", "region_id": world.grid1.id},
        headers=admin,
    )
    assert r.status_code == 201
    worker = _headers(session, world, "grid_worker", "grid1")
    assert client.get("/api/v1/organisations", headers=worker).json()["total"] == 1
    assert client.get("/api/v1/organisations?kind=ngo", headers=worker).json()["total"] == 0


def test_department_and_responsibility_api(client: TestClient, session: Session, world: World) -> None:
    admin = _headers(session, world, "admin")
    dept = client.post(
        "/api/v1/departments",
        json={"code": "da-cg", "name": "甲区城市管理局", "region_id": world.district_a.id},
        headers=admin,
    ).json()
    r = client.post(
        f"/api/v1/departments/{dept['id']}/responsibilities",
        json={"case_category": "event.01", "region_id": world.district_a.id},
        headers=admin,
    )
    assert r.status_code == 201
    assert r.json()["region_name"] == "甲区"
    bad = client.post(
        f"/api/v1/departments/{dept['id']}/responsibilities",
        json={"case_category": "EVENT 01", "region_id": world.district_b.id},
        headers=admin,
    )
    assert bad.status_code == 422
    dispatcher = _headers(session, world, "dispatcher", "district_a")
    resolved = client.get(
        f"/api/v1/responsibilities/resolve?category=event.01&region_id={world.room.id}", headers=dispatcher
    )
    assert resolved.json()["id"] == dept["id"]
    assert client.get("/api/v1/responsibilities", headers=dispatcher).json()["total"] == 1
    worker = _headers(session, world, "grid_worker", "grid1")
    assert client.get("/api/v1/departments", headers=worker).status_code == 403
    rid = r.json()["id"]
    assert client.delete(f"/api/v1/responsibilities/{rid}", headers=dispatcher).status_code == 403
    assert client.delete(f"/api/v1/responsibilities/{rid}", headers=admin).status_code == 204
