"""工单: every city event, 12345 complaint, property repair and help request is a ``Case``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow


class Channel(StrEnum):
    RESIDENT = "resident"  # 居民上报 (web / phone page)
    HOTLINE = "hotline"  # 12345 operator entry
    PATROL = "patrol"  # 网格员巡查
    DEVICE = "device"  # device alarm (bus event)
    VIDEO = "video"  # AI video detection (vendor webhook)
    OPEN311 = "open311"  # third-party apps


class Urgency(StrEnum):
    URGENT = "urgent"  # 紧急: 2 working hours
    HIGH = "high"  # 较急: 24 hours
    NORMAL = "normal"  # 一般: 7 working days
    LOW = "low"  # 15 working days


class Category(Base):
    """A node of the three-level category tree (大类 · 小类 · 细类); ``process_key`` is inherited."""

    __tablename__ = "case_category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("case_category.code"), nullable=True, index=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    process_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    keywords: Mapped[str] = mapped_column(Text, default="")  # space-separated hints for the text classifier


class Case(Base):
    __tablename__ = "case"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    no: Mapped[str] = mapped_column(String(32), unique=True)  # 工单号, e.g. 20261123-000042
    category_code: Mapped[str] = mapped_column(ForeignKey("case_category.code"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16), default=Urgency.NORMAL)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    reporter_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    reporter_label: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(64), index=True)  # the process state
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True, index=True)
    assignee_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    process_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("case.id"), nullable=True, index=True)
    rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    routing: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # how the department was chosen
    external_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # vendor / Open311 token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_case_region_path_id", "region_path", "id"),
        Index("ix_case_status_due_at", "status", "due_at"),
        # Duplicate search: same category, recent.
        Index("ix_case_category_created", "category_code", "created_at"),
    )


class CaseAttachment(Base):
    """A photo or file of a case: stored under the data directory by content hash."""

    __tablename__ = "case_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(128), default="")
    uploaded_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """好差评 of any subject (cases now, applications later): five levels, one re-rating."""

    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(SmallInteger)  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revision: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_rating_subject", "subject_type", "subject_id"),)


class Rectification(Base):
    """整改 after a 差评: call the reporter back within 1 working day, fix it within 15."""

    __tablename__ = "case_rectification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    rating_level: Mapped[int] = mapped_column(SmallInteger)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True, index=True)
    callback_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rectify_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
