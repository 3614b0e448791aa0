"""掌上咨询 over HTTP: status codes, field errors in the caller's language, scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.services.consult.models import Consultation, KnowledgeArticle
from tests.factories import bearer
from tests.services.consult_fixtures import ConsultWorld, make_consult_world


@pytest.fixture
def cw(session: Session) -> ConsultWorld:
    world = make_consult_world(session)
    session.commit()
    return world


def _consultations(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Consultation)) or 0)


def test_ask_search_answer_promote(client: TestClient, session: Session, cw: ConsultWorld) -> None:
    me = bearer(cw.resident.account_id or 0)
    staff = bearer(cw.staff.account_id or 0)
    good = client.post("/api/v1/consult/ask", json={"question": "身份证掉了怎么补"}, headers=me)
    assert good.status_code == 200
    body = good.json()
    assert body["answered"] is True
    assert body["consultation"] is None
    assert body["hits"][0]["item_code"] == "gaj-002"
    assert body["hits"][0]["link"] == "/services/items/gaj-002"
    found = client.get("/api/v1/consult/search", params={"q": "生娃上户口", "k": 2}, headers=me)
    assert found.status_code == 200
    assert len(found.json()) == 2
    assert found.json()[0]["item_code"] == "gaj-001"
    low = client.post("/api/v1/consult/ask", json={"question": "楼上漏水到我家"}, headers=me).json()
    assert low["answered"] is False
    cid = low["consultation"]["id"]
    queue = client.get("/api/v1/consultations", params={"status": "open"}, headers=staff).json()
    assert [c["id"] for c in queue["items"]] == [cid]
    other = client.get("/api/v1/consultations", headers=bearer(cw.other_staff.account_id or 0)).json()
    assert other["items"] == []
    answered = client.post(f"/api/v1/consultations/{cid}/answer", json={"answer": "请联系物业维修。"}, headers=staff)
    assert answered.status_code == 200
    assert answered.json()["status"] == "answered"
    again = client.post(f"/api/v1/consultations/{cid}/answer", json={"answer": "再答"}, headers=staff)
    assert again.status_code == 409
    promoted = client.post(f"/api/v1/consultations/{cid}/promote", json={"question": "楼上漏水找谁"}, headers=staff)
    assert promoted.status_code == 201
    assert promoted.json()["source"] == "staff"
    mine = client.get("/api/v1/consultations", params={"mine": True}, headers=me).json()
    assert mine["items"][0]["answer"] == "请联系物业维修。"


def test_bad_input_gets_field_errors_in_the_callers_language(
    client: TestClient, session: Session, cw: ConsultWorld
) -> None:
    me = bearer(cw.resident.account_id or 0)
    empty = client.post("/api/v1/consult/ask", json={"question": "  "}, headers={**me, "Accept-Language": "zh-CN"})
    assert empty.status_code == 422
    detail = empty.json()["error"]["details"][0]
    assert detail["field"] == "question"
    assert detail["message"] == "请用1至500个字写下您的问题。"
    long = client.post("/api/v1/consult/ask", json={"question": "问" * 501}, headers=me)
    assert long.status_code == 422
    assert long.json()["error"]["details"][0]["message"] == "Write your question in 1 to 500 characters."
    assert client.post("/api/v1/consult/ask", json={}, headers=me).status_code == 422
    assert client.get("/api/v1/consult/search", params={"q": ""}, headers=me).status_code == 422
    assert _consultations(session) == 0
    staff = bearer(cw.staff.account_id or 0)
    assert client.post("/api/v1/consultations/999999/answer", json={"answer": "答"}, headers=staff).status_code == 404
    assert client.post("/api/v1/consultations/999999/promote", json={}, headers=staff).status_code == 404
    cid = client.post("/api/v1/consult/ask", json={"question": "楼上漏水到我家"}, headers=me).json()["consultation"][
        "id"
    ]
    blank = client.post(f"/api/v1/consultations/{cid}/answer", json={"answer": ""}, headers=staff)
    assert blank.status_code == 422
    assert blank.json()["error"]["details"][0]["field"] == "answer"
    assert client.post(f"/api/v1/consultations/{cid}/answer", json={"nope": 1}, headers=staff).status_code == 422
    assert session.get(Consultation, cid).status == "open"  # type: ignore[union-attr]


def test_knowledge_articles(client: TestClient, session: Session, cw: ConsultWorld) -> None:
    editor = bearer(cw.editor.account_id or 0)
    me = bearer(cw.resident.account_id or 0)
    listed = client.get("/api/v1/knowledge-articles", params={"item_code": "mzj-002"}, headers=me).json()
    assert listed["total"] >= 5
    assert {a["item_code"] for a in listed["items"]} == {"mzj-002"}
    bad = client.post(
        "/api/v1/knowledge-articles", json={"question": "", "answer": "答", "item_code": "nope"}, headers=editor
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"question", "item_code"}
    before = session.scalar(select(func.count()).select_from(KnowledgeArticle))
    assert (
        client.post("/api/v1/knowledge-articles", json={"question": "问", "answer": "答"}, headers=me).status_code
        == 403
    )
    made = client.post(
        "/api/v1/knowledge-articles",
        json={"question": "公积金怎么提取", "answer": "到公积金中心办理。"},
        headers=editor,
    )
    assert made.status_code == 201
    aid = made.json()["id"]
    assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == (before or 0) + 1
    hits = client.get("/api/v1/consult/search", params={"q": "提取公积金"}, headers=me).json()
    assert hits[0]["article"]["id"] == aid
    off = client.put(f"/api/v1/knowledge-articles/{aid}", json={"active": False}, headers=editor)
    assert off.status_code == 200
    assert off.json()["active"] is False
    hits = client.get("/api/v1/consult/search", params={"q": "提取公积金"}, headers=me).json()
    assert aid not in [h["article"]["id"] for h in hits]
    assert client.put(f"/api/v1/knowledge-articles/{aid}", json={"answer": " "}, headers=editor).status_code == 422
    assert client.put("/api/v1/knowledge-articles/999999", json={"answer": "答"}, headers=editor).status_code == 404
