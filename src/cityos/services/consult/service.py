"""掌上咨询: answers from the knowledge base, consultations for staff when it has none, and the
knowledge base itself (guides, FAQs and promoted staff answers).

Plain functions taking a session; they flush, never commit. The search index is built once per
process from the active articles and rebuilt when they change (their count and latest update
are its version), so a promoted answer is searchable at once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import DEFAULT_LOCALE, N_, translate
from cityos.core.pagination import PageParams, fetch_page
from cityos.identity.models import Account
from cityos.identity.notify import notify
from cityos.people.models import Person
from cityos.places.models import Region
from cityos.services.catalogue.models import ServiceItem
from cityos.services.consult import search as kb_search
from cityos.services.consult.models import ArticleSource, Consultation, ConsultationStatus, KnowledgeArticle
from cityos.workflow.calendar import WorkCalendar

DATA = Path(__file__).resolve().parent / "data"
FAQ = DATA / "faq.json"

# Below this confidence (BM25 score of the question's topic words, see search.Result) the
# question goes to staff. Calibrated with bench/consult.py: every held-out service question
# scores above it and most off-topic questions below it.
THRESHOLD = 3.5
ANSWER_DAYS = 1  # staff answer within one working day
MAX_QUESTION = 500
MAX_ARTICLE_QUESTION = 200
MAX_ANSWER = 4000
MAX_K = 10

MSG_QUESTION = N_("Write your question in 1 to {max_length} characters.")
MSG_ANSWER = N_("Write the answer in 1 to {max_length} characters.")
MSG_ITEM = N_("No service item has this code.")
MSG_SOURCE = N_("Must be one of: {expected}.")
MSG_ANSWERED = N_("This consultation has already been answered.")
MSG_NOT_ANSWERED = N_("Only an answered consultation can be added to the knowledge base.")
MSG_PROMOTED = N_("This answer is already in the knowledge base.")
MSG_NO_ACCOUNT = N_("Sign in with an account to ask staff.")
TITLE_ANSWERED = N_("Your question has been answered")


# --- shipped knowledge -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The shipped FAQ: ``{"items": {code: name}, "articles": [{key, item_code, question, answer}]}``."""
    with FAQ.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def install(session: Session) -> int:
    """Add the shipped FAQs and a guide article for every item with a guide text (idempotent:
    by key; an article already there keeps the editors' changes). Returns how many were added."""
    existing = set(session.scalars(select(KnowledgeArticle.key)))
    added = 0
    for row in shipped()["articles"]:
        if row["key"] in existing:
            continue
        session.add(
            KnowledgeArticle(
                key=row["key"],
                item_code=row["item_code"],
                question=row["question"],
                answer=row["answer"],
                source=ArticleSource.FAQ,
                active=True,
            )
        )
        existing.add(row["key"])
        added += 1
    items = session.execute(select(ServiceItem.code, ServiceItem.name, ServiceItem.guide, ServiceItem.conditions))
    for code, name, guide, conditions in items:
        key = f"{code}.guide"
        text = "\n".join(t for t in (guide or "", conditions or "") if t.strip())
        if key in existing or not text.strip():
            continue
        session.add(
            KnowledgeArticle(
                key=key,
                item_code=code,
                question=f"{name}办事指南"[:MAX_ARTICLE_QUESTION],
                answer=text[:MAX_ANSWER],
                source=ArticleSource.GUIDE,
                active=True,
            )
        )
        existing.add(key)
        added += 1
    session.flush()
    return added


def item_names(session: Session) -> dict[str, str]:
    """Item code → name: the catalogue's names, and the shipped FAQ's for items not in it."""
    names = dict(shipped()["items"])
    names.update(dict(session.execute(select(ServiceItem.code, ServiceItem.name)).all()))
    return names


# --- the index ------------------------------------------------------------------------------------------------


def documents(session: Session) -> list[kb_search.Document]:
    names = item_names(session)
    rows = session.scalars(
        select(KnowledgeArticle).where(KnowledgeArticle.active.is_(True)).order_by(KnowledgeArticle.id)
    )
    out = []
    for a in rows:
        name = names.get(a.item_code or "", "")
        out.append(kb_search.Document(a.id, a.key, a.item_code, a.question, f"{a.answer} {name} {name}"))
    return out


_index: tuple[tuple[Any, ...], kb_search.Index] | None = None
_index_lock = threading.Lock()


def _version(session: Session) -> tuple[Any, ...]:
    count, latest, top = session.execute(
        select(
            func.count().filter(KnowledgeArticle.active.is_(True)),
            func.max(KnowledgeArticle.updated_at),
            func.max(KnowledgeArticle.id),
        )
    ).one()
    items = session.execute(select(func.count(), func.max(ServiceItem.updated_at)).select_from(ServiceItem)).one()
    return (str(session.get_bind().engine.url), count, latest, top, tuple(items))


def current_index(session: Session) -> kb_search.Index:
    """This process's index of the active articles, rebuilt when they (or the items' names) changed."""
    global _index
    version = _version(session)
    with _index_lock:
        if _index is not None and _index[0] == version:
            return _index[1]
    index = kb_search.Index(documents(session))
    with _index_lock:
        _index = (version, index)
    return index


# --- search and ask ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    article: KnowledgeArticle
    item_code: str | None
    item_name: str | None
    score: float

    @property
    def link(self) -> str | None:
        return f"/services/items/{self.item_code}" if self.item_code else None


@dataclass(frozen=True)
class Answer:
    question: str
    hits: list[Hit]
    confidence: float
    answered: bool  # the knowledge base is confident enough; otherwise it was passed on
    consultation: Consultation | None  # what staff will answer, when passed on


def _clean_question(question: str, field: str, max_length: int) -> str:
    clean = " ".join((question or "").split())
    if not clean or len(clean) > max_length:
        raise Invalid(details=[FieldError(field, MSG_QUESTION, {"max_length": max_length})])
    return clean


def _query(session: Session, question: str, k: int) -> tuple[list[Hit], float]:
    result = current_index(session).query(question, k=max(1, min(k, MAX_K)))
    names = item_names(session)
    hits = []
    for scored in result.hits:
        article = session.get(KnowledgeArticle, scored.document.article_id)
        if article is None:  # removed since the index was built
            continue
        code = scored.document.item_code
        hits.append(Hit(article, code, names.get(code) if code else None, scored.score))
    return hits, result.confidence


def search(session: Session, query: str, k: int = 3) -> list[Hit]:
    """The best ``k`` knowledge-base articles for a question (at most one per item), best first."""
    clean = _clean_question(query, "q", MAX_QUESTION)
    return _query(session, clean, k)[0]


def confidence(session: Session, query: str) -> tuple[str, float]:
    """The cleaned question and how sure the knowledge base is about it (see ``THRESHOLD``)."""
    clean = _clean_question(query, "q", MAX_QUESTION)
    return clean, current_index(session).query(clean, k=1).confidence


def _asker_region(session: Session, actor: Actor) -> tuple[int | None, str]:
    """Where the asker lives (their person record), else the root of their account's scope."""
    if actor.person_id is not None:
        person = session.get(Person, actor.person_id)
        if person is not None and person.region_path:
            return person.region_id, person.region_path
    return actor.scope_region_id, actor.scope_path


MSG_NEW_CONSULTATION = N_("A resident's question waits for an answer (within one working day)")


def ask(
    session: Session, actor: Actor, *, question: str, escalate: bool = False, k: int = 3, now: datetime | None = None
) -> Answer:
    """Answer from the knowledge base; below the threshold (or when the asker says it did not
    help: ``escalate``) the question becomes a consultation that staff answer in a working day."""
    actor.require("service:read")
    clean = _clean_question(question, "question", MAX_QUESTION)
    hits, confidence = _query(session, clean, k)
    answered = confidence >= THRESHOLD and bool(hits)
    if answered and not escalate:
        return Answer(clean, hits, confidence, True, None)
    if actor.account_id is None:
        raise Forbidden(MSG_NO_ACCOUNT)
    now = now or utcnow()
    region_id, region_path = _asker_region(session, actor)
    consultation = Consultation(
        question=clean,
        item_code=hits[0].item_code if hits else None,
        best_score=confidence,
        asker_account_id=actor.account_id,
        asker_label=actor.label[:128],
        region_id=region_id,
        region_path=region_path,
        status=ConsultationStatus.OPEN,
        due_at=WorkCalendar.load(session).add(now, ANSWER_DAYS, "working_days"),
        created_at=now,
    )
    session.add(consultation)
    session.flush()
    _tell_staff(session, consultation)
    return Answer(clean, hits, confidence, answered and not escalate, consultation)


# Who answers a question the knowledge base could not: the department of the item it is most
# likely about, else the district's service centre, else the 12345 centre.
_FALLBACK_KINDS = ("zwfw", "wlzz")


def _tell_staff(session: Session, consultation: Consultation) -> int:
    from cityos.identity.notify import notify_department
    from cityos.services.catalogue import service as catalogue

    region = session.get(Region, consultation.region_id) if consultation.region_id is not None else None
    if region is None:
        return 0
    kinds: list[str] = []
    if consultation.item_code:
        item = session.scalar(select(ServiceItem).where(ServiceItem.code == consultation.item_code))
        kinds.extend(item.department_kinds[:1] if item is not None else [])
    kinds.extend(_FALLBACK_KINDS)
    for kind in kinds:
        department = catalogue.department_for(session, kind=kind, region=region)
        if department is not None:
            return notify_department(
                session,
                department.id,
                title=translate(MSG_NEW_CONSULTATION),
                body=consultation.question[:200],
                link="/consult/questions",
            )
    return 0


# --- consultations ----------------------------------------------------------------------------------------------


def _visible(actor: Actor) -> Any:
    clauses = []
    if actor.account_id is not None:
        clauses.append(Consultation.asker_account_id == actor.account_id)
    if actor.can("consult:answer"):
        clauses.append(actor.scope_clause(Consultation.region_path))
    return or_(*clauses) if clauses else Consultation.id.is_(None)


def list_consultations(
    session: Session, actor: Actor, params: PageParams, *, status: str | None = None, mine: bool = False
) -> tuple[list[Consultation], int | None]:
    """Staff see their area's queue (oldest due first) and their own; everyone else their own questions."""
    query = select(Consultation).where(_visible(actor))
    if mine:
        query = query.where(Consultation.asker_account_id == actor.account_id)
    if status:
        query = query.where(Consultation.status == status)
    order = (Consultation.due_at, Consultation.id) if status == ConsultationStatus.OPEN else (Consultation.id.desc(),)
    return fetch_page(session, query.order_by(*order), params)


def get_consultation(session: Session, actor: Actor, consultation_id: int) -> Consultation:
    row = session.scalar(select(Consultation).where(Consultation.id == consultation_id, _visible(actor)))
    if row is None:
        raise NotFound()
    return row


def _staff_consultation(session: Session, actor: Actor, consultation_id: int) -> Consultation:
    row = get_consultation(session, actor, consultation_id)
    actor.require("consult:answer", region=row.region_path)
    return row


def _clean_answer(answer: str) -> str:
    clean = (answer or "").strip()
    if not clean or len(clean) > MAX_ANSWER:
        raise Invalid(details=[FieldError("answer", MSG_ANSWER, {"max_length": MAX_ANSWER})])
    return clean


def answer(
    session: Session, actor: Actor, *, consultation_id: int, answer: str, now: datetime | None = None
) -> Consultation:
    """Staff answer a consultation of their area; the asker is told in the app."""
    row = _staff_consultation(session, actor, consultation_id)
    text = _clean_answer(answer)
    if row.status == ConsultationStatus.ANSWERED:
        raise Conflict(MSG_ANSWERED)
    row.answer = text
    row.status = ConsultationStatus.ANSWERED
    row.answered_by_account_id = actor.account_id
    row.answered_by_label = actor.label[:128]
    row.answered_at = now or utcnow()
    session.flush()
    asker = session.get(Account, row.asker_account_id) if row.asker_account_id is not None else None
    if asker is not None:
        notify(  # in the asker's language, not the staff member's
            session,
            asker.id,
            title=translate(TITLE_ANSWERED, locale=asker.locale or DEFAULT_LOCALE),
            body=f"{row.question[:60]}\n{text[:300]}",
            link=f"/consult?consultation={row.id}",
        )
    return row


def promote(
    session: Session,
    actor: Actor,
    *,
    consultation_id: int,
    question: str | None = None,
    item_code: str | None = None,
) -> KnowledgeArticle:
    """Turn a staff answer into a knowledge-base article (source ``staff``), searchable at once.
    ``question`` rewrites the asker's wording for the knowledge base; ``item_code`` files it under an item."""
    row = _staff_consultation(session, actor, consultation_id)
    errors: list[FieldError] = []
    clean_q = " ".join((question if question is not None else row.question).split())
    if not clean_q or len(clean_q) > MAX_ARTICLE_QUESTION:
        errors.append(FieldError("question", MSG_QUESTION, {"max_length": MAX_ARTICLE_QUESTION}))
    code = (item_code if item_code is not None else row.item_code) or None
    if code is not None and code not in item_names(session):
        errors.append(FieldError("item_code", MSG_ITEM))
    if errors:
        raise Invalid(details=errors)
    if row.status != ConsultationStatus.ANSWERED or not row.answer:
        raise Conflict(MSG_NOT_ANSWERED)
    if row.article_id is not None:
        raise Conflict(MSG_PROMOTED)
    article = _new_article(session, question=clean_q, answer=row.answer, item_code=code, source=ArticleSource.STAFF)
    article.consultation_id = row.id
    row.article_id = article.id
    session.flush()
    return article


# --- the knowledge base ---------------------------------------------------------------------------------------------


def _new_article(
    session: Session, *, question: str, answer: str, item_code: str | None, source: str
) -> KnowledgeArticle:
    article = KnowledgeArticle(
        key=f"pending-{utcnow().timestamp()}", item_code=item_code, question=question, answer=answer, source=source
    )
    session.add(article)
    session.flush()
    article.key = f"kb-{article.id}"
    session.flush()
    return article


def _article_errors(
    session: Session, *, question: str | None, answer: str | None, item_code: str | None, source: str | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if question is not None and (not question or len(question) > MAX_ARTICLE_QUESTION):
        errors.append(FieldError("question", MSG_QUESTION, {"max_length": MAX_ARTICLE_QUESTION}))
    if answer is not None and (not answer or len(answer) > MAX_ANSWER):
        errors.append(FieldError("answer", MSG_ANSWER, {"max_length": MAX_ANSWER}))
    if item_code and item_code not in item_names(session):
        errors.append(FieldError("item_code", MSG_ITEM))
    if source is not None and source not in {s.value for s in ArticleSource}:
        errors.append(FieldError("source", MSG_SOURCE, {"expected": ", ".join(s.value for s in ArticleSource)}))
    return errors


def create_article(
    session: Session,
    actor: Actor,
    *,
    question: str,
    answer: str,
    item_code: str | None = None,
    source: str = ArticleSource.FAQ,
) -> KnowledgeArticle:
    actor.require("service:write")
    clean_q, clean_a = " ".join((question or "").split()), (answer or "").strip()
    code = (item_code or "").strip() or None
    errors = _article_errors(session, question=clean_q, answer=clean_a, item_code=code, source=source)
    if errors:
        raise Invalid(details=errors)
    return _new_article(session, question=clean_q, answer=clean_a, item_code=code, source=source)


_UNSET: Any = object()


def update_article(
    session: Session,
    actor: Actor,
    *,
    article_id: int,
    question: str | None = None,
    answer: str | None = None,
    item_code: str | None = _UNSET,
    active: bool | None = None,
) -> KnowledgeArticle:
    """Edit an article; ``active=False`` takes it out of search (deactivate), ``True`` puts it back.
    ``item_code=None`` makes it a general article; leaving it out keeps the item."""
    actor.require("service:write")
    article = get_article(session, actor, article_id)
    clean_q = " ".join(question.split()) if question is not None else None
    clean_a = answer.strip() if answer is not None else None
    code = _UNSET if item_code is _UNSET else ((item_code or "").strip() or None)
    errors = _article_errors(
        session, question=clean_q, answer=clean_a, item_code=None if code is _UNSET else code, source=None
    )
    if errors:
        raise Invalid(details=errors)
    if clean_q is not None:
        article.question = clean_q
    if clean_a is not None:
        article.answer = clean_a
    if code is not _UNSET:
        article.item_code = code
    if active is not None:
        article.active = active
    article.updated_at = utcnow()
    session.flush()
    return article


def get_article(session: Session, actor: Actor, article_id: int) -> KnowledgeArticle:
    actor.require("service:read")
    article = session.get(KnowledgeArticle, article_id)
    if article is None or (not article.active and not actor.can("service:write")):
        raise NotFound()
    return article


def list_articles(
    session: Session,
    actor: Actor,
    params: PageParams,
    *,
    q: str | None = None,
    item_code: str | None = None,
    include_inactive: bool = False,
) -> tuple[list[KnowledgeArticle], int | None]:
    """The knowledge base in key order; editors (service:write) may include deactivated articles."""
    actor.require("service:read")
    query = select(KnowledgeArticle)
    if not (include_inactive and actor.can("service:write")):
        query = query.where(KnowledgeArticle.active.is_(True))
    if item_code:
        query = query.where(KnowledgeArticle.item_code == item_code)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(KnowledgeArticle.question.like(like), KnowledgeArticle.answer.like(like)))
    return fetch_page(session, query.order_by(KnowledgeArticle.key), params)


def region_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Region.id, Region.name).where(Region.id.in_(ids))).all())
