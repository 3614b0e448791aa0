"""Bus handlers and periodic jobs of emergency.command: the roll-up follows each report within
the same second (the handler runs right after the report's transaction commits)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.emergency.campaigns.events import CampaignPublished, OrgReportReceived, ReportReceived
from cityos.emergency.command import service

CONSUMER = "emergency.command.rollup"


def on_published(session: Session, event: CampaignPublished) -> None:
    """A campaign started: build its roll-up rows (its tasks are counted from the first second)."""
    service.rebuild(session, campaign_id=event.campaign_id, missing_ok=True)


def on_report(session: Session, event: ReportReceived | OrgReportReceived) -> None:
    """A report was stored or replaced: recount its building and move its ancestors' totals."""
    service.refresh_after_report(session, campaign_id=event.campaign_id, region_path=event.region_path, day=event.day)


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(CampaignPublished, f"{CONSUMER}.published")(on_published)
    bus.subscribe(ReportReceived, f"{CONSUMER}.report")(on_report)
    bus.subscribe(OrgReportReceived, f"{CONSUMER}.org_report")(on_report)


def periodic(session: Session) -> None:
    """Every minute: builds new campaigns' roll-ups, rebuilds each once a day, and folds in the
    reaches, deliveries and finished tasks that come without an event."""
    service.periodic(session)
