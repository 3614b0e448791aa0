"""NGSI-LD discovery (ETSI GS CIM 009 §5.7.5–5.7.10): what types and attributes a tenant holds.

``GET /types`` (EntityTypeList; ``details=true`` → EntityType objects with attributeNames),
``GET /types/{type}`` (EntityTypeInfo: entityCount and attributeDetails), ``GET /attributes``
(AttributeList; ``details=true`` → Attribute objects) and ``GET /attributes/{attr}`` (Attribute:
attributeCount, attributeTypes, typeNames). Per tenant (``NGSILD-Tenant``), hub:read; names are
compacted with the request's context (Link header; the core context by default) and the
``{type}`` / ``{attr}`` in the path are expanded with it.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.hub.ngsi import query_views as views
from cityos.hub.ngsi import service
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.deps import LinkContext, Reader, Tenant, respond
from cityos.hub.ngsi.problems import RESOURCE_NOT_FOUND, NgsiProblem, NgsiRoute

router = APIRouter(prefix="/ngsi-ld/v1", route_class=NgsiRoute, tags=["NGSI-LD discovery"])

MSG_NO_TYPE = N_("No entity of the type {type} exists.")
MSG_NO_ATTRIBUTE = N_("No entity has the attribute {attribute}.")


def _list_id(kind: str, tenant: str, names: list[str]) -> str:
    digest = hashlib.sha1("\n".join([tenant, *names]).encode(), usedforsecurity=False).hexdigest()[:16]
    return f"urn:ngsi-ld:{kind}:{digest}"


def type_list(session: DbSession, tenant: str, ctx: Context, *, details: bool) -> Any:
    if not details:
        names = [ctx.compact(iri) for iri, _ in views.type_counts(session, tenant)]
        names.sort()
        return {"id": _list_id("EntityTypeList", tenant, names), "type": "EntityTypeList", "typeList": names}
    by_type = views.attributes_by_type(session, tenant)
    return [
        {
            "id": iri,
            "type": "EntityType",
            "typeName": ctx.compact(iri),
            "attributeNames": sorted(ctx.compact(a) for a in attrs),
        }
        for iri, attrs in sorted(by_type.items(), key=lambda kv: ctx.compact(kv[0]))
    ]


def type_info(session: DbSession, tenant: str, ctx: Context, *, type_name: str) -> dict[str, Any]:
    iri = ctx.expand(type_name)
    count = views.entity_count(session, tenant, iri)
    if count == 0:
        raise NgsiProblem(RESOURCE_NOT_FOUND, MSG_NO_TYPE, params={"type": type_name})
    stats = views.attribute_stats(session, tenant, entity_type=iri)
    return {
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": ctx.compact(iri),
        "entityCount": count,
        "attributeDetails": [
            {
                "id": stat.iri,
                "type": "Attribute",
                "attributeName": ctx.compact(stat.iri),
                "attributeTypes": sorted(stat.attribute_types),
            }
            for stat in sorted(stats.values(), key=lambda s: ctx.compact(s.iri))
        ],
    }


def _attribute(ctx: Context, stat: views.AttributeStat) -> dict[str, Any]:
    return {
        "id": stat.iri,
        "type": "Attribute",
        "attributeName": ctx.compact(stat.iri),
        "attributeCount": stat.count,
        "attributeTypes": sorted(stat.attribute_types),
        "typeNames": sorted(ctx.compact(t) for t in stat.type_names),
    }


def attribute_list(session: DbSession, tenant: str, ctx: Context, *, details: bool) -> Any:
    stats = views.attribute_stats(session, tenant)
    if details:
        return [_attribute(ctx, stat) for stat in sorted(stats.values(), key=lambda s: ctx.compact(s.iri))]
    names = sorted(ctx.compact(iri) for iri in stats)
    return {"id": _list_id("AttributeList", tenant, names), "type": "AttributeList", "attributeList": names}


def attribute_info(session: DbSession, tenant: str, ctx: Context, *, attr_name: str) -> dict[str, Any]:
    iri = ctx.expand(attr_name)
    stat = views.attribute_stats(session, tenant).get(iri)
    if stat is None:
        raise NgsiProblem(RESOURCE_NOT_FOUND, MSG_NO_ATTRIBUTE, params={"attribute": attr_name})
    return _attribute(ctx, stat)


Details = Annotated[bool, Query(description="EntityType / Attribute objects instead of names")]
Name = Annotated[str, Path(min_length=1, max_length=512)]


@router.get("/types")
def get_types(
    request: Request, session: DbSession, actor: Reader, tenant: Tenant, ctx: LinkContext, details: Details = False
) -> Response:
    service.require_tenant(session, tenant)
    return respond(request, type_list(session, tenant, ctx, details=details), ctx)


@router.get("/types/{type_name:path}")
def get_type(
    request: Request, session: DbSession, actor: Reader, tenant: Tenant, ctx: LinkContext, type_name: Name
) -> Response:
    service.require_tenant(session, tenant)
    return respond(request, type_info(session, tenant, ctx, type_name=type_name), ctx)


@router.get("/attributes")
def get_attributes(
    request: Request, session: DbSession, actor: Reader, tenant: Tenant, ctx: LinkContext, details: Details = False
) -> Response:
    service.require_tenant(session, tenant)
    return respond(request, attribute_list(session, tenant, ctx, details=details), ctx)


@router.get("/attributes/{attr_name:path}")
def get_attribute(
    request: Request, session: DbSession, actor: Reader, tenant: Tenant, ctx: LinkContext, attr_name: Name
) -> Response:
    service.require_tenant(session, tenant)
    return respond(request, attribute_info(session, tenant, ctx, attr_name=attr_name), ctx)
