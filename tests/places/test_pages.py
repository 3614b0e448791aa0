"""The tree browser pages: redirect to the current region, breadcrumb, facts, children, map, search."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import World, make_account, make_world, session_cookie

HTML = {"Accept": "text/html"}


def _sign_in(client: TestClient, session: Session, world: World, *, roles: list[str], scope_name: str) -> None:
    account = make_account(session, roles=roles, scope=getattr(world, scope_name))
    session.commit()
    tok = session_cookie(session, account.id)
    client.cookies.set("cityos_session", tok)


def test_places_needs_sign_in(client: TestClient) -> None:
    r = client.get("/places", headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/signin")


def test_places_redirects_to_the_current_region(client: TestClient, session: Session) -> None:
    world = make_world(session)
    _sign_in(client, session, world, roles=["grid_worker"], scope_name="grid1")
    r = client.get("/places", headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/places/{world.grid1.id}"
    client.cookies.set("cityos_region", str(world.estate.id))
    r = client.get("/places", headers=HTML, follow_redirects=False)
    assert r.headers["location"] == f"/places/{world.estate.id}"


def test_region_page_shows_breadcrumb_facts_children_and_map(client: TestClient, session: Session) -> None:
    world = make_world(session)
    _sign_in(client, session, world, roles=["commander"], scope_name="city")
    r = client.get(f"/places/{world.community.id}", headers=HTML)
    assert r.status_code == 200
    text = r.text
    crumbs = text.split('data-testid="breadcrumb"')[1].split("</nav>")[0]
    assert [name in crumbs for name in ("测试市", "甲区", "一街道", "幸福社区")] == [True] * 4
    assert f'href="/places/{world.grid1.id}">第一网格</a>' in text
    assert f'href="/places/{world.grid2.id}">第二网格</a>' in text
    counts = text.split('data-testid="counts"')[1].split("</section>")[0]
    assert ">Grid<" in counts
    assert ">2<" in counts
    assert ">Room<" in counts
    assert ">3<" in counts
    assert f'data-geojson="/api/v1/regions/{world.community.id}/geojson"' in text
    assert "/static/js/places-map.js" in text


def test_region_without_shapes_says_so(client: TestClient, session: Session) -> None:
    world = make_world(session)
    _sign_in(client, session, world, roles=["commander"], scope_name="city")
    r = client.get(f"/places/{world.unit.id}", headers=HTML)
    assert r.status_code == 200
    assert 'data-testid="no-shape"' in r.text
    assert 'data-testid="places-map"' not in r.text


def test_region_page_in_chinese(client: TestClient, session: Session) -> None:
    world = make_world(session)
    _sign_in(client, session, world, roles=["commander"], scope_name="city")
    r = client.get(f"/places/{world.community.id}", headers={**HTML, "Accept-Language": "zh-CN"})
    assert "下级区域" in r.text
    assert "网格" in r.text
    assert "基本信息" in r.text


def test_out_of_scope_region_page_is_404(client: TestClient, session: Session) -> None:
    world = make_world(session)
    _sign_in(client, session, world, roles=["grid_worker"], scope_name="grid1")
    assert client.get(f"/places/{world.grid2.id}", headers=HTML).status_code == 404
    assert client.get(f"/places/{world.city.id}", headers=HTML).status_code == 404
    page = client.get(f"/places/{world.grid1.id}", headers=HTML)
    assert page.status_code == 200
    crumbs = page.text.split('data-testid="breadcrumb"')[1].split("</nav>")[0]
    assert "幸福社区" not in crumbs  # ancestors outside the scope are not shown


def test_search_page_and_htmx_fragment(client: TestClient, session: Session) -> None:
    world = make_world(session)
    _sign_in(client, session, world, roles=["grid_worker"], scope_name="grid1")
    full = client.get("/places/search", params={"q": "网格"}, headers=HTML)
    assert full.status_code == 200
    assert "<html" in full.text
    assert f'href="/places/{world.grid1.id}"' in full.text
    assert f'href="/places/{world.grid2.id}"' not in full.text
    fragment = client.get("/places/search", params={"q": "小区"}, headers={**HTML, "HX-Request": "true"})
    assert "<html" not in fragment.text
    assert f'href="/places/{world.estate.id}"' in fragment.text
    none = client.get("/places/search", params={"q": "没有这个"}, headers={**HTML, "HX-Request": "true"})
    assert "No region matches “没有这个”." in none.text
