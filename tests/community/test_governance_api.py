"""The JSON routes of community.governance: each write with bad input answers 422 with field
messages in the caller's language (and writes nothing), the wrong person 403/404, the wrong
moment 409; an owners' vote run end to end through the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.governance.models import GridTask, HelpPost, Notice, Survey, TaskPlan
from cityos.places import index
from tests.community.governance_fixtures import add_rooms, make_gov, resident, set_area
from tests.factories import bearer

ZH = {"Accept-Language": "zh-CN"}


def _soon(days: int = 10) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def g(session: Session):  # type: ignore[no-untyped-def]
    gov = make_gov(session)
    w = gov.world
    for room in (w.room, w.room2):
        set_area(session, room, "88.50")
    extra = add_rooms(session, w.unit, ["103"], area="120.25")
    people = {
        "a": resident(session, w.room, name="甲", tags=["elderly", "living_alone"]),
        "b": resident(session, w.room2, name="乙"),
        "c": resident(session, extra[0], name="丙"),
    }
    session.commit()
    yield gov, people
    index.invalidate()


def _errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_notice_routes(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    staff = bearer(gov.staff_account.id)
    bad = client.post(
        "/api/v1/community/notices",
        json={"title": "", "body": "", "region_id": 0, "urgency": "x", "tags": ["rich"]},
        headers={**staff, **ZH},
    )
    assert bad.status_code == 422
    errors = _errors(bad)
    assert errors["title"] == "请填写标题，1 至 128 个字。"
    assert set(errors) == {"title", "body", "region_id", "urgency", "tags"}
    assert client.post("/api/v1/community/notices", json={"title": "x"}, headers=staff).status_code == 422
    assert session.scalar(select(func.count()).select_from(Notice)) == 0
    made = client.post(
        "/api/v1/community/notices",
        json={"title": "停水通知", "body": "周三9点至12点停水", "region_id": gov.world.building.id},
        headers=staff,
    )
    assert made.status_code == 201, made.text
    nid = made.json()["id"]
    me = bearer(p["a"].account.id)
    mine = client.get("/api/v1/community/notices", headers=me).json()
    assert [(n["id"], n["read"]) for n in mine] == [(nid, False)]
    assert client.get(f"/api/v1/community/notices/{nid}", headers=me).json()["read"] is True
    assert client.get("/api/v1/community/notices", headers=me).json()[0]["read"] is True
    receipts = client.get(f"/api/v1/community/notices/{nid}/receipts", headers=staff).json()
    assert (receipts["reached"], receipts["read"]) == (3, 1)
    assert client.get(f"/api/v1/community/notices/{nid}/receipts", headers=me).status_code == 404
    assert client.get("/api/v1/community/notices", params={"view": "area"}, headers=me).status_code == 403
    assert client.get("/api/v1/community/notices", params={"view": "x"}, headers=me).status_code == 422
    assert [n["id"] for n in client.get("/api/v1/community/notices?view=area", headers=staff).json()] == [nid]


def test_survey_routes(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    staff = bearer(gov.staff_account.id)
    bad = client.post(
        "/api/v1/community/surveys",
        json={
            "title": "满意度",
            "region_id": gov.world.estate.id,
            "questions": [{"kind": "single", "text": "满意吗", "options": ["是"]}],
            "closes_at": "yesterday",
        },
        headers=staff,
    )
    assert bad.status_code == 422
    assert set(_errors(bad)) == {"questions.0.options", "closes_at"}
    assert session.scalar(select(func.count()).select_from(Survey)) == 0
    made = client.post(
        "/api/v1/community/surveys",
        json={
            "title": "满意度",
            "region_id": gov.world.estate.id,
            "questions": [
                {"kind": "single", "text": "满意吗", "options": ["是", "否"]},
                {"kind": "rating", "text": "打分"},
            ],
            "closes_at": _soon(),
        },
        headers=staff,
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    me = bearer(p["b"].account.id)
    assert [s["id"] for s in client.get("/api/v1/community/surveys", headers=me).json()] == [sid]
    wrong = client.put(f"/api/v1/community/surveys/{sid}/answer", json={"answers": {"q1": 5}}, headers={**me, **ZH})
    assert wrong.status_code == 422
    assert _errors(wrong) == {"answers.q1": "请选择一个选项。", "answers.q2": "请回答此问题。"}
    ok = client.put(f"/api/v1/community/surveys/{sid}/answer", json={"answers": {"q1": 1, "q2": 4}}, headers=me)
    assert ok.status_code == 200
    assert client.get(f"/api/v1/community/surveys/{sid}", headers=me).json()["my_answers"] == {"q1": 1, "q2": 4}
    results = client.get(f"/api/v1/community/surveys/{sid}/results", headers=staff).json()
    assert results["respondents"] == 1
    assert results["questions"][0]["counts"] == [0, 1]
    assert client.post(f"/api/v1/community/surveys/{sid}/close", headers=me).status_code == 403
    assert client.post(f"/api/v1/community/surveys/{sid}/close", headers=staff).status_code == 200
    assert client.post(f"/api/v1/community/surveys/{sid}/close", headers=staff).status_code == 409
    late = client.put(f"/api/v1/community/surveys/{sid}/answer", json={"answers": {"q1": 0, "q2": 1}}, headers=me)
    assert late.status_code == 409


def test_an_owners_vote_through_the_api(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    staff = bearer(gov.staff_account.id)
    bad = client.post(
        "/api/v1/community/votes",
        json={"title": "x", "region_id": gov.world.room.id, "matter": "huge", "closes_at": _soon()},
        headers={**staff, **ZH},
    )
    assert bad.status_code == 422
    assert _errors(bad) == {"region_id": "请选择您辖区内的小区或楼栋。", "matter": "必须是以下之一：ordinary, major。"}
    made = client.post(
        "/api/v1/community/votes",
        json={"title": "加装电梯", "region_id": gov.world.building.id, "matter": "major", "closes_at": _soon()},
        headers=staff,
    )
    assert made.status_code == 201, made.text
    vote = made.json()
    vid = vote["id"]
    assert vote["participation"]["total_rooms"] == 3
    assert vote["participation"]["total_area_m2"] == "297.25"
    assert vote["options"] == ["Agree", "Disagree"]
    a, b, c = (bearer(p[k].account.id) for k in ("a", "b", "c"))
    mine = client.get(f"/api/v1/community/votes/{vid}", headers={**a, **ZH}).json()
    assert mine["options"] == ["同意", "反对"]
    room_a = mine["my_ballots"][0]["room_id"]
    assert (
        client.post(
            f"/api/v1/community/votes/{vid}/ballots", json={"room_id": room_a, "choice": True}, headers=a
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/community/votes/{vid}/ballots", json={"room_id": room_a, "choice": 0}, headers=a
        ).status_code
        == 201
    )
    again = client.post(f"/api/v1/community/votes/{vid}/ballots", json={"room_id": room_a, "choice": 1}, headers=a)
    assert again.status_code == 409
    for who in (b, c):
        room = client.get(f"/api/v1/community/votes/{vid}", headers=who).json()["my_ballots"][0]["room_id"]
        assert (
            client.post(
                f"/api/v1/community/votes/{vid}/ballots", json={"room_id": room, "choice": 0}, headers=who
            ).status_code
            == 201
        )
    live = client.get(f"/api/v1/community/votes/{vid}", headers=staff).json()
    assert live["participation"]["rooms_share"] == "1"
    assert live["participation"]["quorum_met"] is True
    assert live["result"] is None  # tallies only once closed
    assert client.post(f"/api/v1/community/votes/{vid}/close", headers=a).status_code == 403
    closed = client.post(f"/api/v1/community/votes/{vid}/close", headers=staff).json()
    assert closed["status"] == "closed"
    assert closed["result"]["adopted_option"] == "Agree"
    notice = client.get("/api/v1/community/notices", headers={**c, **ZH}).json()[0]
    assert notice["kind"] == "vote_result"
    assert notice["title"] == "业主表决结果：加装电梯"
    assert "表决结果：同意。" in notice["body"]


def test_help_and_task_routes(client: TestClient, session: Session, g) -> None:  # type: ignore[no-untyped-def]
    gov, p = g
    a, b = bearer(p["a"].account.id), bearer(p["b"].account.id)
    bad = client.post("/api/v1/community/help", json={"kind": "x", "category": "y", "title": ""}, headers={**a, **ZH})
    assert bad.status_code == 422
    assert set(_errors(bad)) == {"kind", "category", "title"}
    assert session.scalar(select(func.count()).select_from(HelpPost)) == 0
    post = client.post(
        "/api/v1/community/help", json={"kind": "request", "category": "errand", "title": "帮忙买菜"}, headers=a
    ).json()
    taken = client.post(f"/api/v1/community/help/{post['id']}/take", headers={**b, **ZH})
    assert taken.status_code == 409
    assert taken.json()["error"]["message"] == "请先登记成为志愿者，再接单。"
    assert client.put("/api/v1/community/volunteers/me", json={"skills": ["fly"]}, headers=b).status_code == 422
    assert client.put("/api/v1/community/volunteers/me", json={"skills": ["errand"]}, headers=b).status_code == 200
    assert client.post(f"/api/v1/community/help/{post['id']}/take", headers=b).json()["taken_by_me"] is True
    assert client.post(f"/api/v1/community/help/{post['id']}/finish", json={"minutes": 0}, headers=a).status_code == 422
    done = client.post(f"/api/v1/community/help/{post['id']}/finish", json={"minutes": 40}, headers=a).json()
    assert done["status"] == "done"
    staff = bearer(gov.staff_account.id)
    assert [v["minutes"] for v in client.get("/api/v1/community/volunteers", headers=staff).json()] == [40]

    bad_plan = client.post(
        "/api/v1/community/task-plans",
        json={"title": "走访", "region_id": gov.world.community.id, "period": "daily"},
        headers=staff,
    )
    assert bad_plan.status_code == 422
    assert set(_errors(bad_plan)) == {"period"}
    assert session.scalar(select(func.count()).select_from(TaskPlan)) == 0
    plan = client.post(
        "/api/v1/community/task-plans",
        json={"title": "每月走访独居老人", "region_id": gov.world.community.id, "tags": ["elderly", "living_alone"]},
        headers=staff,
    )
    assert plan.status_code == 201
    worker = bearer(gov.worker_account.id)
    tasks = client.get("/api/v1/community/tasks", headers=worker).json()
    assert [t["person_name"] for t in tasks] == ["甲"]
    tid = tasks[0]["id"]
    bad_visit = client.post(
        f"/api/v1/community/tasks/{tid}/visits", json={"outcome": "maybe"}, headers={**worker, **ZH}
    )
    assert bad_visit.status_code == 422
    assert "outcome" in _errors(bad_visit)
    naive = client.post(
        f"/api/v1/community/tasks/{tid}/visits",
        json={"outcome": "ok", "visited_at": "2026-12-01T10:00:00"},
        headers=worker,
    )
    assert naive.status_code == 422
    assert set(_errors(naive)) == {"visited_at"}
    assert (
        client.post(f"/api/v1/community/tasks/{tid}/visits", json={"outcome": "ok"}, headers=worker).status_code == 201
    )
    assert session.scalar(select(GridTask.status).where(GridTask.id == tid)) == "done"
    completion = client.get("/api/v1/community/task-completion", headers=staff).json()
    assert [(c["grid_name"], c["total"], c["done"]) for c in completion] == [("第一网格", 1, 1)]
    assert client.get("/api/v1/community/tasks", headers=staff).status_code == 403
