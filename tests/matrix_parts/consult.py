"""Permission-matrix entries of services.consult (see tests/matrix_parts/base.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.services.consult.models import Consultation, KnowledgeArticle
from tests.factories import World
from tests.matrix_parts.base import Case

CASES: tuple[Case, ...] = (
    Case(
        "POST", "/api/v1/consult/ask", "service:read", body=lambda i: {"question": "身份证丢了怎么补办"}, outside=False
    ),
    Case("GET", "/api/v1/consult/search", "service:read", query=lambda i: {"q": "身份证"}, outside=False),
    # Everyone lists their own questions (apps have no account: an empty list); staff their area's.
    Case(
        "GET",
        "/api/v1/consultations",
        lambda perms, role: True,
        list_key="items",
        kind="consultation",
        outside=False,
    ),
    Case("POST", "/api/v1/consultations/{consultation_id}/answer", "consult:answer", body=lambda i: {"answer": "答复"}),
    # The consultation is still open, so promoting it is refused (409): that is the allowed answer.
    Case(
        "POST",
        "/api/v1/consultations/{consultation_id}/promote",
        "consult:answer",
        body=lambda i: {},
        allowed_status=(409,),
    ),
    # The knowledge base is city-wide: no "outside" variant.
    Case("GET", "/api/v1/knowledge-articles", "service:read", outside=False),
    Case(
        "POST",
        "/api/v1/knowledge-articles",
        "service:write",
        body=lambda i: {"question": "矩阵问题", "answer": "矩阵答案"},
        outside=False,
    ),
    Case(
        "PUT",
        "/api/v1/knowledge-articles/{article_id}",
        "service:write",
        body=lambda i: {"answer": "改"},
        outside=False,
    ),
)
PATH_PARAMS: dict[str, str] = {"consultation_id": "consultation", "article_id": "article"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Creates this module's records inside grid 1 and outside it and adds their ids."""
    article = KnowledgeArticle(key="matrix.article", item_code=None, question="矩阵", answer="矩阵", source="faq")
    session.add(article)
    for side, grid in ((inside, world.grid1), (outside, world.grid2)):
        row = Consultation(
            question="矩阵咨询",
            region_id=grid.id,
            region_path=grid.path,
            status="open",
            due_at=utcnow() + timedelta(days=1),
        )
        session.add(row)
        session.flush()
        side.update(consultation=row.id, article=article.id)
