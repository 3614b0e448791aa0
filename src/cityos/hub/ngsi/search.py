"""Entity queries (``GET /entities``, ``POST /entityOperations/query``): type, id, idPattern,
attrs, q, geo-queries, paging and counts.

Tenant, type, id and the geo-query's bounding box filter in SQL; idPattern, attrs, q and the
exact geometry test run in Python over the pre-filtered rows, in id order, read in batches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.hub.ngsi import representation as rep
from cityos.hub.ngsi.attributes import LOCATION, is_uri, valid_name
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.geo import GeoQuery, parse_geoquery
from cityos.hub.ngsi.models import NgsiEntity
from cityos.hub.ngsi.problems import BAD_REQUEST_DATA, TOO_MANY_RESULTS, NgsiProblem
from cityos.hub.ngsi.query import Predicate, compile_regex, parse_q
from cityos.hub.ngsi.service import require_tenant

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def _bad(field_name: str, message: str, **params: Any) -> NgsiProblem:
    return NgsiProblem(BAD_REQUEST_DATA, message, details=[FieldError(field_name, message, params)], params=params)


@dataclass
class EntityQuery:
    types: list[str] = field(default_factory=list)  # expanded, any of
    ids: list[str] = field(default_factory=list)
    id_pattern: re.Pattern[str] | None = None
    attrs: list[str] = field(default_factory=list)  # expanded: the entity has at least one
    q: Predicate | None = None
    geo: GeoQuery | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False
    selectors: list[tuple[str | None, re.Pattern[str] | None, list[str]]] = field(default_factory=list)

    def in_python(self, entity: dict[str, Any]) -> bool:
        if self.selectors and not any(_selector_matches(s, entity) for s in self.selectors):
            return False
        if self.id_pattern is not None and not self.id_pattern.search(entity["id"]):
            return False
        if self.attrs and not any(a in entity for a in self.attrs):
            return False
        if self.q is not None and not self.q.matches(entity):
            return False
        return self.geo is None or self.geo.matches(entity)

    @property
    def needs_python(self) -> bool:
        return bool(self.selectors or self.id_pattern or self.attrs or self.q or self.geo)


def _selector_matches(sel: tuple[str | None, re.Pattern[str] | None, list[str]], entity: dict[str, Any]) -> bool:
    entity_id, pattern, types = sel
    if entity_id is not None and entity["id"] != entity_id:
        return False
    if pattern is not None and not pattern.search(entity["id"]):
        return False
    return not types or entity["type"] in types


def parse_types(ctx: Context, value: str | None, field_name: str = "type") -> list[str]:
    if value is None:
        return []
    if any(c in value for c in ";()"):
        raise _bad(field_name, N_("Type expressions with ';' or parentheses are not supported; use ',' or '|'."))
    names = [t.strip() for t in re.split(r"[,|]", value)]
    if not all(valid_name(n) for n in names):
        raise _bad(field_name, N_("Give a comma-separated list without empty items."))
    return [ctx.expand(n) for n in names]


def _int(value: int | str | None, field_name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise _bad(field_name, N_("Must be a whole number.")) from exc
    if number < 0:
        raise _bad(field_name, N_("Must be at least {ge}."), ge=0)
    return number


def parse_query(
    ctx: Context,
    *,
    type: str | None = None,
    id: str | None = None,
    id_pattern: str | None = None,
    attrs: str | list[str] | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | list[Any] | None = None,
    geoproperty: str | None = None,
    limit: int | str | None = None,
    offset: int | str | None = None,
    count: bool = False,
    selectors: list[tuple[str | None, re.Pattern[str] | None, list[str]]] | None = None,
) -> EntityQuery:
    """A validated query; BadRequestData (with the fields) or TooManyResults."""
    query = EntityQuery(count=count, selectors=selectors or [])
    query.types = parse_types(ctx, type)
    if id is not None:
        query.ids = [x.strip() for x in id.split(",")]
        if not all(is_uri(x) for x in query.ids):
            raise _bad("id", N_("An entity id must be a URI (urn:ngsi-ld:Type:001)."))
    if id_pattern is not None:
        query.id_pattern = compile_regex(id_pattern, "idPattern")
    names = attrs.split(",") if isinstance(attrs, str) else list(attrs or [])
    if names and not all(isinstance(n, str) and valid_name(n.strip()) for n in names):
        raise _bad("attrs", N_("Give a comma-separated list without empty items."))
    query.attrs = [ctx.expand(n.strip()) for n in names]
    if q is not None:
        query.q = parse_q(q, ctx.expand)
    query.geo = parse_geoquery(
        georel=georel, geometry=geometry, coordinates=coordinates, geoproperty=geoproperty, expand=ctx.expand
    )
    query.limit = _int(limit, "limit", DEFAULT_LIMIT)
    query.offset = _int(offset, "offset", 0)
    if query.limit > MAX_LIMIT:
        raise NgsiProblem(
            TOO_MANY_RESULTS, N_("At most {max} entities can be asked for at once."), params={"max": MAX_LIMIT}
        )
    if query.limit == 0 and not count:
        raise _bad("limit", N_("limit=0 is only allowed with count=true."))
    if not (query.types or query.ids or query.id_pattern or query.attrs or query.q or query.geo or query.selectors):
        raise _bad("type", N_("A query needs at least one of type, id, idPattern, attrs, q or a geo-query."))
    return query


def _statement(tenant: str, query: EntityQuery) -> Select[Any]:
    stmt = select(NgsiEntity.data).where(NgsiEntity.tenant == tenant)
    types = set(query.types)
    if not types and query.selectors and all(sel[2] for sel in query.selectors):
        types = {t for sel in query.selectors for t in sel[2]}
    if types:
        stmt = stmt.where(NgsiEntity.type.in_(sorted(types)))
    if query.ids:
        stmt = stmt.where(NgsiEntity.entity_id.in_(query.ids))
    if query.geo is not None and query.geo.bbox is not None and query.geo.geoproperty == LOCATION:
        min_lon, min_lat, max_lon, max_lat = query.geo.bbox
        stmt = stmt.where(
            NgsiEntity.min_lon <= max_lon,
            NgsiEntity.max_lon >= min_lon,
            NgsiEntity.min_lat <= max_lat,
            NgsiEntity.max_lat >= min_lat,
        )
    return stmt


def run(session: Session, *, tenant: str, query: EntityQuery) -> tuple[list[dict[str, Any]], int | None]:
    """(the page of canonical entities, the total count when asked)."""
    require_tenant(session, tenant)
    stmt = _statement(tenant, query)
    if not query.needs_python:
        total = None
        if query.count:
            total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        page: list[dict[str, Any]] = []
        if query.limit:
            page = list(session.scalars(stmt.order_by(NgsiEntity.id).limit(query.limit).offset(query.offset)))
        return page, total
    found: list[dict[str, Any]] = []
    matched = 0
    end = query.offset + query.limit
    for entity in session.scalars(stmt.order_by(NgsiEntity.id).execution_options(yield_per=500)):
        if not query.in_python(entity):
            continue
        if query.offset <= matched < end:
            found.append(entity)
        matched += 1
        if matched >= end and not query.count:
            break
    return found, matched if query.count else None


def parse_query_body(
    ctx: Context,
    data: Any,
    *,
    limit: str | None,
    offset: str | None,
    count: bool,
    options: set[str],
    format: str | None = None,
    lang: str | None = None,
) -> tuple[EntityQuery, rep.View, str | None]:
    """``POST /entityOperations/query``: a Query object (entities selectors, attrs, q, geoQ)."""
    if not isinstance(data, dict):
        raise _bad("body", N_("Send a Query object."))
    if data.get("type", "Query") != "Query":
        raise _bad("type", N_("The type of a query is Query."))
    selectors: list[tuple[str | None, re.Pattern[str] | None, list[str]]] = []
    entities = data.get("entities", [])
    if not isinstance(entities, list):
        raise _bad("entities", N_("Must be a list."))
    for i, sel in enumerate(entities):
        if not isinstance(sel, dict):
            raise _bad(f"entities[{i}]", N_("Must be an object."))
        sel_id = sel.get("id")
        if sel_id is not None and not is_uri(sel_id):
            raise _bad(f"entities[{i}].id", N_("An entity id must be a URI (urn:ngsi-ld:Type:001)."))
        pattern = sel.get("idPattern")
        compiled = compile_regex(pattern, f"entities[{i}].idPattern") if isinstance(pattern, str) else None
        types = parse_types(ctx, sel["type"], f"entities[{i}].type") if isinstance(sel.get("type"), str) else []
        selectors.append((sel_id, compiled, types))
    attrs = data.get("attrs")
    if attrs is not None and not (isinstance(attrs, list) and all(isinstance(a, str) for a in attrs)):
        raise _bad("attrs", N_("Must be a list."))
    q = data.get("q")
    if q is not None and not isinstance(q, str):
        raise _bad("q", N_("Must be text."))
    geo = data.get("geoQ") or {}
    if not isinstance(geo, dict):
        raise _bad("geoQ", N_("Must be an object."))
    geoproperty = geo.get("geoproperty")
    pick = data.get("pick")
    omit = data.get("omit")
    view = rep.parse_view(
        ctx,
        options=options,
        format=format,
        attrs=",".join(attrs) if attrs else None,
        pick=",".join(pick) if isinstance(pick, list) else pick,
        omit=",".join(omit) if isinstance(omit, list) else omit,
        lang=lang or data.get("lang"),
    )
    query = parse_query(
        ctx,
        attrs=attrs,
        q=q,
        georel=geo.get("georel"),
        geometry=geo.get("geometry"),
        coordinates=geo.get("coordinates"),
        geoproperty=geoproperty,
        limit=limit,
        offset=offset,
        count=count,
        selectors=selectors,
    )
    return query, view, geoproperty
