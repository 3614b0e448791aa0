"""Getting an entry pass from one's residence record (one tap), and what refuses it: no residence
there, a blocked room, the per-person and per-household limits; a second tap returns the pass
already held; moving out stops the pass."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.access import rules, service, tasks
from cityos.community.access.models import EntryPass
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.people.events import ResidenceChanged
from cityos.people.models import Residence
from tests.community.access_fixtures import AccessWorld, make_access_world, residence
from tests.factories import make_actor, make_person

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in the city


@pytest.fixture
def aw(session: Session) -> AccessWorld:
    return make_access_world(session)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(EntryPass)) or 0)


def test_join_prefills_rooms_and_one_tap_issues_the_pass(session: Session, aw: AccessWorld) -> None:
    choices = service.join_choices(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)
    assert [(c.room.id, c.relation) for c in choices] == [(aw.world.room.id, "owner")]
    assert choices[0].label == "阳光小区 1栋 1单元 101"
    assert choices[0].current_pass is None

    entry_pass = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)
    assert entry_pass.holder_person_id == aw.owner.id
    assert entry_pass.room_id == aw.world.room.id
    assert entry_pass.room_code == aw.world.room.code
    assert entry_pass.kind == "resident"
    assert entry_pass.relation == "owner"
    assert entry_pass.title == "阳光小区 1栋 1单元 101"
    assert entry_pass.valid_until == NOW + timedelta(days=30)  # the default validity
    assert service.state_of(entry_pass, NOW) == "active"

    # A second tap does not make a second pass.
    again = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, room_id=aw.world.room.id, now=NOW)
    assert again.id == entry_pass.id
    assert _count(session) == 1
    assert service.join_choices(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)[0].current_pass == entry_pass


def test_my_passes_lists_only_valid_own_passes(session: Session, aw: AccessWorld) -> None:
    mine = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id)
    service.issue_pass(session, aw.tenant_actor, estate_id=aw.estate.id)
    assert service.my_passes(session, aw.owner_actor) == [mine]
    service.cancel_pass(session, aw.owner_actor, pass_id=mine.id)
    assert service.my_passes(session, aw.owner_actor) == []
    assert mine.status == "cancelled"
    assert mine.revoked_at is not None
    assert service.my_passes(session, aw.manager) == []  # no person, no passes


def test_refused_without_a_residence_there(session: Session, aw: AccessWorld) -> None:
    with pytest.raises(Invalid) as refused:
        service.issue_pass(session, aw.stranger_actor, estate_id=aw.estate.id, now=NOW)
    assert refused.value.details[0].field == "room_id"
    assert refused.value.details[0].message == service.MSG_NO_RESIDENCE
    assert "property office" in refused.value.message
    # Living in the other estate does not give a pass here.
    with pytest.raises(Invalid):
        service.issue_pass(session, aw.owner_actor, estate_id=aw.other_estate.id, now=NOW)
    # Nor someone else's room.
    with pytest.raises(Invalid) as wrong:
        service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, room_id=aw.world.room2.id, now=NOW)
    assert wrong.value.details[0].message == service.MSG_NOT_YOUR_ROOM
    # A residence that ended no longer counts.
    ended = make_person(session, name="钱已搬")
    row = residence(session, ended, aw.world.room2, "tenant")
    row.until = date(2026, 6, 30)
    actor = make_actor(session, roles=["resident"], scope=aw.estate, person_id=ended.id)
    with pytest.raises(Invalid):
        service.issue_pass(session, actor, estate_id=aw.estate.id, now=NOW)
    assert _count(session) == 0


def test_only_residents_may_ask_and_only_estates_exist(session: Session, aw: AccessWorld) -> None:
    with pytest.raises(Forbidden):
        service.issue_pass(session, aw.observer, estate_id=aw.estate.id)
    with pytest.raises(NotFound):
        service.issue_pass(session, aw.owner_actor, estate_id=aw.world.building.id)
    with pytest.raises(NotFound):
        service.issue_pass(session, aw.owner_actor, estate_id=999_999)


def test_refused_for_a_blocked_room(session: Session, aw: AccessWorld) -> None:
    service.block_room(session, aw.manager, estate_id=aw.estate.id, room_id=aw.world.room.id, reason="居家隔离")
    with pytest.raises(Conflict) as refused:
        service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)
    assert refused.value.details[0].message == service.MSG_BLOCKED
    assert refused.value.details[0].params == {"reason": "居家隔离"}
    assert _count(session) == 0
    service.unblock_room(session, aw.manager, estate_id=aw.estate.id, room_id=aw.world.room.id)
    assert service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW).id


def test_over_the_per_household_limit(session: Session, aw: AccessWorld) -> None:
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"max_passes_per_household": 2})
    members = []
    for name in ("王一", "王二", "王三"):
        person = make_person(session, name=name)
        residence(session, person, aw.world.room, "family")
        members.append(make_actor(session, roles=["resident"], scope=aw.estate, person_id=person.id))
    service.issue_pass(session, members[0], estate_id=aw.estate.id, now=NOW)
    service.issue_pass(session, members[1], estate_id=aw.estate.id, now=NOW)
    with pytest.raises(Conflict) as refused:
        service.issue_pass(session, members[2], estate_id=aw.estate.id, now=NOW)
    assert refused.value.details[0].message == service.MSG_HOUSEHOLD_LIMIT
    assert refused.value.details[0].params == {"limit": 2}
    assert _count(session) == 2
    # Another household of the estate is not affected.
    assert service.issue_pass(session, aw.tenant_actor, estate_id=aw.estate.id, now=NOW).id
    # An expired pass no longer counts.
    first = session.scalars(select(EntryPass).where(EntryPass.room_id == aw.world.room.id)).first()
    assert first is not None
    first.valid_until = NOW - timedelta(minutes=1)
    assert service.issue_pass(session, members[2], estate_id=aw.estate.id, now=NOW).id


def test_over_the_per_person_limit(session: Session, aw: AccessWorld) -> None:
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"max_passes_per_person": 1})
    residence(session, aw.owner, aw.world.room2, "owner")  # a second room in the estate
    service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, room_id=aw.world.room.id, now=NOW)
    with pytest.raises(Conflict) as refused:
        service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, room_id=aw.world.room2.id, now=NOW)
    assert refused.value.details[0].message == service.MSG_PERSON_LIMIT
    # With two rooms, the room must be chosen.
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"max_passes_per_person": 3})
    with pytest.raises(Invalid):
        service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)


def test_a_tenancy_that_ends_caps_the_pass(session: Session, aw: AccessWorld) -> None:
    row = session.scalar(select(Residence).where(Residence.person_id == aw.tenant.id))
    assert row is not None
    row.until = date(2026, 12, 10)
    entry_pass = service.issue_pass(session, aw.tenant_actor, estate_id=aw.estate.id, now=NOW)
    assert entry_pass.valid_until == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # end of the 10th, local


def test_moving_out_stops_the_pass(session: Session, aw: AccessWorld) -> None:
    entry_pass = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id)
    tasks.on_residence_changed(
        session, ResidenceChanged(person_id=aw.owner.id, room_id=aw.world.room.id, change="moved_out")
    )
    assert entry_pass.status == "revoked"
    assert entry_pass.revoked_reason == service.MSG_MOVED_OUT
    revocation = service.revocation_list(session, aw.estate)
    assert entry_pass.id in revocation.passes


def test_revoke_needs_pass_manage_over_the_estate(session: Session, aw: AccessWorld) -> None:
    entry_pass = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id)
    with pytest.raises(Forbidden):
        service.revoke_pass(session, aw.observer, pass_id=entry_pass.id, reason="看看")
    outsider = make_actor(session, roles=["property_manager"], scope=aw.other_estate)
    with pytest.raises(NotFound):
        service.revoke_pass(session, outsider, pass_id=entry_pass.id, reason="不是我的")
    with pytest.raises(Invalid) as bad:
        service.revoke_pass(session, aw.manager, pass_id=entry_pass.id, reason="  ")
    assert bad.value.details[0].field == "reason"
    assert entry_pass.status == "active"
    service.revoke_pass(session, aw.manager, pass_id=entry_pass.id, reason="租约已到期")
    assert entry_pass.status == "revoked"
    assert entry_pass.revoked_reason == "租约已到期"
    with pytest.raises(Conflict):
        service.revoke_pass(session, aw.manager, pass_id=entry_pass.id, reason="再次")


def test_expire_marks_passes_past_their_time(session: Session, aw: AccessWorld) -> None:
    entry_pass = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)
    assert service.expire(session, now=NOW) == 0
    assert service.expire(session, now=NOW + timedelta(days=31)) == 1
    session.refresh(entry_pass)
    assert entry_pass.status == "expired"


def test_stats_count_today_in_the_city(session: Session, aw: AccessWorld) -> None:
    service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id)
    figures = service.stats(session, region=aw.world.community)
    assert figures["passes_active"] == 1
    assert figures["entries_today"] == 0
    assert figures["gates_total"] == 1
    assert service.stats(session, region=aw.other_estate)["passes_active"] == 0
