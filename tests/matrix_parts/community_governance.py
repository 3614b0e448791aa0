"""Permission-matrix entries of community.governance (see tests/matrix_parts/base.py).

Inside: a notice and a survey to grid 1 (which reach the matrix's resident, registered in room
102), an owners' vote in 阳光小区 (the inside person owns room 101), a help request by the inside
person, volunteers, a task plan over grid 1 with a task for the inside person. Outside: the same
in grid 2 / 月亮小区, and a help request in district B (grid 2 is the same community, whose
neighbours would see it). The matrix's resident is a volunteer, so may take the inside request;
nobody in the matrix owns a room, so nobody may cast a ballot.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World
from tests.matrix_parts.base import Case


def _soon() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


def _any(*wanted: str) -> Any:
    return lambda perms, role: any(p in perms for p in wanted)


def _resident(perms: frozenset[str], role: str) -> bool:
    return role == "resident"


def _reader(perms: frozenset[str], role: str) -> bool:
    """A notice or survey: the people it reaches (the matrix's resident), and staff of the area."""
    return role == "resident" or "notice:write" in perms or "community:read" in perms


CASES: tuple[Case, ...] = (
    # Notices: one's own list for everyone (apps have no person: an empty list).
    Case("GET", "/api/v1/community/notices", lambda perms, role: True, list_key="", kind="gov_notice", outside=False),
    Case(
        "POST",
        "/api/v1/community/notices",
        "notice:write",
        body=lambda i: {"title": "矩阵通知", "body": "内容", "region_id": i["grid"]},
    ),
    Case("GET", "/api/v1/community/notices/{notice_id}", _reader),
    Case("GET", "/api/v1/community/notices/{notice_id}/receipts", _any("notice:write", "community:read")),
    # Surveys.
    Case("GET", "/api/v1/community/surveys", lambda perms, role: True, list_key="", kind="gov_survey", outside=False),
    Case(
        "POST",
        "/api/v1/community/surveys",
        "notice:write",
        body=lambda i: {
            "title": "矩阵问卷",
            "region_id": i["grid"],
            "questions": [{"kind": "rating", "text": "打分"}],
            "closes_at": _soon(),
        },
    ),
    Case("GET", "/api/v1/community/surveys/{survey_id}", _reader),
    Case("PUT", "/api/v1/community/surveys/{survey_id}/answer", _resident, body=lambda i: {"answers": {"q1": 0}}),
    Case("GET", "/api/v1/community/surveys/{survey_id}/results", _any("notice:write", "community:read")),
    Case("POST", "/api/v1/community/surveys/{survey_id}/close", "notice:write"),
    # Owners' votes: the managers and observers of the area read them; owners vote (none here).
    Case("GET", "/api/v1/community/votes", lambda perms, role: True, list_key="", kind="gov_vote", outside=False),
    Case(
        "POST",
        "/api/v1/community/votes",
        "vote:manage",
        body=lambda i: {"title": "矩阵表决", "region_id": i["gov_estate"], "weighting": "rooms", "closes_at": _soon()},
    ),
    Case("GET", "/api/v1/community/votes/{vote_id}", _any("vote:manage", "community:read")),
    Case(
        "POST",
        "/api/v1/community/votes/{vote_id}/ballots",
        lambda perms, role: False,
        body=lambda i: {"room_id": i["room"], "choice": 0},
    ),
    Case("POST", "/api/v1/community/votes/{vote_id}/close", "vote:manage"),
    # Neighbour help: residents of the community; the matrix's resident is a volunteer.
    Case("GET", "/api/v1/community/help", lambda perms, role: True, list_key="", kind="gov_help", outside=False),
    Case(
        "POST",
        "/api/v1/community/help",
        _resident,
        body=lambda i: {"kind": "request", "category": "errand", "title": "帮忙买菜"},
        outside=False,
    ),
    Case("POST", "/api/v1/community/help/{help_post_id}/take", _resident),
    # Only the poster or the one who took it finishes; only the poster withdraws.
    Case(
        "POST",
        "/api/v1/community/help/{help_post_id}/finish",
        lambda perms, role: False,
        body=lambda i: {"minutes": 30},
    ),
    Case("POST", "/api/v1/community/help/{help_post_id}/cancel", lambda perms, role: False),
    Case("PUT", "/api/v1/community/volunteers/me", _resident, body=lambda i: {"skills": ["errand"]}, outside=False),
    Case(
        "GET",
        "/api/v1/community/volunteers",
        _any("community:read", "task:manage"),
        list_key="",
        kind="gov_volunteer",
        outside=False,
    ),
    Case("POST", "/api/v1/community/volunteers/{volunteer_id}/hours", "task:manage", body=lambda i: {"minutes": 60}),
    # Grid tasks.
    Case(
        "GET",
        "/api/v1/community/task-plans",
        _any("task:manage", "community:read"),
        list_key="",
        kind="gov_plan",
        outside=False,
    ),
    Case(
        "POST",
        "/api/v1/community/task-plans",
        "task:manage",
        body=lambda i: {"title": "矩阵走访", "region_id": i["grid"], "tags": ["elderly"]},
    ),
    Case("GET", "/api/v1/community/tasks", "task:visit", list_key="", kind="gov_task", outside=False),
    Case("POST", "/api/v1/community/tasks/{grid_task_id}/visits", "task:visit", body=lambda i: {"outcome": "ok"}),
    Case("GET", "/api/v1/community/task-completion", _any("task:manage", "community:read"), outside=False),
)
PATH_PARAMS: dict[str, str] = {
    "notice_id": "gov_notice",
    "survey_id": "gov_survey",
    "vote_id": "gov_vote",
    "help_post_id": "gov_help",
    "volunteer_id": "gov_volunteer",
    "grid_task_id": "gov_task",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Creates this module's records inside grid 1 and outside it and adds their ids."""
    from datetime import UTC, datetime

    from cityos.community.governance.models import (
        GridTask,
        HelpPost,
        Notice,
        OwnersVote,
        Survey,
        TaskPlan,
        Volunteer,
        VoteBallot,
    )
    from cityos.places.models import Region

    later = datetime.now(UTC) + timedelta(days=30)
    estate2 = next(
        r for r in session.query(Region).filter(Region.level == "estate") if world.other_room.path.startswith(r.path)
    )
    district_b = world.district_b
    sides = (
        (inside, world.grid1, world.estate, world.room, world.room.path),
        (outside, world.grid2, estate2, world.other_room, district_b.path),
    )
    for side, grid, estate, room, help_path in sides:
        notice = Notice(title="矩阵通知", body="内容", region_id=grid.id, region_path=grid.path, tags=[])
        survey = Survey(
            title="矩阵问卷",
            region_id=grid.id,
            region_path=grid.path,
            tags=[],
            questions=[{"key": "q1", "kind": "single", "text": "好吗", "options": ["好", "不好"], "required": True}],
            closes_at=later,
        )
        vote = OwnersVote(
            title="矩阵表决",
            region_id=estate.id,
            region_path=estate.path,
            weighting="rooms",
            options=["Agree", "Disagree"],
            closes_at=later,
            total_rooms=1,
        )
        help_post = HelpPost(
            kind="request",
            category="errand",
            title="帮忙买药",
            person_id=side["person"],
            region_id=room.id if help_path == room.path else district_b.id,
            region_path=help_path,
            community_path=world.community.path if help_path == room.path else district_b.path,
        )
        volunteer = Volunteer(person_id=side["person"], skills=["errand"], region_path=room.path)
        plan = TaskPlan(title="矩阵走访", region_id=grid.id, region_path=grid.path, tags=[], last_period="2026-12")
        session.add_all([notice, survey, vote, help_post, volunteer, plan])
        session.flush()
        session.add(VoteBallot(vote_id=vote.id, room_id=room.id, area=0))
        task = GridTask(
            plan_id=plan.id,
            period="2026-12",
            person_id=side["person"],
            grid_id=grid.id,
            region_path=room.path,
            due_on=date.today() + timedelta(days=20),
        )
        session.add(task)
        session.flush()
        side.update(
            gov_notice=notice.id,
            gov_survey=survey.id,
            gov_vote=vote.id,
            gov_help=help_post.id,
            gov_volunteer=volunteer.id,
            gov_plan=plan.id,
            gov_task=task.id,
            gov_estate=estate.id,
        )
    # The matrix's resident (room 102, registered only) volunteers, so may take the inside request.
    session.add(Volunteer(person_id=inside["self_person"], skills=["errand"], region_path=world.room2.path))
    session.flush()
