"""Offset pagination shared by list endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class PageParams(BaseModel):
    page: int = Field(1, ge=1)
    size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


async def page_params(
    page: Annotated[int, Query(ge=1)] = 1, size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20
) -> PageParams:
    # A coroutine, so FastAPI resolves it on the event loop instead of a worker thread.
    return PageParams(page=page, size=size)


# Route parameter for paged lists: ``params: PageQuery``.
PageQuery = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int | None = None


def fetch_page(
    session: Session, query: Select[Any], params: PageParams, *, count: bool = True
) -> tuple[list[Any], int | None]:
    """Rows of one page and, when asked, the total (a count can be slow on huge tables)."""
    rows = list(session.scalars(query.limit(params.size).offset(params.offset)).all())
    total = None
    if count:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return rows, total
