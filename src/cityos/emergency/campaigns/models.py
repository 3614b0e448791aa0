"""Models of emergency.campaigns: campaigns (防控/防汛/高温 campaigns over a region subtree), their
versioned forms, daily self-reports, people reached, tasks per building or unit, key groups under
watch, test results, enterprise staff reports, help requests (求助, each a case) and supplies.

The command part reads these tables directly for its roll-ups: the column names ``region_path``
(the room of the person), ``day`` (the city's local date), ``abnormal``, ``reported_at``,
``status`` and ``due_at`` are a contract.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class HelpStatus(StrEnum):
    OPEN = "open"  # waiting for the building lead
    ANSWERED = "answered"  # someone took it (响应)
    ESCALATED = "escalated"  # not taken in time: passed up the ladder
    CLOSED = "closed"  # helped (已帮助)


class ReachHow(StrEnum):
    REPORT = "report"  # the person reported (or was reported for) through the form
    DOOR = "door"  # seen at the door (上门)
    PHONE = "phone"  # reached by phone


class CampaignTemplate(Base):
    """A template a campaign is made from; ``install`` adds the shipped ones (``kinds.py``) and
    leaves templates that already exist as they are."""

    __tablename__ = "campaign_template"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(128))  # an English msgid for shipped templates
    description: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[dict[str, Any]] = mapped_column(JSONType)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    supplies: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    """A campaign over a region subtree, made from a template (``template_key``)."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    template_key: Mapped[str] = mapped_column(String(32))
    scope_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    scope_path: Mapped[str] = mapped_column(PathType, index=True)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT, index=True)
    # A copy of the template's settings (cadence, key-group tags, help categories, task kind,
    # supplies), so a later change of the shipped template does not change a running campaign.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    form_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CampaignForm(Base):
    """One version of a campaign's form (JSON Schema). Reports keep the version they answered."""

    __tablename__ = "campaign_form"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("campaign_id", "version", name="uq_campaign_form_campaign_version"),)


class Report(Base):
    """A person's daily report: one row per person and day (a second report the same day
    replaces the answers and is counted once). Key groups who report twice a day set both bits
    of ``slots`` (1 morning, 2 afternoon); every submission is kept in ``ReportEntry``."""

    __tablename__ = "campaign_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str] = mapped_column(PathType)
    day: Mapped[date] = mapped_column(Date)
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    abnormal: Mapped[bool] = mapped_column(Boolean, default=False)
    abnormal_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    key_group: Mapped[bool] = mapped_column(Boolean, default=False)
    slots: Mapped[int] = mapped_column(SmallInteger, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(16), default="qr")  # qr | door | staff
    reported_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    first_reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id", "day", name="uq_campaign_report_campaign_person_day"),
        Index("ix_campaign_report_campaign_day_path", "campaign_id", "day", "region_path"),
        Index("ix_campaign_report_campaign_path", "campaign_id", "region_path"),
    )


class ReportEntry(Base):
    """Every submission of a report, with the form version it answered (the audit trail)."""

    __tablename__ = "campaign_report_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("campaign_report.id", ondelete="CASCADE"), index=True)
    slot: Mapped[int] = mapped_column(SmallInteger, default=0)
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    abnormal: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reach(Base):
    """A person reached in a campaign (once per person: the first way counts)."""

    __tablename__ = "campaign_reach"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    how: Mapped[str] = mapped_column(String(16))
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id", name="uq_campaign_reach_campaign_person"),
        Index("ix_campaign_reach_campaign_path", "campaign_id", "region_path"),
    )


class Task(Base):
    """Work for the grid workers and volunteers of one building or unit (e.g. 上门排查)."""

    __tablename__ = "campaign_task"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    region_path: Mapped[str] = mapped_column(PathType)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "region_id", "kind", name="uq_campaign_task_campaign_region_kind"),
        Index("ix_campaign_task_campaign_path", "campaign_id", "region_path"),
    )


class Watch(Base):
    """A person put under watch in a campaign (重点人群: close contact, quarantined …) by a
    grid worker; people whose record carries one of the campaign's key-group tags are watched
    without a row here."""

    __tablename__ = "campaign_watch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    tag: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id", "tag", name="uq_campaign_watch_campaign_person_tag"),
        Index("ix_campaign_watch_campaign_path", "campaign_id", "region_path"),
    )


class Reminder(Base):
    """A reminder round already sent: the key groups of a campaign for one day and slot."""

    __tablename__ = "campaign_reminder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    slot: Mapped[int] = mapped_column(SmallInteger)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("campaign_id", "day", "slot", name="uq_campaign_reminder_campaign_day_slot"),)


class TestResult(Base):
    """A test result (核酸/抗原) recorded by a grid worker or volunteer."""

    __tablename__ = "campaign_test_result"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    kind: Mapped[str] = mapped_column(String(16))  # pcr | antigen
    result: Mapped[str] = mapped_column(String(16))  # negative | positive | pending
    sampled_on: Mapped[date] = mapped_column(Date)
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_campaign_test_result_campaign_path", "campaign_id", "region_path"),)


class OrgReport(Base):
    """A staff member's report for their organisation (企业员工填报), reached by the org's code.
    One row per organisation, staff phone and day; the phone is sealed like a resident's."""

    __tablename__ = "campaign_org_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    abnormal: Mapped[bool] = mapped_column(Boolean, default=False)
    entries: Mapped[int] = mapped_column(Integer, default=1)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "organisation_id", "phone_hash", "day", name="uq_campaign_org_report_campaign_org_phone_day"
        ),
        Index("ix_campaign_org_report_campaign_path", "campaign_id", "region_path"),
    )


class HelpRequest(Base):
    """求助: a resident's (or a grid worker's) request for help; it is also a case (工单) with
    the 2-hour urgent limit, routed to the building lead and escalated when not taken."""

    __tablename__ = "campaign_help"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    requester_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str] = mapped_column(PathType)
    category_code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(16), default="resident")  # resident | staff
    status: Mapped[str] = mapped_column(String(16), default=HelpStatus.OPEN)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), nullable=True, index=True)
    assignee_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_campaign_help_campaign_path", "campaign_id", "region_path"),
        Index("ix_campaign_help_status_due", "status", "due_at"),
    )


class SuppliesItem(Base):
    """Something handed out in a campaign (大米, 蔬菜包, 药品 …)."""

    __tablename__ = "campaign_supplies_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("campaign_id", "code", name="uq_campaign_supplies_item_campaign_code"),)


class SuppliesDelivery(Base):
    """Supplies handed to one household (the people of one room)."""

    __tablename__ = "campaign_supplies_delivery"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True)
    region_path: Mapped[str] = mapped_column(PathType)
    item_code: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_campaign_supplies_delivery_campaign_path", "campaign_id", "region_path"),
        Index("ix_campaign_supplies_delivery_campaign_room", "campaign_id", "room_id"),
    )
