"""NGSI-LD subscription routes (ETSI GS CIM 009 §5.8): ``/ngsi-ld/v1/subscriptions`` per tenant,
hub:subscribe. Errors answer ProblemDetails (``NgsiRoute``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from cityos.core.http import DbSession
from cityos.hub.ngsi.deps import Body, LinkContext, Subscriber, Tenant, respond
from cityos.hub.ngsi.problems import NgsiRoute
from cityos.hub.subscriptions import contexts, service

router = APIRouter(prefix="/ngsi-ld/v1", route_class=NgsiRoute, tags=["hub"])

BASE = "/ngsi-ld/v1/subscriptions/"


@router.post("/subscriptions", status_code=201)
@router.post("/subscriptions/", status_code=201, include_in_schema=False)
def create_subscription(session: DbSession, actor: Subscriber, tenant: Tenant, body: Body) -> Response:
    row = service.create(
        session,
        actor,
        tenant=tenant,
        body=body.data,
        expand=body.context.expand,
        context=contexts.of_request(body.context),
    )
    return Response(status_code=201, headers={"Location": BASE + row.subscription_id})


@router.get("/subscriptions")
@router.get("/subscriptions/", include_in_schema=False)  # FiLiP lists with the trailing slash
def list_subscriptions(
    request: Request,
    session: DbSession,
    actor: Subscriber,
    tenant: Tenant,
    ctx: LinkContext,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    count: bool = False,
    options: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    rows, total = service.listing(session, actor, tenant=tenant, limit=limit, offset=offset)
    counted = count or "count" in options.split(",")
    headers = {"NGSILD-Results-Count": str(total)} if counted else {}
    return respond(request, [service.represent(r, ctx.compact) for r in rows], ctx, headers=headers)


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    request: Request, subscription_id: str, session: DbSession, actor: Subscriber, tenant: Tenant, ctx: LinkContext
) -> Response:
    row = service.get(session, actor, tenant=tenant, subscription_id=subscription_id)
    return respond(request, service.represent(row, ctx.compact), ctx)


@router.patch("/subscriptions/{subscription_id}", status_code=204)
def update_subscription(
    subscription_id: str, session: DbSession, actor: Subscriber, tenant: Tenant, body: Body
) -> Response:
    service.update_subscription(
        session, actor, tenant=tenant, subscription_id=subscription_id, body=body.data, expand=body.context.expand
    )
    return Response(status_code=204)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: str, session: DbSession, actor: Subscriber, tenant: Tenant) -> Response:
    service.delete(session, actor, tenant=tenant, subscription_id=subscription_id)
    return Response(status_code=204)
