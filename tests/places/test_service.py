"""The region tree: hierarchy, codes, geometry validation, paths, scope, search."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import AuditRecord
from cityos.core.pagination import PageParams
from cityos.places import service
from cityos.places.models import Region, RegionCell
from tests.factories import box, make_actor, make_world


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {d.field: d.message for d in exc.value.details}


def _tree(session: Session) -> dict[str, Region]:
    """A real-coded chain city -> district -> street -> community, created through the service."""
    city = service.create_region(session, SYSTEM, parent_id=None, level="city", code="510100", name="成都市")
    district = service.create_region(session, SYSTEM, parent_id=city.id, level="district", code="510104", name="锦江区")
    street = service.create_region(
        session, SYSTEM, parent_id=district.id, level="street", code="510104020", name="春熙路街道"
    )
    community = service.create_region(
        session,
        SYSTEM,
        parent_id=street.id,
        level="community",
        code=service.community_code(street.code, 1),
        name="和平社区",
        geometry=box(104.07, 30.65, 0.01, 0.01),
    )
    return {"city": city, "district": district, "street": street, "community": community}


def test_create_sets_path_depth_and_derived_columns(session: Session) -> None:
    t = _tree(session)
    c = t["community"]
    assert t["city"].path == f"/{t['city'].id}/"
    assert c.path == f"{t['street'].path}{c.id}/"
    assert c.depth == 3
    assert (c.min_lon, c.min_lat, c.max_lon, c.max_lat) == pytest.approx((104.07, 30.65, 104.08, 30.66))
    assert c.min_lon is not None
    assert c.lon is not None
    assert c.lat is not None
    assert c.min_lon < c.lon < c.max_lon
    assert c.h3_cell is not None
    assert len(c.h3_cell) == 15
    cells = session.scalar(select(func.count()).select_from(RegionCell).where(RegionCell.region_id == c.id))
    assert cells
    assert cells > 0
    assert session.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.action == "region.create", AuditRecord.subject_id == str(c.id))
    )


def test_grid_code_helper_and_rule(session: Session) -> None:
    t = _tree(session)
    community = t["community"]
    assert service.grid_code(community.code, 7) == community.code + "007"
    grid = service.create_region(
        session,
        SYSTEM,
        parent_id=community.id,
        level="grid",
        code=service.grid_code(community.code, 1),
        name="第1网格",
    )
    assert len(grid.code) == 15
    with pytest.raises(Invalid) as short:
        service.create_region(session, SYSTEM, parent_id=community.id, level="grid", code="51010402000100", name="x")
    assert _fields(short) == {"code": service.MSG_CODE_DIGITS}
    with pytest.raises(Invalid) as foreign:
        service.create_region(session, SYSTEM, parent_id=community.id, level="grid", code="510104020999001", name="x")
    assert _fields(foreign)["code"] == service.MSG_CODE_PREFIX
    with pytest.raises(Invalid):
        service.grid_code("5101", 1)
    with pytest.raises(Invalid):
        service.grid_code(community.code, 1000)


def test_community_code_must_extend_street_code(session: Session) -> None:
    t = _tree(session)
    with pytest.raises(Invalid) as exc:
        service.create_region(
            session, SYSTEM, parent_id=t["street"].id, level="community", code="510104021001", name="x"
        )
    assert _fields(exc) == {"code": service.MSG_CODE_PREFIX}


def test_levels_must_go_exactly_one_deeper(session: Session) -> None:
    t = _tree(session)
    before = session.scalar(select(func.count()).select_from(Region))
    with pytest.raises(Invalid) as skip:  # street -> grid skips community
        service.create_region(session, SYSTEM, parent_id=t["street"].id, level="grid", code="510104020001001", name="x")
    assert _fields(skip)["level"] == service.MSG_CHILD_LEVEL
    with pytest.raises(Invalid) as up:  # a city under a district
        service.create_region(session, SYSTEM, parent_id=t["district"].id, level="city", code="510200", name="x")
    assert "level" in _fields(up)
    with pytest.raises(Invalid) as root:
        service.create_region(session, SYSTEM, parent_id=None, level="district", code="510105", name="x")
    assert _fields(root) == {"parent_id": service.MSG_ROOT_LEVEL}
    with pytest.raises(Invalid) as unknown:
        service.create_region(session, SYSTEM, parent_id=t["city"].id, level="village", code="510105", name="x")
    assert "level" in _fields(unknown)
    with pytest.raises(Invalid) as missing_parent:
        service.create_region(session, SYSTEM, parent_id=999_999, level="district", code="510105", name="x")
    assert "parent_id" in _fields(missing_parent)
    assert session.scalar(select(func.count()).select_from(Region)) == before


def test_several_bad_fields_reported_together(session: Session) -> None:
    t = _tree(session)
    with pytest.raises(Invalid) as exc:
        service.create_region(
            session,
            SYSTEM,
            parent_id=t["city"].id,
            level="district",
            code="51-01",
            name="  ",
            geometry={"type": "Point", "coordinates": [104.0, 30.0]},
        )
    assert set(_fields(exc)) == {"code", "name", "geometry"}


def test_duplicate_code_is_a_conflict(session: Session) -> None:
    t = _tree(session)
    with pytest.raises(Conflict):
        service.create_region(session, SYSTEM, parent_id=t["city"].id, level="district", code="510104", name="又一个")


@pytest.mark.parametrize(
    ("geometry", "fragment"),
    [
        ({"type": "LineString", "coordinates": [[104, 30], [105, 31]]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[200, 30], [201, 30], [201, 31], [200, 30]]]}, "WGS84"),
        ({"type": "Polygon", "coordinates": [[[104, 95], [105, 30], [105, 31], [104, 95]]]}, "WGS84"),
        ({"type": "Polygon", "coordinates": [[[104, 30], [105, 30]]]}, "valid"),
        ({"type": "Polygon", "coordinates": "oops"}, "WGS84"),
        (
            {"type": "Polygon", "coordinates": [[[104, 30], [104.1, 30.1], [104.1, 30], [104, 30.1], [104, 30]]]},
            "valid",
        ),
        ({"type": "Polygon", "coordinates": [[["a", 30], [104.1, 30], [104.1, 30.1], ["a", 30]]]}, "WGS84"),
    ],
)
def test_bad_geometry_is_rejected_and_nothing_stored(session: Session, geometry: dict, fragment: str) -> None:
    t = _tree(session)
    before = session.scalar(select(func.count()).select_from(Region))
    with pytest.raises(Invalid) as exc:
        service.create_region(
            session,
            SYSTEM,
            parent_id=t["community"].id,
            level="grid",
            code=service.grid_code(t["community"].code, 2),
            name="坏网格",
            geometry=geometry,
        )
    assert fragment in _fields(exc)["geometry"]
    assert session.scalar(select(func.count()).select_from(Region)) == before


def test_multipolygon_is_accepted(session: Session) -> None:
    t = _tree(session)
    a, b = box(104.07, 30.65, 0.002, 0.002), box(104.075, 30.655, 0.002, 0.002)
    grid = service.create_region(
        session,
        SYSTEM,
        parent_id=t["community"].id,
        level="grid",
        code=service.grid_code(t["community"].code, 3),
        name="飞地网格",
        geometry={"type": "MultiPolygon", "coordinates": [a["coordinates"], b["coordinates"]]},
    )
    assert grid.geometry is not None
    assert grid.geometry["type"] == "MultiPolygon"


def test_update_name_attrs_and_geometry(session: Session) -> None:
    t = _tree(session)
    c = t["community"]
    old_cells = set(session.scalars(select(RegionCell.cell).where(RegionCell.region_id == c.id)))
    service.update_region(
        session,
        SYSTEM,
        region_id=c.id,
        name="新和平社区",
        attrs={"households": 3},
        geometry=box(104.2, 30.8, 0.01, 0.01),
    )
    assert c.name == "新和平社区"
    assert c.attrs == {"households": 3}
    assert c.min_lon == pytest.approx(104.2)
    new_cells = set(session.scalars(select(RegionCell.cell).where(RegionCell.region_id == c.id)))
    assert new_cells
    assert not (new_cells & old_cells)

    service.update_region(session, SYSTEM, region_id=c.id, geometry=None)
    assert c.geometry is None
    assert c.lon is None
    assert c.h3_cell is None
    assert session.scalar(select(func.count()).select_from(RegionCell).where(RegionCell.region_id == c.id)) == 0
    raw = session.execute(text("SELECT geometry IS NULL FROM region WHERE id = :id"), {"id": c.id}).scalar()
    assert raw in (1, True)  # SQL NULL, not a JSON null


def test_update_rejects_bad_input_and_keeps_the_region(session: Session) -> None:
    t = _tree(session)
    c = t["community"]
    with pytest.raises(Invalid) as exc:
        service.update_region(
            session, SYSTEM, region_id=c.id, name="", geometry={"type": "Polygon", "coordinates": [[[1, 1]]]}
        )
    assert set(_fields(exc)) == {"name", "geometry"}
    session.refresh(c)
    assert c.name == "和平社区"
    assert c.min_lon == pytest.approx(104.07)


def test_scope_grid_worker_sees_only_their_grid(session: Session) -> None:
    w = make_world(session)
    worker = make_actor(session, roles=["grid_worker"], scope=w.grid1)
    assert service.get_region(session, worker, w.grid1.id).id == w.grid1.id
    assert service.get_region(session, worker, w.room.id).id == w.room.id
    for outside in (w.grid2, w.district_a, w.city, w.other_room):
        with pytest.raises(NotFound):
            service.get_region(session, worker, outside.id)
    with pytest.raises(NotFound):
        service.children(session, worker, w.community.id, PageParams())
    with pytest.raises(NotFound):
        service.children_geojson(session, worker, w.grid2.id)
    # The breadcrumb inside scope stops at the grid.
    assert [r.id for r in service.visible_ancestors(session, worker, w.room.id)] == [
        w.grid1.id,
        w.estate.id,
        w.building.id,
        w.unit.id,
    ]


def test_writes_need_permission_and_scope(session: Session) -> None:
    w = make_world(session)
    worker = make_actor(session, roles=["grid_worker"], scope=w.grid1)
    with pytest.raises(Forbidden):
        service.update_region(session, worker, region_id=w.estate.id, name="改名")
    admin = make_actor(session, roles=["admin"], scope=w.grid1)
    with pytest.raises(NotFound):
        service.update_region(session, admin, region_id=w.grid2.id, name="改名")
    with pytest.raises(Invalid) as exc:  # a parent outside scope reads as missing
        service.create_region(session, admin, parent_id=w.grid2.id, level="estate", code="E1", name="x")
    assert "parent_id" in _fields(exc)
    with pytest.raises(Forbidden):  # a scoped admin cannot add a city at the root
        service.create_region(session, admin, parent_id=None, level="city", code="510200", name="x")
    estate = service.create_region(session, admin, parent_id=w.grid1.id, level="estate", code="E-1", name="新小区")
    assert estate.path.startswith(w.grid1.path)


def test_subtree_and_ancestors(session: Session) -> None:
    w = make_world(session)
    ids = set(service.subtree_ids(session, w.grid1))
    assert {w.grid1.id, w.estate.id, w.building.id, w.unit.id, w.room.id, w.room2.id} == ids
    assert w.other_room.id not in ids
    in_a = set(session.scalars(service.subtree_query(w.district_a.path).with_only_columns(Region.id)))
    assert w.other_room.id in in_a
    assert w.district_b.id not in in_a
    assert [r.id for r in service.ancestors(session, w.room)] == [
        w.city.id,
        w.district_a.id,
        w.street.id,
        w.community.id,
        w.grid1.id,
        w.estate.id,
        w.building.id,
        w.unit.id,
    ]
    assert service.ancestors(session, w.city) == []


def test_subtree_query_uses_the_path_index(session: Session, is_postgres: bool) -> None:
    w = make_world(session)
    compiled = service.subtree_query(w.district_a.path).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    if is_postgres:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in session.execute(text(f"EXPLAIN {compiled}")))
        assert "uq_region_path" in plan
    else:
        plan = "\n".join(str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        # SQLite names the unique constraint's index sqlite_autoindex_region_N.
        assert "USING INDEX" in plan
        assert "(path>? AND path<?)" in plan


def test_children_page_and_counts(session: Session) -> None:
    w = make_world(session)
    page = service.children(session, SYSTEM, w.community.id, PageParams(page=1, size=1))
    assert page.total == 2
    assert [r.id for r in page.items] == [w.grid1.id]
    assert page.child_counts == {w.grid1.id: 1}
    second = service.children(session, SYSTEM, w.community.id, PageParams(page=2, size=1))
    assert [r.id for r in second.items] == [w.grid2.id]


def test_count_by_level(session: Session) -> None:
    w = make_world(session)
    counts = service.count_by_level(session, SYSTEM, w.district_a)
    assert counts == {
        "street": 1,
        "community": 1,
        "grid": 2,
        "estate": 2,
        "building": 2,
        "unit": 2,
        "room": 3,
    }
    assert list(counts) == ["street", "community", "grid", "estate", "building", "unit", "room"]
    worker = make_actor(session, roles=["grid_worker"], scope=w.grid1)
    with pytest.raises(NotFound):
        service.count_by_level(session, worker, w.community)


def test_search_by_name_and_code_within_scope(session: Session) -> None:
    w = make_world(session)
    assert [r.id for r in service.search(session, SYSTEM, "网格")] == [w.grid1.id, w.grid2.id]
    assert [r.id for r in service.search(session, SYSTEM, "网格", level="estate")] == []
    worker = make_actor(session, roles=["grid_worker"], scope=w.grid1)
    assert [r.id for r in service.search(session, worker, "网格")] == [w.grid1.id]
    assert [r.id for r in service.search(session, worker, "小区")] == [w.estate.id]
    assert service.search(session, worker, "  ") == []
    assert service.search(session, SYSTEM, "%") == []  # LIKE wildcards are literal
    t = _tree(session)
    assert [r.id for r in service.search(session, SYSTEM, "5101040")] == [t["street"].id, t["community"].id]


def test_children_geojson(session: Session) -> None:
    w = make_world(session)
    fc = service.children_geojson(session, SYSTEM, w.community.id)
    assert fc["type"] == "FeatureCollection"
    first, *rest = fc["features"]
    assert first["properties"]["id"] == w.community.id
    assert first["properties"]["focus"] is True
    assert [f["properties"]["id"] for f in rest] == [w.grid1.id, w.grid2.id]
    assert rest[0]["properties"] | {"lon": None, "lat": None, "level_label": None} == {
        "id": w.grid1.id,
        "name": "第一网格",
        "level": "grid",
        "level_label": None,
        "code": w.grid1.code,
        "child_count": 1,
        "focus": False,
        "lon": None,
        "lat": None,
    }
    assert rest[0]["geometry"]["type"] == "Polygon"
    unit_fc = service.children_geojson(session, SYSTEM, w.unit.id)
    assert all(f["geometry"] is None for f in unit_fc["features"])


def test_import_geometries_by_code(session: Session) -> None:
    w = make_world(session)
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": w.grid1.code}, "geometry": box(104.0, 30.0, 0.04, 0.1)},
            {"type": "Feature", "properties": {"code": "NOPE"}, "geometry": box(104.0, 30.0, 0.04, 0.1)},
            {"type": "Feature", "properties": {}, "geometry": box(104.0, 30.0, 0.04, 0.1)},
        ],
    }
    result = service.import_geometries(session, SYSTEM, fc)
    assert (result.updated, result.unknown_codes, result.without_code) == (1, ["NOPE"], 1)
    assert w.grid1.max_lon == pytest.approx(104.04)
    bad = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": w.grid2.code}, "geometry": box(104.05, 30.0, 0.01, 0.1)},
            {"type": "Feature", "properties": {"code": w.estate.code}, "geometry": {"type": "Point"}},
        ],
    }
    with pytest.raises(Invalid) as exc:
        service.import_geometries(session, SYSTEM, bad)
    assert list(_fields(exc)) == ["features.2.geometry"]
    session.refresh(w.grid2)
    assert w.grid2.max_lon == pytest.approx(104.1)  # all or nothing
