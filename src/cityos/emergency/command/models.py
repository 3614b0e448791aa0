"""Models of emergency.command: the materialised roll-up of a campaign over the region tree.

One ``RollupRow`` per campaign and region from the city down to the buildings (the regions
above the campaign's scope included, so the city sees a community's campaign). Each row holds
its *own* counts — for a building everything under it (units, rooms), for a coarser region only
the records placed exactly on it (an organisation's staff reporting at a street) — and its
*totals*: own plus the totals of its children. The daily figures (reported, abnormal) live in
``RollupDay``, one row per campaign, region and day with reports.

A report refreshes the own counts of its building and adds the differences to the totals of the
building's ancestors (``store.refresh``), so a read at any level is one row plus its children's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, PathType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")

# The counted figures of a campaign-wide row, each stored as own_<name> and <name>.
ROW_FIGURES: tuple[str, ...] = (
    "residents",
    "households",
    "special",
    "reached",
    "tasks_open",
    "tasks_done",
    "supplied",
)
DAY_FIGURES: tuple[str, ...] = ("reported", "abnormal", "staff_reported", "staff_abnormal")


class RollupBuild(Base):
    """That a campaign's roll-up rows exist, when they were built (or last checked through against
    the records), and how far the periodic job has read the records that come without a bus event."""

    __tablename__ = "emergency_rollup_build"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    scope_path: Mapped[str] = mapped_column(PathType)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How far the periodic job has folded in the records that come without a bus event: the
    # highest reach and delivery ids seen, and the time up to which finished tasks were read.
    reach_id: Mapped[int] = mapped_column(_ID, default=0)
    supplies_id: Mapped[int] = mapped_column(_ID, default=0)
    task_id: Mapped[int] = mapped_column(_ID, default=0)
    watermark: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the periodic check of the rows against the records stopped ('' : start again).
    reconcile_path: Mapped[str] = mapped_column(PathType, default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)


class RollupRow(Base):
    """The campaign-wide figures of one region (汇总): residents, households, reached, tasks, supplies."""

    __tablename__ = "emergency_rollup"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level: Mapped[str] = mapped_column(String(16))
    depth: Mapped[int] = mapped_column(Integer)
    region_path: Mapped[str] = mapped_column(PathType)
    # Upper bound (exclusive) of the paths counted as this row's own: the subtree for a building,
    # the path itself for a coarser region ('!' sorts before every digit).
    own_hi: Mapped[str] = mapped_column(PathType)
    in_scope: Mapped[bool] = mapped_column(default=True)  # False above the campaign's scope root
    own_residents: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    own_households: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    # Residents of the special groups (特殊人群: pregnant, serious illness, living alone, disabled).
    own_special: Mapped[int] = mapped_column(Integer, default=0)
    special: Mapped[int] = mapped_column(Integer, default=0)
    own_reached: Mapped[int] = mapped_column(Integer, default=0)
    reached: Mapped[int] = mapped_column(Integer, default=0)
    own_tasks_open: Mapped[int] = mapped_column(Integer, default=0)
    tasks_open: Mapped[int] = mapped_column(Integer, default=0)
    own_tasks_done: Mapped[int] = mapped_column(Integer, default=0)
    tasks_done: Mapped[int] = mapped_column(Integer, default=0)
    own_supplied: Mapped[int] = mapped_column(Integer, default=0)
    supplied: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "region_id", name="uq_emergency_rollup_campaign_region"),
        Index("ix_emergency_rollup_campaign_parent", "campaign_id", "parent_id"),
        Index("ix_emergency_rollup_campaign_path", "campaign_id", "region_path"),
    )


class RollupDay(Base):
    """The figures of one region on one day (city time): who reported, who reported abnormal, and
    the same for enterprise staff."""

    __tablename__ = "emergency_rollup_day"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level: Mapped[str] = mapped_column(String(16))
    region_path: Mapped[str] = mapped_column(PathType)
    own_reported: Mapped[int] = mapped_column(Integer, default=0)
    reported: Mapped[int] = mapped_column(Integer, default=0)
    own_abnormal: Mapped[int] = mapped_column(Integer, default=0)
    abnormal: Mapped[int] = mapped_column(Integer, default=0)
    # Enterprise staff reports (企业员工填报) placed at their organisation's region.
    own_staff_reported: Mapped[int] = mapped_column(Integer, default=0)
    staff_reported: Mapped[int] = mapped_column(Integer, default=0)
    own_staff_abnormal: Mapped[int] = mapped_column(Integer, default=0)
    staff_abnormal: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("campaign_id", "day", "region_id", name="uq_emergency_rollup_day_campaign_day_region"),
        Index("ix_emergency_rollup_day_campaign_day_parent", "campaign_id", "day", "parent_id"),
        Index("ix_emergency_rollup_day_campaign_day_path", "campaign_id", "day", "region_path"),
    )
