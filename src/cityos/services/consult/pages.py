"""Pages of 掌上咨询: the residents' chat-like question page (/consult), the staff queue with
answer and promote forms (/consult/questions) and the knowledge-base editor (/admin/knowledge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.services.consult import service
from cityos.services.consult.models import ArticleSource, ConsultationStatus
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 30


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


def _consult_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    result: service.Answer | None = None,
    question: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    focus: int | None = None,
) -> HTMLResponse:
    mine: list[Any] = []
    if actor.account_id is not None:
        mine, _total = service.list_consultations(session, actor, PageParams(page=1, size=10), mine=True)
    return render(
        request,
        "services/consult/ask.html",
        {
            "result": result,
            "question": question,
            "errors": errors or {},
            "mine": mine,
            "focus": focus,
            "local": _local,
            "max_length": service.MAX_QUESTION,
        },
        status_code=status_code,
    )


@router.get("/consult", response_class=HTMLResponse)
def consult(
    request: Request,
    session: DbSession,
    actor: PageActor,
    consultation: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    actor.require("service:read")
    return _consult_page(request, session, actor, focus=consultation)


@router.post("/consult", response_class=HTMLResponse)
def consult_ask(
    request: Request,
    session: DbSession,
    actor: PageActor,
    question: Annotated[str, Form(max_length=4000)] = "",
    escalate: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    """Ask; the answers show with their items. "没解决？转人工" posts the same question with ``escalate``."""
    try:
        result = service.ask(session, actor, question=question, escalate=escalate == "1")
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _consult_page(request, session, actor, question=question, errors=errors, status_code=exc.status_code)
    return _consult_page(request, session, actor, result=result, question=result.question)


# --- staff -------------------------------------------------------------------------------------------------------


def _queue_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: str,
    page: int,
    errors: dict[int, dict[str, str]] | None = None,
    values: dict[int, dict[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = service.list_consultations(session, actor, PageParams(page=page, size=PER_PAGE), status=status)
    return render(
        request,
        "services/consult/questions.html",
        {
            "rows": rows,
            "total": total or 0,
            "status": status,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "errors": errors or {},
            "values": values or {},
            "notice": notice,
            "items": service.item_names(session),
            "local": _local,
            "can_answer": actor.can("consult:answer"),
        },
        status_code=status_code,
    )


@router.get("/consult/questions", response_class=HTMLResponse)
def questions(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: Annotated[ConsultationStatus, Query()] = ConsultationStatus.OPEN,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    actor.require("consult:answer")
    notice = {"answered": "answered", "promoted": "promoted"}.get(done)
    return _queue_page(request, session, actor, status=status.value, page=page, notice=notice)


@router.post("/consult/questions/{consultation_id}/answer", response_class=HTMLResponse)
def answer(
    consultation_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    answer: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    try:
        service.answer(session, actor, consultation_id=consultation_id, answer=answer)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _queue_page(
            request,
            session,
            actor,
            status=ConsultationStatus.OPEN,
            page=1,
            errors={consultation_id: errors},
            values={consultation_id: {"answer": answer}},
            status_code=exc.status_code,
        )
    return RedirectResponse("/consult/questions?done=answered", status_code=303)


@router.post("/consult/questions/{consultation_id}/promote", response_class=HTMLResponse)
def promote(
    consultation_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    question: Annotated[str, Form(max_length=2000)] = "",
    item_code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    try:
        service.promote(session, actor, consultation_id=consultation_id, question=question, item_code=item_code)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _queue_page(
            request,
            session,
            actor,
            status=ConsultationStatus.ANSWERED,
            page=1,
            errors={consultation_id: errors},
            values={consultation_id: {"question": question, "item_code": item_code}},
            status_code=exc.status_code,
        )
    return RedirectResponse("/consult/questions?status=answered&done=promoted", status_code=303)


# --- the knowledge base ------------------------------------------------------------------------------------------


def _kb_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    item_code: str = "",
    page: int = 1,
    editing: Any = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    rows, total = service.list_articles(
        session,
        actor,
        PageParams(page=page, size=PER_PAGE),
        q=q or None,
        item_code=item_code or None,
        include_inactive=True,
    )
    return render(
        request,
        "services/consult/knowledge.html",
        {
            "rows": rows,
            "total": total or 0,
            "q": q,
            "item_code": item_code,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "items": service.item_names(session),
            "editing": editing,
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "sources": [s.value for s in ArticleSource],
        },
        status_code=status_code,
    )


@router.get("/admin/knowledge", response_class=HTMLResponse)
def knowledge(
    request: Request,
    session: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=64)] = "",
    item_code: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    edit: Annotated[int | None, Query(ge=1)] = None,
    done: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    actor.require("service:write")
    editing = service.get_article(session, actor, edit) if edit else None
    values = (
        {"question": editing.question, "answer": editing.answer, "item_code": editing.item_code or ""}
        if editing
        else {}
    )
    return _kb_page(
        request,
        session,
        actor,
        q=q,
        item_code=item_code,
        page=page,
        editing=editing,
        values=values,
        notice="saved" if done == "saved" else None,
    )


@router.post("/admin/knowledge", response_class=HTMLResponse)
def knowledge_save(
    request: Request,
    session: DbSession,
    actor: PageActor,
    article_id: Annotated[str, Form(max_length=16)] = "",
    question: Annotated[str, Form(max_length=2000)] = "",
    answer: Annotated[str, Form(max_length=20000)] = "",
    item_code: Annotated[str, Form(max_length=32)] = "",
    active: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Create an article, or (with ``article_id``) edit one; unticking "in search" deactivates it."""
    actor.require("service:write")
    values = {"question": question, "answer": answer, "item_code": item_code}
    editing = service.get_article(session, actor, int(article_id)) if article_id.isdigit() else None
    try:
        if editing is None:
            service.create_article(session, actor, question=question, answer=answer, item_code=item_code or None)
        else:
            service.update_article(
                session,
                actor,
                article_id=editing.id,
                question=question,
                answer=answer,
                item_code=item_code or None,
                active=active == "1",
            )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        editing = service.get_article(session, actor, int(article_id)) if article_id.isdigit() else None
        return _kb_page(
            request, session, actor, editing=editing, values=values, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse("/admin/knowledge?done=saved", status_code=303)
