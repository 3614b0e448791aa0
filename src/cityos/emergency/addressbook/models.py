"""Models of emergency.addressbook (云上通讯录).

The organisation tree 市-区-街道-社区-小区-楼栋-单元-房号-业主 is the region tree itself; on top of it
sit *groups*: one automatic group per building and per grid (``auto_key`` "building:<id>" /
"grid:<id>", rebuilt by ``service.sync_groups``) and manual groups that staff make. A *member* is
an account (staff, grid workers, building leads, volunteers) or a person (a resident, who may or
may not have an account) with a role in the group.

A *broadcast* (通知群发) goes to a region subtree or to a group; its recipients are resolved when it
is sent and each gets a *receipt* row, whose ``read_at`` is set when they open it (已读回执).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, PathType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class GroupKind(StrEnum):
    BUILDING = "building"  # 楼栋群: automatic
    GRID = "grid"  # 网格群: automatic
    MANUAL = "manual"  # made by staff


class MemberRole(StrEnum):
    STAFF = "staff"  # 社区工作者 (community_staff scoped to the group's region or above)
    GRID_WORKER = "grid_worker"  # 网格员
    LEAD = "lead"  # 楼栋长
    VOLUNTEER = "volunteer"  # 志愿者
    RESIDENT = "resident"  # 居民 (from the residences of the building)


class MemberSource(StrEnum):
    AUTO = "auto"  # derived from roles, scopes and residences; replaced by each sync
    MANUAL = "manual"  # set by staff (a lead, an explicit volunteer, a manual group's member)


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急: also sent by SMS where a phone is known


class Group(Base):
    """通讯录群组: an automatic group of a building or a grid, or a manual group at a region."""

    __tablename__ = "address_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # "building:<region id>" / "grid:<region id>" for automatic groups; None for manual ones.
    auto_key: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    name: Mapped[str] = mapped_column(String(128))
    created_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Member(Base):
    """One member of a group with a role. ``member_key`` is "a<account id>" for accounts and
    "p<person id>" for residents (with ``account_id`` too when they have an account)."""

    __tablename__ = "address_member"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("address_group.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    member_key: Mapped[str] = mapped_column(String(24))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), nullable=True, index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), nullable=True)
    # The building the membership comes from (a resident's, a lead's or a volunteer's building).
    building_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), nullable=True)
    # Where the member is: a resident's room, otherwise the account's scope.
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    source: Mapped[str] = mapped_column(String(8), default=MemberSource.AUTO)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("group_id", "role", "member_key", name="uq_address_member_group_id"),
        Index("ix_address_member_group_role", "group_id", "role"),
    )


class Broadcast(Base):
    """通知群发 to a region subtree (``target_region_id``) or a group (``group_id``)."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True, index=True
    )
    sender_label: Mapped[str] = mapped_column(String(128), default="")
    target_region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("address_group.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The region of the target (the subtree, or the group's region): who may read the receipts.
    target_path: Mapped[str] = mapped_column(PathType, index=True)
    target_name: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(8), default=Urgency.NORMAL)
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    sms_count: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the sender was told who has not read an urgent broadcast yet (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BroadcastReceipt(Base):
    """已读回执: one recipient of a broadcast; ``read_at`` is set when they open it."""

    __tablename__ = "broadcast_receipt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="SET NULL"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("broadcast_id", "account_id", name="uq_broadcast_receipt_broadcast_id"),
        Index("ix_broadcast_receipt_account_broadcast", "account_id", "broadcast_id"),
        Index("ix_broadcast_receipt_broadcast_building", "broadcast_id", "building_id"),
    )
