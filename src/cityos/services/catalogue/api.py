"""JSON routes of services.catalogue: items, bundles, import/export, local sites and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from cityos.core.errors import FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.identity.deps import CurrentActor
from cityos.places.models import Region
from cityos.services import stats
from cityos.services.catalogue import service, transfer
from cityos.services.catalogue.models import LocalSite, ServiceBundle, ServiceItem
from cityos.services.catalogue.schemas import (
    BundleData,
    BundleDetail,
    BundleRead,
    ImportResult,
    ItemData,
    ItemRead,
    LocalSiteIn,
    LocalSiteRead,
)

router = APIRouter(prefix="/api/v1", tags=["services"])

MAX_IMPORT_BYTES = 8 * 1024 * 1024


@router.get("/service-items", response_model=list[ItemRead])
def list_items(
    session: DbSession,
    actor: CurrentActor,
    region_id: int | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    department_kind: Annotated[str | None, Query(max_length=16)] = None,
    audience: Literal["person", "business"] | None = None,
    kind: Literal["licence", "confirmation", "payment", "public_service", "other"] | None = None,
) -> list[ServiceItem]:
    """Active items; with ``region_id``, without those its district's local site hides."""
    region = None
    if region_id is not None:
        region = session.get(Region, region_id)
        if region is None:
            raise Invalid(details=[FieldError("region_id", N_("There is no such region."))])
    return service.list_items(
        session, actor, region=region, q=q, department_kind=department_kind, audience=audience, kind=kind
    )


@router.get("/service-items/export")
def export_items(session: DbSession, actor: CurrentActor, format: Literal["json", "csv"] = "json") -> Response:
    """The whole catalogue as JSON (items and bundles) or CSV (items; JSON columns as JSON text)."""
    actor.require("service:read")
    body = transfer.export_items(session, format)
    if format == "csv":
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="service-items.csv"'},
        )
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="service-items.json"'},
    )


@router.post("/service-items/import", response_model=ImportResult)
async def import_items(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    format: Literal["json", "csv"] = "json",
) -> ImportResult:
    """All or nothing: the raw file as the body (``format=json|csv``); 422 lists every row's problems."""
    actor.require("service:write")
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise Invalid(details=[FieldError("file", N_("The file is larger than {mb} MB."), {"mb": 8})])
    return ImportResult(written=transfer.import_items(session, actor, body, format))


@router.get("/service-items/{item_code}", response_model=ItemRead)
def get_item(item_code: str, session: DbSession, actor: CurrentActor) -> ServiceItem:
    actor.require("service:read")
    return service.get_item(session, item_code)


@router.post("/service-items", response_model=ItemRead, status_code=201)
def create_item(body: ItemData, session: DbSession, actor: CurrentActor) -> ServiceItem:
    return service.create_item(session, actor, body.model_dump(mode="json", exclude_none=True))


@router.put("/service-items/{item_code}", response_model=ItemRead)
def update_item(item_code: str, body: ItemData, session: DbSession, actor: CurrentActor) -> ServiceItem:
    return service.update_item(session, actor, item_code, body.model_dump(mode="json", exclude_none=True))


@router.get("/service-bundles", response_model=list[BundleRead])
def list_bundles(session: DbSession, actor: CurrentActor) -> list[ServiceBundle]:
    return service.list_bundles(session, actor)


@router.get("/service-bundles/{bundle_code}", response_model=BundleDetail)
def get_bundle(bundle_code: str, session: DbSession, actor: CurrentActor) -> BundleDetail:
    actor.require("service:read")
    bundle = service.get_bundle(session, bundle_code)
    items = [ItemRead.model_validate(i) for i in service.bundle_items(session, bundle)]
    return BundleDetail.model_validate({**BundleRead.model_validate(bundle).model_dump(), "items": items})


@router.post("/service-bundles", response_model=BundleRead, status_code=201)
def create_bundle(body: BundleData, session: DbSession, actor: CurrentActor) -> ServiceBundle:
    return service.create_bundle(session, actor, body.model_dump(mode="json"))


@router.put("/service-bundles/{bundle_code}", response_model=BundleRead)
def update_bundle(bundle_code: str, body: BundleData, session: DbSession, actor: CurrentActor) -> ServiceBundle:
    return service.update_bundle(session, actor, bundle_code, body.model_dump(mode="json"))


@router.get("/local-sites/{region_id}", response_model=LocalSiteRead)
def get_local_site(region_id: int, session: DbSession, actor: CurrentActor) -> LocalSite:
    """The local site serving the region: its district's, else the city's."""
    return service.get_local_site(session, actor, region_id)


@router.put("/local-sites/{region_id}", response_model=LocalSiteRead)
def save_local_site(region_id: int, body: LocalSiteIn, session: DbSession, actor: CurrentActor) -> LocalSite:
    """Creates or replaces a district's (or the city's) local site: name, colour, banner, hidden items."""
    return service.save_local_site(session, actor, region_id=region_id, data=body)


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(details=[FieldError(name, N_("Must be a date like 2024-05-01."))]) from exc
    # A date or a time without a zone is the city's.
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


@router.get("/service-stats")
def service_stats(
    session: DbSession,
    actor: CurrentActor,
    region_id: int | None = None,
    since: Annotated[str | None, Query(max_length=32)] = None,
    until: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """Applications per item, average handling time against the legal limit, 即办率, zero-material
    rate and 好差评 of a region (subtree) and period, per department and per district."""
    report = stats.report(
        session, actor, region_id=region_id, since=_moment(since, "since"), until=_moment(until, "until")
    )
    return report.as_dict()
