"""The governance pages in zh_CN and en: a resident's notices and receipts, answering a survey
(errors under the questions, nothing saved), voting per room with the quorum bar and a
co-owner told the room has voted, neighbour help, the grid worker's visit log, and the office's
four forms with field errors; who may open what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.governance import gridtasks, notices, surveys, votes
from cityos.community.governance.models import HelpPost, Notice, OwnersVote, Survey, SurveyAnswer, TaskPlan, VisitLog
from cityos.places import index
from tests.community.governance_fixtures import add_rooms, make_gov, resident, set_area
from tests.factories import make_account, session_cookie

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def g(session: Session):  # type: ignore[no-untyped-def]
    gov = make_gov(session)
    w = gov.world
    for room in (w.room, w.room2):
        set_area(session, room, 90)
    extra = add_rooms(session, w.unit, ["103"], area=90)
    people = {
        "a": resident(session, w.room, name="甲", tags=["elderly", "living_alone"]),
        "a2": resident(session, w.room, name="甲二"),  # co-owner of 101
        "b": resident(session, w.room2, name="乙"),
        "c": resident(session, extra[0], name="丙"),
    }
    session.commit()
    yield gov, people
    index.invalidate()


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))
    client.follow_redirects = False


def test_notices_and_receipts(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    n = notices.publish(
        session, gov.staff, title="停水通知", body="周三停水", region_id=gov.world.building.id, urgency="urgent"
    )
    session.commit()
    _as(client, session, p["a"].account.id)
    zh = client.get("/community/notices", headers=ZH)
    assert zh.status_code == 200
    assert "通知公告" in zh.text
    assert "停水通知" in zh.text
    assert "紧急" in zh.text
    assert 'class="gv-unread"' in zh.text
    en = client.get("/community/notices")
    assert "Notices" in en.text
    assert "Urgent" in en.text
    page = client.get(f"/community/notices/{n.id}", headers=ZH)
    assert page.status_code == 200
    assert "周三停水" in page.text
    assert 'data-testid="receipts"' not in page.text  # residents see no receipts
    assert 'class="gv-unread"' not in client.get("/community/notices").text
    _as(client, session, gov.staff_account.id)
    staff = client.get(f"/community/notices/{n.id}", headers=ZH)
    assert "已读回执" in staff.text
    assert 'data-testid="read-count">1<' in staff.text
    assert "甲" in staff.text  # community staff may read residents
    _as(client, session, p["c"].account.id)
    assert client.get(f"/community/notices/{n.id}").status_code == 200  # 103 is in the building too
    other = make_account(session, roles=["resident"], scope=gov.world.grid2)
    _as(client, session, other.id)
    assert client.get(f"/community/notices/{n.id}", headers={"Accept": "text/html"}).status_code == 404


def test_answering_a_survey_and_staff_results(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    s = surveys.create(
        session,
        gov.staff,
        title="满意度调查",
        region_id=gov.world.estate.id,
        questions=[
            {"kind": "single", "text": "满意吗", "options": ["满意", "不满意"]},
            {"kind": "multiple", "text": "想要什么", "options": ["健身", "充电桩"]},
            {"kind": "rating", "text": "打分"},
            {"kind": "text", "text": "建议", "required": False},
        ],
        closes_at=date.today() + timedelta(days=5),
    )
    session.commit()
    _as(client, session, p["b"].account.id)
    form = client.get(f"/community/surveys/{s.id}", headers=ZH)
    assert form.status_code == 200
    assert "请作答" in form.text
    assert "满意吗" in form.text
    bad = client.post(f"/community/surveys/{s.id}", data={"q1": "0"}, headers=ZH)
    assert bad.status_code == 422
    assert "请回答此问题。" in bad.text
    assert 'data-testid="form-errors"' in bad.text
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
    ok = client.post(
        f"/community/surveys/{s.id}", data={"q1": "1", "q2": ["0", "1"], "q3": "4", "q4": "加装路灯"}, headers=ZH
    )
    assert ok.status_code == 303
    again = client.get(ok.headers["location"], headers=ZH)
    assert "谢谢" in again.text
    assert "修改我的答案" in again.text
    _as(client, session, gov.staff_account.id)
    results = client.get(f"/community/surveys/{s.id}")
    assert 'data-testid="results"' in results.text
    assert 'data-testid="count-q1-1">1<' in results.text
    assert "echarts.min.js" in results.text
    assert "加装路灯" in results.text
    assert client.post(f"/community/surveys/{s.id}/close").status_code == 303
    _as(client, session, p["b"].account.id)
    assert "This survey is closed." in client.get(f"/community/surveys/{s.id}").text
    assert client.post(f"/community/surveys/{s.id}", data={"q1": "0", "q2": "0", "q3": "1"}).status_code == 409


def test_voting_per_room_quorum_bar_and_co_owners(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    v = votes.call(
        session,
        gov.staff,
        title="加装电梯",
        region_id=gov.world.building.id,
        closes_at=date.today() + timedelta(days=7),
    )
    session.commit()
    _as(client, session, p["a"].account.id)
    listing = client.get("/community/votes", headers=ZH)
    assert "业主表决" in listing.text
    assert "加装电梯" in listing.text
    page = client.get(f"/community/votes/{v.id}", headers=ZH)
    assert "您的投票" in page.text
    assert "同意" in page.text
    assert "弃权" in page.text
    room = gov.world.room.id
    cast = client.post(f"/community/votes/{v.id}/ballots", data={"room_id": str(room), "choice": "0"})
    assert cast.status_code == 303
    assert "You voted: Agree" in client.get(cast.headers["location"]).text
    _as(client, session, p["a2"].account.id)
    co = client.get(f"/community/votes/{v.id}", headers=ZH)
    assert "本房屋的另一位共有业主已投票：同意" in co.text
    late = client.post(f"/community/votes/{v.id}/ballots", data={"room_id": str(room), "choice": "1"}, headers=ZH)
    assert late.status_code == 409
    assert "最先投出的一票为准" in late.text
    bad = client.post(f"/community/votes/{v.id}/ballots", data={"room_id": str(room), "choice": "7"})
    assert bad.status_code in (409, 422)
    _as(client, session, gov.staff_account.id)
    staff = client.get(f"/community/votes/{v.id}", headers=ZH)
    assert 'data-testid="quorum-not-met"' in staff.text
    assert "33.33%" in staff.text
    assert 'data-testid="close-vote"' in staff.text
    assert client.post(f"/community/votes/{v.id}/close").status_code == 303
    closed = client.get(f"/community/votes/{v.id}", headers=ZH)
    assert 'data-testid="not-adopted"' in closed.text
    assert "未达到三分之二" in closed.text
    assert session.scalar(select(OwnersVote.status).where(OwnersVote.id == v.id)) == "closed"
    _as(client, session, p["c"].account.id)
    assert "业主表决结果：加装电梯" in client.get("/community/notices", headers=ZH).text


def test_neighbour_help_page(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    _gov, p = g
    _as(client, session, p["a"].account.id)
    page = client.get("/community/help", headers=ZH)
    assert page.status_code == 200
    assert "邻里互助" in page.text
    assert "代买跑腿" in page.text
    bad = client.post(
        "/community/help", data={"kind": "offer", "category": "meals", "title": "", "urgent": "1"}, headers=ZH
    )
    assert bad.status_code == 422
    assert "请填写标题" in bad.text
    assert "只有求助可以标为紧急。" in bad.text
    assert session.scalar(select(func.count()).select_from(HelpPost)) == 0
    ok = client.post("/community/help", data={"kind": "request", "category": "errand", "title": "帮忙买药"})
    assert ok.status_code == 303
    post_id = session.scalar(select(HelpPost.id))
    _as(client, session, p["b"].account.id)
    assert "帮忙买药" in client.get("/community/help", headers=ZH).text
    refused = client.post(f"/community/help/{post_id}/take", headers=ZH)
    assert refused.status_code == 409
    assert "请先登记成为志愿者" in refused.text
    assert client.post("/community/volunteers/me", data={"intro": "x"}, headers=ZH).status_code == 422
    assert client.post("/community/volunteers/me", data={"skills": ["errand", "tech"]}).status_code == 303
    taken = client.post(f"/community/help/{post_id}/take")
    assert taken.status_code == 303
    mine = client.get(taken.headers["location"], headers=ZH)
    assert "地址：" in mine.text
    assert "阳光小区" in mine.text
    assert client.post(f"/community/help/{post_id}/finish", data={"minutes": "45"}).status_code == 303
    assert "0.8" in client.get("/community/help").text  # 45 minutes given, in hours
    assert client.post(f"/community/help/{post_id}/nonsense").status_code == 404


def test_grid_worker_logs_visits_on_the_phone_page(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    gridtasks.plan(
        session, gov.staff, title="每月走访独居老人", region_id=gov.world.community.id, tags=["elderly", "living_alone"]
    )
    session.commit()
    _as(client, session, gov.worker_account.id)
    page = client.get("/community/tasks", headers=ZH)
    assert page.status_code == 200
    assert "网格任务" in page.text
    assert "甲" in page.text
    assert "记录走访" in page.text
    task_id = gridtasks.my_tasks(session, gov.worker)[0].task.id
    bad = client.post(f"/community/tasks/{task_id}/visits", data={"outcome": "needs_help", "note": ""}, headers=ZH)
    assert bad.status_code == 422
    assert "请说明需要什么帮助。" in bad.text
    assert session.scalar(select(func.count()).select_from(VisitLog)) == 0
    future = client.post(
        f"/community/tasks/{task_id}/visits", data={"outcome": "ok", "visited_at": "2099-01-01T10:00"}, headers=ZH
    )
    assert future.status_code == 422
    assert "不能晚于现在" in future.text
    ok = client.post(f"/community/tasks/{task_id}/visits", data={"outcome": "ok", "note": "身体不错"})
    assert ok.status_code == 303
    assert "No visits to make" in client.get("/community/tasks").text
    assert "身体不错" not in client.get("/community/tasks?status=done").text  # notes stay in the log
    _as(client, session, p["a"].account.id)
    assert client.get("/community/tasks", headers={"Accept": "text/html"}).status_code == 403


def test_the_office_forms(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    w = gov.world
    _as(client, session, gov.staff_account.id)
    page = client.get("/community/office", headers=ZH)
    assert page.status_code == 200
    for text in ("社区办公", "发布通知", "发起问卷", "发起业主表决", "安排网格任务"):
        assert text in page.text
    bad = client.post(
        "/community/office/notice", data={"title": "", "body": "", "region_id": str(w.estate.id)}, headers=ZH
    )
    assert bad.status_code == 422
    assert "请填写标题" in bad.text
    assert "请填写通知内容" in bad.text
    assert session.scalar(select(func.count()).select_from(Notice)) == 0
    ok = client.post(
        "/community/office/notice",
        data={"title": "体检通知", "body": "周五免费体检", "region_id": str(w.community.id), "tags": ["elderly"]},
    )
    assert ok.status_code == 303
    assert session.scalar(select(Notice.tags)) == ["elderly"]
    bad_survey = client.post(
        "/community/office/survey",
        data={
            "title": "问卷",
            "questions": "single: 好吗 | 好\nessay: 不行",
            "closes_on": "",
            "region_id": str(w.estate.id),
        },
        headers=ZH,
    )
    assert bad_survey.status_code == 422
    assert "第 2 行" in bad_survey.text
    one_option = client.post(
        "/community/office/survey",
        data={"title": "问卷", "questions": "single: 好吗 | 好", "closes_on": _soon(), "region_id": str(w.estate.id)},
        headers=ZH,
    )
    assert one_option.status_code == 422
    assert "第 1 题" in one_option.text
    assert session.scalar(select(func.count()).select_from(Survey)) == 0
    survey = client.post(
        "/community/office/survey",
        data={
            "title": "问卷",
            "questions": "single: 好吗 | 好 | 不好\ntext?: 建议",
            "closes_on": _soon(),
            "region_id": str(w.estate.id),
            "anonymous": "1",
        },
    )
    assert survey.status_code == 303
    assert session.scalar(select(Survey.anonymous)) is True
    bad_vote = client.post(
        "/community/office/vote",
        data={
            "title": "议题",
            "region_id": str(w.estate.id),
            "matter": "ordinary",
            "weighting": "area",
            "closes_on": "2020-01-01",
        },
        headers=ZH,
    )
    assert bad_vote.status_code == 422
    assert "请填写截止时间" in bad_vote.text
    vote = client.post(
        "/community/office/vote",
        data={
            "title": "议题",
            "region_id": str(w.estate.id),
            "matter": "major",
            "weighting": "area",
            "closes_on": _soon(),
            "options": "方案一\n方案二\n",
        },
    )
    assert vote.status_code == 303
    assert session.scalar(select(OwnersVote.options)) == ["方案一", "方案二"]
    plan = client.post(
        "/community/office/plan",
        data={
            "title": "每月走访",
            "region_id": str(w.community.id),
            "period": "monthly",
            "tags": ["elderly", "living_alone"],
        },
    )
    assert plan.status_code == 303
    assert session.scalar(select(func.count()).select_from(TaskPlan)) == 1
    again = client.get("/community/office?done=plan", headers=ZH)
    assert "第一网格" in again.text
    assert "体检通知" in again.text
    assert "议题" in again.text
    en = client.get("/community/office")
    assert "Community office" in en.text
    assert "Publish a notice" in en.text
    # The property manager calls votes only; a resident may not open the office.
    manager = make_account(session, roles=["property_manager"], scope=w.estate)
    _as(client, session, manager.id)
    mine = client.get("/community/office", headers=ZH)
    assert "发起业主表决" in mine.text
    assert "发布通知" not in mine.text
    _as(client, session, p["a"].account.id)
    assert client.get("/community/office", headers={"Accept": "text/html"}).status_code == 403
    assert client.post("/community/office/other", data={}).status_code == 404


def _soon() -> str:
    return (date.today() + timedelta(days=10)).isoformat()
