"""Events emergency.campaigns publishes on the bus (delivered after the transaction commits)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class CampaignPublished(Event):
    topic: ClassVar[str] = "campaigns.published"
    campaign_id: int
    scope_path: str
    tasks: int


@event_type
class ReportReceived(Event):
    """A daily report was stored (or replaced): roll-ups of ``region_path`` for ``day`` change.
    ``abnormal`` reports are also told to the grid workers of the place."""

    topic: ClassVar[str] = "campaigns.report_received"
    campaign_id: int
    region_path: str
    day: date
    report_id: int | None = None
    person_id: int | None = None
    abnormal: bool = False


@event_type
class OrgReportReceived(Event):
    """An enterprise's staff member reported (the street's per-organisation roll-up changes)."""

    topic: ClassVar[str] = "campaigns.org_report_received"
    campaign_id: int
    organisation_id: int
    region_path: str
    day: date
    abnormal: bool = False


@event_type
class PositiveResult(Event):
    """A positive test result was recorded."""

    topic: ClassVar[str] = "campaigns.positive_result"
    campaign_id: int
    person_id: int
    region_path: str


@event_type
class HelpRequested(Event):
    """A help request was made: its building lead (or the grid's workers) must answer in 2 hours."""

    topic: ClassVar[str] = "campaigns.help_requested"
    help_id: int
    campaign_id: int
    region_path: str


@event_type
class HelpEscalated(Event):
    """A help request was not answered in time and went up a level of the ladder."""

    topic: ClassVar[str] = "campaigns.help_escalated"
    help_id: int
    level: int
