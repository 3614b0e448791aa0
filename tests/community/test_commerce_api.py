"""The JSON routes of neighbourhood commerce: nearby offers around a point or the resident's
home, a shop publishing and editing, an order through its steps and rating, and for every
write bad input answered 4xx with field messages in the caller's language (never a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.commerce.models import Offer, Order
from cityos.places import index
from tests.community.commerce_fixtures import Shops, make_shops, offer_at
from tests.factories import bearer

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def shops(session: Session):  # type: ignore[no-untyped-def]
    built = make_shops(session)
    session.commit()
    yield built
    index.invalidate()


def _fields(response: Any) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_nearby_around_a_point_or_home(client: TestClient, session: Session, shops: Shops) -> None:
    offer_at(session, shops, north_m=1200, category="laundry", title="干洗店")
    offer_at(session, shops, north_m=3100, title="太远了")
    session.commit()
    me = bearer(shops.resident.id)
    lon, lat = shops.home
    around = client.get("/api/v1/shop/offers", params={"lon": lon, "lat": lat}, headers=me)
    assert around.status_code == 200, around.text
    [found] = around.json()
    assert found["title"] == "干洗店"
    assert found["category_title"] == "Laundry"
    assert found["distance_label"] == "1.2 km"
    assert 1190 <= found["distance_m"] <= 1210
    assert found["price_label"] == "¥80/次"
    assert found["shop_name"] == "阳光家政服务部"
    # Without a point: around the resident's home; in Chinese.
    home = client.get("/api/v1/shop/offers", headers={**me, **ZH})
    assert [o["title"] for o in home.json()] == ["干洗店"]
    assert home.json()[0]["category_title"] == "洗衣"
    assert home.json()[0]["distance_label"] == "1.2公里"
    assert client.get("/api/v1/shop/offers", params={"category": "fresh"}, headers=me).json() == []
    # A merchant has no home: it must say where.
    nowhere = client.get("/api/v1/shop/offers", headers={**bearer(shops.merchant_a.id), **ZH})
    assert nowhere.status_code == 422
    assert "lon" in _fields(nowhere)
    bad = client.get(
        "/api/v1/shop/offers", params={"lon": lon, "lat": 99, "radius_m": 9000, "category": "spa"}, headers=ZH | me
    )
    assert bad.status_code == 422
    assert _fields(bad) == {
        "lat": "纬度须在-90到90之间。",
        "radius_m": "搜索半径须在100米到3公里之间。",
        "category": "请选择服务类别。",
    }
    half = client.get("/api/v1/shop/offers", params={"lon": lon}, headers=me)
    assert half.status_code == 422
    assert client.get("/api/v1/shop/offers", params={"lon": "east", "lat": lat}, headers=me).status_code == 422
    assert client.get("/api/v1/shop/offers").status_code == 401
    cats = client.get("/api/v1/shop/categories", headers={**me, **ZH}).json()
    assert cats[0] == {"key": "housekeeping", "title": "家政"}
    assert {"key": "electronics", "title": "3C快修"} in cats


def test_a_shop_publishes_and_edits(client: TestClient, session: Session, shops: Shops) -> None:
    shop = bearer(shops.merchant_a.id)
    made = client.post(
        "/api/v1/shop/offers",
        json={
            "category": "elderly_meals",
            "title": "长者午餐配送",
            "price_fen": 1500,
            "unit": "份",
            "radius_m": 1500,
            "opening_hours": "10:30-13:00",
        },
        headers=shop,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["price_label"], body["radius_m"], body["organisation_id"]) == ("¥15/份", 1500, shops.shop_a.id)
    assert body["lon"] == pytest.approx(shops.world.grid1.lon)
    offer_id = body["id"]
    changed = client.patch(f"/api/v1/shop/offers/{offer_id}", json={"price_fen": None, "active": False}, headers=shop)
    assert changed.status_code == 200
    assert (changed.json()["price_label"], changed.json()["active"]) == ("Price on request", False)
    mine = client.get("/api/v1/shop/my-offers", headers=shop).json()
    assert [o["id"] for o in mine] == [offer_id]
    # Another shop neither sees nor changes it; a resident does not see a switched-off offer.
    other = bearer(shops.merchant_b.id)
    assert client.patch(f"/api/v1/shop/offers/{offer_id}", json={"title": "抢来的"}, headers=other).status_code == 404
    assert client.get("/api/v1/shop/my-offers", headers=other).json() == []
    assert client.get(f"/api/v1/shop/offers/{offer_id}", headers=bearer(shops.resident.id)).status_code == 404
    assert client.get(f"/api/v1/shop/offers/{offer_id}", headers=shop).status_code == 200
    assert client.post("/api/v1/shop/offers", json={}, headers=bearer(shops.resident.id)).status_code == 422
    assert (
        client.post(
            "/api/v1/shop/offers", json={"category": "repair", "title": "居民发布"}, headers=bearer(shops.resident.id)
        ).status_code
        == 403
    )


def test_bad_offers_through_the_api(client: TestClient, session: Session, shops: Shops) -> None:
    shop = {**bearer(shops.merchant_a.id), **ZH}
    bad = client.post(
        "/api/v1/shop/offers",
        json={"category": "spa", "title": "x", "radius_m": 5000, "price_fen": -5, "opening_hours": "全天"},
        headers=shop,
    )
    assert bad.status_code == 422
    assert _fields(bad) == {
        "category": "请选择服务类别。",
        "title": "请填写2到64个字的服务名称。",
        "radius_m": "服务半径须在100米到3公里之间。",
        "price_fen": "请填写0到10万元之间的价格，或选择“面议”。",
        "opening_hours": "营业时间请写成08:00-20:00，多个时段用逗号分隔。",
    }
    typed = client.post(
        "/api/v1/shop/offers",
        json={"category": "repair", "title": "上门维修", "radius_m": "far", "price_fen": 1.5, "colour": "red"},
        headers=shop,
    )
    assert typed.status_code == 422
    assert set(_fields(typed)) == {"radius_m", "price_fen", "colour"}
    assert client.post("/api/v1/shop/offers", content=b"{", headers=shop).status_code == 422
    offer = offer_at(session, shops, north_m=100)
    session.commit()
    patched = client.patch(f"/api/v1/shop/offers/{offer.id}", json={"lon": 104.0, "lat": None}, headers=shop)
    assert patched.status_code == 422
    assert _fields(patched) == {"lat": "经度和纬度要么都填，要么都不填。"}
    assert client.patch(f"/api/v1/shop/offers/{offer.id}", json={"active": "yes"}, headers=shop).status_code == 422
    assert client.patch("/api/v1/shop/offers/999999", json={}, headers=shop).status_code == 404
    assert session.scalar(select(func.count()).select_from(Offer)) == 1


def _order(client: TestClient, offer_id: int, account_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/shop/offers/{offer_id}/orders", json=body, headers=bearer(account_id))


def test_an_order_through_the_api(client: TestClient, session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=600)
    session.commit()
    placed = _order(client, offer.id, shops.resident.id, note="周末上午")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["status"], order["address"], order["phone"]) == ("placed", "阳光小区1栋1单元101", "139****1111")
    assert order["status_title"] == "Waiting for the shop"
    shop, me = bearer(shops.merchant_a.id), bearer(shops.resident.id)
    seen = client.get(f"/api/v1/shop/orders/{order['id']}", headers=shop).json()
    assert seen["phone"] == "139****1111"
    assert seen["actions"] == ["accept", "reject"]
    assert client.get(f"/api/v1/shop/orders/{order['id']}", headers=bearer(shops.merchant_b.id)).status_code == 404
    assert (
        client.post(f"/api/v1/shop/orders/{order['id']}/steps/accept", json={}, headers=bearer(shops.merchant_b.id))
    ).status_code == 404
    assert client.post(f"/api/v1/shop/orders/{order['id']}/steps/accept", json={}, headers=me).status_code == 403
    accepted = client.post(f"/api/v1/shop/orders/{order['id']}/steps/accept", json={}, headers=shop)
    assert accepted.status_code == 200
    assert accepted.json()["phone"] == "139****1111"  # the step's answer is masked; the order page shows it
    assert client.get(f"/api/v1/shop/orders/{order['id']}", headers=shop).json()["phone"] == "13900001111"
    late = client.post(f"/api/v1/shop/orders/{order['id']}/steps/cancel", json={}, headers={**me, **ZH})
    assert late.status_code == 409
    assert late.json()["error"]["message"] == "商家已接单，如需取消请致电商家。"
    assert client.post(f"/api/v1/shop/orders/{order['id']}/rating", json={"level": 5}, headers=me).status_code == 409
    for step in ("start", "done"):
        assert client.post(f"/api/v1/shop/orders/{order['id']}/steps/{step}", json={}, headers=shop).status_code == 200
    bad_level = client.post(f"/api/v1/shop/orders/{order['id']}/rating", json={"level": 9}, headers={**me, **ZH})
    assert bad_level.status_code == 422
    assert "level" in _fields(bad_level)
    assert client.post(f"/api/v1/shop/orders/{order['id']}/rating", json={"level": "5"}, headers=me).status_code == 422
    rated = client.post(f"/api/v1/shop/orders/{order['id']}/rating", json={"level": 4, "comment": "准时"}, headers=me)
    assert rated.status_code == 200
    assert rated.json()["rating"] == 4
    detail = client.get(f"/api/v1/shop/orders/{order['id']}", headers=me).json()
    assert [s["action"] for s in detail["timeline"]] == ["placed", "accepted", "started", "done", "rated"]
    assert detail["timeline"][0]["note"] == "周末上午"
    assert (detail["can_rate"], detail["rating_comment"], detail["phone"]) == (True, "准时", "139****1111")
    assert client.post(f"/api/v1/shop/orders/{order['id']}/rating", json={"level": 5}, headers=me).status_code == 200
    assert client.post(f"/api/v1/shop/orders/{order['id']}/rating", json={"level": 1}, headers=me).status_code == 409
    listed = client.get("/api/v1/shop/orders", headers=me).json()
    assert (listed["total"], listed["items"][0]["rating"]) == (1, 5)
    assert client.get("/api/v1/shop/orders", params={"side": "shop"}, headers=shop).json()["total"] == 1
    assert client.get("/api/v1/shop/orders", params={"status": "done"}, headers=me).json()["total"] == 1
    assert client.get("/api/v1/shop/orders", params={"status": "placed"}, headers=me).json()["total"] == 0
    bad_list = client.get("/api/v1/shop/orders", params={"side": "theirs", "status": "lost"}, headers=me)
    assert bad_list.status_code == 422
    assert set(_fields(bad_list)) == {"side", "status"}
    shop_offer = client.get(f"/api/v1/shop/offers/{offer.id}", headers=me).json()
    assert (shop_offer["rating"], shop_offer["ratings"]) == (5.0, 1)


def test_bad_orders_through_the_api(client: TestClient, session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=600, opening_hours="08:00-20:00")
    session.commit()
    me = {**bearer(shops.resident.id), **ZH}
    bad = client.post(
        f"/api/v1/shop/offers/{offer.id}/orders",
        json={"phone": "110", "preferred_at": "2020-01-01T10:00:00+08:00", "note": "字" * 501, "address": "   "},
        headers=me,
    )
    assert bad.status_code == 422
    assert _fields(bad) == {
        "phone": "手机号码为 11 位，以 13 至 19 开头。",
        "preferred_at": "请选择现在之后的时间。",
        "note": "备注最多500个字。",
    }
    typed = client.post(f"/api/v1/shop/offers/{offer.id}/orders", json={"preferred_at": "soon", "x": 1}, headers=me)
    assert typed.status_code == 422
    assert set(_fields(typed)) == {"preferred_at", "x"}
    short = offer_at(session, shops, north_m=2500, radius_m=1000)
    session.commit()
    reach = client.post(f"/api/v1/shop/offers/{short.id}/orders", json={}, headers=me)
    assert reach.status_code == 422
    assert _fields(reach) == {"address": "该商家服务范围为1.0公里，您的地址距离2.5公里。"}
    assert client.post("/api/v1/shop/offers/999999/orders", json={}, headers=me).status_code == 404
    admin = client.post(f"/api/v1/shop/offers/{offer.id}/orders", json={}, headers=bearer(shops.admin.id))
    assert admin.status_code == 422
    shop = client.post(f"/api/v1/shop/offers/{offer.id}/orders", json={}, headers=bearer(shops.merchant_a.id))
    assert shop.status_code == 403
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    # Bad steps: unknown, a decline without a reason.
    order = _order(client, offer.id, shops.resident.id).json()
    shop_zh = {**bearer(shops.merchant_a.id), **ZH}
    unknown = client.post(f"/api/v1/shop/orders/{order['id']}/steps/fly", json={}, headers=shop_zh)
    assert unknown.status_code == 422
    assert _fields(unknown) == {"action": "未知的操作：fly。"}
    no_reason = client.post(f"/api/v1/shop/orders/{order['id']}/steps/reject", json={"note": ""}, headers=shop_zh)
    assert no_reason.status_code == 422
    assert _fields(no_reason) == {"note": "请告诉居民原因（2到500个字）。"}
    assert (
        client.post(f"/api/v1/shop/orders/{order['id']}/steps/accept", json={"x": 1}, headers=shop_zh).status_code
        == 422
    )
    assert client.get(f"/api/v1/shop/orders/{order['id']}", headers=bearer(shops.merchant_a.id)).json()["status"] == (
        "placed"
    )
