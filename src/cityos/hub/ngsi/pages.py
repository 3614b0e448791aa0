"""HTML pages of the data hub (数据中台) for operators; templates in web/templates/hub/ngsi/.

``/hub`` — per tenant: entity types with counts (a bar chart), an entity browser (type filter,
q box, geo-query, paging) with the page's entities on a map; ``/hub/entities/{id}`` — one
entity's attributes and a 24-hour chart of its numeric attributes, which the page's script reads
from the temporal API (``/ngsi-ld/v1/temporal/entities/{id}``) and leaves out when there is none.
Names are shown compacted with the Smart Data Models + core context. hub:read.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cityos.core.errors import DomainError, FieldError, Invalid, NotFound
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.hub.ngsi import query_views as views
from cityos.hub.ngsi.context import Context, default_context
from cityos.hub.ngsi.geo import GeoQuery, parse_geoquery
from cityos.hub.ngsi.query import Predicate, parse_q
from cityos.web.forms import field_errors
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_POINTS = 1000
TENANT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SCRIPT = FsPath(__file__).resolve().parents[2] / "web" / "templates" / "hub" / "ngsi" / "hub.js"
SDM_LINK = (
    '<https://smartdatamodels.org/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)

MSG_TENANT = N_("A tenant name is 1 to 64 letters, digits, - or _.")
MSG_TYPE = N_("Unknown entity type.")

ATTRIBUTE_KINDS = {
    "Property": N_("NGSI-LD Property"),
    "Relationship": N_("NGSI-LD Relationship"),
    "GeoProperty": N_("NGSI-LD GeoProperty"),
    "LanguageProperty": N_("NGSI-LD LanguageProperty"),
    "ListProperty": N_("NGSI-LD ListProperty"),
    "ListRelationship": N_("NGSI-LD ListRelationship"),
    "JsonProperty": N_("NGSI-LD JsonProperty"),
    "VocabProperty": N_("NGSI-LD VocabProperty"),
}


def _tenant(value: str | None) -> str:
    tenant = value or "default"
    if not TENANT_RE.match(tenant):
        raise Invalid(details=[FieldError("tenant", MSG_TENANT)])
    return tenant


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value or "")


def _local(value: Any, fmt: str = "%m-%d %H:%M") -> str:
    """A moment (datetime or ISO 8601 text, as the entity keeps it) in the city's time zone."""
    moment = value
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, datetime):
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)
    return str(value or "")


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _location_point(data: dict[str, Any]) -> tuple[float, float] | None:
    """A point for the map from the entity's location (first position of its geometry)."""
    attribute = data.get("https://uri.etsi.org/ngsi-ld/location")
    instance = attribute[0] if isinstance(attribute, list) and attribute else attribute
    if not isinstance(instance, dict):
        return None
    coords: Any = (instance.get("value") or {}).get("coordinates") if isinstance(instance.get("value"), dict) else None
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    if isinstance(coords, list) and len(coords) >= 2 and all(isinstance(c, int | float) for c in coords[:2]):
        return float(coords[0]), float(coords[1])
    return None


def _filters(
    ctx: Context, q: str, georel: str, geometry: str, coordinates: str
) -> tuple[Predicate | None, GeoQuery | None, dict[str, str]]:
    errors: dict[str, str] = {}
    predicate: Predicate | None = None
    geo: GeoQuery | None = None
    if q.strip():
        try:
            predicate = parse_q(q, ctx.expand)
        except DomainError as exc:
            errors.update(field_errors(exc))
    try:
        geo = parse_geoquery(
            georel=georel or None,
            geometry=geometry or None,
            coordinates=coordinates or None,
            geoproperty=None,
            expand=ctx.expand,
        )
    except DomainError as exc:
        errors.update(field_errors(exc))
    return predicate, geo, errors


@router.get("/hub", response_class=HTMLResponse)
def hub_home(
    request: Request,
    session: DbSession,
    actor: PageActor,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[str, Query(max_length=512)] = "",  # noqa: A002 - the NGSI-LD parameter name
    q: Annotated[str, Query(max_length=4096)] = "",
    georel: Annotated[str, Query(max_length=128)] = "",
    geometry: Annotated[str, Query(max_length=32)] = "",
    coordinates: Annotated[str, Query(max_length=20_000)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    actor.require("hub:read")
    name = _tenant(tenant)
    ctx = default_context()
    counts = views.type_counts(session, name)
    types = [{"iri": iri, "name": ctx.compact(iri), "count": n} for iri, n in counts]
    entity_type = ctx.expand(type) if type else None
    errors: dict[str, str] = {}
    if entity_type is not None and entity_type not in {iri for iri, _ in counts}:
        errors["type"] = field_errors(Invalid(details=[FieldError("type", MSG_TYPE)]))["type"]
    predicate, geo, filter_errors = _filters(ctx, q, georel, geometry, coordinates)
    errors.update(filter_errors)
    page_rows: list[dict[str, Any]] = []
    points: list[views.Point] = []
    total = 0
    truncated = False
    if not errors:
        found = views.browse(
            session,
            name,
            entity_type=entity_type,
            predicate=predicate,
            geo=geo,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            max_points=MAX_POINTS,
        )
        total, truncated, points = found.total, found.truncated, found.points
        for row in found.rows:
            page_rows.append(
                {
                    "id": row.entity_id,
                    "type": ctx.compact(row.type),
                    "attributes": len([k for k in row.data if k not in views.NOT_ATTRIBUTES]),
                    "modified": _when(row.modified_at),
                }
            )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {"id": p.entity_id, "type": ctx.compact(p.type)},
        }
        for p in points
    ]
    pages = max(1, -(-total // PAGE_SIZE))
    params = {"tenant": name, "type": type, "q": q, "georel": georel, "geometry": geometry, "coordinates": coordinates}
    status = 400 if errors else 200
    return render(
        request,
        "hub/ngsi/home.html",
        {
            "tenant": name,
            "tenants": views.tenants(session) or ["default"],
            "types": types,
            "chart": {"names": [t["name"] for t in types], "counts": [t["count"] for t in types]},
            "rows": page_rows,
            "features": {"type": "FeatureCollection", "features": features},
            "total": total,
            "truncated": truncated,
            "page": page,
            "pages": pages,
            "params": {k: v for k, v in params.items() if v},
            "values": params,
            "errors": errors,
        },
        status_code=status,
    )


def _attribute_rows(ctx: Context, data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    rows: list[dict[str, Any]] = []
    numeric: list[dict[str, str]] = []
    for iri, attribute in sorted(data.items(), key=lambda kv: ctx.compact(kv[0]).lower()):
        if iri in views.NOT_ATTRIBUTES:
            continue
        instances = attribute if isinstance(attribute, list) else [attribute]
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            kind = str(instance.get("type", "Property"))
            value: Any = instance.get("value")
            for key in ("object", "languageMap", "valueList", "objectList", "json", "vocab"):
                if key in instance:
                    value = instance[key]
            rows.append(
                {
                    "name": ctx.compact(iri),
                    "iri": iri,
                    "kind": ATTRIBUTE_KINDS.get(kind, kind),
                    "value": _short(value, 300),
                    "link": value if kind == "Relationship" and isinstance(value, str) else None,
                    "observed": instance.get("observedAt", ""),
                    "unit": instance.get("unitCode", ""),
                    "dataset": instance.get("datasetId", ""),
                    "modified": instance.get("modifiedAt", ""),
                }
            )
        first = instances[0] if instances and isinstance(instances[0], dict) else {}
        number = first.get("value")
        if (
            first.get("type", "Property") == "Property"
            and isinstance(number, int | float)
            and not isinstance(number, bool)
        ):
            if all(n["iri"] != iri for n in numeric):
                numeric.append({"iri": iri, "name": ctx.compact(iri)})
    return rows, numeric


@router.get("/hub/entities/{entity_id:path}", response_class=HTMLResponse)
def entity_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    entity_id: Annotated[str, Path(min_length=1, max_length=512)],
    tenant: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    actor.require("hub:read")
    name = _tenant(tenant)
    row = views.get_entity_row(session, name, entity_id)
    if row is None:
        raise NotFound()
    ctx = default_context()
    attributes, numeric = _attribute_rows(ctx, row.data)
    point = (row.lon, row.lat) if row.lon is not None and row.lat is not None else _location_point(row.data)
    since = (datetime.now(UTC) - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    temporal = (
        f"/ngsi-ld/v1/temporal/entities/{entity_id}?timerel=after&timeAt={since}&lastN=500&options=temporalValues"
    )
    return render(
        request,
        "hub/ngsi/entity.html",
        {
            "tenant": name,
            "entity_id": row.entity_id,
            "type": ctx.compact(row.type),
            "type_iri": row.type,
            "created": row.data.get("createdAt", ""),
            "modified": _local(row.data.get("modifiedAt") or row.modified_at),
            "modified_iso": row.data.get("modifiedAt", ""),
            "attributes": attributes,
            "numeric": numeric,
            "point": point,
            "temporal_url": temporal,
            "sdm_link": SDM_LINK,
        },
    )


@router.get("/hub/hub.js")
def hub_script() -> Response:
    """The pages' script (charts and maps), served beside the pages."""
    return Response(
        SCRIPT.read_text(encoding="utf-8"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
