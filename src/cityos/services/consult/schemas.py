"""API schemas of services.consult (掌上咨询)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cityos.services.consult.models import ArticleSource


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Lengths are checked by the service, so an empty or long question gets the field message.
    question: str = Field(max_length=4000)
    escalate: bool = False  # "没解决？转人工": pass it on to staff even when there are answers


class ArticleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    item_code: str | None
    question: str
    answer: str
    source: str
    active: bool
    consultation_id: int | None
    created_at: datetime
    updated_at: datetime


class HitRead(BaseModel):
    article: ArticleRead
    item_code: str | None
    item_name: str | None
    link: str | None  # the item's page, where one can apply
    score: float


class ConsultationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    question: str
    item_code: str | None
    status: str
    asker_label: str
    region_id: int | None
    answer: str | None
    answered_by_label: str | None
    answered_at: datetime | None
    article_id: int | None
    due_at: datetime
    created_at: datetime


class AnswerRead(BaseModel):
    question: str
    hits: list[HitRead]
    confidence: float
    answered: bool
    consultation: ConsultationRead | None


class ConsultationPage(BaseModel):
    items: list[ConsultationRead]
    page: int
    size: int
    total: int | None = None


class StaffAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(max_length=20000)


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str | None = Field(default=None, max_length=2000)
    item_code: str | None = Field(default=None, max_length=32)


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=2000)
    answer: str = Field(max_length=20000)
    item_code: str | None = Field(default=None, max_length=32)
    source: ArticleSource = ArticleSource.FAQ


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str | None = Field(default=None, max_length=2000)
    answer: str | None = Field(default=None, max_length=20000)
    item_code: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class ArticlePage(BaseModel):
    items: list[ArticleRead]
    page: int
    size: int
    total: int | None = None
