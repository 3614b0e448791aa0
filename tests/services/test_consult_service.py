"""掌上咨询 through the service layer: the shipped knowledge base, search, consultations, promotion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.pagination import PageParams
from cityos.identity.models import Notification
from cityos.services.consult import service
from cityos.services.consult.models import Consultation, KnowledgeArticle
from tests.factories import make_account, make_actor
from tests.services.consult_fixtures import ConsultWorld, make_consult_world

OFF_TOPIC = "楼上漏水到我家"


@pytest.fixture
def cw(session: Session) -> ConsultWorld:
    return make_consult_world(session)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_install_is_idempotent_and_keeps_edits(session: Session, cw: ConsultWorld) -> None:
    shipped = len(service.shipped()["articles"])
    assert shipped >= 100
    assert _count(session, KnowledgeArticle) == shipped
    article = session.scalar(select(KnowledgeArticle).where(KnowledgeArticle.key == "gaj-002.fee"))
    assert article is not None
    service.update_article(session, cw.editor, article_id=article.id, answer="工本费以窗口公示为准。")
    assert service.install(session) == 0
    assert _count(session, KnowledgeArticle) == shipped
    session.refresh(article)
    assert article.answer == "工本费以窗口公示为准。"


def test_every_shipped_item_has_at_least_three_articles() -> None:
    data = service.shipped()
    per_item: dict[str, int] = {}
    for a in data["articles"]:
        if a["item_code"]:
            per_item[a["item_code"]] = per_item.get(a["item_code"], 0) + 1
    assert set(per_item) == set(data["items"])
    assert len(per_item) >= 33
    assert min(per_item.values()) >= 3


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("生娃了咋上户口", "gaj-001"),
        ("身份证弄丢了", "gaj-002"),
        ("想开个公司要啥手续", "scjgj-001"),
        ("老人坐公交不要钱吗", "jtj-001"),
        ("结婚证在哪里领", "mzj-001"),
    ],
)
def test_search_finds_the_item_for_paraphrases(session: Session, cw: ConsultWorld, question: str, item: str) -> None:
    hits = service.search(session, question)
    assert item in [h.item_code for h in hits]
    assert hits[0].score >= hits[-1].score
    assert len({h.item_code for h in hits}) == len(hits)  # one article per item
    assert hits[0].link == f"/services/items/{hits[0].item_code}"


def test_search_refuses_empty_and_long_queries(session: Session, cw: ConsultWorld) -> None:
    for bad in ("", "   ", "问" * 501):
        with pytest.raises(Invalid) as exc:
            service.search(session, bad)
        assert exc.value.details[0].field == "q"


def test_a_confident_answer_creates_no_consultation(session: Session, cw: ConsultWorld) -> None:
    result = service.ask(session, cw.resident, question="身份证丢了怎么补办")
    assert result.answered
    assert result.consultation is None
    assert result.hits[0].item_code == "gaj-002"
    assert result.confidence >= service.THRESHOLD
    assert _count(session, Consultation) == 0


def test_a_low_score_becomes_a_consultation_due_in_a_working_day(session: Session, cw: ConsultWorld) -> None:
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 16:00 in the city
    result = service.ask(session, cw.resident, question=OFF_TOPIC, now=friday)
    assert not result.answered
    row = result.consultation
    assert row is not None
    assert row.status == "open"
    assert row.asker_account_id == cw.resident.account_id
    assert row.region_path == cw.world.room.path  # where the asker lives
    # Friday afternoon: the next working day is Monday; staff have until its close of office.
    assert row.due_at.astimezone(UTC) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def test_a_new_consultation_tells_the_service_centre(session: Session, cw: ConsultWorld) -> None:
    from cityos.people.models import Department

    district = cw.world.district_a
    centre = Department(
        code=f"{district.code}-zwfw", name="甲区政务服务中心", region_id=district.id, region_path=district.path
    )
    session.add(centre)
    session.flush()
    clerk = make_account(session, roles=["window_clerk"], scope=district, department_id=centre.id)
    row = service.ask(session, cw.resident, question=OFF_TOPIC).consultation
    assert row is not None
    notes = session.scalars(select(Notification).where(Notification.account_id == clerk.id)).all()
    assert [(n.link, n.body) for n in notes] == [("/consult/questions", OFF_TOPIC)]


def test_the_asker_can_pass_on_an_answered_question(session: Session, cw: ConsultWorld) -> None:
    result = service.ask(session, cw.resident, question="身份证丢了怎么补办", escalate=True)
    assert result.consultation is not None
    assert not result.answered
    assert result.hits  # the answers are still shown


def test_ask_refuses_bad_questions_and_stores_nothing(session: Session, cw: ConsultWorld) -> None:
    for bad in ("", " \n ", "问" * 501):
        with pytest.raises(Invalid) as exc:
            service.ask(session, cw.resident, question=bad)
        assert exc.value.details[0].field == "question"
        assert exc.value.details[0].params == {"max_length": 500}
    assert _count(session, Consultation) == 0


def test_ask_needs_service_read(session: Session, cw: ConsultWorld) -> None:
    app = make_actor(session, roles=["app_client"], scope=cw.world.city)
    with pytest.raises(Forbidden):
        service.ask(session, app, question="身份证")


def test_staff_answer_notifies_the_asker(session: Session, cw: ConsultWorld) -> None:
    row = service.ask(session, cw.resident, question=OFF_TOPIC).consultation
    assert row is not None
    done = service.answer(session, cw.staff, consultation_id=row.id, answer="请联系物业或拨打12345报修。")
    assert done.status == "answered"
    assert done.answered_by_label
    notes = session.scalars(select(Notification).where(Notification.account_id == cw.resident.account_id)).all()
    assert len(notes) == 1
    assert notes[0].title == "您的咨询已答复"
    assert "12345" in notes[0].body
    assert notes[0].link == f"/consult?consultation={row.id}"
    with pytest.raises(Conflict):
        service.answer(session, cw.staff, consultation_id=row.id, answer="再答一次")


def test_answer_bad_input(session: Session, cw: ConsultWorld) -> None:
    row = service.ask(session, cw.resident, question=OFF_TOPIC).consultation
    assert row is not None
    for bad in ("", "   ", "答" * 4001):
        with pytest.raises(Invalid) as exc:
            service.answer(session, cw.staff, consultation_id=row.id, answer=bad)
        assert exc.value.details[0].field == "answer"
    with pytest.raises(NotFound):
        service.answer(session, cw.staff, consultation_id=999_999, answer="答复")
    session.refresh(row)
    assert row.status == "open"
    assert row.answer is None


def test_staff_see_and_answer_only_their_area(session: Session, cw: ConsultWorld) -> None:
    row = service.ask(session, cw.resident, question=OFF_TOPIC).consultation
    assert row is not None
    rows, total = service.list_consultations(session, cw.staff, PageParams(), status="open")
    assert [r.id for r in rows] == [row.id]
    assert total == 1
    assert service.list_consultations(session, cw.other_staff, PageParams())[0] == []
    with pytest.raises(NotFound):
        service.answer(session, cw.other_staff, consultation_id=row.id, answer="答复")
    # The asker sees their own question but may not answer it.
    assert [r.id for r in service.list_consultations(session, cw.resident, PageParams())[0]] == [row.id]
    with pytest.raises(Forbidden):
        service.answer(session, cw.resident, consultation_id=row.id, answer="答复")
    stranger = make_actor(session, roles=["resident"], scope=cw.world.grid1)
    assert service.list_consultations(session, stranger, PageParams())[0] == []


def test_promote_makes_the_answer_searchable_at_once(session: Session, cw: ConsultWorld) -> None:
    question = "小区里的共享充电桩归哪个部门管"
    before = service.ask(session, cw.resident, question=question)
    assert before.consultation is not None
    service.answer(
        session, cw.staff, consultation_id=before.consultation.id, answer="充电桩由发展改革部门和供电公司管理。"
    )
    article = service.promote(session, cw.staff, consultation_id=before.consultation.id)
    assert article.source == "staff"
    assert article.key == f"kb-{article.id}"
    assert article.consultation_id == before.consultation.id
    after = service.ask(session, cw.resident, question="共享充电桩归谁管")
    assert after.answered
    assert after.consultation is None
    assert after.hits[0].article.id == article.id
    with pytest.raises(Conflict):
        service.promote(session, cw.staff, consultation_id=before.consultation.id)


def test_promote_bad_input(session: Session, cw: ConsultWorld) -> None:
    row = service.ask(session, cw.resident, question=OFF_TOPIC).consultation
    assert row is not None
    with pytest.raises(Conflict):  # not answered yet
        service.promote(session, cw.staff, consultation_id=row.id)
    service.answer(session, cw.staff, consultation_id=row.id, answer="请联系物业。")
    with pytest.raises(Invalid) as exc:
        service.promote(session, cw.staff, consultation_id=row.id, question=" ", item_code="nope-001")
    assert {d.field for d in exc.value.details} == {"question", "item_code"}
    with pytest.raises(NotFound):
        service.promote(session, cw.staff, consultation_id=999_999)
    assert session.scalar(select(KnowledgeArticle).where(KnowledgeArticle.source == "staff")) is None
    article = service.promote(session, cw.staff, consultation_id=row.id, question="楼上漏水怎么办", item_code="zjj-001")
    assert article.question == "楼上漏水怎么办"
    assert article.item_code == "zjj-001"


def test_kb_editing(session: Session, cw: ConsultWorld) -> None:
    article = service.create_article(session, cw.editor, question="  公积金 怎么提取？ ", answer="到公积金中心。")
    assert article.question == "公积金 怎么提取？"
    assert article.source == "faq"
    assert article.item_code is None
    assert service.search(session, "提取公积金")[0].article.id == article.id
    service.update_article(session, cw.editor, article_id=article.id, active=False)
    assert article.id not in [h.article.id for h in service.search(session, "提取公积金")]
    with pytest.raises(NotFound):  # a reader no longer finds it
        service.get_article(session, cw.resident, article.id)
    rows, _ = service.list_articles(session, cw.editor, PageParams(), q="公积金", include_inactive=True)
    assert [r.id for r in rows] == [article.id]
    assert service.list_articles(session, cw.resident, PageParams(), q="公积金", include_inactive=True)[0] == []
    service.update_article(session, cw.editor, article_id=article.id, active=True, item_code="rsj-002")
    assert article.item_code == "rsj-002"
    service.update_article(session, cw.editor, article_id=article.id, item_code=None)
    assert article.item_code is None


def test_kb_editing_bad_input_and_permission(session: Session, cw: ConsultWorld) -> None:
    with pytest.raises(Invalid) as exc:
        service.create_article(session, cw.editor, question="", answer="", item_code="zzz", source="rumour")
    assert {d.field for d in exc.value.details} == {"question", "answer", "item_code", "source"}
    with pytest.raises(Forbidden):
        service.create_article(session, cw.staff, question="问", answer="答")
    article = service.create_article(session, cw.editor, question="问", answer="答")
    with pytest.raises(Invalid):
        service.update_article(session, cw.editor, article_id=article.id, question="问" * 201)
    with pytest.raises(NotFound):
        service.update_article(session, cw.editor, article_id=999_999, answer="答")
    session.refresh(article)
    assert article.question == "问"
