"""API shapes of services.catalogue: items (政务服务事项), bundles (一件事), local sites, statistics.

``ItemData`` and ``BundleData`` are also what the service checks every pasted, imported or
posted record against, so the API, the admin page and ``items-import`` refuse the same things.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cityos.core.i18n import N_
from cityos.services.catalogue.models import Audience, ItemKind, OnlineDepth

CODE_PATTERN = r"^[a-z][a-z0-9]{0,11}-[a-z0-9]{1,12}$"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MSG_MATERIAL = N_("A material names either a credential kind or a form field, not both.")


class ChannelName(StrEnum):
    ONLINE = "online"  # 网上办 / 掌上办
    COUNTER = "counter"  # 窗口
    KIOSK = "kiosk"  # 自助终端


class Material(BaseModel):
    """One required material: proved by an e-licence (``credential_kind``) or given in the form (``field``)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=64)
    credential_kind: str | None = Field(default=None, max_length=32)
    field: str | None = Field(default=None, pattern=KEY_PATTERN)
    required: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> Material:
        if (self.credential_kind is None) == (self.field is None):
            raise ValueError(MSG_MATERIAL)
        return self


class ItemData(BaseModel):
    """Everything an item record holds; ``form_schema`` is a JSON Schema (draft 2020-12) object."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    kind: ItemKind = ItemKind.PUBLIC_SERVICE
    audience: Audience = Audience.PERSON
    department_kinds: list[str] = Field(min_length=1, max_length=8)
    conditions: str = Field(default="", max_length=4000)
    materials: list[Material] = Field(default_factory=list, max_length=50)
    form_schema: dict[str, Any]
    process_key: str = Field(default="service_approval", pattern=KEY_PATTERN)
    time_limit_days: int = Field(default=20, ge=0, le=365)
    promised_days: int | None = Field(default=None, ge=0, le=365)
    fee: str = Field(default="", max_length=64)
    channels: list[ChannelName] = Field(default_factory=lambda: [ChannelName.ONLINE], min_length=1, max_length=3)
    online_depth: OnlineDepth = OnlineDepth.FULL_ONLINE
    result_credential_kind: str | None = Field(default=None, max_length=32)
    guide: str = Field(default="", max_length=20000)
    instant: bool = False
    active: bool = True


class BundleData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=4000)
    item_codes: list[str] = Field(min_length=2, max_length=12)
    active: bool = True


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    audience: str
    department_kinds: list[str]
    conditions: str
    materials: list[dict[str, Any]]
    form_schema: dict[str, Any]
    process_key: str
    time_limit_days: int
    promised_days: int | None
    fee: str
    channels: list[str]
    online_depth: str
    result_credential_kind: str | None
    guide: str
    instant: bool
    active: bool
    updated_at: datetime


class BundleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    description: str
    item_codes: list[str]
    active: bool


class BundleDetail(BundleRead):
    items: list[ItemRead]


class LocalSiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_name: str = Field(min_length=1, max_length=64)
    theme_color: str = Field(default="#1f6feb", pattern=r"^#[0-9a-fA-F]{6}$")
    banner: str = Field(default="", max_length=2000)
    hidden_item_codes: list[str] = Field(default_factory=list, max_length=500)


class LocalSiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    region_id: int
    site_name: str
    theme_color: str
    banner: str
    hidden_item_codes: list[str]
    updated_at: datetime


class ImportResult(BaseModel):
    written: int
