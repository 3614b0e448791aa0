"""办件: an application for a service item (or a 一件事 bundle) from draft to result."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow


class ApplicationStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交, waiting to be received
    SUPPLEMENT = "supplement"  # 待补正 (一次性告知)
    APPROVING = "approving"  # 审批中
    APPROVED = "approved"  # 已办结 (准予)
    REJECTED = "rejected"  # 不予许可
    WITHDRAWN = "withdrawn"  # 已撤回


class ApplicationChannel(StrEnum):
    ONLINE = "online"  # 掌上办 / 网上办
    COUNTER = "counter"  # 窗口 (代办 by a clerk)
    KIOSK = "kiosk"  # 自助终端
    PROACTIVE = "proactive"  # from a 服务找人 offer


class Application(Base):
    """One application. ``form_enc`` is the field-encrypted JSON of the form (it holds personal
    data); ``credential_ids`` are the e-licences used in place of materials (零材料)."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    no: Mapped[str] = mapped_column(String(32), unique=True)  # 办件编号
    item_code: Mapped[str] = mapped_column(ForeignKey("service_item.code"), index=True)
    bundle_code: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    bundle_group: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # one bundle filing
    applicant_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    applicant_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    applicant_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    filed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)  # 代办
    channel: Mapped[str] = mapped_column(String(16), default=ApplicationChannel.ONLINE)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True, index=True)
    form_enc: Mapped[str] = mapped_column(Text, default="")
    credential_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    uploads: Mapped[int] = mapped_column(Integer, default=0)  # materials uploaded by hand
    zero_material: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.DRAFT, index=True)
    department_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)  # approving departments
    result_credential_id: Mapped[int | None] = mapped_column(ForeignKey("credential.id"), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # latest 好差评 level
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # legal time limit
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_application_item_submitted", "item_code", "submitted_at"),)


class ApplicationDepartment(Base):
    """Which department approves which application (for the department's inbox and statistics)."""

    __tablename__ = "application_department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)  # approved | rejected
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SupplementRequest(Base):
    """一次性告知: everything missing, listed at once; the applicant answers it in one go."""

    __tablename__ = "application_supplement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # [{"key", "reason"}]
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
