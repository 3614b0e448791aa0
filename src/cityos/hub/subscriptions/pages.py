"""HTML pages of hub.subscriptions (订阅管理); templates in web/templates/hub/subscriptions/.

``/hub/subscriptions`` lists a tenant's subscriptions with their status, counters, last success
and last failure with its reason; ``/hub/subscriptions/{pk}`` shows one with its recent
deliveries (a latency chart and the list); both pause and resume. hub:subscribe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, Forbidden, NotFound
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.hub.ngsi.deps import tenant_name
from cityos.hub.subscriptions import contexts, service
from cityos.hub.subscriptions.models import HubSubscription
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

STATUS_TITLES = {
    "active": N_("Subscription active"),
    "paused": N_("Subscription paused"),
    "expired": N_("Subscription expired"),
}
DELIVERY_TITLES = {
    "pending": N_("Waiting to be sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Given up"),
}


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def when(moment: datetime | None) -> str:
    return moment.astimezone(_zone()).strftime("%m-%d %H:%M:%S") if moment else ""


def shown_endpoint(uri: str) -> str:
    """The endpoint without a password (user names stay)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _tenant(value: str) -> str:
    try:
        return tenant_name(value or None)
    except DomainError:
        return "default"


def _row(session: DbSession, actor: Actor, pk: int) -> HubSubscription:
    actor.require(service.PERMISSION)
    row = session.get(HubSubscription, pk)
    if row is None:
        raise NotFound("The subscription does not exist.", params={"id": pk})
    return row


def _common(**extra: Any) -> dict[str, Any]:
    return {
        "when": when,
        "status_titles": STATUS_TITLES,
        "delivery_titles": DELIVERY_TITLES,
        "shown_endpoint": shown_endpoint,
        **extra,
    }


@router.get("/hub/subscriptions", response_class=HTMLResponse)
def subscription_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    tenant: Annotated[str, Query(max_length=64)] = "default",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    if not actor.can(service.PERMISSION):
        raise Forbidden(params={"permission": service.PERMISSION})
    tenant = _tenant(tenant)
    size = 50
    rows, total = service.listing(session, actor, tenant=tenant, limit=size, offset=(page - 1) * size)
    tenants = sorted({*session.scalars(select(HubSubscription.tenant).distinct()), "default", tenant})
    lines = []
    for row in rows:
        compact = contexts.terms(row.spec.get("@context")).compact
        lines.append(
            {
                "row": row,
                "status": service.status_of(row),
                "figures": service.figures(row),
                "types": [compact(s["type"]) for s in row.spec.get("entities", [])],
                "watched": [compact(a) for a in row.spec.get("watchedAttributes", [])],
                "pending": service.pending_count(session, row),
            }
        )
    return render(
        request,
        "hub/subscriptions/list.html",
        _common(
            lines=lines,
            tenant=tenant,
            tenants=tenants,
            total=total,
            page=page,
            pages=max(1, -(-total // size)),
            tenant_q=quote(tenant),
        ),
    )


@router.get("/hub/subscriptions/{pk}", response_class=HTMLResponse)
def subscription_detail(request: Request, pk: int, session: DbSession, actor: PageActor) -> HTMLResponse:
    row = _row(session, actor, pk)
    compact = contexts.terms(row.spec.get("@context")).compact
    shown = service.represent(row, compact)
    deliveries = service.recent_deliveries(session, row, limit=50)
    chart = {
        "labels": [when(d.created_at) for d in reversed(deliveries)],
        "latency": [d.latency_ms for d in reversed(deliveries)],
    }
    return render(
        request,
        "hub/subscriptions/detail.html",
        _common(
            row=row,
            shown=shown,
            status=service.status_of(row),
            figures=service.figures(row),
            deliveries=deliveries,
            pending=service.pending_count(session, row),
            chart=chart,
            tenant_q=quote(row.tenant),
        ),
    )


async def _set(request: Request, session: DbSession, actor: Actor, pk: int, active: bool) -> Response:
    row = _row(session, actor, pk)
    service.set_active(session, actor, tenant=row.tenant, subscription_id=row.subscription_id, active=active)
    form = await request.form()
    back = str(form.get("back") or "")
    target = back if back.startswith("/hub/subscriptions") else f"/hub/subscriptions/{pk}"
    return RedirectResponse(target, status_code=303)


@router.post("/hub/subscriptions/{pk}/pause")
async def pause(request: Request, pk: int, session: DbSession, actor: PageActor) -> Response:
    return await _set(request, session, actor, pk, False)


@router.post("/hub/subscriptions/{pk}/resume")
async def resume(request: Request, pk: int, session: DbSession, actor: PageActor) -> Response:
    return await _set(request, session, actor, pk, True)
