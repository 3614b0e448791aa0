"""电子证照 pages: the wallet and a credential with its QR and uses (zh_CN and en), the public
verification page, and issuing and revoking for department staff with field errors."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.services.licences import service
from cityos.services.licences.models import Credential
from tests.factories import make_account, session_cookie
from tests.services.licences_fixtures import LicenceWorld, id_number, make_licence_world, marriage_data


@pytest.fixture
def lw(session: Session) -> LicenceWorld:
    w = make_licence_world(session)
    session.commit()
    return w


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def _marriage(session: Session, lw: LicenceWorld) -> Credential:
    c = service.issue(
        session,
        lw.mzj_staff_a,
        kind_code="marriage_certificate",
        data=marriage_data(lw.resident),
        holder_person_id=lw.resident.id,
    )
    session.commit()
    return c


def test_wallet_and_credential_page_in_both_languages(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    _as(client, session, lw.resident_account_id)
    zh = client.get("/wallet", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200
    assert "我的证照" in zh.text
    assert "居民身份证" in zh.text  # from the population registry, without uploading anything
    assert "结婚证" in zh.text
    assert "510104********" in zh.text  # numbers masked on the cards
    assert id_number(date(1958, 6, 15)) not in zh.text
    en = client.get("/wallet")
    assert "My e-licences" in en.text
    assert "Valid" in en.text

    service.record_use(session, SYSTEM, credential_id=c.id, purpose="老年人优待证办理")
    session.commit()
    page = client.get(f"/wallet/{c.no}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert 'data-testid="qr"' in page.text
    assert "<svg" in page.text
    assert "/verify/" in page.text
    assert "张建国" in page.text
    assert id_number(date(1958, 6, 15)) in page.text  # the holder sees their own data in clear
    assert "老年人优待证办理" in page.text  # the consent list
    assert "有效" in page.text
    fresh = client.get(f"/wallet/{c.no}/qr")
    assert fresh.status_code == 200
    assert "<svg" in fresh.text


def test_staff_see_masked_data_and_strangers_nothing(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    staff = make_account(session, roles=["department_staff"], scope=lw.world.district_a, department_id=lw.mzj_a.id)
    _as(client, session, staff.id)
    page = client.get(f"/wallet/{c.no}")
    assert page.status_code == 200
    assert id_number(date(1958, 6, 15)) not in page.text
    assert "********" in page.text
    assert 'data-testid="qr"' not in page.text
    assert 'data-testid="revoke"' in page.text
    stranger = make_account(session, roles=["resident"], scope=lw.world.room2, person_id=lw.other.id)
    _as(client, session, stranger.id)
    assert client.get(f"/wallet/{c.no}").status_code == 404


def test_public_verification_page(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    token = service.presentation_token(session, c)
    session.commit()
    form = client.get("/verify", headers={"Accept-Language": "zh-CN"})
    assert form.status_code == 200
    assert "核验电子证照" in form.text
    ok = client.get(f"/verify/{token}", headers={"Accept-Language": "zh-CN"})
    assert ok.status_code == 200
    assert 'data-reason="ok"' in ok.text
    assert "王**" in ok.text
    assert "张建国" not in ok.text  # the data is never shown to a verifier
    forged = client.post("/verify", data={"token": token[:-4] + "AAAA"})
    assert 'data-reason="bad_signature"' in forged.text
    unknown = client.post("/verify", data={"token": "DZZZ2026NOSUCH"})
    assert 'data-reason="unknown"' in unknown.text
    assert "Not valid" in unknown.text
    blank = client.post("/verify", data={"token": ""})
    assert blank.status_code == 422
    assert "field-error" in blank.text


def test_issue_and_revoke_through_the_admin_pages(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    staff = make_account(session, roles=["department_staff"], scope=lw.world.district_a, department_id=lw.gaj_a.id)
    _as(client, session, staff.id)
    admin = client.get("/admin/credentials", headers={"Accept-Language": "zh-CN"})
    assert admin.status_code == 200
    assert "证照签发与注销" in admin.text
    nobody = client.get("/admin/credentials/new", params={"kind": "residence_permit", "holder": "123"})
    assert nobody.status_code == 422
    assert 'data-testid="form-errors"' in nobody.text
    holder = id_number(date(1958, 6, 15))
    step = client.get("/admin/credentials/new", params={"kind": "residence_permit", "holder": holder})
    assert step.status_code == 200
    assert "王秀英" in step.text  # pre-filled from the registry
    count = int(session.scalar(select(func.count()).select_from(Credential)) or 0)
    bad = client.post(
        "/admin/credentials/new",
        data={"kind": "residence_permit", "holder": holder, "data.name": "王秀英", "data.gender": "female"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    assert "此项必填" in bad.text
    assert int(session.scalar(select(func.count()).select_from(Credential)) or 0) == count
    done = client.post(
        "/admin/credentials/new",
        data={
            "kind": "residence_permit",
            "holder": holder,
            "data.name": "王秀英",
            "data.gender": "female",
            "data.id_number": holder,
            "data.address": "测试市甲区幸福社区",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    no = done.headers["location"].split("/wallet/")[1].split("?")[0]
    assert client.get(done.headers["location"]).status_code == 200
    listed = client.get("/admin/credentials", params={"no": no})
    assert no in listed.text
    empty = client.post(f"/admin/credentials/{no}/revoke", data={"reason": ""})
    assert empty.status_code == 422
    assert 'data-testid="form-errors"' in empty.text
    revoked = client.post(f"/admin/credentials/{no}/revoke", data={"reason": "已迁出"}, follow_redirects=False)
    assert revoked.status_code == 303
    assert service.by_no(session, no).revoked_at is not None


def test_admin_pages_need_the_permission(client: TestClient, session: Session, lw: LicenceWorld) -> None:
    _as(client, session, lw.resident_account_id)
    assert client.get("/admin/credentials").status_code == 403
