"""Offers and the nearby search: the 3 km reach (2.9 km shown, 3.1 km not), the offer's own
smaller radius, order by distance then the shop's rating, categories, switched-off offers,
the bounding-box search agreeing with a brute-force scan over thousands of offers, and every
bad input refused with field messages."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cityos.community.commerce import service
from cityos.community.commerce.models import Offer, Order
from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.core.i18n import translate
from tests.community.commerce_fixtures import Shops, actor, make_shops, offer_at, point_from


@pytest.fixture
def shops(session: Session) -> Shops:
    return make_shops(session)


def _titles(found: list[service.Nearby]) -> list[str]:
    return [n.offer.title for n in found]


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {d.field: translate(d.message, locale="en", **d.params) for d in exc.value.details}


def test_an_offer_29_km_away_is_found_and_31_km_is_not(session: Session, shops: Shops) -> None:
    offer_at(session, shops, north_m=2900, title="北边2.9公里")
    offer_at(session, shops, north_m=-3100, title="南边3.1公里")
    offer_at(session, shops, east_m=3100, title="东边3.1公里")
    me = actor(session, shops.resident)
    lon, lat = shops.home
    found = service.nearby(session, me, lon=lon, lat=lat)
    assert _titles(found) == ["北边2.9公里"]
    assert 2890 < found[0].distance_m < 2910
    assert found[0].shop_name == "阳光家政服务部"
    # The contract function gives the same offers in the same order.
    assert [o.title for o in service.nearby_offers(session, me, lon=lon, lat=lat)] == ["北边2.9公里"]
    # A smaller search radius leaves it out.
    assert service.nearby(session, me, lon=lon, lat=lat, radius_m=2000) == []


def test_the_offers_own_smaller_radius_is_respected(session: Session, shops: Shops) -> None:
    offer_at(session, shops, north_m=1000, radius_m=800, title="只服务800米")
    offer_at(session, shops, north_m=700, radius_m=800, title="700米内")
    offer_at(session, shops, east_m=-1500, radius_m=1500, title="刚好1.5公里")
    lon, lat = shops.home
    found = service.nearby(session, actor(session, shops.resident), lon=lon, lat=lat)
    assert _titles(found) == ["700米内", "刚好1.5公里"]


def test_nearest_first_then_the_better_rated_shop(session: Session, shops: Shops) -> None:
    far = offer_at(session, shops, north_m=1800, shop="a", title="远处的店")
    near_a = offer_at(session, shops, north_m=520, shop="a", title="甲店")
    near_b = offer_at(session, shops, north_m=480, shop="b", title="乙店")
    lon, lat = shops.home
    me = actor(session, shops.resident)
    # No ratings: at the same shown distance (500 m) the nearer one comes first.
    assert _titles(service.nearby(session, me, lon=lon, lat=lat)) == ["乙店", "甲店", "远处的店"]
    # Shop a is rated 5, shop b 2: a comes first at the same shown distance; the far one stays last.
    for offer, level in ((near_a, 5), (near_b, 2)):
        session.add(
            Order(
                no=f"T{offer.id}",
                offer_id=offer.id,
                organisation_id=offer.organisation_id,
                title=offer.title,
                category=offer.category,
                address="阳光小区1栋1单元101",
                status="done",
                rating=level,
            )
        )
    session.flush()
    found = service.nearby(session, me, lon=lon, lat=lat)
    assert _titles(found) == ["甲店", "乙店", "远处的店"]
    assert found[0].rating == service.ShopRating(5.0, 1)
    assert found[0].shown_distance_m == found[1].shown_distance_m == 500
    assert far.id == found[2].offer.id


def test_categories_and_switched_off_offers(session: Session, shops: Shops) -> None:
    offer_at(session, shops, north_m=300, category="laundry", title="洗衣服务")
    gone = offer_at(session, shops, north_m=400, category="laundry", title="停了")
    offer_at(session, shops, north_m=500, category="fresh", title="生鲜")
    merchant = actor(session, shops.merchant_a)
    service.update_offer(session, merchant, offer_id=gone.id, active=False)
    lon, lat = shops.home
    me = actor(session, shops.resident)
    assert _titles(service.nearby(session, me, lon=lon, lat=lat, category="laundry")) == ["洗衣服务"]
    assert _titles(service.nearby(session, me, lon=lon, lat=lat)) == ["洗衣服务", "生鲜"]
    # The shop still sees its switched-off offer; a resident does not.
    assert service.get_offer(session, merchant, gone.id).active is False
    with pytest.raises(NotFound):
        service.get_offer(session, me, gone.id)
    assert [o.title for o in service.shop_offers(session, merchant)] == ["生鲜", "洗衣服务", "停了"]


def test_the_box_search_matches_a_full_scan_over_thousands_of_offers(session: Session, shops: Shops) -> None:
    rng = random.Random(7)
    rows = []
    for i in range(3000):
        lon, lat = point_from(shops.home, north_m=rng.uniform(-8000, 8000), east_m=rng.uniform(-8000, 8000))
        rows.append(
            {
                "organisation_id": shops.shop_a.id,
                "category": rng.choice(list(service.CATEGORIES)),
                "title": f"服务{i}",
                "description": "",
                "unit": "次",
                "radius_m": rng.choice((500, 1000, 2000, 3000)),
                "lon": lon,
                "lat": lat,
                "region_path": shops.shop_a.region_path,
                "opening_hours": "",
                "active": True,
            }
        )
    session.execute(insert(Offer), rows)
    lon, lat = shops.home
    found = service.nearby(session, actor(session, shops.resident), lon=lon, lat=lat, limit=10_000)
    expected = set()
    for offer in session.scalars(select(Offer)):
        d = service.distance_m(lon, lat, offer.lon, offer.lat)
        if d <= 3000 and d <= offer.radius_m:
            expected.add(offer.id)
    assert {n.offer.id for n in found} == expected
    assert len(expected) > 50
    distances = [n.shown_distance_m for n in found]
    assert distances == sorted(distances)
    # The default answer is capped for a phone screen.
    assert len(service.nearby(session, actor(session, shops.resident), lon=lon, lat=lat)) == min(
        len(expected), service.MAX_RESULTS
    )


def test_search_input_is_checked(session: Session, shops: Shops) -> None:
    me = actor(session, shops.resident)
    with pytest.raises(Invalid) as bad:
        service.nearby(session, me, lon=200.0, lat=95.0, radius_m=5000, category="spa")
    assert _fields(bad) == {
        "lon": "The longitude must be between -180 and 180.",
        "lat": "The latitude must be between -90 and 90.",
        "radius_m": "The search radius must be between 100 m and 3 km.",
        "category": "Choose a category.",
    }
    # A merchant may look around too (nothing is near this point).
    assert service.nearby(session, actor(session, shops.merchant_a), lon=104.0, lat=30.0) == []
    from tests.factories import make_actor

    with pytest.raises(Forbidden):
        service.nearby(session, make_actor(session, roles=["grid_worker"], scope=shops.world.grid1), lon=1.0, lat=1.0)


def test_an_offer_takes_the_shops_place_unless_given(session: Session, shops: Shops) -> None:
    merchant = actor(session, shops.merchant_a)
    offer = service.create_offer(
        session,
        merchant,
        category="housekeeping",
        title="  日常保洁  ",
        price_fen=None,
        opening_hours="08:00-12:00， 14:00-20:00",
    )
    grid = shops.world.grid1
    assert (offer.lon, offer.lat) == (grid.lon, grid.lat)
    assert offer.title == "日常保洁"
    assert offer.price_fen is None  # 面议
    assert offer.opening_hours == "08:00-12:00,14:00-20:00"
    assert offer.region_path == shops.shop_a.region_path
    assert offer.radius_m == 3000


def test_bad_offers_are_refused_with_every_field_named(session: Session, shops: Shops) -> None:
    merchant = actor(session, shops.merchant_a)
    with pytest.raises(Invalid) as bad:
        service.create_offer(
            session,
            merchant,
            category="spa",
            title="x",
            description="长" * 2001,
            price_fen=-1,
            unit="u" * 17,
            radius_m=3001,
            lon=181.0,
            lat=30.0,
            opening_hours="8点到20点",
        )
    assert set(_fields(bad)) == {
        "category",
        "title",
        "description",
        "price_fen",
        "unit",
        "radius_m",
        "lon",
        "opening_hours",
    }
    assert _fields(bad)["radius_m"] == "The service radius must be between 100 m and 3 km."
    with pytest.raises(Invalid) as half:
        service.create_offer(session, merchant, category="repair", title="上门维修", lon=104.0)
    assert _fields(half) == {"lat": "Give both the longitude and the latitude, or neither."}
    with pytest.raises(Invalid) as bool_radius:
        service.create_offer(session, merchant, category="repair", title="上门维修", radius_m=True)  # type: ignore[arg-type]
    assert set(_fields(bool_radius)) == {"radius_m"}
    assert session.scalar(select(func.count()).select_from(Offer)) == 0


def test_who_may_publish_and_edit(session: Session, shops: Shops) -> None:
    from tests.factories import make_account, make_actor

    offer = offer_at(session, shops, north_m=100)
    other = actor(session, shops.merchant_b)
    with pytest.raises(NotFound):
        service.update_offer(session, other, offer_id=offer.id, title="抢过来")
    with pytest.raises(Forbidden):
        service.create_offer(session, other, organisation_id=shops.shop_a.id, category="repair", title="冒名")
    shopless = make_actor(session, roles=["merchant"], scope=shops.world.grid1)
    with pytest.raises(Invalid) as no_shop:
        service.create_offer(session, shopless, category="repair", title="无店")
    assert _fields(no_shop) == {"organisation_id": "Your account does not belong to a shop."}
    assert service.shop_offers(session, shopless) == []
    company = make_account(session, roles=["merchant"], scope=shops.world.grid1, organisation_id=shops.enterprise.id)
    with pytest.raises(Invalid) as not_merchant:
        service.create_offer(session, actor(session, company), category="repair", title="公司")
    assert _fields(not_merchant) == {"organisation_id": "Only merchants can offer neighbourhood services."}
    with pytest.raises(Forbidden):
        service.create_offer(session, actor(session, shops.resident), category="repair", title="居民")
    # An operator publishes for a shop of its area, and must say which.
    admin = actor(session, shops.admin)
    with pytest.raises(Invalid) as which:
        service.create_offer(session, admin, category="repair", title="代发")
    assert _fields(which) == {"organisation_id": "Choose the shop this offer belongs to."}
    made = service.create_offer(session, admin, organisation_id=shops.shop_b.id, category="repair", title="代发")
    assert made.organisation_id == shops.shop_b.id
    district_b_admin = make_actor(session, roles=["admin"], scope=shops.world.district_b)
    with pytest.raises(NotFound):
        service.create_offer(session, district_b_admin, organisation_id=shops.shop_b.id, category="repair", title="x")
    with pytest.raises(NotFound):
        service.update_offer(session, district_b_admin, offer_id=made.id, title="改")


def test_partial_updates_check_what_is_given(session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=100, opening_hours="08:00-20:00")
    merchant = actor(session, shops.merchant_a)
    before = (offer.lon, offer.lat)
    changed = service.update_offer(session, merchant, offer_id=offer.id, price_fen=12050, radius_m=1500)
    assert (changed.price_fen, changed.radius_m, changed.title) == (12050, 1500, "上门维修")
    assert (changed.lon, changed.lat) == before
    with pytest.raises(Invalid) as bad:
        service.update_offer(session, merchant, offer_id=offer.id, lon=None, title="", opening_hours="25:00-26:00")
    assert set(_fields(bad)) == {"lon", "title", "opening_hours"}
    session.refresh(offer)
    assert offer.title == "上门维修"
    moved = service.update_offer(session, merchant, offer_id=offer.id, lon=104.02, lat=30.02)
    assert (moved.lon, moved.lat) == (104.02, 30.02)
    with pytest.raises(Invalid) as active:
        service.update_offer(session, merchant, offer_id=offer.id, active="yes")  # type: ignore[arg-type]
    assert set(_fields(active)) == {"active"}


def test_stats_of_a_region(session: Session, shops: Shops) -> None:
    offer_at(session, shops, north_m=100)
    offer_at(session, shops, north_m=200, shop="b")
    gone = offer_at(session, shops, north_m=300, shop="b")
    service.update_offer(session, actor(session, shops.merchant_b), offer_id=gone.id, active=False)
    figures = service.stats(session, region=shops.world.community)
    assert figures == {
        "offers_active": 2,
        "shops": 2,
        "orders_this_month": 0,
        "orders_done_this_month": 0,
        "orders_open": 0,
        "average_rating": 0.0,
        "ratings": 0,
    }
    assert service.stats(session, region=shops.world.district_b)["offers_active"] == 0


def test_opening_hours_prices_and_distances_read_right() -> None:
    from datetime import UTC, datetime

    from cityos.community.commerce import hours, presentation

    assert hours.parse("08:00-12:00，14:00-20:00") is not None
    assert hours.parse("00:00-24:00") is not None
    for bad in ("8:00-20:00", "08:00-08:00", "24:00-25:00", "08:00-24:30", "1,2,3,4,5", "全天"):
        assert hours.parse(bad) is None, bad
    ten_pm = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 22:00 in Chengdu
    assert hours.is_open("22:00-02:00", ten_pm)
    assert not hours.is_open("08:00-20:00", ten_pm)
    assert hours.is_open("", ten_pm)
    assert presentation.price_label(None) == "面议"
    assert presentation.price_label(0) == "免费"
    assert presentation.price_label(1234500, "次") == "¥12,345/次"
    assert presentation.price_label(8050) == "¥80.50"
    assert [presentation.distance(m) for m in (44, 351, 999, 1049, 2960)] == [
        "40米",
        "400米",
        "1.0公里",
        "1.0公里",
        "3.0公里",
    ]
