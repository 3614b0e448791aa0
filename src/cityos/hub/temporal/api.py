"""The NGSI-LD temporal API (``/ngsi-ld/v1/temporal/entities``): attribute history queries with
windows, lastN, paging and aggregations; adding, modifying and deleting attribute instances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cityos.core.errors import FieldError, Invalid
from cityos.core.http import DbSession, get_runtime
from cityos.core.i18n import N_
from cityos.core.runtime import Runtime
from cityos.hub.ngsi import deps
from cityos.hub.ngsi.problems import NgsiRoute
from cityos.hub.ngsi.service import ensure_tenant, require_tenant, write_intent
from cityos.hub.temporal import instances, queries

router = APIRouter(prefix="/ngsi-ld/v1", route_class=NgsiRoute, tags=["ngsi-ld temporal"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
BASE = "/ngsi-ld/v1/temporal/entities"
QUERY_PARAMS = (
    "type",
    "id",
    "idPattern",
    "attrs",
    "q",
    "timerel",
    "timeAt",
    "endTimeAt",
    "timeproperty",
    "lastN",
    "limit",
    "offset",
    "count",
    "options",
    "format",
    "aggrMethods",
    "aggrPeriodDuration",
)
MSG_OBJECT = N_("Send the temporal entity as a JSON object.")


def _params(request: Request) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in QUERY_PARAMS}


def _object(body: deps.Payload) -> dict[str, object]:
    if not isinstance(body.data, dict):
        raise Invalid(details=[FieldError("body", MSG_OBJECT)])
    return body.data


@router.get("/temporal/entities")
def query_temporal(
    request: Request,
    session: DbSession,
    actor: deps.Reader,
    tenant: deps.Tenant,
    ctx: deps.LinkContext,
    runtime: RuntimeDep,
) -> Response:
    docs, count, want_count = queries.query_entities(
        session, tenant=tenant, ctx=ctx, params=_params(request), archive_dir=runtime.settings.archive_dir
    )
    headers = {"NGSILD-Results-Count": str(count)} if want_count else None
    return deps.respond(request, docs, ctx, headers=headers)


@router.post("/temporal/entityOperations/query")
def query_temporal_by_body(
    request: Request, session: DbSession, actor: deps.Reader, tenant: deps.Tenant, body: deps.Body, runtime: RuntimeDep
) -> Response:
    docs, count, want_count = queries.query_by_body(
        session,
        tenant=tenant,
        ctx=body.context,
        body=_object(body),
        params=_params(request),
        archive_dir=runtime.settings.archive_dir,
    )
    headers = {"NGSILD-Results-Count": str(count)} if want_count else None
    return deps.respond(request, docs, body.context, headers=headers)


@router.get("/temporal/entities/{entity_id:path}")
def retrieve_temporal(
    entity_id: str,
    request: Request,
    session: DbSession,
    actor: deps.Reader,
    tenant: deps.Tenant,
    ctx: deps.LinkContext,
    runtime: RuntimeDep,
) -> Response:
    doc = queries.retrieve(
        session,
        tenant=tenant,
        ctx=ctx,
        entity_id=entity_id,
        params=_params(request),
        archive_dir=runtime.settings.archive_dir,
    )
    return deps.respond(request, doc, ctx)


@router.post("/temporal/entities")
def create_temporal(
    session: DbSession, actor: deps.Writer, tenant: deps.Tenant, body: deps.Body, runtime: RuntimeDep
) -> Response:
    data = _object(body)
    write_intent(session)
    ensure_tenant(session, tenant)
    created = instances.create_or_add(
        session, tenant=tenant, body=data, expand=body.context.expand, archive_dir=runtime.settings.archive_dir
    )
    if created:
        return Response(status_code=201, headers={"Location": f"{BASE}/{data['id']}"})
    return Response(status_code=204)


@router.post("/temporal/entities/{entity_id:path}/attrs")
def append_temporal_attrs(
    entity_id: str, session: DbSession, actor: deps.Writer, tenant: deps.Tenant, body: deps.Body, runtime: RuntimeDep
) -> Response:
    data = _object(body)
    write_intent(session)
    require_tenant(session, tenant)
    instances.append_attrs(
        session,
        tenant=tenant,
        entity_id=entity_id,
        body=data,
        expand=body.context.expand,
        archive_dir=runtime.settings.archive_dir,
    )
    return Response(status_code=204)


@router.patch("/temporal/entities/{entity_id:path}/attrs/{attr}/{instance_id}")
def modify_temporal_instance(
    entity_id: str,
    attr: str,
    instance_id: str,
    session: DbSession,
    actor: deps.Writer,
    tenant: deps.Tenant,
    body: deps.Body,
    runtime: RuntimeDep,
) -> Response:
    data = _object(body)
    write_intent(session)
    require_tenant(session, tenant)
    instances.modify_instance(
        session,
        tenant=tenant,
        entity_id=entity_id,
        attr=body.context.expand(attr),
        instance_id=instance_id,
        fragment=data,
        compact_name=attr,
        archive_dir=runtime.settings.archive_dir,
        zone=runtime.settings.timezone,
    )
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id:path}/attrs/{attr}")
def delete_temporal_attr(
    entity_id: str,
    attr: str,
    session: DbSession,
    actor: deps.Writer,
    tenant: deps.Tenant,
    ctx: deps.LinkContext,
    runtime: RuntimeDep,
    dataset_id: Annotated[str | None, Query(alias="datasetId")] = None,
    delete_all: Annotated[bool, Query(alias="deleteAll")] = False,
) -> Response:
    write_intent(session)
    require_tenant(session, tenant)
    instances.delete_history(
        session,
        tenant=tenant,
        entity_id=entity_id,
        attr=ctx.expand(attr),
        dataset_id=dataset_id,
        delete_all=delete_all,
        archive_dir=runtime.settings.archive_dir,
        zone=runtime.settings.timezone,
    )
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id:path}")
def delete_temporal(
    entity_id: str, session: DbSession, actor: deps.Writer, tenant: deps.Tenant, runtime: RuntimeDep
) -> Response:
    write_intent(session)
    require_tenant(session, tenant)
    instances.delete_history(
        session,
        tenant=tenant,
        entity_id=entity_id,
        archive_dir=runtime.settings.archive_dir,
        zone=runtime.settings.timezone,
    )
    return Response(status_code=204)
