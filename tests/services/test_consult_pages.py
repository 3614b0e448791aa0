"""掌上咨询 pages: ask on a phone page, pass a question on, staff answer and promote, KB editing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.services.consult.models import Consultation, KnowledgeArticle
from tests.factories import session_cookie
from tests.services.consult_fixtures import ConsultWorld, make_consult_world

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def cw(session: Session) -> ConsultWorld:
    world = make_consult_world(session)
    session.commit()
    return world


def _as(client: TestClient, session: Session, account_id: int | None) -> None:
    assert account_id is not None
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def test_resident_asks_and_passes_a_question_on(client: TestClient, session: Session, cw: ConsultWorld) -> None:
    _as(client, session, cw.resident.account_id)
    page = client.get("/consult", headers=ZH)
    assert page.status_code == 200
    assert "例如：换身份证要带什么？" in page.text
    assert 'name="viewport"' in page.text  # the phone layout
    answered = client.post("/consult", data={"question": "身份证掉了怎么补"}, headers=ZH)
    assert answered.status_code == 200
    assert 'data-testid="answer"' in answered.text
    assert "/services/items/gaj-002" in answered.text
    assert "没解决？转人工" in answered.text
    assert session.scalar(select(Consultation)) is None
    passed = client.post("/consult", data={"question": "身份证掉了怎么补", "escalate": "1"}, headers=ZH)
    assert 'data-testid="passed-on"' in passed.text
    assert "已为您转人工" in passed.text
    assert "我的人工咨询" in passed.text
    bad = client.post("/consult", data={"question": " "}, headers=ZH)
    assert bad.status_code == 422
    assert "请用1至500个字写下您的问题。" in bad.text
    english = client.post("/consult", data={"question": "楼上漏水到我家"})
    assert "We have passed your question on to staff." in english.text


def test_staff_answer_and_promote_from_the_queue(client: TestClient, session: Session, cw: ConsultWorld) -> None:
    from cityos.services.consult import service

    row = service.ask(session, cw.resident, question="楼上漏水到我家").consultation
    assert row is not None
    session.commit()
    _as(client, session, cw.staff.account_id)
    queue = client.get("/consult/questions", headers=ZH)
    assert queue.status_code == 200
    assert "楼上漏水到我家" in queue.text
    assert "发送答复" in queue.text
    empty = client.post(f"/consult/questions/{row.id}/answer", data={"answer": ""}, headers=ZH)
    assert empty.status_code == 422
    assert "请用1至4000个字写下答复。" in empty.text
    done = client.post(
        f"/consult/questions/{row.id}/answer", data={"answer": "请联系物业维修。"}, follow_redirects=False
    )
    assert done.status_code == 303
    answered = client.get("/consult/questions?status=answered", headers=ZH)
    assert "加入知识库" in answered.text
    bad = client.post(f"/consult/questions/{row.id}/promote", data={"question": "", "item_code": "x"}, headers=ZH)
    assert bad.status_code == 422
    assert "没有这个编码的服务事项。" in bad.text
    ok = client.post(
        f"/consult/questions/{row.id}/promote",
        data={"question": "楼上漏水找谁", "item_code": ""},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    article = session.scalar(select(KnowledgeArticle).where(KnowledgeArticle.source == "staff"))
    assert article is not None
    assert article.question == "楼上漏水找谁"
    # Residents have no queue.
    _as(client, session, cw.resident.account_id)
    assert client.get("/consult/questions").status_code == 403
    mine = client.get(f"/consult?consultation={row.id}", headers=ZH)
    assert "请联系物业维修。" in mine.text


def test_knowledge_base_editing(client: TestClient, session: Session, cw: ConsultWorld) -> None:
    _as(client, session, cw.editor.account_id)
    page = client.get("/admin/knowledge", params={"q": "优待证"}, headers=ZH)
    assert page.status_code == 200
    assert "知识库" in page.text
    assert "老年人优待证有什么用？" in page.text
    bad = client.post("/admin/knowledge", data={"question": "", "answer": ""}, headers=ZH)
    assert bad.status_code == 422
    assert "请用1至200个字写下您的问题。" in bad.text
    made = client.post(
        "/admin/knowledge", data={"question": "公积金怎么提取", "answer": "到公积金中心办理。"}, follow_redirects=False
    )
    assert made.status_code == 303
    article = session.scalar(select(KnowledgeArticle).where(KnowledgeArticle.question == "公积金怎么提取"))
    assert article is not None
    edit = client.get(f"/admin/knowledge?edit={article.id}", headers=ZH)
    assert "编辑条目" in edit.text
    off = client.post(
        "/admin/knowledge",
        data={"article_id": str(article.id), "question": "公积金怎么提取", "answer": "到公积金中心。"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    session.refresh(article)
    assert article.active is False
    assert article.answer == "到公积金中心。"
    english = client.get("/admin/knowledge")
    assert "Knowledge base" in english.text
    _as(client, session, cw.staff.account_id)
    assert client.get("/admin/knowledge").status_code == 403
