"""政务服务事项 (service items), 一件事一次办 bundles and per-district local sites."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow


class ItemKind(StrEnum):
    LICENCE = "licence"  # 行政许可
    CONFIRMATION = "confirmation"  # 行政确认
    PAYMENT = "payment"  # 行政给付
    PUBLIC_SERVICE = "public_service"  # 公共服务
    OTHER = "other"  # 其他行政权力


class OnlineDepth(StrEnum):
    FULL_ONLINE = "full_online"  # 全程网办
    AT_MOST_ONCE = "at_most_once"  # 最多跑一次
    COUNTER = "counter"  # 窗口办理


class Audience(StrEnum):
    PERSON = "person"  # 个人
    BUSINESS = "business"  # 法人


class ServiceItem(Base):
    """政务服务事项. ``materials`` lists what the applicant must provide, each either a credential
    kind (proved by an e-licence the platform already holds: 零材料) or a form field:
    ``[{"key": "id_card", "title": "居民身份证", "credential_kind": "id_card", "required": true},
    {"key": "reason", "title": "申请理由", "field": "reason", "required": true}]``.
    ``department_kinds`` names the approving departments by kind (the part after the region code
    in a department code, e.g. ``mzj`` in ``510104-mzj``); several mean parallel approval (并联审批)."""

    __tablename__ = "service_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # 事项编码
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default=ItemKind.PUBLIC_SERVICE)
    audience: Mapped[str] = mapped_column(String(16), default=Audience.PERSON)
    department_kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    conditions: Mapped[str] = mapped_column(Text, default="")  # 受理条件
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # JSON Schema of the form
    process_key: Mapped[str] = mapped_column(String(64), default="service_approval")
    time_limit_days: Mapped[int] = mapped_column(Integer, default=20)  # 法定时限, working days
    promised_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 承诺时限
    fee: Mapped[str] = mapped_column(String(64), default="")  # "" means free (不收费)
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)  # online, counter, kiosk
    online_depth: Mapped[str] = mapped_column(String(16), default=OnlineDepth.FULL_ONLINE)
    result_credential_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    guide: Mapped[str] = mapped_column(Text, default="")  # 办事指南
    instant: Mapped[bool] = mapped_column(Boolean, default=False)  # 即办件: decided on the spot
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ServiceBundle(Base):
    """一件事一次办: one form and one submission for several items across departments."""

    __tablename__ = "service_bundle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    item_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LocalSite(Base):
    """A district's local station (浙里办's 地方站点): its name, colours and which items it offers."""

    __tablename__ = "service_local_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), unique=True)
    site_name: Mapped[str] = mapped_column(String(64))
    theme_color: Mapped[str] = mapped_column(String(16), default="#1f6feb")
    banner: Mapped[str] = mapped_column(Text, default="")
    hidden_item_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
