"""JSON routes of emergency.command: roll-ups with drill-down, the unreached, overdue help, the
map's figures and the daily report files (``campaign:read`` over the region)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.emergency.command import export, service
from cityos.emergency.command import report as daily
from cityos.emergency.command.schemas import HelpItemRead, RollupRead, UnreachedPageRead
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["emergency"])

CampaignId = Annotated[int, Path(ge=1)]
RegionId = Annotated[int | None, Query(ge=1, description="Default: your area within the campaign")]
Day = Annotated[date | None, Query(description="City date; default today")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/campaigns/{campaign_id}/rollup", response_model=RollupRead)
def get_rollup(
    campaign_id: CampaignId, session: DbSession, actor: CurrentActor, region_id: RegionId = None, day: Day = None
) -> RollupRead:
    """Figures of a region (reached, reported and abnormal today, help open/overdue, tasks,
    supplies) and of each child region down to the buildings; current within seconds of a report."""
    return RollupRead.of(service.rollup(session, actor, campaign_id=campaign_id, region_id=region_id, day=day))


@router.get("/campaigns/{campaign_id}/unreached", response_model=UnreachedPageRead)
def get_unreached(
    campaign_id: CampaignId, session: DbSession, actor: CurrentActor, params: PageQuery, region_id: RegionId = None
) -> UnreachedPageRead:
    """Residents of a street or smaller area not yet reached, special groups first; names masked
    without ``person:read``, phones without ``pii:read`` (unmasked reads are audited)."""
    page = service.unreached(session, actor, campaign_id=campaign_id, region_id=region_id, params=params)
    return UnreachedPageRead.of(page)


@router.get("/campaigns/{campaign_id}/overdue-help", response_model=list[HelpItemRead])
def get_overdue_help(
    campaign_id: CampaignId, session: DbSession, actor: CurrentActor, region_id: RegionId = None
) -> list[HelpItemRead]:
    """Help requests past their time limit and not yet answered, the oldest first."""
    items = service.overdue_help(session, actor, campaign_id=campaign_id, region_id=region_id)
    return [HelpItemRead.of(i) for i in items]


@router.get("/campaigns/{campaign_id}/rollup-map")
def get_rollup_map(
    campaign_id: CampaignId, session: DbSession, actor: CurrentActor, region_id: RegionId = None, day: Day = None
) -> Response:
    """GeoJSON of the buildings (from a community down) or the child regions, with report rates."""
    data: dict[str, Any] = service.map_features(session, actor, campaign_id=campaign_id, region_id=region_id, day=day)
    return JSONResponse(data, media_type="application/geo+json")


@router.get("/campaigns/{campaign_id}/daily-report.xlsx")
def get_daily_report_xlsx(
    campaign_id: CampaignId, session: DbSession, actor: CurrentActor, region_id: RegionId = None, day: Day = None
) -> Response:
    """日报 as a spreadsheet: a summary sheet and one sheet per level below the region."""
    report = daily.daily_report(session, actor, campaign_id=campaign_id, region_id=region_id, day=day)
    return Response(
        export.xlsx(report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{export.filename(report, "xlsx")}"'},
    )


@router.get("/campaigns/{campaign_id}/daily-report.pdf")
def get_daily_report_pdf(
    campaign_id: CampaignId, session: DbSession, actor: CurrentActor, region_id: RegionId = None, day: Day = None
) -> Response:
    """日报 as a PDF for printing and sending up the ladder."""
    report = daily.daily_report(session, actor, campaign_id=campaign_id, region_id=region_id, day=day)
    return Response(
        export.pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{export.filename(report, "pdf")}"'},
    )
