from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.web import home
from tests.factories import make_account, make_person, make_world, session_cookie


def _sign_in(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def test_landing_page_before_sign_in(client: TestClient) -> None:
    r = client.get("/", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert r.status_code == 200
    assert "工作人员登录" in r.text or "Staff sign-in" in r.text
    assert 'href="/signin"' in r.text


def test_home_shows_figures_of_scope_only(client: TestClient, session: Session) -> None:
    home.clear_cache()
    world = make_world(session)
    for i in range(3):
        make_person(session, name=f"居民{i}", region=world.room, birth_date=date(1950, 1, 1), tags=["elderly"])
    make_person(session, name="外人", region=world.other_room, birth_date=date(1990, 1, 1))
    worker = make_account(session, roles=["grid_worker"], scope=world.grid1)
    session.commit()
    _sign_in(client, session, worker.id)
    r = client.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert world.grid1.name in r.text
    assert 'data-testid="fig-residents">3<' in r.text
    # The region switcher cannot widen the scope: grid2 is ignored, the home stays on grid1.
    client.cookies.set("cityos_region", str(world.grid2.id))
    r = client.get("/", headers={"Accept": "text/html"})
    assert 'data-testid="fig-residents">3<' in r.text
    assert f'<option value="{world.grid2.id}"' not in r.text


def test_commander_sees_whole_city_and_can_switch_down(client: TestClient, session: Session) -> None:
    home.clear_cache()
    world = make_world(session)
    make_person(session, region=world.room)
    make_person(session, region=world.other_room)
    commander = make_account(session, roles=["commander"], scope=world.city)
    session.commit()
    _sign_in(client, session, commander.id)
    r = client.get("/", headers={"Accept": "text/html"})
    assert 'data-testid="fig-residents">2<' in r.text
    assert f'<option value="{world.district_a.id}"' in r.text
    r = client.post("/prefs/region", data={"region_id": world.grid2.id, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.get("/", headers={"Accept": "text/html"})
    assert 'data-testid="fig-residents">1<' in r.text


def test_department_staff_do_not_see_resident_figures(client: TestClient, session: Session) -> None:
    home.clear_cache()
    world = make_world(session)
    staff = make_account(session, roles=["department_staff"], scope=world.district_a)
    session.commit()
    _sign_in(client, session, staff.id)
    r = client.get("/", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert r.status_code == 200
    assert "fig-residents" not in r.text
    assert "Resident figures are not available to your role." in r.text


def test_preferences_set_cookies_and_refuse_open_redirects(client: TestClient) -> None:
    r = client.get("/prefs/lang?lang=en&next=/places", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/places"
    assert "cityos_lang=en" in r.headers["set-cookie"]
    r = client.get("/prefs/elder?on=1&next=//evil.example/x", follow_redirects=False)
    assert r.headers["location"] == "/"
    assert "cityos_elder=1" in r.headers["set-cookie"]
    r = client.get("/prefs/lang?lang=en&next=https://evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_elder_mode_and_language_render(client: TestClient) -> None:
    client.cookies.set("cityos_elder", "1")
    client.cookies.set("cityos_lang", "en")
    r = client.get("/", headers={"Accept": "text/html"})
    assert '<html lang="en" class="elder">' in r.text
    client.cookies.set("cityos_lang", "zh_CN")
    r = client.get("/", headers={"Accept": "text/html"})
    assert '<html lang="zh-CN" class="elder">' in r.text
    assert "标准模式" in r.text


def test_nav_marks_only_the_closest_entry_current(client: TestClient, session: Session) -> None:
    import re

    world = make_world(session)
    commander = make_account(session, roles=["commander"], scope=world.city)
    session.commit()
    _sign_in(client, session, commander.id)
    page = client.get("/services/stats", headers={"Accept-Language": "zh-CN"}).text
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    assert current == ["/services/stats"]  # not also /services
    page = client.get("/services", headers={"Accept-Language": "zh-CN"}).text
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', page) == ["/services"]
