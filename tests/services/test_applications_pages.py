"""Pages of 办件: the generated form (locked values, consent, errors under fields), the list,
the application page with its steps and the department's buttons, the counter and the kiosk."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import session_cookie
from tests.services.applications_fixtures import SINGLE_FORM, AppWorld, app_world  # noqa: F401


def _signed_in(client: TestClient, session: Session, account_id: int) -> TestClient:
    from cityos.core.settings import get_settings

    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))
    return client


def test_apply_form_shows_locked_values_and_consent(client: TestClient, session: Session, aw: AppWorld) -> None:
    c = _signed_in(client, session, aw.resident_account_id)
    page = c.get("/services/items/t-elderly/apply", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-testid="locked-id_number"' in html
    assert "510104********" in html  # masked, read-only
    assert 'data-testid="consent-credentials"' in html
    assert "居民身份证" in html
    refused = c.post("/services/items/t-elderly/apply", data={"intent": "submit"}, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 422
    assert 'data-testid="error-consent"' in refused.text
    assert "请同意调用所列电子证照" in refused.text
    done = c.post("/services/items/t-elderly/apply", data={"intent": "submit", "consent": "1"}, follow_redirects=False)
    assert done.status_code == 303
    detail = c.get(done.headers["location"])
    assert 'data-testid="steps"' in detail.text
    assert "甲区民政局" in detail.text


def test_field_errors_sit_under_their_fields(client: TestClient, session: Session, aw: AppWorld) -> None:
    c = _signed_in(client, session, aw.resident_account_id)
    page = c.post(
        "/services/items/t-single/apply",
        data={"intent": "submit", "household_size": "two", "reason": "", "kind": "a"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert page.status_code == 422
    assert 'data-testid="error-household_size"' in page.text
    assert "必须是整数" in page.text
    assert 'data-testid="error-reason"' in page.text
    assert "此项必填" in page.text
    draft = c.post("/services/items/t-single/apply", data={"intent": "draft", "reason": "困难"}, follow_redirects=False)
    assert draft.status_code == 303
    shown = c.get(draft.headers["location"])
    assert 'data-testid="continue-draft"' in shown.text


def test_department_sees_buttons_and_approves(client: TestClient, session: Session, aw: AppWorld) -> None:
    from cityos.services.applications import service, submission

    app = service.start_draft(session, aw.resident, item_code="t-single")
    submission.submit(session, aw.resident, application_id=app.id, form=SINGLE_FORM, consent=False)
    session.commit()
    c = _signed_in(client, session, aw.mzj_staff.account_id)  # type: ignore[arg-type]
    page = c.get(f"/applications/{app.id}")
    assert 'data-testid="act-receive"' in page.text
    assert "<dd>城市</dd>" in page.text  # the enum's label, not its value "a"
    assert 'data-testid="supplement-form"' in page.text
    assert c.post(f"/applications/{app.id}/act", data={"action": "receive"}, follow_redirects=False).status_code == 303
    empty = c.post(f"/applications/{app.id}/supplement", data={})
    assert empty.status_code == 422
    asked = c.post(
        f"/applications/{app.id}/supplement",
        data={"need.reason": "1", "reason.reason": "请详细说明"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    inbox = c.get("/applications?view=inbox")
    assert app.no in inbox.text


def test_counter_finds_a_resident_and_files_for_them(client: TestClient, session: Session, aw: AppWorld) -> None:
    from tests.factories import make_account

    clerk = make_account(session, roles=["window_clerk"], scope=aw.world.district_a)
    session.commit()
    c = _signed_in(client, session, clerk.id)
    from datetime import date

    from tests.services.applications_fixtures import valid_id

    found = c.get("/counter", params={"id_number": valid_id(date(1960, 3, 1))})
    assert found.status_code == 200
    assert "王秀英" in found.text
    chosen = c.get("/counter", params={"person_id": aw.person.id})
    assert "t-elderly/apply?person_id=" in chosen.text
    bad = c.get("/counter", params={"id_number": "123"})
    assert bad.status_code == 200
    assert 'class="field-error"' in bad.text  # the identity number's own message, under the field
    done = c.post(
        "/services/items/t-elderly/apply",
        data={"intent": "submit", "consent": "1", "person_id": str(aw.person.id), "channel": "counter"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "receipt=1" in done.headers["location"]
    receipt = c.get(done.headers["location"])
    assert 'data-testid="receipt"' in receipt.text


def test_kiosk_asks_for_a_phone_then_offers_items(client: TestClient, session: Session, aw: AppWorld) -> None:
    anonymous = client.get("/kiosk")
    assert anonymous.status_code == 200
    assert 'action="/signin/code"' in anonymous.text
    c = _signed_in(client, session, aw.resident_account_id)
    page = c.get("/kiosk")
    assert 'data-testid="kiosk-items"' in page.text
    assert "t-elderly/apply?channel=kiosk" in page.text
    assert 'id="kiosk-signout"' in page.text
    assert "* 1000" in page.text
    form = c.get("/services/items/t-single/apply?channel=kiosk")
    assert 'id="kiosk-signout"' in form.text
