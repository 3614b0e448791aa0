"""Service statistics on known rows: counts, working-day handling time, 即办率, 零材料率, 好差评."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.cases.models import Rating
from cityos.core.errors import Forbidden, NotFound
from cityos.places.models import Region
from cityos.services import stats
from cityos.services.applications.models import Application, ApplicationDepartment
from tests.factories import World, bearer, make_account, make_actor, make_world
from tests.services.catalogue_fixtures import add_department, install

_no = iter(range(1, 10_000))


def _app(
    session: Session,
    region: Region,
    item: str,
    submitted: datetime,
    decided: datetime | None,
    *,
    zero: bool = False,
    departments: list[tuple[int, datetime | None]] = (),  # type: ignore[assignment]
    rating: list[int] = (),  # type: ignore[assignment]
) -> Application:
    app = Application(
        no=f"T{next(_no):06d}",
        item_code=item,
        region_id=region.id,
        region_path=region.path,
        status="approved" if decided else "approving",
        submitted_at=submitted,
        decided_at=decided,
        zero_material=zero,
        form_enc="",
    )
    session.add(app)
    session.flush()
    for dept_id, at in departments:
        session.add(ApplicationDepartment(application_id=app.id, department_id=dept_id, decided_at=at))
    for revision, level in enumerate(rating, start=1):
        session.add(Rating(subject_type="application", subject_id=str(app.id), level=level, revision=revision))
    session.flush()
    return app


def at(day: int, hour: int = 2) -> datetime:
    """A moment in 2026-12 (UTC 02:00 is 10:00 in the city); Dec 2026: the 7th is a Monday."""
    return datetime(2026, 12, day, hour, tzinfo=UTC)


@pytest.fixture
def known(session: Session) -> World:
    install(session)
    world = make_world(session)
    mzj = add_department(session, world.district_a, "mzj", "甲区民政局")
    jtj = add_department(session, world.district_a, "jtj", "甲区交通运输局")
    # 老年人优待证 (mzj + jtj, limit 10): submitted Mon 7th, mzj decides Tue 8th, jtj Thu 10th -> 3 working days
    _app(
        session,
        world.room,
        "mzj-002",
        at(7),
        at(10),
        zero=True,
        departments=[(mzj.id, at(8)), (jtj.id, at(10))],
        rating=[2, 5],
    )
    # the same, submitted Fri 11th, decided Mon 14th: 1 working day (the weekend does not count)
    _app(
        session,
        world.room,
        "mzj-002",
        at(11),
        at(14),
        zero=True,
        departments=[(mzj.id, at(14)), (jtj.id, at(14))],
        rating=[4],
    )
    # 无犯罪记录证明 (instant, limit 3): decided the same day; and one decided the next day
    _app(session, world.room2, "gaj-005", at(8), at(8, 6), rating=[1])
    _app(session, world.room2, "gaj-005", at(8), at(9))
    # still open, in district B
    _app(session, world.district_b, "mzj-003", at(9), None)
    # outside the period
    _app(session, world.room, "mzj-003", datetime(2026, 1, 5, 2, tzinfo=UTC), datetime(2026, 3, 2, 2, tzinfo=UTC))
    session.flush()
    return world


def test_figures_on_known_rows(session: Session, known: World) -> None:
    commander = make_actor(session, roles=["commander"], scope=known.city)
    report = stats.report(session, commander, since=at(1), until=at(31))
    t = report.totals
    assert (t.applications, t.decided) == (5, 4)
    assert t.handling_days == 3 + 1 + 0 + 1
    assert t.average_days == 1.2  # 5 / 4 rounded
    assert t.average_limit_days == (10 + 10 + 3 + 3) / 4
    assert t.on_time_rate == 100.0
    assert t.instant_rate == 25.0  # one instant item decided the same day, over 4 decided
    assert t.zero_material_rate == 40.0
    assert (t.rated, t.good, t.bad) == (3, 2, 1)  # the latest rating counts: 2 then 5 is 好评
    assert t.good_rate == 66.7
    assert t.bad_rate == 33.3
    items = {i.code: f for i, f in report.items}
    assert items["mzj-002"].applications == 2
    assert items["gaj-005"].instant_rate == 50.0
    assert items["mzj-003"].decided == 0
    assert items["mzj-003"].average_days is None
    departments = {d.name: f for d, f in report.departments}
    assert departments["甲区民政局"].handling_days == 1 + 1  # its own decisions: Tue 8th and Mon 14th
    assert departments["甲区交通运输局"].handling_days == 3 + 1
    districts = {r.name: f.applications for r, f in report.districts}
    assert districts == {"甲区": 4, "乙区": 1}


def test_scope_and_permission(session: Session, known: World) -> None:
    district = make_actor(session, roles=["commander"], scope=known.district_b)
    report = stats.report(session, district, since=at(1))
    assert report.totals.applications == 1
    with pytest.raises(NotFound):
        stats.report(session, district, region_id=known.district_a.id)
    resident = make_actor(session, roles=["resident"], scope=known.city)
    with pytest.raises(Forbidden):
        stats.report(session, resident)
    everything = stats.report(session, make_actor(session, roles=["admin"], scope=known.city))
    assert everything.totals.applications == 6


def test_api_and_page(client: TestClient, session: Session, known: World) -> None:
    staff = make_account(session, roles=["department_staff"], scope=known.city)
    resident = make_account(session, roles=["resident"], scope=known.city)
    session.commit()
    body = client.get(
        "/api/v1/service-stats", params={"since": "2026-12-01", "until": "2026-12-31"}, headers=bearer(staff.id)
    )
    assert body.status_code == 200
    data = body.json()
    assert data["duration_unit"] == "working_days"
    assert data["totals"]["applications"] == 5
    assert {d["name"] for d in data["districts"]} == {"甲区", "乙区"}
    bad = client.get("/api/v1/service-stats", params={"since": "last week"}, headers=bearer(staff.id))
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "since"
    assert client.get("/api/v1/service-stats", headers=bearer(resident.id)).status_code == 403
    from tests.factories import session_cookie

    client.cookies.set("cityos_session", session_cookie(session, staff.id))
    page = client.get("/services/stats?days=3660", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "即办率" in page.text
    assert "甲区民政局" in page.text
    assert 'data-kpi="applications">6<' in page.text
