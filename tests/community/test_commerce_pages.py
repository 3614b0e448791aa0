"""The pages of neighbourhood commerce in zh_CN and en: /shop with categories, distances and the
map's data; the order form pre-filled from the resident's records, with field errors under the
fields; the order page with its timeline, cancel and rating; the merchant console with incoming
orders and their buttons, the phone shown in full only after accepting, and offers published
and edited through the form with its errors."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.commerce import orders
from cityos.community.commerce.models import Offer, Order
from cityos.places import index
from tests.community.commerce_fixtures import Shops, actor, make_shops, offer_at
from tests.factories import session_cookie

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def shops(session: Session):  # type: ignore[no-untyped-def]
    built = make_shops(session)
    session.commit()
    yield built
    index.invalidate()


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def _map_points(html: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r'data-points="([^"]*)"', html)
    assert match is not None
    import html as html_lib

    return json.loads(html_lib.unescape(match.group(1)))


def test_the_shop_page_lists_what_is_near_home(client: TestClient, session: Session, shops: Shops) -> None:
    offer_at(session, shops, north_m=450, category="laundry", title="干洗店", opening_hours="00:00-24:00")
    offer_at(session, shops, north_m=1800, category="repair", title="水电维修")
    offer_at(session, shops, north_m=3200, title="太远了")
    session.commit()
    _as(client, session, shops.resident.id)
    page = client.get("/shop", headers=ZH)
    assert page.status_code == 200
    text = page.text
    assert "邻里服务" in text
    for word in ("家政", "维修", "3C快修", "生鲜", "洗衣", "开锁", "养老助餐"):
        assert word in text
    assert "干洗店" in text
    assert "水电维修" in text
    assert "太远了" not in text
    assert "500米" in text
    assert "1.8公里" in text
    assert "营业中" in text
    assert "¥80/次" in text
    assert text.index("干洗店") < text.index("水电维修")
    points = _map_points(text)
    assert [o["title"] for o in points["offers"]] == ["干洗店", "水电维修"]
    assert points["here"] == pytest.approx(list(shops.home))
    assert "/static/vendor/maplibre/maplibre-gl.js" in text
    only = client.get("/shop?category=repair", headers=ZH).text
    assert "水电维修" in only
    assert "干洗店" not in only
    en = client.get("/shop")
    assert "Services in the neighbourhood" in en.text
    assert "500 m" in en.text
    assert "Housekeeping" in en.text
    # Around the phone's location instead: nothing reaches that far-away point.
    there = client.get("/shop?lon=104.15&lat=30.05", headers=ZH).text
    assert "正在显示您当前位置附近的服务" in there
    assert "暂时没有这类服务能到达您这里" in there


def test_the_shop_page_without_a_home(client: TestClient, session: Session, shops: Shops) -> None:
    _as(client, session, shops.merchant_a.id)
    page = client.get("/shop", headers=ZH)
    assert page.status_code == 200
    assert "我们不知道您住在哪里" in page.text
    from tests.factories import make_account

    staff = make_account(session, roles=["grid_worker"], scope=shops.world.grid1)
    session.commit()
    _as(client, session, staff.id)
    assert client.get("/shop", headers={**ZH, "Accept": "text/html"}).status_code == 403


def test_ordering_through_the_form(client: TestClient, session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=600, opening_hours="08:00-20:00")
    session.commit()
    _as(client, session, shops.resident.id)
    form = client.get(f"/shop/offers/{offer.id}", headers=ZH)
    assert form.status_code == 200
    assert 'value="阳光小区1栋1单元101"' in form.text
    assert "139****1111" in form.text
    assert "商家接单后才能看到您的完整号码" in form.text
    assert "13900001111" not in form.text
    bad = client.post(
        f"/shop/offers/{offer.id}/order",
        data={"address": "x", "phone": "12", "preferred_at": "2020-01-01T10:00", "note": "早点来"},
        headers=ZH,
    )
    assert bad.status_code == 422
    assert 'data-testid="error-address"' in bad.text
    assert "手机号码为 11 位" in bad.text
    assert "请选择现在之后的时间。" in bad.text
    assert "早点来" in bad.text  # what was typed is kept
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    garbled = client.post(f"/shop/offers/{offer.id}/order", data={"preferred_at": "明天"}, headers=ZH)
    assert garbled.status_code == 422
    assert 'data-testid="error-preferred_at"' in garbled.text
    done = client.post(f"/shop/offers/{offer.id}/order", data={"note": "请带梯子"}, follow_redirects=False)
    assert done.status_code == 303
    order = session.scalars(select(Order)).one()
    assert done.headers["location"] == f"/shop/orders/{order.id}?notice=placed"
    assert order.address == "阳光小区1栋1单元101"
    page = client.get(done.headers["location"], headers=ZH)
    assert "您的订单已提交" in page.text
    assert "待接单" in page.text
    assert "已下单" in page.text
    assert "请带梯子" in page.text
    assert 'data-testid="cancel"' in page.text
    listing = client.get("/shop/orders", headers=ZH)
    assert order.no in listing.text
    assert "进行中" in listing.text
    assert order.no not in client.get("/shop/orders?view=done", headers=ZH).text
    cancelled = client.post(f"/shop/orders/{order.id}/cancel", data={"note": "改天再说"}, follow_redirects=False)
    assert cancelled.status_code == 303
    after = client.get(cancelled.headers["location"], headers=ZH).text
    assert "您的订单已取消" in after
    assert "改天再说" in after
    assert 'data-testid="cancel"' not in after
    twice = client.post(f"/shop/orders/{order.id}/cancel", data={}, headers={**ZH, "Accept": "text/html"})
    assert twice.status_code == 409


def test_rating_on_the_order_page(client: TestClient, session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=600)
    merchant = actor(session, shops.merchant_a)
    order = orders.place_order(session, actor(session, shops.resident), offer_id=offer.id)
    for step in ("accept", "done"):
        orders.act(session, merchant, order_id=order.id, action=step)
    session.commit()
    _as(client, session, shops.resident.id)
    page = client.get(f"/shop/orders/{order.id}", headers=ZH).text
    assert "评价服务" in page
    assert "非常满意" in page
    bad = client.post(f"/shop/orders/{order.id}/rate", data={"level": "9"}, headers=ZH)
    assert bad.status_code == 422
    assert 'data-testid="error-level"' in bad.text
    good = client.post(f"/shop/orders/{order.id}/rate", data={"level": "4", "comment": "挺好"}, follow_redirects=False)
    assert good.status_code == 303
    after = client.get(good.headers["location"], headers=ZH).text
    assert "感谢您的评价" in after
    assert "4分（满分5分）" in after
    assert "修改评价（仅一次）" in after
    client.post(f"/shop/orders/{order.id}/rate", data={"level": "5"})
    final = client.get(f"/shop/orders/{order.id}", headers=ZH).text
    assert 'data-testid="rate-form"' not in final
    assert "修改了评价" in final
    # Someone else's order is not found.
    _as(client, session, shops.neighbour.id)
    assert client.get(f"/shop/orders/{order.id}", headers={**ZH, "Accept": "text/html"}).status_code == 404


def test_the_merchant_console(client: TestClient, session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=600, title="空调清洗")
    order = orders.place_order(session, actor(session, shops.resident), offer_id=offer.id, note="下午在家")
    session.commit()
    _as(client, session, shops.merchant_a.id)
    page = client.get("/merchant", headers=ZH)
    assert page.status_code == 200
    text = page.text
    assert "阳光家政服务部" in text
    assert "待处理的订单" in text
    assert "空调清洗" in text
    assert "139****1111" in text
    assert "13900001111" not in text
    assert f'data-testid="step-accept-{order.id}"' in text
    assert f'data-testid="step-reject-{order.id}"' in text
    assert "发布服务" in text
    detail = client.get(f"/merchant/orders/{order.id}", headers=ZH).text
    assert "139****1111" in detail
    assert "接单后显示完整号码" in detail
    no_reason = client.post(f"/merchant/orders/{order.id}/steps/reject", data={"note": ""}, headers=ZH)
    assert no_reason.status_code == 422
    assert "请告诉居民原因" in no_reason.text
    accepted = client.post(
        f"/merchant/orders/{order.id}/steps/accept", data={"next": "console"}, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/merchant?notice=accept"
    assert "已接单，已通知居民" in client.get(accepted.headers["location"], headers=ZH).text
    shown = client.get(f"/merchant/orders/{order.id}", headers=ZH).text
    assert 'href="tel:13900001111"' in shown
    assert "开始服务" in shown
    en = client.get("/merchant").text
    assert "Orders to handle" in en
    assert "Start the service" in en
    # Another shop does not find it.
    _as(client, session, shops.merchant_b.id)
    assert client.get(f"/merchant/orders/{order.id}", headers={**ZH, "Accept": "text/html"}).status_code == 404
    assert client.post(f"/merchant/orders/{order.id}/steps/done", data={}).status_code == 404


def test_publishing_and_editing_through_the_form(client: TestClient, session: Session, shops: Shops) -> None:
    _as(client, session, shops.merchant_b.id)
    form = client.get("/merchant/offers/new", headers=ZH)
    assert form.status_code == 200
    assert "服务名称" in form.text
    bad = client.post(
        "/merchant/offers",
        data={"category": "", "title": "x", "price": "八十", "radius_m": "5000", "opening_hours": "早八晚八"},
        headers=ZH,
    )
    assert bad.status_code == 422
    for field in ("category", "title", "price", "radius_m", "opening_hours"):
        assert f'data-testid="error-{field}"' in bad.text, field
    assert "服务半径须在100米到3公里之间。" in bad.text
    assert 'value="八十"' in bad.text
    assert session.scalar(select(func.count()).select_from(Offer)) == 0
    made = client.post(
        "/merchant/offers",
        data={
            "category": "electronics",
            "title": "手机换屏",
            "description": "原厂屏幕",
            "price": "199.5",
            "unit": "次",
            "radius_m": "2000",
            "opening_hours": "09:00-21:00",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    offer = session.scalars(select(Offer)).one()
    assert (offer.price_fen, offer.radius_m, offer.organisation_id) == (19950, 2000, shops.shop_b.id)
    assert made.headers["location"] == "/merchant?notice=created"
    console = client.get(made.headers["location"], headers=ZH).text
    assert "服务已发布" in console
    assert "手机换屏" in console
    assert "¥199.50/次" in console
    edit = client.get(f"/merchant/offers/{offer.id}", headers=ZH)
    assert 'value="199.50"' in edit.text
    saved = client.post(
        f"/merchant/offers/{offer.id}",
        data={"category": "electronics", "title": "手机换屏", "negotiable": "1", "radius_m": "2000"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.refresh(offer)
    assert offer.price_fen is None
    bad_edit = client.post(
        f"/merchant/offers/{offer.id}", data={"category": "electronics", "title": "手机换屏", "lon": "104"}, headers=ZH
    )
    assert bad_edit.status_code == 422
    assert 'data-testid="error-lat"' in bad_edit.text
    off = client.post(f"/merchant/offers/{offer.id}/active", data={"active": "0"}, follow_redirects=False)
    assert off.status_code == 303
    session.refresh(offer)
    assert offer.active is False
    # Another shop cannot open it.
    _as(client, session, shops.merchant_a.id)
    assert client.get(f"/merchant/offers/{offer.id}", headers={**ZH, "Accept": "text/html"}).status_code == 404


def test_an_operator_publishes_for_a_shop_it_chooses(client: TestClient, session: Session, shops: Shops) -> None:
    _as(client, session, shops.admin.id)
    form = client.get("/merchant/offers/new", headers=ZH).text
    assert "阳光家政服务部" in form
    assert "成都某某科技有限公司" not in form  # not a merchant
    missing = client.post("/merchant/offers", data={"category": "repair", "title": "代发服务"}, headers=ZH)
    assert missing.status_code == 422
    assert "请选择该服务所属的店铺。" in missing.text
    made = client.post(
        "/merchant/offers",
        data={"organisation_id": str(shops.shop_a.id), "category": "repair", "title": "代发服务"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert session.scalars(select(Offer.organisation_id)).one() == shops.shop_a.id


def test_a_merchant_without_a_shop_is_told(client: TestClient, session: Session, shops: Shops) -> None:
    from tests.factories import make_account

    shopless = make_account(session, roles=["merchant"], scope=shops.world.grid1)
    session.commit()
    _as(client, session, shopless.id)
    page = client.get("/merchant", headers=ZH)
    assert page.status_code == 200
    assert "您的账号不属于任何店铺" in page.text
    _as(client, session, shops.resident.id)
    assert client.get("/merchant", headers={**ZH, "Accept": "text/html"}).status_code == 403
