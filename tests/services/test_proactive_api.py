"""The JSON routes and pages of 服务找人: own offers with their reasons in the caller's
language, one-tap apply and dismissal with 404/409 for the wrong offer or the wrong moment,
the rule switchboard for service:write only."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.places import index
from cityos.services.licences import service as licences
from cityos.services.proactive import service
from cityos.services.proactive.models import Offer
from tests.factories import bearer, make_account, session_cookie
from tests.services.proactive_fixtures import TODAY, make_town, resident

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def setup(session: Session):  # type: ignore[no-untyped-def]
    town = make_town(session)
    person, account = resident(session, town, name="王秀英", birth=date(1966, 12, 1))
    licences.registry_credentials(session, person.id)
    service.evaluate_all(session, today=TODAY)
    _, stranger = resident(session, town, name="李四", birth=date(1980, 1, 1), serial=141)
    admin = make_account(session, roles=["admin"], scope=town.world.city)
    offers = {o.item_code: o.id for o in session.scalars(select(Offer).where(Offer.person_id == person.id))}
    session.commit()
    yield {"town": town, "account": account, "stranger": stranger, "admin": admin, "offers": offers}
    index.invalidate()


def test_my_offers_in_each_language(client: TestClient, setup) -> None:  # type: ignore[no-untyped-def]
    me = bearer(setup["account"].id)
    en = client.get("/api/v1/offers", headers=me)
    assert en.status_code == 200
    assert [o["item_code"] for o in en.json()] == ["mzj-005", "mzj-002"]
    card = en.json()[1]
    assert card["reason"] == "You turned 60 on December 1, 2026, so you can apply for the elderly preferential card."
    assert card["title"] == "老年人优待证办理"
    assert card["status"] == "offered"
    zh = client.get("/api/v1/offers", headers={**me, **ZH})
    assert zh.json()[1]["reason"] == "您于2026年12月1日年满60周岁，可申请老年人优待证。"
    assert client.get("/api/v1/offers", headers=bearer(setup["stranger"].id)).json() == []
    assert client.get("/api/v1/offers", params={"status": "all"}, headers=me).status_code == 200
    bad = client.get("/api/v1/offers", params={"status": "maybe"}, headers=me)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "status"
    assert client.get("/api/v1/offers").status_code == 401


def test_apply_and_dismiss_through_the_api(client: TestClient, setup) -> None:  # type: ignore[no-untyped-def]
    me, offers = bearer(setup["account"].id), setup["offers"]
    other = bearer(setup["stranger"].id)
    assert client.post(f"/api/v1/offers/{offers['mzj-002']}/apply", headers=other).status_code == 404
    assert client.post(f"/api/v1/offers/{offers['mzj-002']}/dismiss", headers=other).status_code == 404
    assert client.post("/api/v1/offers/999999/apply", headers=me).status_code == 404
    done = client.post(f"/api/v1/offers/{offers['mzj-002']}/apply", headers=me)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["complete"] is True
    assert body["offer"]["status"] == "applied"
    assert body["next_url"] == f"/applications/{body['application_ids'][0]}"
    assert body["missing"] == []
    twice = client.post(f"/api/v1/offers/{offers['mzj-002']}/apply", headers=me)
    assert twice.status_code == 409
    partial = client.post(f"/api/v1/offers/{offers['mzj-005']}/apply", headers={**me, **ZH})
    assert partial.status_code == 200
    assert partial.json()["complete"] is False
    assert "draft=" in partial.json()["next_url"]
    assert {m["field"] for m in partial.json()["missing"]} >= {"care_level", "service_mode"}
    put_away = client.post(f"/api/v1/offers/{offers['mzj-005']}/dismiss", headers=me)
    assert put_away.status_code == 200
    assert put_away.json()["status"] == "dismissed"
    assert client.post(f"/api/v1/offers/{offers['mzj-005']}/dismiss", headers=me).status_code == 409


def test_rules_are_read_by_staff_and_switched_by_service_write(client: TestClient, setup) -> None:  # type: ignore[no-untyped-def]
    admin, resident_headers = bearer(setup["admin"].id), bearer(setup["account"].id)
    listed = client.get("/api/v1/proactive-rules", headers={**admin, **ZH})
    assert listed.status_code == 200
    by_key = {r["key"]: r for r in listed.json()}
    assert by_key["elderly60"]["title"] == "年满60周岁：老年人优待证和养老服务补贴"
    assert "近30天内年满60周岁" in by_key["elderly60"]["description"]
    assert (
        client.put("/api/v1/proactive-rules/elderly60", json={"active": False}, headers=resident_headers).status_code
        == 403
    )
    assert client.put("/api/v1/proactive-rules/nope", json={"active": False}, headers=admin).status_code == 404
    assert client.put("/api/v1/proactive-rules/elderly60", json={"active": "perhaps"}, headers=admin).status_code == 422
    assert client.put("/api/v1/proactive-rules/elderly60", json={}, headers=admin).status_code == 422
    off = client.put("/api/v1/proactive-rules/elderly60", json={"active": False}, headers=admin)
    assert off.status_code == 200
    assert off.json()["active"] is False


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def test_offers_page_applies_in_one_tap(client: TestClient, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _as(client, session, setup["account"].id)
    page = client.get("/offers", headers=ZH)
    assert page.status_code == 200
    assert "一键申请" in page.text
    assert "不需要" in page.text
    assert "您于2026年12月1日年满60周岁，可申请老年人优待证。" in page.text
    en = client.get("/offers")
    assert "Apply in one tap" in en.text
    assert "so you can apply for the elderly preferential card" in en.text
    offers = setup["offers"]
    done = client.post(f"/offers/{offers['mzj-002']}/apply", follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/applications/")
    assert done.headers["location"].endswith("?applied=1")
    partial = client.post(f"/offers/{offers['mzj-005']}/apply", follow_redirects=False)
    assert partial.status_code == 303
    assert partial.headers["location"].startswith("/services/items/mzj-005/apply?draft=")
    assert 'data-testid="offer-continue"' in client.get("/offers").text
    applied = client.get("/offers?status=applied", headers=ZH)
    assert "查看办理进度" in applied.text
    assert client.post(f"/offers/{offers['mzj-002']}/apply", follow_redirects=False).status_code == 409


def test_offers_page_dismisses_and_refuses_others(client: TestClient, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    offers = setup["offers"]
    _as(client, session, setup["stranger"].id)
    assert "暂时没有新的推荐" in client.get("/offers", headers=ZH).text
    assert client.post(f"/offers/{offers['mzj-005']}/dismiss", follow_redirects=False).status_code == 404
    _as(client, session, setup["account"].id)
    gone = client.post(f"/offers/{offers['mzj-005']}/dismiss", follow_redirects=False)
    assert gone.status_code == 303
    assert "今后不再推荐" in client.get(gone.headers["location"], headers=ZH).text


def test_admin_page_switches_rules(client: TestClient, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _as(client, session, setup["account"].id)
    assert client.get("/admin/proactive").status_code == 403
    _as(client, session, setup["admin"].id)
    page = client.get("/admin/proactive", headers=ZH)
    assert page.status_code == 200
    assert "服务找人" in page.text
    assert "出生登记：新生儿出生一件事" in page.text
    assert "为您推荐 2" in page.text  # the elderly rule's two open offers
    switched = client.post("/admin/proactive/business", data={"active": "0"}, follow_redirects=False)
    assert switched.status_code == 303
    assert 'data-testid="switch-business">Switch on' in client.get("/admin/proactive").text
    assert client.post("/admin/proactive/business", data={"active": "x"}).status_code == 422
    assert client.post("/admin/proactive/nope", data={"active": "1"}).status_code == 404
