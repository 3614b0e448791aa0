"""业主表决 under 《民法典》第278条: one ballot per owned room (two rooms two votes, co-owners
share one and the first decides), area weighting, the 2/3 participation quorum on area and
owners, ordinary (> 1/2) and major (≥ 3/4) thresholds decided with exact fractions at the
boundary, closing at the deadline with the result published as a notice, secrecy and scope."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.governance import service, votes
from cityos.community.governance.models import ABSTAIN, Notice, NoticeKind, VoteBallot
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import AuditRecord
from tests.community.governance_fixtures import NOW, Gov, add_rooms, also_owns, make_gov, resident, set_area

DEADLINE = NOW + timedelta(days=7)


def fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d.field for d in exc.value.details}


# --- the arithmetic -------------------------------------------------------------------------------------------


def test_quorum_needs_two_thirds_of_area_and_of_owners_exactly() -> None:
    # Three rooms of 1/3 of the area each: two of them is exactly 2/3 (a float would say 0.666…).
    t = votes.count("ordinary", "area", [(3333, 0), (3333, 0), (3333, None)], 2)
    assert t.rooms_share == Fraction(2, 3)
    assert t.area_share == Fraction(2, 3)
    assert t.quorum_met
    # 2/3 of the owners but a hair under 2/3 of the area: no quorum.
    t = votes.count("ordinary", "area", [(3333, 0), (3333, 0), (3334, None)], 2)
    assert t.area_share == Fraction(6666, 10000) < Fraction(2, 3)
    assert not t.quorum_met
    assert t.adopted is None
    # Most of the area but only 1 owner of 3: no quorum either.
    t = votes.count("ordinary", "area", [(90000, 0), (100, None), (100, None)], 2)
    assert t.area_share > Fraction(2, 3)
    assert not t.quorum_met
    # Counting rooms only, the area does not matter.
    t = votes.count("ordinary", "rooms", [(100, 0), (100, 0), (90000, None)], 2)
    assert t.quorum_met
    assert t.adopted == 0


def test_ordinary_matter_needs_more_than_half_of_both() -> None:
    # Exactly half of the participating owners agree: not more than half, not adopted.
    half = votes.count("ordinary", "area", [(100, 0), (100, 0), (100, 1), (100, 1)], 2)
    assert half.quorum_met
    assert not half.passes(half.options[0])
    assert half.adopted is None
    # 3 of 5 owners but exactly half of the area: still not adopted.
    area_half = votes.count("ordinary", "area", [(100, 0), (100, 0), (100, 0), (150, 1), (150, 1)], 2)
    assert Fraction(area_half.options[0].area, area_half.voted.area) == Fraction(1, 2)
    assert area_half.adopted is None
    # One hundredth of a square metre more tips it.
    tipped = votes.count("ordinary", "area", [(100, 0), (100, 0), (101, 0), (150, 1), (150, 1)], 2)
    assert tipped.adopted == 0
    # Abstaining counts as taking part, so it raises the bar.
    abstain = votes.count("ordinary", "rooms", [(1, 0), (1, 0), (1, ABSTAIN), (1, ABSTAIN)], 2)
    assert abstain.voted.rooms == 4
    assert abstain.adopted is None


def test_major_matter_needs_three_quarters_of_both() -> None:
    exact = votes.count("major", "area", [(100, 0), (100, 0), (100, 0), (100, 1)], 2)
    assert Fraction(exact.options[0].rooms, exact.voted.rooms) == Fraction(3, 4)
    assert exact.adopted == 0  # at least 3/4 is enough
    below = votes.count("major", "area", [(100, 0), (100, 0), (100, 0), (101, 1)], 2)
    assert Fraction(below.options[0].area, below.voted.area) < Fraction(3, 4)
    assert below.adopted is None
    # The same ballots as an ordinary matter pass.
    assert votes.count("ordinary", "area", [(100, 0), (100, 0), (100, 0), (101, 1)], 2).adopted == 0


def test_room_areas_are_read_exactly(session: Session) -> None:
    gov = make_gov(session)
    room = gov.world.room
    for raw, hundredths in (("89.37", 8937), (120, 12000), (75.5, 7550), ("60.005", 6001)):
        set_area(session, room, raw)
        assert votes.room_area(room) == hundredths
    for bad in (None, "", "abc", -5, 0, True, "nan"):
        set_area(session, room, bad)
        assert votes.room_area(room) is None


# --- calling and casting --------------------------------------------------------------------------------------


def _estate(session: Session) -> tuple[Gov, dict[str, object]]:
    """Rooms 101-106 of 100 m² (103-106 new): 101 has co-owners A and B, C owns 102 and 103,
    D owns 104, E owns 105, F owns 106; T rents 104."""
    gov = make_gov(session)
    w = gov.world
    for room in (w.room, w.room2):
        set_area(session, room, 100)
    extra = add_rooms(session, w.unit, ["103", "104", "105", "106"], area=100)
    rooms = [w.room, w.room2, *extra]
    a = resident(session, w.room, name="甲")
    b = resident(session, w.room, name="乙")
    c = resident(session, w.room2, name="丙")
    also_owns(session, c, extra[0])
    d = resident(session, extra[1], name="丁")
    e = resident(session, extra[2], name="戊")
    f = resident(session, extra[3], name="己")
    t = resident(session, extra[1], name="租户", relation="tenant")
    return gov, {"rooms": rooms, "a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "t": t}


def test_one_ballot_per_owned_room_co_owners_share_two_rooms_two_votes(session: Session) -> None:
    gov, p = _estate(session)
    rooms = p["rooms"]
    vote = votes.call(
        session, gov.manager, title="更换电梯", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW
    )
    assert (vote.total_rooms, vote.total_area) == (6, 60000)
    a, b, c, t = p["a"], p["b"], p["c"], p["t"]
    # C owns two rooms: two ballots.
    assert [m.ballot.room_id for m in votes.my_ballots(session, c.actor, vote)] == [rooms[1].id, rooms[2].id]
    votes.cast(session, c.actor, vote_id=vote.id, room_id=rooms[1].id, choice=0, now=NOW)
    votes.cast(session, c.actor, vote_id=vote.id, room_id=rooms[2].id, choice=1, now=NOW)
    # A and B co-own 101: A votes first and decides; B is told it was cast, and how.
    votes.cast(session, a.actor, vote_id=vote.id, room_id=rooms[0].id, choice=0, now=NOW)
    with pytest.raises(Conflict):
        votes.cast(session, b.actor, vote_id=vote.id, room_id=rooms[0].id, choice=1, now=NOW)
    seen_by_b = votes.my_ballots(session, b.actor, vote)
    assert [(m.ballot.choice, m.cast_by_me) for m in seen_by_b] == [(0, False)]
    assert [m.cast_by_me for m in votes.my_ballots(session, a.actor, vote)] == [True]
    # A tenant has no vote and does not even see the vote; nor a room one does not own.
    with pytest.raises(NotFound):
        votes.cast(session, t.actor, vote_id=vote.id, room_id=rooms[3].id, choice=0, now=NOW)
    with pytest.raises(Invalid) as exc:
        votes.cast(session, a.actor, vote_id=vote.id, room_id=rooms[3].id, choice=0, now=NOW)
    assert fields(exc) == {"room_id"}
    t_now = votes.tally(session, vote)
    assert (t_now.voted.rooms, t_now.voted.area) == (3, 30000)
    assert service.my_open_votes(session, c.actor) == [vote]
    assert service.my_open_votes(session, t.actor) == []


def test_bad_ballots_are_refused_and_change_nothing(session: Session) -> None:
    gov, p = _estate(session)
    vote = votes.call(session, gov.manager, title="议题", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW)
    room = p["rooms"][0].id
    for bad in (2, -2, "0", None, True, 1.0):
        with pytest.raises(Invalid) as exc:
            votes.cast(session, p["a"].actor, vote_id=vote.id, room_id=room, choice=bad, now=NOW)
        assert fields(exc) == {"choice"}
    assert votes.tally(session, vote).voted.rooms == 0
    with pytest.raises(Invalid):
        votes.cast(session, p["a"].actor, vote_id=vote.id, room_id="101", choice=0, now=NOW)
    ballot = votes.cast(session, p["a"].actor, vote_id=vote.id, room_id=room, choice="abstain", now=NOW)
    assert ballot.choice == ABSTAIN
    with pytest.raises(Forbidden):
        votes.cast(session, gov.staff, vote_id=vote.id, room_id=room, choice=0, now=NOW)


def test_ballots_are_secret_and_the_audit_keeps_who_voted(session: Session) -> None:
    gov, p = _estate(session)
    vote = votes.call(session, gov.manager, title="议题", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW)
    votes.cast(session, p["d"].actor, vote_id=vote.id, room_id=p["rooms"][3].id, choice=1, now=NOW)
    assert not {"person_id", "account_id"} & set(VoteBallot.__table__.columns.keys())
    record = session.scalar(select(AuditRecord).where(AuditRecord.action == "vote.cast"))
    assert record is not None
    assert record.account_id == p["d"].actor.account_id
    assert record.subject_id == str(vote.id)
    assert record.detail == f"room:{p['rooms'][3].id}"
    # Another owner sees only their own room's ballot.
    assert [m.ballot.room_id for m in votes.my_ballots(session, p["e"].actor, vote)] == [p["rooms"][4].id]


def _vote_all(session: Session, gov: Gov, p: dict[str, object], vote, choices: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    room_of = {"a": 0, "c": 1, "d": 3, "e": 4, "f": 5}
    for who, choice in choices.items():
        room = p["rooms"][room_of[who]] if who != "c2" else p["rooms"][2]
        actor = p["c" if who == "c2" else who].actor
        votes.cast(session, actor, vote_id=vote.id, room_id=room.id, choice=choice, now=NOW)


def test_quorum_not_reached_then_nothing_is_decided_at_the_deadline(session: Session) -> None:
    gov, p = _estate(session)
    vote = votes.call(
        session, gov.manager, title="停车收费", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW
    )
    _vote_all(session, gov, p, vote, {"a": 0, "c": 0, "d": 0})  # 3 of 6 rooms: 1/2 < 2/3
    assert service.periodic_work(session, now=DEADLINE - timedelta(minutes=1))["votes_closed"] == 0
    assert service.periodic_work(session, now=DEADLINE)["votes_closed"] == 1
    assert vote.status == "closed"
    assert vote.closed_by == "deadline"
    assert vote.result is not None
    assert vote.result["quorum_met"] is False
    assert vote.result["adopted"] is None
    notice = session.scalar(select(Notice).where(Notice.vote_id == vote.id))
    assert notice is not None
    assert notice.kind == NoticeKind.VOTE_RESULT
    assert notice.title == "业主表决结果：停车收费"
    assert "未达到三分之二" in notice.body
    with pytest.raises(Conflict):
        votes.cast(session, p["e"].actor, vote_id=vote.id, room_id=p["rooms"][4].id, choice=0, now=DEADLINE)
    # The owners read the result notice like any other.
    assert notice in service.my_notices(session, p["e"].actor)


def test_quorum_reached_ordinary_passes_and_major_does_not(session: Session) -> None:
    gov, p = _estate(session)
    estate = gov.world.estate.id
    ordinary = votes.call(session, gov.manager, title="一般事项", region_id=estate, closes_at=DEADLINE, now=NOW)
    major = votes.call(
        session, gov.manager, title="使用维修资金", region_id=estate, matter="major", closes_at=DEADLINE, now=NOW
    )
    # 5 of 6 rooms take part (5/6 ≥ 2/3); 3 agree of 5: 3/5 > 1/2 but < 3/4.
    choices = {"a": 0, "c": 0, "c2": 0, "d": 1, "e": 1}
    _vote_all(session, gov, p, ordinary, choices)
    _vote_all(session, gov, p, major, choices)
    votes.close(session, gov.manager, vote_id=ordinary.id, now=NOW + timedelta(days=1))
    votes.close(session, gov.manager, vote_id=major.id, now=NOW + timedelta(days=1))
    assert ordinary.result["quorum_met"] is True
    assert ordinary.result["adopted"] == 0
    assert major.result["quorum_met"] is True
    assert major.result["adopted"] is None
    assert ordinary.closed_by == "manager"
    en_title, en_body = votes.result_text(ordinary, "en")
    assert en_title == "Result of the owners' vote: 一般事项"
    assert "Taking part: 5 of 6 owners (83.33%)." in en_body
    assert "Decided: Agree." in en_body
    zh_title, zh_body = votes.result_text(major, "zh_CN")
    assert "未达到本事项所需" in zh_body
    with pytest.raises(Conflict):
        votes.close(session, gov.manager, vote_id=major.id)


def test_area_weighting_decides_where_owners_alone_would_not(session: Session) -> None:
    gov, p = _estate(session)
    rooms = p["rooms"]
    set_area(session, rooms[0], 300)  # 101 is large
    vote = votes.call(session, gov.manager, title="按面积", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW)
    by_rooms = votes.call(
        session,
        gov.manager,
        title="按户",
        region_id=gov.world.estate.id,
        weighting="rooms",
        closes_at=DEADLINE,
        now=NOW,
    )
    assert vote.total_area == 80000
    # 101 (300 m²) and 102, 103 agree; 104, 105 disagree: 3/5 owners, 500/700 of the area.
    for v in (vote, by_rooms):
        _vote_all(session, gov, p, v, {"a": 0, "c": 0, "c2": 0, "d": 1, "e": 1})
    t = votes.tally(session, vote)
    assert t.area_share == Fraction(70000, 80000)
    assert t.quorum_met
    assert Fraction(t.options[0].area, t.voted.area) == Fraction(5, 7)
    assert t.adopted == 0
    # Now the two who disagree own the large rooms: most owners agree, but not most of the area.
    set_area(session, rooms[3], 400)
    set_area(session, rooms[4], 400)
    heavy = votes.call(
        session, gov.manager, title="大户反对", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW
    )
    _vote_all(session, gov, p, heavy, {"a": 0, "c": 0, "c2": 0, "d": 1, "e": 1})
    t = votes.tally(session, heavy)
    assert Fraction(t.options[0].rooms, t.voted.rooms) == Fraction(3, 5)  # most owners agree
    assert Fraction(t.options[0].area, t.voted.area) == Fraction(500, 1300)  # but not most of the area
    assert t.quorum_met
    assert t.adopted is None
    assert votes.tally(session, by_rooms).adopted == 0


def test_calling_a_vote_checks_every_field(session: Session) -> None:
    gov, _p = _estate(session)
    with pytest.raises(Invalid) as exc:
        votes.call(
            session,
            gov.manager,
            title=" ",
            region_id=gov.world.unit.id,
            matter="urgent",
            weighting="people",
            options=["同意", "同意"],
            closes_at=NOW - timedelta(days=1),
            description="x" * 4001,
            now=NOW,
        )
    assert fields(exc) == {"title", "region_id", "matter", "weighting", "options", "closes_at", "description"}
    # Rooms without a recorded area: by area refused, by rooms fine.
    add_rooms(session, gov.world.unit, ["107"])  # no owner: no ballot
    room_without = add_rooms(session, gov.world.unit, ["108"])[0]
    resident(session, room_without, name="新业主")
    with pytest.raises(Invalid) as exc:
        votes.call(session, gov.manager, title="议题", region_id=gov.world.estate.id, closes_at=DEADLINE, now=NOW)
    assert fields(exc) == {"weighting"}
    assert "108" in exc.value.details[0].params["example"]
    by_rooms = votes.call(
        session,
        gov.manager,
        title="议题",
        region_id=gov.world.estate.id,
        weighting="rooms",
        closes_at=DEADLINE,
        now=NOW,
    )
    assert by_rooms.total_rooms == 7  # 107 has no owner, so no ballot


def test_building_votes_and_scope(session: Session) -> None:
    gov, p = _estate(session)
    w = gov.world
    vote = votes.call(session, gov.staff, title="1栋外墙", region_id=w.building.id, closes_at=DEADLINE, now=NOW)
    assert vote.total_rooms == 6
    # Staff of grid 2 can neither call a vote here nor see this one.
    with pytest.raises(Invalid) as exc:
        votes.call(session, gov.outsider_staff, title="x", region_id=w.estate.id, closes_at=DEADLINE, now=NOW)
    assert fields(exc) == {"region_id"}
    with pytest.raises(NotFound):
        votes.get_vote(session, gov.outsider_staff, vote.id)
    with pytest.raises(NotFound):
        votes.close(session, gov.outsider_staff, vote_id=vote.id)
    # The street observer reads it but cannot close it; a grid worker cannot call one.
    assert votes.get_vote(session, gov.observer, vote.id) is vote
    with pytest.raises(Forbidden):
        votes.close(session, gov.observer, vote_id=vote.id)
    with pytest.raises(Forbidden):
        votes.call(session, gov.worker, title="x", region_id=w.estate.id, closes_at=DEADLINE, now=NOW)
    # Nobody owns anything in the other estate's building.
    with pytest.raises(Invalid) as exc:
        votes.call(session, gov.staff, title="x", region_id=_other_building(session, gov), closes_at=DEADLINE, now=NOW)
    assert fields(exc) == {"region_id"}
    assert vote in votes.in_area(session, gov.staff)
    assert votes.in_area(session, gov.outsider_staff) == []
    assert p["a"].actor.person_id is not None


def _other_building(session: Session, gov: Gov) -> int:
    from cityos.places.models import Region

    other = session.get(Region, gov.world.other_room.parent_id)
    assert other is not None
    assert other.parent_id is not None
    # The staff of the community cover grid 2 too; the building there has a room but no owner.
    return other.parent_id
