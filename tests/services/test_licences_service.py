"""电子证照 service: issue and verify, tampering, expiry, revocation, tokens, consent, masking,
scope, the population registry as the source of 身份证 and 户口簿, and bad input on every write."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import OutboxEvent
from cityos.core.runtime import field_cipher
from cityos.services.licences import service
from cityos.services.licences.models import Credential, CredentialKind, CredentialUse
from tests.factories import make_actor
from tests.services.licences_fixtures import LicenceWorld, id_number, make_licence_world, marriage_data, uscc


@pytest.fixture
def lw(session: Session) -> LicenceWorld:
    return make_licence_world(session)


def _marriage(
    session: Session, lw: LicenceWorld, *, holder: int | None = None, valid_days: int | None = None
) -> Credential:
    return service.issue(
        session,
        lw.mzj_staff_a,
        kind_code="marriage_certificate",
        data=marriage_data(lw.resident),
        holder_person_id=holder or lw.resident.id,
        valid_days=valid_days,
    )


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_install_is_idempotent_and_ships_the_kinds(session: Session, lw: LicenceWorld) -> None:
    service.install(session)
    codes = {k.code for k in service.list_kinds(session)}
    assert {"id_card", "household_register", "business_licence", "approval_notice", "elderly_card"} <= codes
    assert len(codes) == 16
    id_card = session.get(CredentialKind, "id_card")
    assert id_card is not None
    assert id_card.issuer_department_kind == "gaj"
    assert {f["title"] for f in id_card.fields} >= {"姓名", "公民身份号码"}
    assert session.get(CredentialKind, "business_licence").holder == "organisation"  # type: ignore[union-attr]
    id_card.name = "改过的名字"
    service.install(session)
    assert session.get(CredentialKind, "id_card").name == "居民身份证"  # type: ignore[union-attr]


def test_issue_signs_encrypts_publishes_and_verifies(session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    assert c.no.startswith("DZZZ")
    assert c.issuer_department_id == lw.mzj_a.id
    assert c.expires_at is None  # 结婚证 does not expire
    assert "张建国" not in c.data_enc
    assert c.data_enc.startswith(field_cipher().current_kid)
    assert service.data_of(c)["spouse_name"] == "张建国"
    assert service.signature_ok(session, c)
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "services.credential_issued")).one()
    assert event.payload["credential_id"] == c.id
    assert event.payload["kind_code"] == "marriage_certificate"
    result = service.verify(session, c.no)
    assert (result.valid, result.reason) == (True, "ok")
    assert result.kind_name == "结婚证"
    assert result.issuer_name == "甲区民政局"
    assert result.holder_name == "王**"  # masked: a verifier learns whose it is, not the full name
    token = service.presentation_token(session, c)
    assert service.verify(session, token).valid


def test_tampered_data_or_signature_is_bad_signature(session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    token = service.presentation_token(session, c)
    forged = dict(service.data_of(c), spouse_name="冒名顶替")
    c.data_enc = field_cipher().encrypt(json.dumps(forged, ensure_ascii=False), context=f"credential:{c.no}")
    session.flush()
    assert service.verify(session, c.no).reason == "bad_signature"
    assert service.verify(session, token).reason == "bad_signature"
    assert service.valid_for(session, person_id=lw.resident.id) == []  # a forged credential is never used

    other = _marriage(session, lw)
    other.signature = c.signature
    session.flush()
    assert service.verify(session, other.no).reason == "bad_signature"

    third = _marriage(session, lw)
    third.expires_at = utcnow() + timedelta(days=3650)  # an extended validity is a forgery too
    session.flush()
    assert service.verify(session, third.no).reason == "bad_signature"

    fourth = _marriage(session, lw)
    head, _, sig = service.presentation_token(session, fourth).partition(".")
    assert service.verify(session, f"{head}.{sig[:-2]}AA").reason == "bad_signature"
    assert service.verify(session, "not-a.token!").reason == "unknown"
    assert service.verify(session, "DZZZ00000000NOSUCH").reason == "unknown"


def test_expired_revoked_and_token_expired(session: Session, lw: LicenceWorld) -> None:
    short = service.issue(
        session,
        lw.staff_a,
        kind_code="no_criminal_record",
        data={"name": lw.resident.name, "id_number": id_number(date(1958, 6, 15)), "result": "未发现有犯罪记录"},
        holder_person_id=lw.resident.id,
        valid_days=1,
    )
    assert short.expires_at is not None
    later = utcnow() + timedelta(days=2)
    assert service.verify(session, short.no, now=later).reason == "expired"
    assert service.state_of(short, later) == "expired"
    assert service.valid_for(session, person_id=lw.resident.id, now=later) == []

    token = service.presentation_token(session, short, ttl_seconds=60)
    assert service.verify(session, token).reason == "ok"
    result = service.verify(session, token, now=utcnow() + timedelta(seconds=61))
    assert (result.valid, result.reason) == (False, "token_expired")

    service.revoke(session, lw.staff_a, credential_id=short.id, reason="核查有误")
    assert service.verify(session, short.no).reason == "revoked"
    assert service.verify(session, token).reason == "revoked"
    assert service.valid_for(session, person_id=lw.resident.id) == []
    with pytest.raises(Conflict):
        service.revoke(session, lw.staff_a, credential_id=short.id, reason="再次")
    assert _count(session, OutboxEvent) >= 2


def test_consent_is_recorded_for_each_use(session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    use = service.record_use(
        session,
        lw.resident_actor,
        credential_id=c.id,
        purpose="老年人优待证办理",
        subject_type="application",
        subject_id="7",
    )
    assert use.account_id == lw.resident_actor.account_id
    clerk = make_actor(session, roles=["window_clerk"], scope=lw.world.district_a)
    service.record_use(session, clerk, credential_id=c.id, purpose="代办: 高龄津贴申领")
    views = service.uses(session, lw.resident_actor, c)
    assert [v.use.purpose for v in views] == ["代办: 高龄津贴申领", "老年人优待证办理"]
    # Nobody else can consent for the holder: a stranger, or a clerk of another district.
    stranger = make_actor(session, roles=["resident"], scope=lw.world.room2, person_id=lw.other.id)
    far_clerk = make_actor(session, roles=["window_clerk"], scope=lw.world.district_b)
    for who in (stranger, far_clerk, lw.staff_a):
        with pytest.raises(Forbidden):
            service.record_use(session, who, credential_id=c.id, purpose="偷用")
    with pytest.raises(Invalid) as bad:
        service.record_use(session, lw.resident_actor, credential_id=c.id, purpose="  ", subject_id="x" * 65)
    assert {d.field for d in bad.value.details} == {"purpose", "subject_id"}
    with pytest.raises(NotFound):
        service.record_use(session, lw.resident_actor, credential_id=999_999, purpose="x")
    service.revoke(session, lw.mzj_staff_a, credential_id=c.id, reason="登记撤销")
    with pytest.raises(Conflict):
        service.record_use(session, lw.resident_actor, credential_id=c.id, purpose="还想用")
    assert _count(session, CredentialUse) == 2
    with pytest.raises(NotFound):
        service.uses(session, stranger, c)


def test_masking(session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    masked = service.masked_data(c)
    assert masked["id_number"] == "510104********1234"[:6] + "*" * 8 + service.data_of(c)["id_number"][-4:]
    assert masked["spouse_id_number"].count("*") == 8
    assert masked["spouse_name"] == "张建国"
    data, is_masked = service.data_for(session, lw.resident_actor, c)
    assert not is_masked
    assert data["id_number"] == service.data_of(c)["id_number"]
    data, is_masked = service.data_for(session, lw.mzj_staff_a, c)
    assert is_masked
    assert "*" in data["id_number"]
    assert service.mask_name("欧阳娜娜") == "欧***"


def test_scope_staff_of_district_b_cannot_touch_district_a(session: Session, lw: LicenceWorld) -> None:
    c = service.issue(
        session,
        lw.staff_a,
        kind_code="residence_permit",
        data={"name": lw.other.name, "gender": "male", "id_number": id_number(date(1990, 1, 2), 456), "address": "x"},
        holder_person_id=lw.other.id,
    )
    with pytest.raises(NotFound):
        service.revoke(session, lw.staff_b, credential_id=c.id, reason="越权")
    with pytest.raises(NotFound):
        service.get_visible(session, lw.staff_b, c.no)
    with pytest.raises(Forbidden):  # same district, another department
        service.revoke(session, lw.mzj_staff_a, credential_id=c.id, reason="越权")
    with pytest.raises(Forbidden):  # issuing in another district's name
        service.issue(
            session,
            lw.staff_b,
            kind_code="residence_permit",
            data={"name": "x", "gender": "male", "id_number": id_number(date(1990, 1, 2), 456), "address": "x"},
            holder_person_id=lw.other.id,
            issuer_department_id=lw.gaj_a.id,
        )
    resident = lw.resident_actor
    with pytest.raises(Forbidden):
        service.issue(session, resident, kind_code="residence_permit", data={}, holder_person_id=lw.resident.id)
    assert [x.no for x in service.search(session, lw.staff_a)] == [c.no]
    assert service.search(session, lw.staff_b) == []
    assert service.get_visible(session, lw.staff_a, c.no) is c


def test_bad_input_on_issue_writes_nothing(session: Session, lw: LicenceWorld) -> None:
    before = _count(session, Credential)
    with pytest.raises(Invalid) as unknown:
        service.issue(session, lw.staff_a, kind_code="dragon_licence", data={}, holder_person_id=lw.resident.id)
    assert [d.field for d in unknown.value.details] == ["kind_code"]
    with pytest.raises(Invalid) as missing:
        service.issue(
            session,
            lw.staff_a,
            kind_code="residence_permit",
            data={"name": "", "gender": "robot", "id_number": "51010419580615123", "colour": "red"},
            holder_person_id=lw.resident.id,
        )
    fields = {d.field for d in missing.value.details}
    assert fields == {"data.name", "data.gender", "data.id_number", "data.address", "data.colour"}
    with pytest.raises(Invalid) as wrong_dept:  # 公安 does not issue 结婚证
        service.issue(
            session,
            lw.staff_a,
            kind_code="marriage_certificate",
            data=marriage_data(lw.resident),
            holder_person_id=lw.resident.id,
        )
    assert [d.field for d in wrong_dept.value.details] == ["issuer_department_id"]
    with pytest.raises(Invalid) as holder:
        service.issue(
            session,
            SYSTEM,
            kind_code="business_licence",
            data={},
            holder_person_id=lw.resident.id,
            issuer_department_id=lw.scjgj_a.id,
        )
    assert "holder_organisation_id" in {d.field for d in holder.value.details}
    for bad in (0, -3, 10**7):
        with pytest.raises(Invalid) as days:
            _marriage(session, lw, valid_days=bad)
        assert [d.field for d in days.value.details] == ["valid_days"]
    with pytest.raises(Invalid):
        service.issue(session, SYSTEM, kind_code="marriage_certificate", data=["x"], holder_person_id=lw.resident.id)  # type: ignore[arg-type]
    with pytest.raises(Invalid) as no_person:
        _marriage(session, lw, holder=987_654)
    assert [d.field for d in no_person.value.details] == ["holder_person_id"]
    assert _count(session, Credential) == before


def test_bad_input_on_revoke_and_token(session: Session, lw: LicenceWorld) -> None:
    c = _marriage(session, lw)
    for reason in ("", "   ", "x" * 256):
        with pytest.raises(Invalid) as bad:
            service.revoke(session, lw.mzj_staff_a, credential_id=c.id, reason=reason)
        assert [d.field for d in bad.value.details] == ["reason"]
    assert c.revoked_at is None
    with pytest.raises(NotFound):
        service.revoke(session, lw.mzj_staff_a, credential_id=424_242, reason="x")
    with pytest.raises(Invalid):
        service.presentation_token(session, c, ttl_seconds=5)
    with pytest.raises(Invalid):
        service.verify(session, "  ")


def test_organisation_credentials_and_merchant_wallet(session: Session, lw: LicenceWorld) -> None:
    licence = service.issue(
        session,
        SYSTEM,
        kind_code="business_licence",
        data={
            "org_name": lw.org.name,
            "uscc": uscc(),
            "org_type": "个体工商户",
            "legal_representative": "赵六",
            "established_on": "2024-03-01",
            "address": "幸福社区1号",
            "business_scope": "餐饮服务",
        },
        holder_organisation_id=lw.org.id,
        issuer_department_id=lw.scjgj_a.id,
        subject="application:1",
    )
    merchant = make_actor(session, roles=["merchant"], scope=lw.world.grid1, organisation_id=lw.org.id)
    assert [c.no for c in service.wallet(session, merchant)] == [licence.no]
    assert service.verify(session, licence.no).holder_name == "锦江小面馆"  # an organisation's name is public
    assert service.valid_for(session, organisation_id=lw.org.id, kinds=["business_licence"]) == [licence]
    assert service.valid_for(session) == []


def test_registry_issues_id_card_and_household_register_once(session: Session, lw: LicenceWorld) -> None:
    got = service.registry_credentials(session, lw.resident.id)
    assert sorted(c.kind_code for c in got) == ["household_register", "id_card"]
    card = next(c for c in got if c.kind_code == "id_card")
    data = service.data_of(card)
    assert data["name"] == "王秀英"
    assert data["birth_date"] == "1958-06-15"
    assert data["gender"] == "female"
    assert "测试市甲区" in data["address"]
    assert data["address"].endswith("101")
    assert card.issuer_department_id == lw.gaj_a.id  # the district's public security department
    assert card.expires_at is None  # issued at 46 or older: long-term
    register = next(c for c in got if c.kind_code == "household_register")
    assert service.data_of(register)["relation"] == "户主"
    again = service.registry_credentials(session, lw.resident.id)
    assert {c.id for c in again} == {c.id for c in got}
    # The registry changed (a new name): the old card is revoked, a new one issued.
    lw.resident.name = "王秀芳"
    session.flush()
    renewed = service.registry_credentials(session, lw.resident.id)
    assert {c.id for c in renewed}.isdisjoint({c.id for c in got})
    assert card.revoked_at is not None
    # A young resident's card expires (under 16: five years); one without an id number gets none.
    child = lw.other
    child.birth_date = date(1990, 1, 2)
    young = service.registry_credentials(session, child.id)
    assert [c.kind_code for c in young] == ["id_card"]  # no household: no 户口簿
    assert young[0].expires_at is not None
    from tests.factories import make_person

    nobody = make_person(session, name="无证人", region=lw.world.room2)
    assert service.registry_credentials(session, nobody.id) == []
    with pytest.raises(NotFound):
        service.registry_credentials(session, 10**8)


def test_wallet_shows_registry_credentials_and_states(session: Session, lw: LicenceWorld) -> None:
    short = service.issue(
        session,
        lw.staff_a,
        kind_code="no_criminal_record",
        data={"name": lw.resident.name, "id_number": id_number(date(1958, 6, 15)), "result": "未发现有犯罪记录"},
        holder_person_id=lw.resident.id,
        valid_days=1,
    )
    short.expires_at = utcnow() - timedelta(hours=1)  # (unsigned change: shown expired all the same)
    session.flush()
    rows = service.wallet(session, lw.resident_actor)
    assert {c.kind_code for c in rows} == {"id_card", "household_register", "no_criminal_record"}
    assert rows[-1].no == short.no
    assert service.state_of(rows[-1]) == "expired"
    staff_wallet = service.wallet(session, lw.staff_a)
    assert staff_wallet == []


def test_find_holder_by_identity_number(session: Session, lw: LicenceWorld) -> None:
    assert service.find_holder(session, lw.staff_a, id_number=id_number(date(1958, 6, 15)).lower()) is lw.resident
    for bad in ("", "123", id_number(date(2001, 1, 1), 999)):
        with pytest.raises(Invalid):
            service.find_holder(session, lw.staff_a, id_number=bad)
    with pytest.raises(Forbidden):
        service.find_holder(session, lw.resident_actor, id_number=id_number(date(1958, 6, 15)))
