"""问卷: questions of four kinds checked field by field, the office's one-line format, one
answer per person editable until the survey closes, anonymous answers not linked to persons,
results per option and rating for staff only, closing at the deadline."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.governance import service, surveys
from cityos.community.governance.models import Survey, SurveyAnswer
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from tests.community.governance_fixtures import NOW, make_gov, resident

QUESTIONS = [
    {"kind": "single", "text": "您对小区环境满意吗？", "options": ["满意", "一般", "不满意"]},
    {"kind": "multiple", "text": "希望增加哪些设施？", "options": ["健身器材", "儿童游乐", "充电桩"]},
    {"kind": "rating", "text": "物业服务打分"},
    {"kind": "text", "text": "其他建议", "required": False},
]


def _setup(session: Session, *, anonymous: bool = False):  # type: ignore[no-untyped-def]
    gov = make_gov(session)
    w = gov.world
    people = {
        "a": resident(session, w.room, name="甲"),
        "b": resident(session, w.room2, name="乙"),
        "far": resident(session, w.other_room, name="二网格"),
    }
    survey = surveys.create(
        session,
        gov.staff,
        title="小区环境满意度",
        region_id=w.estate.id,
        questions=QUESTIONS,
        closes_at=NOW + timedelta(days=14),
        anonymous=anonymous,
        now=NOW,
    )
    return gov, people, survey


def test_one_answer_per_person_editable_until_close(session: Session) -> None:
    gov, p, survey = _setup(session)
    a = p["a"].actor
    first = surveys.answer(session, a, survey_id=survey.id, answers={"q1": 0, "q2": [2, 0, 2], "q3": 4}, now=NOW)
    assert first.answers == {"q1": 0, "q2": [0, 2], "q3": 4}
    again = surveys.answer(
        session, a, survey_id=survey.id, answers={"q1": 1, "q2": [1], "q3": 5, "q4": "多种树"}, now=NOW
    )
    assert again.id == first.id
    assert again.answers["q1"] == 1
    assert surveys.respondents(session, survey) == 1
    assert surveys.my_answer(session, a, survey) is again
    surveys.answer(session, p["b"].actor, survey_id=survey.id, answers={"q1": 0, "q2": [1, 2], "q3": 3}, now=NOW)
    res = surveys.results(session, gov.staff, survey_id=survey.id)
    assert (res.respondents, res.reached) == (2, 2)
    q1, q2, q3, q4 = res.questions
    assert q1.counts == [1, 1, 0]
    assert q2.counts == [0, 2, 1]
    assert q3.counts == [0, 0, 1, 0, 1]
    assert q3.average == 4.0
    assert q4.texts == [("甲", "多种树")]  # named survey, staff who may read residents
    assert survey in service.surveys.my_surveys(session, a)
    # People outside the audience neither see nor answer it; staff cannot answer.
    with pytest.raises(NotFound):
        surveys.answer(session, p["far"].actor, survey_id=survey.id, answers={"q1": 0}, now=NOW)
    with pytest.raises(Forbidden):
        surveys.answer(session, gov.staff, survey_id=survey.id, answers={"q1": 0}, now=NOW)
    with pytest.raises(NotFound):
        surveys.results(session, p["a"].actor, survey_id=survey.id)
    with pytest.raises(NotFound):
        surveys.results(session, gov.outsider_staff, survey_id=survey.id)
    # At the deadline it closes; then no more answers or changes.
    assert service.periodic_work(session, now=NOW + timedelta(days=14))["surveys_closed"] == 1
    assert survey.status == "closed"
    with pytest.raises(Conflict):
        surveys.answer(session, a, survey_id=survey.id, answers={"q1": 2, "q2": [0], "q3": 1}, now=NOW)
    assert surveys.my_answer(session, a, survey).answers["q1"] == 1  # type: ignore[union-attr]


def test_anonymous_answers_are_not_linked_to_persons(session: Session) -> None:
    gov, p, survey = _setup(session, anonymous=True)
    a = p["a"].actor
    surveys.answer(session, a, survey_id=survey.id, answers={"q1": 2, "q2": [0], "q3": 2, "q4": "匿名意见"}, now=NOW)
    surveys.answer(session, a, survey_id=survey.id, answers={"q1": 1, "q2": [0], "q3": 2}, now=NOW)
    rows = list(session.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == survey.id)))
    assert len(rows) == 1
    assert rows[0].person_id is None
    assert not rows[0].respondent_key.startswith("person:")
    assert len(rows[0].respondent_key) == 64
    surveys.answer(
        session, p["b"].actor, survey_id=survey.id, answers={"q1": 0, "q2": [0], "q3": 5, "q4": "好"}, now=NOW
    )
    res = surveys.results(session, gov.staff, survey_id=survey.id)
    assert res.questions[0].counts == [1, 1, 0]
    assert res.questions[3].texts == [(None, "好")]  # the first answer's text was removed on edit
    # The respondent still finds their own answer to change it.
    assert surveys.my_answer(session, a, survey) is not None


def test_bad_answers_are_refused_field_by_field(session: Session) -> None:
    _gov, p, survey = _setup(session)
    a = p["a"].actor
    with pytest.raises(Invalid) as exc:
        surveys.answer(session, a, survey_id=survey.id, answers={"q1": 3, "q2": [0, 9], "q3": 6, "q9": 1}, now=NOW)
    assert {d.field for d in exc.value.details} == {"answers.q1", "answers.q2", "answers.q3", "answers.q9"}
    with pytest.raises(Invalid) as exc:
        surveys.answer(session, a, survey_id=survey.id, answers={"q1": True, "q2": "0", "q3": "5", "q4": 5}, now=NOW)
    assert {d.field for d in exc.value.details} == {"answers.q1", "answers.q2", "answers.q3", "answers.q4"}
    with pytest.raises(Invalid) as exc:
        surveys.answer(session, a, survey_id=survey.id, answers={}, now=NOW)
    assert {d.field for d in exc.value.details} == {"answers.q1", "answers.q2", "answers.q3"}  # q4 is optional
    with pytest.raises(Invalid) as exc:
        surveys.answer(session, a, survey_id=survey.id, answers=[0, 1], now=NOW)
    assert [d.field for d in exc.value.details] == ["answers"]
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_creating_a_survey_checks_every_question(session: Session) -> None:
    gov = make_gov(session)
    w = gov.world
    bad = [
        {"kind": "single", "text": "", "options": ["甲"]},
        {"kind": "essay", "text": "题"},
        {"kind": "text", "text": "题", "options": ["不该有"]},
        {"kind": "multiple", "text": "题", "options": ["同", "同"]},
        "not a question",
    ]
    with pytest.raises(Invalid) as exc:
        surveys.create(
            session,
            gov.staff,
            title="",
            region_id=w.estate.id,
            questions=bad,
            closes_at=NOW - timedelta(minutes=1),
            anonymous="yes",
            now=NOW,
        )
    assert {d.field for d in exc.value.details} == {
        "title",
        "questions.0.text",
        "questions.0.options",
        "questions.1.kind",
        "questions.2.options",
        "questions.3.options",
        "questions.4",
        "closes_at",
        "anonymous",
    }
    with pytest.raises(Invalid) as exc:
        surveys.create(session, gov.staff, title="空", region_id=w.estate.id, questions=[], closes_at="2099-01-01")
    assert {d.field for d in exc.value.details} == {"questions", "closes_at"}
    with pytest.raises(Invalid) as exc:
        surveys.create(
            session,
            gov.outsider_staff,
            title="越界",
            region_id=w.estate.id,
            questions=QUESTIONS,
            closes_at="2026-12-31",
        )
    assert [d.field for d in exc.value.details] == ["region_id"]
    assert session.scalar(select(func.count()).select_from(Survey)) == 0
    ok = surveys.create(
        session, gov.staff, title="按日期", region_id=w.estate.id, questions=QUESTIONS, closes_at="2026-12-31", now=NOW
    )
    assert ok.closes_at.astimezone(UTC).isoformat() == "2026-12-31T15:59:59+00:00"  # that day's end in Shanghai


def test_the_office_one_line_format() -> None:
    questions, errors = surveys.parse_questions(
        "single: 满意吗？ | 满意 | 不满意\n\nmultiple：想要什么 | 甲 | 乙 | 丙\n"
        "rating: 打分\ntext?: 建议\nessay: 不行\n没有冒号"
    )
    assert [(q["kind"], q["text"], q["options"], q["required"]) for q in questions] == [
        ("single", "满意吗？", ["满意", "不满意"], True),
        ("multiple", "想要什么", ["甲", "乙", "丙"], True),
        ("rating", "打分", [], True),
        ("text", "建议", [], False),
    ]
    assert [e.params["line"] for e in errors] == [6, 7]
