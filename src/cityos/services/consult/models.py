"""掌上咨询: the knowledge base (guides, FAQs, promoted staff answers) and consultations (咨询件)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, PathType, UTCDateTime, utcnow


class ArticleSource(StrEnum):
    GUIDE = "guide"  # from an item's 办事指南
    FAQ = "faq"  # shipped or written by the knowledge-base editors
    STAFF = "staff"  # a staff answer to a consultation, promoted


class ConsultationStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class KnowledgeArticle(Base):
    """One question and its answer (知识库条目), about a service item or general.

    ``key`` is stable for shipped articles (``gaj-001.materials``) so installing again updates
    nothing the editors changed and adds only what is new; articles made here get ``kb-<id>``."""

    __tablename__ = "knowledge_article"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default=ArticleSource.FAQ)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consultation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # promoted from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Consultation(Base):
    """A question the knowledge base could not answer (or the asker passed on): staff answer it
    within one working day."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(500))
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the best guess, if any
    best_score: Mapped[float] = mapped_column(Float, default=0.0)
    asker_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    asker_label: Mapped[str] = mapped_column(String(128), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ConsultationStatus.OPEN)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    answered_by_label: Mapped[str | None] = mapped_column(String(128), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_article.id"), nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_consultation_region_path_status", "region_path", "status"),)
