"""Models of the data catalogue (数据目录) and governed sharing (共享交换): datasets published by a
department, access requests of other departments (each a workflow process), the time-boxed,
field-masked grants they lead to, and the hash-chained read log of every read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class DatasetClass(StrEnum):
    OPEN = "open"  # 无条件共享 / open: anyone with dataset:read, no grant, still logged
    SHARED = "shared"  # 有条件共享: on request, approved by the owner department
    RESTRICTED = "restricted"  # on request, two approvals of the owner department (or the admin)


class DatasetKind(StrEnum):
    ENTITY_TYPE = "entity_type"  # NGSI-LD entities of one type
    TABLE = "table"  # one of the platform sources in sources.py
    FILE = "file"  # an uploaded CSV or JSON file


class DatasetStatus(StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for the owner's approval
    SECOND = "second"  # restricted: approved once, waiting for the second approver
    GRANTED = "granted"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class GrantStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Dataset(Base):
    """A dataset in the catalogue. ``fields`` is the schema: ``[{"name", "type", "description",
    "sensitivity": none|personal|sensitive}]``."""

    __tablename__ = "hub_dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)  # the owner department's region
    access_class: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(255), default="")  # entity type, source key or file hash
    tenant: Mapped[str] = mapped_column(String(64), default="default")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    frequency: Mapped[str] = mapped_column(String(16), default="daily")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default=DatasetStatus.PUBLISHED, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    file_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DataRequest(Base):
    """A department's request for access to a dataset (共享申请); its steps run in the workflow."""

    __tablename__ = "hub_data_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("hub_dataset.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)  # the requester's
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    purpose: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING, index=True)
    process_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), nullable=True)
    first_approver_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DataGrant(Base):
    """Time-boxed access of a department to a dataset: the fields it may read and those masked."""

    __tablename__ = "hub_data_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("hub_dataset.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("hub_data_request.id"), nullable=True)
    fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    masked: Mapped[list[str]] = mapped_column(JSONType, default=list)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default=GrantStatus.ACTIVE, index=True)
    granted_by: Mapped[str] = mapped_column(String(128), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_hub_data_grant_lookup", "dataset_id", "department_id", "status"),)


class ReadLogHead(Base):
    """The head of the read-log chain (one row, id 1): appends update it first, which locks it
    (a row lock on PostgreSQL, the write lock on SQLite), so the chain stays linear."""

    __tablename__ = "hub_readlog_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")


class ReadLogEntry(Base):
    """One read of a dataset: who, for which department, through which grant, what was asked,
    how many rows and which fields; ``hash`` = SHA-256(canonical JSON of the row + prev_hash)."""

    __tablename__ = "hub_readlog"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    actor_label: Mapped[str] = mapped_column(String(128), default="")
    department_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dataset_id: Mapped[int] = mapped_column(Integer, index=True)
    dataset_code: Mapped[str] = mapped_column(String(64))
    owner_department_id: Mapped[int] = mapped_column(Integer, index=True)
    grant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # records | export | page
    query: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_hub_readlog_dataset_at", "dataset_id", "at"),)
