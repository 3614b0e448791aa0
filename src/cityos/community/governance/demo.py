"""Demo records of community governance for one estate of the demo city: three notices (the
estate, the community's elderly, one building, urgent), a satisfaction survey with answers, an
open owners' vote with about two thirds of the rooms voted, a volunteer with a finished and an
open help request, and a monthly plan to visit the elderly living alone with half the visits
made. Guarded: an estate that already has a notice is left as it is."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.people.models import PersonTag, Relation, Residence
from cityos.places.models import Region

from . import audience, gridtasks, notices, surveys, votes
from .models import (
    ABSTAIN,
    GridTask,
    HelpKind,
    HelpPost,
    HelpStatus,
    Notice,
    SurveyAnswer,
    TaskStatus,
    VisitLog,
    Volunteer,
    VolunteerHours,
    VoteBallot,
)

SURVEY = [
    {"kind": "single", "text": "您对小区环境卫生满意吗？", "options": ["满意", "基本满意", "不满意"]},
    {
        "kind": "multiple",
        "text": "您希望增加哪些设施？",
        "options": ["健身器材", "儿童游乐设施", "电动车充电桩", "休息座椅"],
    },
    {"kind": "rating", "text": "请为物业服务打分"},
    {"kind": "text", "text": "其他意见和建议", "required": False},
]
SUGGESTIONS = ("希望增加夜间巡逻", "楼道灯经常不亮", "垃圾分类点再多一个", "停车位太少", "绿化很好，继续保持")


def _staff(community: Region) -> Actor:
    return Actor(
        account_id=None,
        label=f"{community.name}居委会",
        roles=frozenset({"community_staff"}),
        permissions=frozenset({"notice:write", "vote:manage", "task:manage", "task:visit", "community:read"}),
        scope_path=community.path,
        scope_region_id=community.id,
    )


def seed(session: Session, *, estate: Region, community: Region, rng: random.Random) -> None:
    """Notices, a survey, an owners' vote, help and volunteers, and monthly visits for ``estate``."""
    if session.scalar(select(Notice.id).where(Notice.region_id == estate.id).limit(1)) is not None:
        return
    now = utcnow()
    staff = _staff(community)
    residents = list(
        session.execute(
            select(Residence.person_id, Residence.room_id, Residence.relation)
            .join(Region, Region.id == Residence.room_id)
            .where(subtree_clause(Region.path, estate.path), Residence.until.is_(None))
            .order_by(Residence.id)
            .limit(400)
        )
    )
    buildings = list(
        session.scalars(
            select(Region).where(Region.parent_id == estate.id, Region.level == "building").order_by(Region.id)
        )
    )
    notices.publish(
        session,
        staff,
        title="小区二次供水水箱清洗停水通知",
        body="本周六 9:00-15:00 清洗二次供水水箱，届时小区停水，请提前储水。给您带来不便，敬请谅解。",
        region_id=estate.id,
        urgency="important",
        now=now - timedelta(days=2),
    )
    notices.publish(
        session,
        staff,
        title="65岁以上老年人免费健康体检",
        body="社区卫生服务中心将于下周二、周三为辖区老年人免费体检，请携带身份证和医保卡，行动不便的可联系网格员预约上门。",
        region_id=community.id,
        tags=["elderly"],
        now=now - timedelta(days=1),
    )
    if buildings:
        notices.publish(
            session,
            staff,
            title=f"{buildings[0].name}电梯紧急检修",
            body="电梯今晚 20:00-22:00 紧急检修，期间请走楼梯。如有老人需要帮助，请联系物业。",
            region_id=buildings[0].id,
            urgency="urgent",
            now=now - timedelta(hours=3),
        )
    _survey(session, staff, estate, residents, rng, now=now)
    _vote(session, staff, estate, residents, rng, now=now)
    _help(session, residents, rng, now=now)
    plan = gridtasks.plan(
        session,
        staff,
        title="每月走访独居老人",
        instructions="看望身体和生活情况，检查燃气和用电安全，了解是否需要帮助。",
        region_id=estate.id,
        tags=["elderly", "living_alone"],
        now=now,
    )
    tasks = list(session.scalars(select(GridTask).where(GridTask.plan_id == plan.id)))
    for task in tasks[: len(tasks) // 2]:
        outcome = rng.choice(["ok", "ok", "ok", "needs_help", "not_home"])
        session.add(
            VisitLog(
                task_id=task.id,
                person_id=task.person_id,
                region_path=task.region_path,
                visited_at=now - timedelta(hours=rng.randint(1, 72)),
                outcome=outcome,
                note={"ok": "身体状况良好", "needs_help": "需要代买药品，已联系志愿者", "not_home": "敲门无人"}[
                    outcome
                ],
                worker_label=staff.label,
            )
        )
        if outcome != "not_home":
            task.status = TaskStatus.DONE
            task.done_at = now
    session.flush()


def _survey(
    session: Session, staff: Actor, estate: Region, residents: list[Any], rng: random.Random, *, now: datetime
) -> None:
    survey = surveys.create(
        session,
        staff,
        title="小区环境与物业服务满意度调查",
        description="您的意见将作为改进小区环境和物业服务的依据。",
        region_id=estate.id,
        questions=SURVEY,
        closes_at=now + timedelta(days=14),
        now=now,
    )
    people = sorted({pid for pid, _room, _rel in residents})
    for pid in rng.sample(people, min(len(people), 30)):
        answers: dict[str, object] = {
            "q1": rng.choices([0, 1, 2], weights=[5, 3, 1])[0],
            "q2": sorted(rng.sample(range(4), rng.randint(1, 3))),
            "q3": rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 3, 5, 3])[0],
        }
        if rng.random() < 0.3:
            answers["q4"] = rng.choice(SUGGESTIONS)
        session.add(
            SurveyAnswer(
                survey_id=survey.id,
                respondent_key=surveys.respondent_key(survey, pid),
                person_id=pid,
                answers=answers,
            )
        )
    session.flush()


def _vote(
    session: Session, staff: Actor, estate: Region, residents: list[Any], rng: random.Random, *, now: datetime
) -> None:
    if not any(rel == Relation.OWNER for _pid, _room, rel in residents):
        return
    rooms = list(
        session.scalars(
            select(Region).where(subtree_clause(Region.path, estate.path), Region.level == "room").limit(2000)
        )
    )
    by_area = bool(rooms) and all(votes.room_area(r) is not None for r in rooms)
    vote = votes.call(
        session,
        staff,
        title="关于使用专项维修资金更换1栋、2栋电梯的表决",
        description="电梯已使用18年，经检测需更换。拟使用专项维修资金约 120 万元，详见公示方案。",
        region_id=estate.id,
        matter="major",
        weighting="area" if by_area else "rooms",
        closes_at=now + timedelta(days=10),
        now=now,
    )
    for ballot in session.scalars(select(VoteBallot).where(VoteBallot.vote_id == vote.id)):
        if rng.random() < 0.7:
            ballot.choice = rng.choices([0, 1, ABSTAIN], weights=[8, 1, 1])[0]
            ballot.cast_at = now - timedelta(hours=rng.randint(1, 48))
    session.flush()


def _help(session: Session, residents: list[Any], rng: random.Random, *, now: datetime) -> None:
    if len(residents) < 2:
        return
    people = sorted({(pid, room) for pid, room, _rel in residents})
    elderly = set(session.scalars(select(PersonTag.person_id).where(PersonTag.tag == "elderly")))
    old = [(p, r) for p, r in people if p in elderly] or people[:1]
    young = [(p, r) for p, r in people if p not in elderly] or people[1:2]
    helper_id, helper_room = rng.choice(young)
    asker_id, asker_room = rng.choice(old)
    room_of = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_([helper_room, asker_room])))}
    helper_region, asker_region = room_of[helper_room], room_of[asker_room]
    community = audience.ancestor_of_level(session, asker_region.path, "community")
    volunteer = session.scalar(select(Volunteer).where(Volunteer.person_id == helper_id))
    if volunteer is None:
        volunteer = Volunteer(
            person_id=helper_id,
            skills=["errand", "tech", "company"],
            intro="下班后和周末有空",
            region_path=helper_region.path,
        )
        session.add(volunteer)
        session.flush()
    common = {
        "person_id": asker_id,
        "region_id": asker_region.id,
        "region_path": asker_region.path,
        "community_path": community.path if community is not None else asker_region.path,
    }
    done = HelpPost(
        kind=HelpKind.REQUEST,
        category="errand",
        title="帮忙去药店买降压药",
        status=HelpStatus.DONE,
        taker_person_id=helper_id,
        taken_at=now - timedelta(days=3),
        done_at=now - timedelta(days=3, hours=-2),
        minutes=40,
        created_at=now - timedelta(days=3, hours=1),
        **common,
    )
    waiting = HelpPost(
        kind=HelpKind.REQUEST,
        category="tech",
        title="想学用手机挂号，谁能教教我",
        body="周末下午在家",
        created_at=now - timedelta(hours=5),
        **common,
    )
    session.add_all([done, waiting])
    session.flush()
    session.add(
        VolunteerHours(
            volunteer_id=volunteer.id, help_id=done.id, minutes=40, note=done.title, day=audience.local_today(now)
        )
    )
    session.flush()
