"""电子证照 over HTTP: wallet, issue, read, revoke, uses, kinds; the public verification; bad
input answered with field errors and nothing stored; the credential-verify command."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.actor import SYSTEM
from cityos.services.licences import service
from cityos.services.licences.models import Credential
from tests.factories import bearer, make_account
from tests.services.licences_fixtures import LicenceWorld, id_number, make_licence_world, marriage_data


@pytest.fixture
def lw(session: Session) -> LicenceWorld:
    w = make_licence_world(session)
    session.commit()
    return w


def _staff(session: Session, lw: LicenceWorld, department_id: int, scope: object) -> dict[str, str]:
    account = make_account(session, roles=["department_staff"], scope=scope, department_id=department_id)  # type: ignore[arg-type]
    session.commit()
    return bearer(account.id)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


def test_issue_read_use_revoke_verify(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    mzj = _staff(session, lw, lw.mzj_a.id, lw.world.district_a)
    body = {"kind_code": "marriage_certificate", "data": marriage_data(lw.resident), "holder_person_id": lw.resident.id}
    r = client.post("/api/v1/credentials", json=body, headers=mzj)
    assert r.status_code == 201, r.text
    issued = r.json()
    no = issued["no"]
    assert issued["masked"] is True  # staff see identity numbers masked
    assert "*" in issued["data"]["id_number"]
    assert issued["issuer_name"] == "甲区民政局"
    assert issued["state"] == "valid"

    holder = bearer(lw.resident_account_id)
    mine = client.get("/api/v1/credentials", headers=holder)
    assert mine.status_code == 200
    kinds = {c["kind_code"] for c in mine.json()}
    assert kinds == {"marriage_certificate", "id_card", "household_register"}
    own = client.get(f"/api/v1/credentials/{no}", headers=holder).json()
    assert own["masked"] is False
    assert own["data"]["id_number"] == id_number(date(1958, 6, 15))

    credential = service.by_no(session, no)
    service.record_use(session, SYSTEM, credential_id=credential.id, purpose="测试用证")
    session.commit()
    uses = client.get(f"/api/v1/credentials/{no}/uses", headers=holder)
    assert [u["purpose"] for u in uses.json()] == ["测试用证"]

    ok = client.post("/verify/credential", json={"token": no})  # no account
    assert ok.status_code == 200
    assert ok.json()["valid"] is True
    assert ok.json()["holder_name"] == "王**"
    assert "id_number" not in ok.text

    empty = client.post(f"/api/v1/credentials/{no}/revoke", json={"reason": "  "}, headers=mzj)
    assert empty.status_code == 422
    assert empty.json()["error"]["details"][0]["field"] == "reason"
    done = client.post(f"/api/v1/credentials/{no}/revoke", json={"reason": "婚姻登记撤销"}, headers=mzj)
    assert done.status_code == 200
    assert done.json()["state"] == "revoked"
    again = client.post(f"/api/v1/credentials/{no}/revoke", json={"reason": "再次"}, headers=mzj)
    assert again.status_code == 409
    refused = client.post("/verify/credential", json={"token": no}).json()
    assert (refused["valid"], refused["reason"]) == (False, "revoked")


def test_bad_input_answers_field_errors_and_stores_nothing(
    client: TestClient, session: Session, lw: LicenceWorld
) -> None:
    gaj = _staff(session, lw, lw.gaj_a.id, lw.world.district_a)
    before = _count(session)
    unknown = client.post(
        "/api/v1/credentials", json={"kind_code": "nope", "data": {}, "holder_person_id": lw.resident.id}, headers=gaj
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "kind_code"
    missing = client.post(
        "/api/v1/credentials",
        json={"kind_code": "residence_permit", "data": {"name": "王秀英"}, "holder_person_id": lw.resident.id},
        headers={**gaj, "Accept-Language": "zh-CN"},
    )
    assert missing.status_code == 422
    details = {d["field"]: d["message"] for d in missing.json()["error"]["details"]}
    assert set(details) == {"data.gender", "data.id_number", "data.address"}
    assert details["data.address"] == "此项必填。"
    extra = client.post("/api/v1/credentials", json={"kind_code": "id_card", "data": {}, "surprise": 1}, headers=gaj)
    assert extra.status_code == 422
    long_token = client.post("/verify/credential", json={"token": "x" * 1001})
    assert long_token.status_code == 422
    blank = client.post("/verify/credential", json={"token": ""})
    assert blank.status_code == 422
    assert _count(session) == before


def test_scope_and_permissions(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    c = service.issue(
        session,
        lw.staff_a,
        kind_code="no_criminal_record",
        data={"name": lw.resident.name, "id_number": id_number(date(1958, 6, 15)), "result": "未发现有犯罪记录"},
        holder_person_id=lw.resident.id,
    )
    session.commit()
    far = _staff(session, lw, lw.gaj_b.id, lw.world.district_b)
    assert client.get(f"/api/v1/credentials/{c.no}", headers=far).status_code == 404
    assert client.post(f"/api/v1/credentials/{c.no}/revoke", json={"reason": "越权"}, headers=far).status_code == 404
    stranger = make_account(session, roles=["resident"], scope=lw.world.room2, person_id=lw.other.id)
    session.commit()
    assert client.get(f"/api/v1/credentials/{c.no}", headers=bearer(stranger.id)).status_code == 404
    assert client.get(f"/api/v1/credentials/{c.no}/uses", headers=bearer(stranger.id)).status_code == 404
    assert client.get("/api/v1/credentials").status_code == 401
    assert client.get("/api/v1/credentials/bad-no!").status_code in (401, 422)
    kinds = client.get("/api/v1/credential-kinds", headers=bearer(stranger.id))
    assert kinds.status_code == 200
    assert any(k["code"] == "id_card" and k["fields"][0]["title"] == "姓名" for k in kinds.json())


def test_verify_command(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine
    from cityos.people.models import Person

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        service.install(session)
        person = Person(name="赵一", gender="male")
        session.add(person)
        session.flush()
        c = service.issue(
            session,
            SYSTEM,
            kind_code="degree_certificate",
            data={
                "name": "赵一",
                "degree": "工学学士",
                "major": "土木工程",
                "institution": "某大学",
                "awarded_on": "2010-07-01",
            },
            holder_person_id=person.id,
        )
        token = service.presentation_token(session, c)
        no = c.no
        session.commit()
    engine.dispose()
    runner = CliRunner()
    ok = runner.invoke(app, ["services", "credential-verify", token])
    assert ok.exit_code == 0, ok.output
    assert "VALID (ok)" in ok.output
    assert no in ok.output
    bad = runner.invoke(app, ["services", "credential-verify", "DZZZ0000NOTHERE"])
    assert bad.exit_code == 1
    assert "unknown" in bad.output
