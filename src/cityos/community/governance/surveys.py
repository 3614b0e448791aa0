"""问卷: single choice, multiple choice, text and 1-5 rating questions to the same audiences as
notices; one answer per person, which they may change until the survey closes; results with
counts per option for staff. An anonymous survey's answers are not linked to persons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import blind_index
from cityos.people.models import Person

from . import audience
from .events import SurveyOpened
from .models import QuestionKind, Survey, SurveyAnswer, SurveyStatus, TagMatch
from .notices import STAFF_READ, check_title, clean_line, clean_text, staff_can_read

KINDS: tuple[str, ...] = tuple(k.value for k in QuestionKind)
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
RATING_MAX = 5
MAX_QUESTIONS = 30
MAX_OPTIONS = 10
TEXT_MAX = 1000

MSG_DESCRIPTION = N_("At most {max_length} characters.")
MSG_QUESTIONS = N_("Ask 1 to {max} questions.")
MSG_QUESTION_TEXT = N_("Write the question: 1 to {max_length} characters.")
MSG_QUESTION_KIND = N_("Must be one of: {expected}.")
MSG_OPTIONS = N_("Give 2 to {max} different options of 1 to {max_length} characters.")
MSG_NO_OPTIONS = N_("Only choice questions have options.")
MSG_QUESTION_LINE = N_("Line {line}: write “kind: question | option | option”, kind one of {expected}.")
MSG_REQUIRED = N_("Please answer this question.")
MSG_CHOOSE_ONE = N_("Choose one of the options.")
MSG_CHOOSE_SOME = N_("Choose one or more of the options.")
MSG_TEXT_ANSWER = N_("At most {max_length} characters.")
MSG_RATING = N_("Give a rating from 1 to {max}.")
MSG_UNKNOWN_QUESTION = N_("This survey has no such question.")
MSG_ANSWERS = N_("Must be an object.")
MSG_ANONYMOUS = N_("Must be true or false.")
MSG_CLOSED = N_("This survey is closed.")
MSG_NOT_ASKED = N_("This survey is not addressed to you.")


# --- questions ----------------------------------------------------------------------------------------------


def check_questions(raw: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        errors.append(FieldError("questions", MSG_QUESTIONS, {"max": MAX_QUESTIONS}))
        return []
    out: list[dict[str, Any]] = []
    for i, q in enumerate(raw):
        where = f"questions.{i}"
        if not isinstance(q, dict):
            errors.append(FieldError(where, MSG_QUESTION_TEXT, {"max_length": 200}))
            continue
        text = clean_line(q.get("text"))
        if not text or len(text) > 200:
            errors.append(FieldError(f"{where}.text", MSG_QUESTION_TEXT, {"max_length": 200}))
        kind = q.get("kind")
        if kind not in KINDS:
            errors.append(FieldError(f"{where}.kind", MSG_QUESTION_KIND, {"expected": ", ".join(KINDS)}))
            continue
        options_raw = q.get("options") or []
        options: list[str] = []
        if kind in CHOICE_KINDS:
            options = [clean_line(o) for o in options_raw] if isinstance(options_raw, list) else []
            if (
                not 2 <= len(options) <= MAX_OPTIONS
                or any(not o or len(o) > 64 for o in options)
                or len(set(options)) != len(options)
            ):
                errors.append(FieldError(f"{where}.options", MSG_OPTIONS, {"max": MAX_OPTIONS, "max_length": 64}))
        elif options_raw:
            errors.append(FieldError(f"{where}.options", MSG_NO_OPTIONS))
        required = q.get("required", True)
        out.append(
            {"key": f"q{i + 1}", "kind": kind, "text": text, "options": options, "required": required is not False}
        )
    return out


def parse_questions(text: str) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The office form's plain format, one question a line: ``single: 问题 | 选项 | 选项``,
    ``multiple: …``, ``text: 问题``, ``rating: 问题``; a trailing ``?`` on the kind (``text?:``)
    makes the question optional."""
    questions: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        kind, sep, rest = line.partition(":")
        if not sep:
            kind, sep, rest = line.partition("：")
        kind = kind.strip().lower()
        optional = kind.endswith("?") or kind.endswith("？")
        kind = kind.rstrip("?？").strip()
        if not sep or kind not in KINDS:
            errors.append(FieldError("questions", MSG_QUESTION_LINE, {"line": n, "expected": ", ".join(KINDS)}))
            continue
        parts = [p.strip() for p in rest.split("|")]
        questions.append({"kind": kind, "text": parts[0], "options": parts[1:], "required": not optional})
    return questions, errors


# --- creating and closing ---------------------------------------------------------------------------------


def create(
    session: Session,
    actor: Actor,
    *,
    title: Any,
    region_id: Any,
    questions: Any,
    closes_at: Any,
    description: Any = "",
    tags: Any = None,
    tag_match: Any = TagMatch.ALL,
    anonymous: Any = False,
    now: datetime | None = None,
) -> Survey:
    """Open a survey to the audience (notice:write in the region); the people asked are told."""
    actor.require("notice:write")
    now = now or utcnow()
    errors: list[FieldError] = []
    clean_title = check_title(title, errors)
    text = clean_text(description)
    if len(text) > 4000:
        errors.append(FieldError("description", MSG_DESCRIPTION, {"max_length": 4000}))
    region, clean_tags = audience.check(
        session, actor, region_id=region_id, tags=tags, tag_match=tag_match, errors=errors
    )
    clean_questions = check_questions(questions, errors)
    deadline = audience.check_deadline(closes_at, errors, now=now)
    if not isinstance(anonymous, bool):
        errors.append(FieldError("anonymous", MSG_ANONYMOUS))
    if errors or region is None or deadline is None:
        raise Invalid(details=errors)
    actor.require("notice:write", region=region)
    survey = Survey(
        title=clean_title,
        description=text,
        region_id=region.id,
        region_path=region.path,
        tags=clean_tags,
        tag_match=tag_match,
        anonymous=anonymous,
        questions=clean_questions,
        status=SurveyStatus.OPEN,
        closes_at=deadline,
        author_account_id=actor.account_id,
        author_label=actor.label[:128],
        created_at=now,
    )
    session.add(survey)
    session.flush()
    bus.publish(session, SurveyOpened(survey_id=survey.id))
    return survey


def is_open(survey: Survey, now: datetime | None = None) -> bool:
    return survey.status == SurveyStatus.OPEN and survey.closes_at > (now or utcnow())


def close(session: Session, actor: Actor, *, survey_id: int, now: datetime | None = None) -> Survey:
    survey = get_survey(session, actor, survey_id)
    actor.require("notice:write", region=survey.region_path)
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict(MSG_CLOSED)
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = now or utcnow()
    session.flush()
    return survey


def close_due(session: Session, *, now: datetime | None = None) -> int:
    """Close the surveys whose closing time has passed (the per-minute job)."""
    now = now or utcnow()
    due = list(
        session.scalars(select(Survey).where(Survey.status == SurveyStatus.OPEN, Survey.closes_at <= now).limit(200))
    )
    for survey in due:
        survey.status = SurveyStatus.CLOSED
        survey.closed_at = now
    session.flush()
    return len(due)


# --- reading --------------------------------------------------------------------------------------------


def get_survey(session: Session, actor: Actor, survey_id: int) -> Survey:
    """A survey that asks the actor, or one in their area when they are staff."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound()
    if staff_can_read(actor, survey.region_path):
        return survey
    if actor.person_id is not None and audience.Reach(session, actor.person_id).reaches(
        survey.region_path, survey.tags, survey.tag_match
    ):
        return survey
    raise NotFound()


def asks(session: Session, actor: Actor, survey: Survey) -> bool:
    return actor.person_id is not None and audience.Reach(session, actor.person_id).reaches(
        survey.region_path, survey.tags, survey.tag_match
    )


def my_surveys(session: Session, actor: Actor, *, open_only: bool = True, limit: int = 20) -> list[Survey]:
    """Surveys that ask the actor, newest first."""
    if actor.person_id is None:
        return []
    reach = audience.Reach(session, actor.person_id)
    if not reach.ancestors:
        return []
    query = select(Survey).where(Survey.region_path.in_(sorted(reach.ancestors)))
    if open_only:
        query = query.where(Survey.status == SurveyStatus.OPEN, Survey.closes_at > utcnow())
    rows = session.scalars(query.order_by(Survey.created_at.desc(), Survey.id.desc()).limit(200))
    return [s for s in rows if reach.reaches(s.region_path, s.tags, s.tag_match)][:limit]


def in_area(session: Session, actor: Actor, *, limit: int = 50) -> list[Survey]:
    if not any(actor.can(p) for p in STAFF_READ):
        raise Forbidden(params={"permission": "notice:write"})
    return list(
        session.scalars(
            select(Survey)
            .where(actor.scope_clause(Survey.region_path))
            .order_by(Survey.created_at.desc(), Survey.id.desc())
            .limit(limit)
        )
    )


# --- answering -------------------------------------------------------------------------------------------


def respondent_key(survey: Survey, person_id: int) -> str:
    """``person:<id>`` for a named survey; for an anonymous one a keyed hash of the survey and
    the person, which keeps one answer per person without storing who."""
    if not survey.anonymous:
        return f"person:{person_id}"
    return blind_index().digest(f"{survey.id}:{person_id}", purpose="survey_respondent")


def my_answer(session: Session, actor: Actor, survey: Survey) -> SurveyAnswer | None:
    if actor.person_id is None:
        return None
    return session.scalar(
        select(SurveyAnswer).where(
            SurveyAnswer.survey_id == survey.id, SurveyAnswer.respondent_key == respondent_key(survey, actor.person_id)
        )
    )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_answers(survey: Survey, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid(details=[FieldError("answers", MSG_ANSWERS)])
    errors: list[FieldError] = []
    known = {q["key"] for q in survey.questions}
    for key in raw:
        if key not in known:
            errors.append(FieldError(f"answers.{key}"[:64], MSG_UNKNOWN_QUESTION))
    clean: dict[str, Any] = {}
    for q in survey.questions:
        key, kind, value = q["key"], q["kind"], raw.get(q["key"])
        where = f"answers.{key}"
        empty = value is None or value == "" or value == []
        if empty:
            if q.get("required", True):
                errors.append(FieldError(where, MSG_REQUIRED))
            continue
        n = len(q.get("options") or [])
        if kind == QuestionKind.SINGLE:
            if not _is_int(value) or not 0 <= value < n:
                errors.append(FieldError(where, MSG_CHOOSE_ONE))
            else:
                clean[key] = value
        elif kind == QuestionKind.MULTIPLE:
            if not isinstance(value, list) or not all(_is_int(v) and 0 <= v < n for v in value):
                errors.append(FieldError(where, MSG_CHOOSE_SOME))
            else:
                clean[key] = sorted(set(value))
        elif kind == QuestionKind.TEXT:
            text = value.strip() if isinstance(value, str) else None
            if text is None or len(text) > TEXT_MAX:
                errors.append(FieldError(where, MSG_TEXT_ANSWER, {"max_length": TEXT_MAX}))
            elif text:
                clean[key] = text
            elif q.get("required", True):
                errors.append(FieldError(where, MSG_REQUIRED))
        elif kind == QuestionKind.RATING:
            if not _is_int(value) or not 1 <= value <= RATING_MAX:
                errors.append(FieldError(where, MSG_RATING, {"max": RATING_MAX}))
            else:
                clean[key] = value
    if errors:
        raise Invalid(details=errors)
    return clean


def answer(
    session: Session, actor: Actor, *, survey_id: int, answers: Any, now: datetime | None = None
) -> SurveyAnswer:
    """Give (or change) the actor's one answer to a survey that asks them, while it is open."""
    actor.require("vote:cast")
    survey = get_survey(session, actor, survey_id)
    if not asks(session, actor, survey):
        raise Forbidden(MSG_NOT_ASKED)
    now = now or utcnow()
    if not is_open(survey, now):
        raise Conflict(MSG_CLOSED)
    clean = check_answers(survey, answers)
    assert actor.person_id is not None
    row = my_answer(session, actor, survey)
    if row is None:
        row = SurveyAnswer(
            survey_id=survey.id,
            respondent_key=respondent_key(survey, actor.person_id),
            person_id=None if survey.anonymous else actor.person_id,
            answers=clean,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.answers = clean
        row.updated_at = now
    session.flush()
    return row


# --- results ---------------------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    key: str
    kind: str
    text: str
    options: list[str]
    counts: list[int] = field(default_factory=list)  # per option; per rating 1..5
    answered: int = 0
    average: float | None = None  # ratings
    texts: list[tuple[str | None, str]] = field(default_factory=list)  # (name or None, text)


@dataclass
class SurveyResults:
    survey: Survey
    respondents: int
    reached: int
    questions: list[QuestionResult]


def results(session: Session, actor: Actor, *, survey_id: int) -> SurveyResults:
    """Counts per option and rating, and the text answers (with names only when the survey is
    not anonymous and the reader may read residents) — for staff of the survey's area."""
    survey = session.get(Survey, survey_id)
    if survey is None or not staff_can_read(actor, survey.region_path):
        raise NotFound()
    names: dict[int, str] = {}
    rows = list(
        session.execute(select(SurveyAnswer.person_id, SurveyAnswer.answers).where(SurveyAnswer.survey_id == survey.id))
    )
    show_names = not survey.anonymous and actor.can("person:read", region=survey.region_path)
    if show_names:
        ids = [int(pid) for pid, _ in rows if pid is not None]
        if ids:
            names = {
                int(i): str(n) for i, n in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))
            }
    out: list[QuestionResult] = []
    for q in survey.questions:
        options = list(q.get("options") or [])
        res = QuestionResult(q["key"], q["kind"], q["text"], options)
        if q["kind"] in CHOICE_KINDS:
            res.counts = [0] * len(options)
        elif q["kind"] == QuestionKind.RATING:
            res.counts = [0] * RATING_MAX
        total = 0
        for pid, answers in rows:
            value = (answers or {}).get(q["key"])
            if value is None:
                continue
            res.answered += 1
            if q["kind"] == QuestionKind.SINGLE and _is_int(value) and 0 <= value < len(options):
                res.counts[value] += 1
            elif q["kind"] == QuestionKind.MULTIPLE and isinstance(value, list):
                for v in value:
                    if _is_int(v) and 0 <= v < len(options):
                        res.counts[v] += 1
            elif q["kind"] == QuestionKind.RATING and _is_int(value) and 1 <= value <= RATING_MAX:
                res.counts[value - 1] += 1
                total += value
            elif q["kind"] == QuestionKind.TEXT and isinstance(value, str):
                res.texts.append((names.get(int(pid)) if show_names and pid is not None else None, value))
        if q["kind"] == QuestionKind.RATING and res.answered:
            res.average = round(total / res.answered, 2)
        res.texts = res.texts[-200:]
        out.append(res)
    reached = audience.count(session, survey.region_path, survey.tags, survey.tag_match)
    return SurveyResults(survey, len(rows), reached, out)


def respondents(session: Session, survey: Survey) -> int:
    return int(
        session.scalar(select(func.count()).select_from(SurveyAnswer).where(SurveyAnswer.survey_id == survey.id)) or 0
    )
