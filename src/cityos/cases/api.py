"""JSON routes of cases (工单)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from cityos.cases import dashboard, service
from cityos.cases.models import Case, Category, Rating
from cityos.cases.schemas import (
    ActionIn,
    CaseCreate,
    CasePage,
    CaseRead,
    CategoryIn,
    CategoryRead,
    MergeIn,
    RatingIn,
    RatingRead,
    ReopenIn,
    SuggestIn,
    SuggestionRead,
    TimelineEntry,
    VideoEventIn,
    VideoEventOut,
)
from cityos.core.errors import Forbidden
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageQuery
from cityos.core.settings import get_settings
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/case-categories", response_model=list[CategoryRead])
def list_categories(session: DbSession, actor: CurrentActor) -> list[Category]:
    """The category tree (大类 · 小类 · 细类), in code order."""
    return service.list_categories(session)


@router.get("/cases", response_model=CasePage)
def list_cases(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    status: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    department_id: int | None = None,
    open_only: bool = False,
    overdue: bool = False,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> CasePage:
    """Cases you may see: your area's, your department's, or your own reports; newest first."""
    filters = service.CaseFilter(
        status=status, category_code=category, department_id=department_id, open_only=open_only, overdue=overdue, q=q
    )
    rows, total = service.list_cases(session, actor, params, filters)
    return CasePage(items=[CaseRead.model_validate(c) for c in rows], page=params.page, size=params.size, total=total)


@router.post("/cases", response_model=CaseRead, status_code=201)
def report_case(body: CaseCreate, session: DbSession, actor: CurrentActor) -> Case:
    """Report a case; it is placed in the region tree, routed and started on its process."""
    return service.report(
        session,
        actor,
        category_code=body.category_code,
        title=body.title,
        description=body.description,
        channel=body.channel.value,
        urgency=body.urgency.value,
        lon=body.lon,
        lat=body.lat,
        address=body.address,
    )


@router.get("/cases/{case_id}", response_model=CaseRead)
def get_case(case_id: int, session: DbSession, actor: CurrentActor) -> Case:
    return service.get_case(session, actor, case_id)


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineEntry])
def get_timeline(case_id: int, session: DbSession, actor: CurrentActor) -> list[Any]:
    return service.timeline(session, actor, case_id)


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseRead)
def take_action(
    case_id: int,
    action: Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")],
    body: ActionIn,
    session: DbSession,
    actor: CurrentActor,
) -> Case:
    """Take a step of the case's process (file, dispatch, send_back, handle, check_pass, close …)."""
    return service.act(
        session,
        actor,
        case_id=case_id,
        action=action,
        comment=body.comment,
        department_id=body.department_id,
        party=body.party,
    )


@router.post("/cases/{case_id}/reopen", response_model=CaseRead)
def reopen_case(case_id: int, body: ReopenIn, session: DbSession, actor: CurrentActor) -> Case:
    return service.reopen(session, actor, case_id=case_id, comment=body.comment)


@router.post("/cases/{case_id}/rating", response_model=RatingRead, status_code=201)
def rate_case(case_id: int, body: RatingIn, session: DbSession, actor: CurrentActor) -> Rating:
    """好差评: 5 非常满意 … 1 非常不满意; one re-rating allowed."""
    return service.rate(session, actor, case_id=case_id, level=body.level, comment=body.comment)


@router.post("/cases/{case_id}/merge", response_model=CaseRead)
def merge_case(case_id: int, body: MergeIn, session: DbSession, actor: CurrentActor) -> Case:
    """并案: the case follows ``into_id`` to its end; its reporter is told then."""
    return service.merge(session, actor, case_id=case_id, into_id=body.into_id)


def _parse(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        from cityos.core.errors import FieldError, Invalid

        raise Invalid(details=[FieldError(name, N_("Must be a date like 2024-05-01."))]) from exc
    # A date without a zone is the city's local time (timestamps are stored aware, in UTC).
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


@router.get("/case-dashboard")
def case_dashboard(
    session: DbSession,
    actor: CurrentActor,
    region_id: int | None = None,
    since: Annotated[str | None, Query(max_length=32)] = None,
    until: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """KPIs (响应率, 结案率, 按期结案率, 返工率, 满意率) of a region and period, by part and by department."""
    start, end = _parse(since, "since"), _parse(until, "until")
    region, totals = dashboard.kpis(session, actor, region_id=region_id, since=start, until=end)
    parts = dashboard.by_part(session, actor, region_id=region.id, since=start, until=end)
    departments = dashboard.by_department(session, actor, region_id=region.id, since=start, until=end)
    return {
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "kpis": totals.as_dict(),
        "parts": [{"id": r.id, "name": r.name, "kpis": k.as_dict()} for r, k in parts],
        "departments": [{"id": d.id, "name": d.name, "kpis": k.as_dict()} for d, k in departments],
    }


@router.get("/case-map")
def case_map(session: DbSession, actor: CurrentActor, region_id: int | None = None) -> JSONResponse:
    """Open cases of a region as GeoJSON points (``overdue`` marked)."""
    return JSONResponse(dashboard.open_points(session, actor, region_id=region_id), media_type="application/geo+json")


@router.post("/case-suggestions", response_model=list[SuggestionRead])
def suggest_category(body: SuggestIn, session: DbSession, actor: CurrentActor) -> list[SuggestionRead]:
    """The three likeliest categories for a complaint's text, with the model's confidence."""
    from cityos.cases import classifier

    actor.require("case:report")
    names = {c.code: c.name for c in service.list_categories(session)}
    return [
        SuggestionRead(category_code=s.category_code, name=names.get(s.category_code, ""), confidence=s.confidence)
        for s in classifier.current(session).suggest(body.text)
    ]


@router.post("/cases/{case_id}/category", response_model=CaseRead)
def recategorize(case_id: int, body: CategoryIn, session: DbSession, actor: CurrentActor) -> Case:
    """The dispatch centre corrects a case's category before dispatch (routing follows)."""
    return service.recategorize(session, actor, case_id=case_id, category_code=body.category_code)


@router.post("/video-events", response_model=VideoEventOut)
def video_event(body: VideoEventIn, response: Response, session: DbSession, actor: CurrentActor) -> VideoEventOut:
    """Webhook for AI video vendors (an app with ``case:report``): each detection becomes a case that a
    person verifies before it is filed. Sending the same ``event_id`` again returns the same case (200)."""
    actor.require("case:report")
    if actor.client_id is None:
        raise Forbidden(params={"permission": "case:report (registered apps only)"})
    detail = body.label + (f" {body.snapshot_url}" if body.snapshot_url else "")
    case, created = service.machine_report(
        session,
        source=actor.client_id or actor.label,
        external_ref=body.event_id,
        category_code=body.category_code,
        title=(body.label or body.category_code)[:100] + f"（{body.camera_id}）",
        lon=body.lon,
        lat=body.lat,
        detail=f"{detail.strip()} · confidence {body.confidence:.2f}",
        channel="video",
        by=actor,
    )
    response.status_code = 201 if created else 200
    return VideoEventOut(case_id=case.id, case_no=case.no, created=created)
