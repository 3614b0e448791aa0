"""The places API: status codes, scope, 422 bodies, and that bad input stores nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.places import index
from cityos.places.models import Region
from tests.factories import World, bearer, box, make_account, make_world


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    session.commit()
    yield w
    index.invalidate()


@pytest.fixture
def admin(session: Session, world: World) -> dict[str, str]:
    account = make_account(session, roles=["admin"], scope=world.city)
    session.commit()
    return bearer(account.id)


@pytest.fixture
def worker(session: Session, world: World) -> dict[str, str]:
    account = make_account(session, roles=["grid_worker"], scope=world.grid1)
    session.commit()
    return bearer(account.id)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Region)) or 0)


def _details(body: dict) -> dict[str, str]:
    return {d["field"]: d["message"] for d in body["error"]["details"]}


def test_read_requires_sign_in(client: TestClient, world: World) -> None:
    assert client.get(f"/api/v1/regions/{world.city.id}").status_code == 401


def test_get_region(client: TestClient, world: World, admin: dict[str, str]) -> None:
    r = client.get(f"/api/v1/regions/{world.grid1.id}", headers=admin)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == world.grid1.id
    assert body["level"] == "grid"
    assert body["path"] == world.grid1.path
    assert body["h3_cell"]
    assert body["min_lon"] == pytest.approx(104.0)
    assert client.get("/api/v1/regions/999999", headers=admin).status_code == 404


def test_scope_hides_other_grids_and_parents(client: TestClient, world: World, worker: dict[str, str]) -> None:
    assert client.get(f"/api/v1/regions/{world.grid1.id}", headers=worker).status_code == 200
    for other in (world.grid2, world.community, world.district_a, world.city):
        r = client.get(f"/api/v1/regions/{other.id}", headers=worker)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
        assert client.get(f"/api/v1/regions/{other.id}/children", headers=worker).status_code == 404
        assert client.get(f"/api/v1/regions/{other.id}/geojson", headers=worker).status_code == 404
        assert client.get(f"/api/v1/regions/{other.id}/ancestors", headers=worker).status_code == 404


def test_children_are_paged(client: TestClient, world: World, admin: dict[str, str]) -> None:
    r = client.get(f"/api/v1/regions/{world.community.id}/children?size=1&page=2", headers=admin)
    assert r.status_code == 200
    body = r.json()
    assert (body["page"], body["size"], body["total"]) == (2, 1, 2)
    assert [c["id"] for c in body["items"]] == [world.grid2.id]
    assert body["items"][0]["child_count"] == 1
    bad = client.get(f"/api/v1/regions/{world.community.id}/children?size=0", headers=admin)
    assert bad.status_code == 422
    assert "size" in _details(bad.json())


def test_ancestors_stop_at_the_scope(
    client: TestClient, world: World, admin: dict[str, str], worker: dict[str, str]
) -> None:
    full = client.get(f"/api/v1/regions/{world.estate.id}/ancestors", headers=admin).json()
    assert [a["id"] for a in full] == [
        world.city.id,
        world.district_a.id,
        world.street.id,
        world.community.id,
        world.grid1.id,
    ]
    scoped = client.get(f"/api/v1/regions/{world.estate.id}/ancestors", headers=worker).json()
    assert [a["id"] for a in scoped] == [world.grid1.id]


def test_geojson(client: TestClient, world: World, admin: dict[str, str]) -> None:
    r = client.get(f"/api/v1/regions/{world.community.id}/geojson", headers=admin)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert [f["properties"]["id"] for f in fc["features"]] == [world.community.id, world.grid1.id, world.grid2.id]
    assert [f["properties"]["focus"] for f in fc["features"]] == [True, False, False]
    assert fc["features"][1]["properties"]["level_label"] == "Grid"


def test_locate(client: TestClient, world: World, admin: dict[str, str], worker: dict[str, str]) -> None:
    r = client.get("/api/v1/regions/locate?lon=104.0125&lat=30.01225", headers=admin)
    assert r.status_code == 200
    assert r.json()["id"] == world.building.id
    assert client.get("/api/v1/regions/locate?lon=104.07&lat=30.05", headers=admin).json()["id"] == world.grid2.id
    assert client.get("/api/v1/regions/locate?lon=104.07&lat=30.05", headers=worker).status_code == 404
    assert client.get("/api/v1/regions/locate?lon=110&lat=30.05", headers=admin).status_code == 404
    bad = client.get("/api/v1/regions/locate?lon=200&lat=abc", headers=admin)
    assert bad.status_code == 422
    assert set(_details(bad.json())) == {"lon", "lat"}


def test_search(client: TestClient, world: World, admin: dict[str, str], worker: dict[str, str]) -> None:
    r = client.get("/api/v1/regions/search", params={"q": "网格"}, headers=admin)
    assert [x["id"] for x in r.json()] == [world.grid1.id, world.grid2.id]
    r = client.get("/api/v1/regions/search", params={"q": "网格"}, headers=worker)
    assert [x["id"] for x in r.json()] == [world.grid1.id]
    r = client.get("/api/v1/regions/search", params={"q": "小区", "level": "estate"}, headers=admin)
    assert len(r.json()) == 2
    assert client.get("/api/v1/regions/search", params={"q": ""}, headers=admin).status_code == 422
    bad = client.get("/api/v1/regions/search", params={"q": "x", "level": "village"}, headers=admin)
    assert bad.status_code == 422
    assert "level" in _details(bad.json())


BOWTIE = {"type": "Polygon", "coordinates": [[[104, 30], [104.1, 30.1], [104.1, 30], [104, 30.1], [104, 30]]]}
OFF_EARTH = {"type": "Polygon", "coordinates": [[[204, 30], [205, 30], [205, 31], [204, 30]]]}


def _new_estate(world: World, **over: object) -> dict:
    body = {
        "parent_id": world.grid1.id,
        "level": "estate",
        "code": "EST-API-1",
        "name": "接口小区",
        "geometry": box(104.02, 30.02, 0.005, 0.005),
        "attrs": {"property_company": "某物业"},
    }
    body.update(over)
    return body


def test_create_region(client: TestClient, session: Session, world: World, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/regions", json=_new_estate(world), headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["path"] == f"{world.grid1.path}{body['id']}/"
    assert body["attrs"] == {"property_company": "某物业"}
    # The new estate is found by locate straight away.
    found = client.get("/api/v1/regions/locate?lon=104.0225&lat=30.0225", headers=admin)
    assert found.json()["id"] == body["id"]
    again = client.post("/api/v1/regions", json=_new_estate(world), headers=admin)
    assert again.status_code == 409
    assert _details(again.json()) == {"code": "A region with code EST-API-1 already exists."}


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"name": ""}, {"name"}),
        ({"level": "village"}, {"level"}),
        ({"level": "building"}, {"level"}),
        ({"code": "bad code!"}, {"code"}),
        ({"parent_id": 999999}, {"parent_id"}),
        ({"geometry": {"type": "Point", "coordinates": [104, 30]}}, {"geometry.type"}),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[[104, 30], [104.1, 30.1], [104.1, 30], [104, 30.1]]]}},
            {"geometry"},
        ),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[[204, 30], [205, 30], [205, 31], [204, 30]]]}},
            {"geometry"},
        ),
        ({"extra": 1}, {"extra"}),
        ({"attrs": [1, 2]}, {"attrs"}),
    ],
)
def test_create_rejects_bad_input_and_stores_nothing(
    client: TestClient, session: Session, world: World, admin: dict[str, str], change: dict, fields: set[str]
) -> None:
    before = _count(session)
    r = client.post("/api/v1/regions", json=_new_estate(world, **change), headers=admin)
    assert r.status_code == 422, r.text
    details = _details(r.json())
    assert set(details) == fields
    assert all(details.values())
    assert _count(session) == before


def test_create_needs_write_permission_in_scope(
    client: TestClient, session: Session, world: World, worker: dict[str, str]
) -> None:
    before = _count(session)
    assert client.post("/api/v1/regions", json=_new_estate(world), headers=worker).status_code == 403
    scoped_admin = make_account(session, roles=["admin"], scope=world.grid1)
    session.commit()
    headers = bearer(scoped_admin.id)
    r = client.post("/api/v1/regions", json=_new_estate(world, parent_id=world.grid2.id), headers=headers)
    assert r.status_code == 422
    assert set(_details(r.json())) == {"parent_id"}
    assert _count(session) == before
    assert client.post("/api/v1/regions", json=_new_estate(world), headers=headers).status_code == 201


def test_patch_region(client: TestClient, session: Session, world: World, admin: dict[str, str]) -> None:
    r = client.patch(
        f"/api/v1/regions/{world.grid1.id}", json={"name": "一号网格", "attrs": {"staff": 2}}, headers=admin
    )
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["attrs"]) == ("一号网格", {"staff": 2})
    assert r.json()["min_lon"] == pytest.approx(104.0)  # geometry untouched when not given
    cleared = client.patch(f"/api/v1/regions/{world.grid1.id}", json={"geometry": None}, headers=admin)
    assert cleared.status_code == 200
    assert cleared.json()["min_lon"] is None
    assert client.get("/api/v1/regions/locate?lon=104.03&lat=30.05", headers=admin).json()["id"] == world.community.id


def test_patch_rejects_bad_input(
    client: TestClient, session: Session, world: World, admin: dict[str, str], worker: dict[str, str]
) -> None:
    bad = {"name": "", "geometry": {"type": "Polygon", "coordinates": [[[104, 30]]]}}
    r = client.patch(f"/api/v1/regions/{world.grid1.id}", json=bad, headers=admin)
    assert r.status_code == 422
    assert set(_details(r.json())) == {"name"}
    r = client.patch(f"/api/v1/regions/{world.grid1.id}", json={"geometry": bad["geometry"]}, headers=admin)
    assert r.status_code == 422
    assert set(_details(r.json())) == {"geometry"}
    r = client.patch(f"/api/v1/regions/{world.grid1.id}", json={"name": None}, headers=admin)
    assert r.status_code == 422
    assert set(_details(r.json())) == {"name"}
    r = client.patch(f"/api/v1/regions/{world.grid1.id}", json={"code": "X"}, headers=admin)
    assert r.status_code == 422
    assert set(_details(r.json())) == {"code"}
    session.expire_all()
    grid = session.get(Region, world.grid1.id)
    assert grid is not None
    assert grid.name == "第一网格"
    assert grid.min_lon == pytest.approx(104.0)
    assert client.patch(f"/api/v1/regions/{world.grid1.id}", json={"name": "x"}, headers=worker).status_code == 403
    assert client.patch(f"/api/v1/regions/{world.grid2.id}", json={"name": "x"}, headers=worker).status_code == 404


def test_put_geometry(client: TestClient, session: Session, world: World, admin: dict[str, str]) -> None:
    r = client.put(f"/api/v1/regions/{world.grid2.id}/geometry", json=box(104.08, 30.0, 0.02, 0.1), headers=admin)
    assert r.status_code == 200
    assert r.json()["min_lon"] == pytest.approx(104.08)
    assert client.get("/api/v1/regions/locate?lon=104.07&lat=30.05", headers=admin).json()["id"] == world.community.id
    r = client.put(f"/api/v1/regions/{world.grid2.id}/geometry", json=BOWTIE, headers=admin)
    assert r.status_code == 422
    assert "Self-intersection" in _details(r.json())["geometry"]
    r = client.put(f"/api/v1/regions/{world.grid2.id}/geometry", json={"coordinates": []}, headers=admin)
    assert r.status_code == 422
    assert set(_details(r.json())) == {"type", "coordinates"}
    session.expire_all()
    grid = session.get(Region, world.grid2.id)
    assert grid is not None
    assert grid.min_lon == pytest.approx(104.08)
    assert client.delete(f"/api/v1/regions/{world.grid2.id}/geometry", headers=admin).json()["min_lon"] is None


def test_messages_in_chinese(client: TestClient, world: World, admin: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/regions",
        json=_new_estate(world, parent_id=world.community.id, level="grid", code="123"),
        headers={**admin, "Accept-Language": "zh-CN"},
    )
    assert r.status_code == 422
    assert _details(r.json())["code"] == "网格编码为 15 位数字。"
