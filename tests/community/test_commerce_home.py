"""The resident's phone home page /community: a card for each of pass, bills, repairs, parcels,
notices, votes, nearby services and the city's services, filled through the parts' contract
functions; a part that is missing or fails makes only its own card unavailable (also when its
query breaks the transaction); non-residents are told the page is for residents."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from cityos.community.commerce import home
from cityos.places import index
from tests.community.commerce_fixtures import Shops, actor, make_shops, offer_at
from tests.factories import session_cookie

ZH = {"Accept-Language": "zh-CN"}
CARDS = ("pass", "bills", "repairs", "parcels", "notices", "votes", "shop", "city")


@pytest.fixture
def home_client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # Until cityos.routes mounts the home router, include it here (once).
    if not any(getattr(r, "path", None) == "/community" for r in app.routes):
        app.include_router(home.router)
    with TestClient(app, headers={"Accept-Language": "en"}) as c:
        yield c


@pytest.fixture
def shops(session: Session):  # type: ignore[no-untyped-def]
    from cityos.cases import processes
    from cityos.cases import service as cases

    built = make_shops(session)
    cases.install_categories(session)
    processes.install(session)
    session.commit()
    yield built
    index.invalidate()


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def _states(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="card-(\w+)" data-state="(\w+)"', html))


def test_the_home_page_brings_the_parts_together(home_client: TestClient, session: Session, shops: Shops) -> None:
    from cityos.cases import service as cases

    offer_at(session, shops, north_m=300, category="fresh", title="当日蔬菜套餐", price_fen=2990)
    lon, lat = shops.home
    me = actor(session, shops.resident)
    repair = cases.report(
        session, me, category_code="repair.01.02", title="楼道灯不亮", channel="resident", lon=lon, lat=lat
    )
    session.commit()
    _as(home_client, session, shops.resident.id)
    page = home_client.get("/community", headers=ZH)
    assert page.status_code == 200
    html = page.text
    states = _states(html)
    assert list(states) == list(CARDS)
    assert "unavailable" not in states.values(), states
    assert "我的社区" in html
    assert "阳光小区1栋1单元101" in html
    # The parts' cards with nothing yet say so; the pass card offers to get one.
    assert states["pass"] == "empty"
    assert "您还没有出入码。" in html
    assert 'href="/community/pass"' in html
    assert states["bills"] == states["parcels"] == states["votes"] == "empty"
    # My repair, my nearby services and the city's services.
    assert states["repairs"] == "ok"
    assert "楼道灯不亮" in html
    assert f'href="/cases/{repair.id}"' in html
    assert states["shop"] == "ok"
    assert "当日蔬菜套餐" in html
    assert "300米 · ¥29.90/次" in html
    assert 'href="/shop"' in html
    assert 'href="/services"' in html
    assert 'href="/offers"' in html
    en = home_client.get("/community").text
    assert "Nearby services" in en
    assert "You have no entry pass yet." in en


def test_a_missing_or_failing_part_empties_only_its_card(
    home_client: TestClient, session: Session, shops: Shops, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityos.community.access import service as access
    from cityos.community.governance import service as governance
    from cityos.community.property import service as property_

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("the part is down")

    def breaks_the_transaction(session: Session, *args: object, **kwargs: object) -> list[object]:
        session.execute(text("SELECT * FROM no_such_table"))
        return []

    monkeypatch.setattr(access, "my_passes", broken)
    monkeypatch.delattr(governance, "my_notices")
    monkeypatch.setattr(property_, "my_parcels", breaks_the_transaction)
    offer_at(session, shops, north_m=300, title="水电维修上门")
    session.commit()
    _as(home_client, session, shops.resident.id)
    page = home_client.get("/community", headers=ZH)
    assert page.status_code == 200
    states = _states(page.text)
    assert states["pass"] == states["notices"] == states["parcels"] == "unavailable"
    assert states["shop"] == "ok"
    assert states["bills"] == states["votes"] == "empty"
    assert page.text.count("暂时无法显示。") == 3
    assert "水电维修上门" in page.text


def test_non_residents_are_told_the_page_is_for_residents(
    home_client: TestClient, session: Session, shops: Shops
) -> None:
    _as(home_client, session, shops.merchant_a.id)
    page = home_client.get("/community", headers=ZH)
    assert page.status_code == 200
    assert "此页面供居民使用" in page.text
    assert _states(page.text) == {}
    home_client.cookies.clear()
    assert home_client.get("/community", follow_redirects=False).status_code in (303, 401)
