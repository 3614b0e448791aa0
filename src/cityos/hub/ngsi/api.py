"""NGSI-LD entity routes (ETSI GS CIM 009): /ngsi-ld/v1/entities, /entityOperations and
/jsonldContexts. Thin: parse, call the store, shape the representation."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.hub.ngsi import attribute_ops, batch, contexts, search
from cityos.hub.ngsi import representation as rep
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.attribute_ops import WriteResult
from cityos.hub.ngsi.attributes import LOCATION
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.deps import (
    GEO_JSON,
    Body,
    JsonBody,
    LinkContext,
    Reader,
    Tenant,
    Writer,
    accepted,
    dumps,
    link_header,
    respond,
    run_write,
)
from cityos.hub.ngsi.grouped import AttrWrite
from cityos.hub.ngsi.problems import NgsiRoute

router = APIRouter(prefix="/ngsi-ld/v1", route_class=NgsiRoute, tags=["ngsi-ld"])

WRITE_OPTIONS = frozenset({"noOverwrite"})
UPSERT_OPTIONS = frozenset({"update", "replace"})
COUNT_HEADER = "NGSILD-Results-Count"


def _location(entity_id: str) -> str:
    return f"/ngsi-ld/v1/entities/{quote(entity_id, safe=':')}"


def write_result(result: WriteResult, ctx: Context) -> Response:
    if not result.not_updated:
        return Response(status_code=204)
    body = {
        "updated": [ctx.compact(n) for n in result.updated],
        "notUpdated": [{"attributeName": ctx.compact(n), "reason": translate(why)} for n, why in result.not_updated],
    }
    return Response(dumps(body), status_code=207, media_type="application/json")


def _batch_result(result: batch.BatchResult, ok_status: int, ok_body: Any = None) -> Response:
    if result.errors:
        return Response(dumps(result.body()), status_code=207, media_type="application/json")
    if ok_body is None:
        return Response(status_code=ok_status)
    return Response(dumps(ok_body), status_code=ok_status, media_type="application/json")


def _query_response(
    request: Request,
    session: DbSession,
    tenant: str,
    ctx: Context,
    query: search.EntityQuery,
    view: rep.View,
    geoproperty: str | None,
) -> Response:
    entities, total = search.run(session, tenant=tenant, query=query)
    headers = {COUNT_HEADER: str(total)} if total is not None else {}
    media = accepted(request, geo=True)
    if media == GEO_JSON:
        prop = ctx.expand(geoproperty) if geoproperty else LOCATION
        body = rep.feature_collection(entities, ctx, view, prop)
        headers["Link"] = link_header(ctx)
        return Response(dumps(body), media_type=GEO_JSON, headers=headers)
    return respond(request, [rep.render(e, ctx, view) for e in entities], ctx, headers=headers, media=media)


# -- entities ---------------------------------------------------------------------------------
@router.post("/entities", status_code=201)
async def create_entity(request: Request, tenant: Tenant, actor: Writer, body: Body) -> Response:
    change = await run_write(request, lambda s: store.create_entity(s, tenant=tenant, body=body.data, ctx=body.context))
    return Response(status_code=201, headers={"Location": _location(change.entity_id)})


@router.get("/entities")
def query_entities(
    request: Request,
    session: DbSession,
    tenant: Tenant,
    actor: Reader,
    ctx: LinkContext,
    type: str | None = None,
    id: str | None = None,
    idPattern: str | None = None,  # noqa: N803 - the specification's parameter names
    attrs: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
) -> Response:
    opts = rep.parse_options(options)
    view = rep.parse_view(ctx, options=opts, format=format, attrs=attrs, pick=pick, omit=omit, lang=lang)
    query = search.parse_query(
        ctx,
        type=type,
        id=id,
        id_pattern=idPattern,
        attrs=attrs,
        q=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        limit=limit,
        offset=offset,
        count=count or "count" in opts,
    )
    return _query_response(request, session, tenant, ctx, query, view, geoproperty)


@router.get("/entities/{entity_id}")
def retrieve_entity(
    request: Request,
    entity_id: str,
    session: DbSession,
    tenant: Tenant,
    actor: Reader,
    ctx: LinkContext,
    type: str | None = None,
    attrs: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
    geoproperty: str | None = None,
) -> Response:
    view = rep.parse_view(
        ctx, options=rep.parse_options(options), format=format, attrs=attrs, pick=pick, omit=omit, lang=lang
    )
    types = search.parse_types(ctx, type)
    entity = store.retrieve_entity(session, tenant=tenant, entity_id=entity_id, type_iris=types)
    media = accepted(request, geo=True)
    if media == GEO_JSON:
        prop = ctx.expand(geoproperty) if geoproperty else LOCATION
        return Response(
            dumps(rep.feature(entity, ctx, view, prop)), media_type=GEO_JSON, headers={"Link": link_header(ctx)}
        )
    return respond(request, rep.render(entity, ctx, view), ctx, media=media)


@router.put("/entities/{entity_id}", status_code=204)
async def replace_entity(request: Request, entity_id: str, tenant: Tenant, actor: Writer, body: Body) -> Response:
    await run_write(
        request, lambda s: store.replace_entity(s, tenant=tenant, entity_id=entity_id, body=body.data, ctx=body.context)
    )
    return Response(status_code=204)


@router.patch("/entities/{entity_id}", status_code=204)
async def merge_entity(request: Request, entity_id: str, tenant: Tenant, actor: Writer, body: Body) -> Response:
    await run_write(
        request,
        lambda s: attribute_ops.merge_entity(s, tenant=tenant, entity_id=entity_id, body=body.data, ctx=body.context),
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id}", status_code=204)
async def delete_entity(request: Request, entity_id: str, tenant: Tenant, actor: Writer) -> Response:
    await run_write(request, lambda s: store.delete_entity(s, tenant=tenant, entity_id=entity_id))
    return Response(status_code=204)


@router.post("/entities/{entity_id}/attrs", status_code=204)
async def append_attrs(
    request: Request, entity_id: str, tenant: Tenant, actor: Writer, body: Body, options: str | None = None
) -> Response:
    opts = rep.parse_options(options, WRITE_OPTIONS)
    result = await run_write(
        request,
        AttrWrite("append", tenant, entity_id, body.data, body.context, overwrite="noOverwrite" not in opts),
    )
    return write_result(result, body.context)


@router.patch("/entities/{entity_id}/attrs", status_code=204)
async def update_attrs(request: Request, entity_id: str, tenant: Tenant, actor: Writer, body: Body) -> Response:
    result = await run_write(
        request,
        AttrWrite("update", tenant, entity_id, body.data, body.context),
    )
    return write_result(result, body.context)


@router.patch("/entities/{entity_id}/attrs/{attr}", status_code=204)
async def patch_attribute(
    request: Request, entity_id: str, attr: str, tenant: Tenant, actor: Writer, body: Body
) -> Response:
    await run_write(
        request,
        AttrWrite("patch", tenant, entity_id, body.data, body.context, attr=attr),
    )
    return Response(status_code=204)


@router.put("/entities/{entity_id}/attrs/{attr}", status_code=204)
async def replace_attribute(
    request: Request, entity_id: str, attr: str, tenant: Tenant, actor: Writer, body: Body
) -> Response:
    await run_write(
        request,
        lambda s: attribute_ops.replace_attribute(
            s, tenant=tenant, entity_id=entity_id, attr=attr, body=body.data, ctx=body.context
        ),
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id}/attrs/{attr}", status_code=204)
async def delete_attribute(
    request: Request,
    entity_id: str,
    attr: str,
    tenant: Tenant,
    actor: Writer,
    ctx: LinkContext,
    datasetId: str | None = None,  # noqa: N803
    deleteAll: bool = False,  # noqa: N803
) -> Response:
    await run_write(
        request,
        lambda s: attribute_ops.delete_attribute(
            s, tenant=tenant, entity_id=entity_id, attr=attr, ctx=ctx, dataset_id=datasetId, delete_all=deleteAll
        ),
    )
    return Response(status_code=204)


# -- batch operations -------------------------------------------------------------------------
@router.post("/entityOperations/create")
async def batch_create(request: Request, tenant: Tenant, actor: Writer, body: Body) -> Response:
    result = await run_write(
        request, lambda s: batch.create(s, tenant=tenant, data=body.data, ctx=body.context, contexts=body.contexts)
    )
    return _batch_result(result, 201, result.success)


@router.post("/entityOperations/upsert")
async def batch_upsert(
    request: Request, tenant: Tenant, actor: Writer, body: Body, options: str | None = None
) -> Response:
    opts = rep.parse_options(options, UPSERT_OPTIONS)
    if len(opts) > 1:
        raise rep.bad_param("options", N_("Use options=update or options=replace, not both."))
    replace = "update" not in opts
    result = await run_write(
        request,
        lambda s: batch.upsert(
            s, tenant=tenant, data=body.data, ctx=body.context, contexts=body.contexts, replace=replace
        ),
    )
    if result.errors:
        return _batch_result(result, 207)
    if result.created:
        return Response(dumps(result.created), status_code=201, media_type="application/json")
    return Response(status_code=204)


@router.post("/entityOperations/update")
async def batch_update(
    request: Request, tenant: Tenant, actor: Writer, body: Body, options: str | None = None
) -> Response:
    opts = rep.parse_options(options, WRITE_OPTIONS)
    overwrite = "noOverwrite" not in opts
    result = await run_write(
        request,
        lambda s: batch.update(
            s, tenant=tenant, data=body.data, ctx=body.context, contexts=body.contexts, overwrite=overwrite
        ),
    )
    return _batch_result(result, 204)


@router.post("/entityOperations/delete")
async def batch_delete(request: Request, tenant: Tenant, actor: Writer, body: Body) -> Response:
    result = await run_write(request, lambda s: batch.delete(s, tenant=tenant, data=body.data))
    return _batch_result(result, 204)


@router.post("/entityOperations/query")
def batch_query(
    request: Request,
    session: DbSession,
    tenant: Tenant,
    actor: Reader,
    body: Body,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
) -> Response:
    opts = rep.parse_options(options)
    ctx = body.context
    query, view, geoproperty = search.parse_query_body(
        ctx,
        body.data,
        limit=limit,
        offset=offset,
        count=count or "count" in opts,
        options=opts,
        format=format,
        lang=lang,
    )
    return _query_response(request, session, tenant, ctx, query, view, geoproperty)


# -- hosted JSON-LD contexts ------------------------------------------------------------------
@router.get("/jsonldContexts")
def list_contexts(
    request: Request, session: DbSession, actor: Reader, details: bool = False, kind: str | None = None
) -> Response:
    return Response(
        dumps(contexts.list_contexts(session, base=str(request.base_url), details=details, kind=kind)),
        media_type="application/json",
    )


@router.get("/jsonldContexts/{context_id}")
def get_context(context_id: str, session: DbSession, actor: Reader, details: bool = False) -> Response:
    doc = contexts.get_context(session, key=context_id, details=details)
    return Response(dumps(doc), media_type="application/ld+json" if not details else "application/json")


@router.post("/jsonldContexts", status_code=201)
async def add_context(request: Request, actor: Writer, body: JsonBody) -> Response:
    base = str(request.base_url)
    url = await run_write(request, lambda s: contexts.add_context(s, body=body, base=base))
    return Response(status_code=201, headers={"Location": url})


@router.delete("/jsonldContexts/{context_id}", status_code=204)
async def delete_context(request: Request, context_id: str, actor: Writer) -> Response:
    await run_write(request, lambda s: contexts.delete_context(s, key=context_id))
    return Response(status_code=204)
