"""JSON routes of services.consult (掌上咨询)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.identity.deps import CurrentActor
from cityos.services.consult import service
from cityos.services.consult.models import Consultation, ConsultationStatus, KnowledgeArticle
from cityos.services.consult.schemas import (
    AnswerRead,
    ArticleCreate,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    AskIn,
    ConsultationPage,
    ConsultationRead,
    HitRead,
    PromoteIn,
    StaffAnswerIn,
)

router = APIRouter(prefix="/api/v1", tags=["services"])


def _hit(hit: service.Hit) -> HitRead:
    return HitRead(
        article=ArticleRead.model_validate(hit.article),
        item_code=hit.item_code,
        item_name=hit.item_name,
        link=hit.link,
        score=hit.score,
    )


@router.post("/consult/ask", response_model=AnswerRead)
def ask(body: AskIn, session: DbSession, actor: CurrentActor) -> AnswerRead:
    """Answers from the knowledge base with their source item; a question it cannot answer (or
    ``escalate``) becomes a consultation that staff answer within a working day."""
    result = service.ask(session, actor, question=body.question, escalate=body.escalate)
    return AnswerRead(
        question=result.question,
        hits=[_hit(h) for h in result.hits],
        confidence=result.confidence,
        answered=result.answered,
        consultation=ConsultationRead.model_validate(result.consultation) if result.consultation else None,
    )


@router.get("/consult/search", response_model=list[HitRead])
def search(
    session: DbSession,
    actor: CurrentActor,
    q: Annotated[str, Query(max_length=4000)] = "",
    k: Annotated[int, Query(ge=1, le=service.MAX_K)] = 3,
) -> list[HitRead]:
    actor.require("service:read")
    return [_hit(h) for h in service.search(session, q, k)]


@router.get("/consultations", response_model=ConsultationPage)
def list_consultations(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    status: ConsultationStatus | None = None,
    mine: bool = False,
) -> ConsultationPage:
    """Staff (consult:answer): their area's consultations; everyone: their own questions."""
    rows, total = service.list_consultations(session, actor, params, status=status.value if status else None, mine=mine)
    return ConsultationPage(
        items=[ConsultationRead.model_validate(c) for c in rows], page=params.page, size=params.size, total=total
    )


@router.post("/consultations/{consultation_id}/answer", response_model=ConsultationRead)
def answer(consultation_id: int, body: StaffAnswerIn, session: DbSession, actor: CurrentActor) -> Consultation:
    return service.answer(session, actor, consultation_id=consultation_id, answer=body.answer)


@router.post("/consultations/{consultation_id}/promote", response_model=ArticleRead, status_code=201)
def promote(consultation_id: int, body: PromoteIn, session: DbSession, actor: CurrentActor) -> KnowledgeArticle:
    """Adds the staff answer to the knowledge base (source ``staff``); searchable at once."""
    return service.promote(
        session, actor, consultation_id=consultation_id, question=body.question, item_code=body.item_code
    )


@router.get("/knowledge-articles", response_model=ArticlePage)
def list_articles(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    q: Annotated[str | None, Query(max_length=64)] = None,
    item_code: Annotated[str | None, Query(max_length=32)] = None,
    include_inactive: bool = False,
) -> ArticlePage:
    rows, total = service.list_articles(
        session, actor, params, q=q, item_code=item_code, include_inactive=include_inactive
    )
    return ArticlePage(
        items=[ArticleRead.model_validate(a) for a in rows], page=params.page, size=params.size, total=total
    )


@router.post("/knowledge-articles", response_model=ArticleRead, status_code=201)
def create_article(body: ArticleCreate, session: DbSession, actor: CurrentActor) -> KnowledgeArticle:
    return service.create_article(
        session, actor, question=body.question, answer=body.answer, item_code=body.item_code, source=body.source.value
    )


@router.put("/knowledge-articles/{article_id}", response_model=ArticleRead)
def update_article(article_id: int, body: ArticleUpdate, session: DbSession, actor: CurrentActor) -> KnowledgeArticle:
    """Edit an article; ``"active": false`` takes it out of search. Only the fields sent change
    (``"item_code": null`` makes it a general article)."""
    fields = body.model_fields_set
    return service.update_article(
        session,
        actor,
        article_id=article_id,
        question=body.question,
        answer=body.answer,
        **({"item_code": body.item_code} if "item_code" in fields else {}),
        active=body.active,
    )
