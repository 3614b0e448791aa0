"""邻里互助 and 志愿者: posting, who may take what, an urgent request becoming a help case,
finishing with the volunteer's minutes logged, the neighbourhood boundary, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.community.governance import helping, service
from cityos.community.governance.models import HelpPost, Volunteer, VolunteerHours
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from tests.community.governance_fixtures import NOW, make_gov, resident
from tests.factories import add_region


def _setup(session: Session):  # type: ignore[no-untyped-def]
    gov = make_gov(session)
    w = gov.world
    elsewhere = add_region(session, w.district_b, "street", "二街道")
    other_community = add_region(session, elsewhere, "community", "远方社区")
    p = {
        "old": resident(session, w.room, name="王奶奶", tags=["elderly"]),
        "helper": resident(session, w.room2, name="小李"),
        "neighbour": resident(session, w.other_room, name="二网格邻居"),
        "far": resident(session, other_community, name="外社区"),
    }
    return gov, p


def test_a_volunteer_takes_a_request_and_the_minutes_are_logged(session: Session) -> None:
    gov, p = _setup(session)
    old, helper = p["old"].actor, p["helper"].actor
    req = helping.post(session, old, kind="request", category="errand", title="帮忙买药", body="降压药两盒", now=NOW)
    assert req.status == "open"
    assert req.case_id is None
    # A neighbour of the same community sees it; someone from another community does not.
    assert req in helping.neighbourhood(session, p["neighbour"].actor)
    assert helping.neighbourhood(session, p["far"].actor) == []
    with pytest.raises(NotFound):
        helping.take(session, p["far"].actor, help_id=req.id)
    # Only a registered volunteer takes a request; nobody takes their own.
    with pytest.raises(Conflict):
        helping.take(session, helper, help_id=req.id)
    volunteer = helping.register_volunteer(session, helper, skills=["errand", "tech"], intro="下班后有空")
    assert volunteer.skills == ["errand", "tech"]
    assert volunteer.region_path == gov.world.room2.path
    with pytest.raises(Conflict):
        helping.take(session, old, help_id=req.id)
    helping.take(session, helper, help_id=req.id, now=NOW)
    assert (req.status, req.taker_person_id) == ("taken", p["helper"].id)
    with pytest.raises(Conflict):
        helping.take(session, p["neighbour"].actor, help_id=req.id)
    # Someone else cannot finish it; the poster can, with the time it took.
    with pytest.raises(NotFound):
        helping.finish(session, p["neighbour"].actor, help_id=req.id, minutes=30)
    for bad in (0, 24 * 60 + 1, "30", None, True):
        with pytest.raises(Invalid):
            helping.finish(session, old, help_id=req.id, minutes=bad)
    helping.finish(session, old, help_id=req.id, minutes=45, now=NOW)
    assert req.status == "done"
    assert req.minutes == 45
    assert helping.minutes_of(session, [volunteer.id]) == {volunteer.id: 45}
    with pytest.raises(Conflict):
        helping.finish(session, helper, help_id=req.id, minutes=10)
    # Staff log a community activity too, and see the volunteers of their area with their time.
    helping.log_hours(
        session, gov.staff, volunteer_id=volunteer.id, minutes=120, note="垃圾分类宣传", day="2026-12-05", now=NOW
    )
    assert [(v.id, name, minutes) for v, name, minutes in helping.volunteers_in_area(session, gov.staff)] == [
        (volunteer.id, "小李", 165)
    ]
    assert helping.volunteers_in_area(session, gov.outsider_staff) == []
    with pytest.raises(NotFound):
        helping.log_hours(session, gov.outsider_staff, volunteer_id=volunteer.id, minutes=10)
    with pytest.raises(Invalid) as exc:
        helping.log_hours(
            session, gov.staff, volunteer_id=volunteer.id, minutes=0, note="x" * 256, day="2099-01-01", now=NOW
        )
    assert {d.field for d in exc.value.details} == {"minutes", "note", "day"}


def test_an_offer_is_taken_by_any_neighbour_and_counts_for_its_volunteer(session: Session) -> None:
    _gov, p = _setup(session)
    helper = p["helper"].actor
    volunteer = helping.register_volunteer(session, helper, skills=["tech"])
    offer = helping.post(session, helper, kind="offer", category="tech", title="教老人用手机", now=NOW)
    helping.take(session, p["old"].actor, help_id=offer.id, now=NOW)  # no volunteer needed to accept help
    helping.finish(session, helper, help_id=offer.id, minutes=60, now=NOW)
    assert helping.minutes_of(session, [volunteer.id]) == {volunteer.id: 60}
    mine = helping.neighbourhood(session, p["old"].actor, status="mine")
    assert mine == [offer]
    # The poster withdraws what is not finished; a finished post cannot be withdrawn.
    with pytest.raises(Conflict):
        helping.cancel(session, helper, help_id=offer.id)
    other = helping.post(session, helper, kind="offer", category="moving", title="周末帮搬家", now=NOW)
    with pytest.raises(NotFound):
        helping.cancel(session, p["old"].actor, help_id=other.id)
    assert helping.cancel(session, helper, help_id=other.id).status == "cancelled"


def test_an_urgent_request_becomes_a_help_case(session: Session) -> None:
    gov, p = _setup(session)
    req = helping.post(
        session,
        p["old"].actor,
        kind="request",
        category="escort",
        title="明早需要人陪同去医院",
        body="腿脚不便",
        urgent=True,
        now=NOW,
    )
    case = session.get(Case, req.case_id)
    assert case is not None
    assert (case.category_code, case.urgency, case.channel) == ("help.01.02", "urgent", "resident")
    assert case.reporter_person_id == p["old"].id
    assert case.region_path is not None
    assert case.region_path.startswith(gov.world.grid1.path)
    assert "阳光小区" in (case.address or "")
    # Urgent ones come first in the neighbourhood list.
    helping.post(session, p["helper"].actor, kind="request", category="other", title="借梯子", now=NOW)
    assert helping.neighbourhood(session, p["neighbour"].actor)[0] == req


def test_bad_posts_and_registrations_are_refused(session: Session) -> None:
    gov, p = _setup(session)
    with pytest.raises(Invalid) as exc:
        helping.post(session, p["old"].actor, kind="gift", category="magic", title="", body="x" * 2001, urgent="yes")
    assert {d.field for d in exc.value.details} == {"kind", "category", "title", "body", "urgent"}
    with pytest.raises(Invalid) as exc:
        helping.post(session, p["old"].actor, kind="offer", category="meals", title="送饭", urgent=True)
    assert [d.field for d in exc.value.details] == ["urgent"]
    with pytest.raises(Invalid) as exc:
        helping.register_volunteer(session, p["old"].actor, skills=["flying"], intro="x" * 256)
    assert {d.field for d in exc.value.details} == {"skills", "intro"}
    with pytest.raises(Invalid):
        helping.register_volunteer(session, p["old"].actor, skills="errand")
    with pytest.raises(Invalid):
        helping.register_volunteer(session, p["old"].actor, skills=[])
    with pytest.raises(Forbidden):
        helping.post(session, gov.staff, kind="request", category="other", title="员工")
    homeless = resident(session, gov.world.room, name="无住址", relation="tenant", until=date(2020, 6, 1))
    homeless.person.region_path = None
    session.flush()
    with pytest.raises(Invalid) as exc:
        helping.post(session, homeless.actor, kind="request", category="other", title="求助")
    assert [d.field for d in exc.value.details] == ["kind"]
    assert session.scalar(select(func.count()).select_from(HelpPost)) == 0
    assert session.scalar(select(func.count()).select_from(Volunteer)) == 0
    assert session.scalar(select(func.count()).select_from(VolunteerHours)) == 0
    assert service.stats(session, region=gov.world.community, now=NOW)["help_open"] == 0
