"""The temporal API's read operations: a query's parameters (as the caller sent them) checked
and turned into a ``TemporalQuery``, run, and shaped into temporal entities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.query import compile_regex, parse_q
from cityos.hub.ngsi.service import get_entity, require_tenant
from cityos.hub.temporal import history, represent
from cityos.hub.temporal.aggregate import aggregate
from cityos.hub.temporal.frames import iso, value_of
from cityos.hub.temporal.params import (
    DEFAULT_LIMIT,
    MAX_LAST_N,
    MAX_LIMIT,
    MSG_SELECTOR,
    Duration,
    TimeWindow,
    parse_duration,
    parse_methods,
    parse_options,
    parse_window,
    split_list,
    whole,
)
from cityos.hub.temporal.service import VALUE_KEYS

FORMATS = ("normalized", "temporalValues", "aggregatedValues", "simplified")
MSG_FORMAT = N_("format must be normalized, temporalValues or aggregatedValues.")
MSG_BOTH = N_("Choose one of options=temporalValues and options=aggregatedValues.")
MSG_NO_HISTORY = N_("No temporal history of this entity.")


@dataclass(frozen=True)
class Shape:
    simplified: bool
    aggregated: bool
    sys_attrs: bool
    count: bool
    methods: tuple[str, ...]
    period: Duration | None


def _shape(params: Mapping[str, str | None]) -> Shape:
    options = parse_options(params.get("options"))
    fmt = params.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise Invalid(details=[FieldError("format", MSG_FORMAT)])
    simplified = "temporalValues" in options or fmt in ("temporalValues", "simplified")
    aggregated = "aggregatedValues" in options or fmt == "aggregatedValues"
    if simplified and aggregated:
        raise Invalid(details=[FieldError("options", MSG_BOTH)])
    methods = parse_methods(params.get("aggrMethods"), aggregated)
    period_text = params.get("aggrPeriodDuration")
    period = parse_duration(period_text) if period_text else None
    count = "count" in options or (params.get("count") or "").lower() == "true"
    return Shape(simplified, aggregated, "sysAttrs" in options, count, methods, period)


def latest_state(
    session: Session, tenant: str, entity_id: str, entity_type: str, archive_dir: Path | None
) -> dict[str, Any]:
    """An entity made of each attribute's latest instance in the history (for ``q`` on entities
    the entity store does not hold, e.g. those written through the temporal API only)."""
    query = history.TemporalQuery(tenant=tenant, window=None, ids=(entity_id,), last_n=1)
    rows = history.instances(session, query, archive_dir, [entity_id])
    entity: dict[str, Any] = {"id": entity_id, "type": entity_type}
    for row in rows.iter_rows(named=True):
        kind = row["kind"] or "Property"
        instance = {
            "type": kind,
            VALUE_KEYS.get(kind, "value"): value_of(kind, row["value_num"], row["value_text"], row["value_json"]),
            "observedAt": iso(row["observed_at"]),
        }
        if row["dataset_id"] is not None:
            instance["datasetId"] = row["dataset_id"]
        current = entity.get(row["attr"])
        entity[row["attr"]] = (
            instance if current is None else [*(current if isinstance(current, list) else [current]), instance]
        )
    return entity


def _entity_test(
    session: Session, tenant: str, text: str, ctx: Context, archive_dir: Path | None
) -> history.EntityTest:
    """``q`` on the entity's current state in the entity store, or, when the store does not
    hold it, on the latest instance of each attribute in its history."""
    predicate = parse_q(text, ctx.expand)

    def test(entity_id: str, entity_type: str) -> bool:
        entity = get_entity(session, tenant=tenant, entity_id=entity_id)
        if entity is None:
            entity = latest_state(session, tenant, entity_id, entity_type, archive_dir)
        return predicate.matches(entity)

    return test


def _build(
    session: Session,
    *,
    tenant: str,
    ctx: Context,
    params: Mapping[str, str | None],
    window: TimeWindow | None,
    ids: tuple[str, ...],
    archive_dir: Path | None,
) -> history.TemporalQuery:
    types = tuple(ctx.expand(t) for t in split_list(params.get("type")))
    attrs = tuple(ctx.expand(a) for a in split_list(params.get("attrs")))
    pattern_text = params.get("idPattern")
    pattern = compile_regex(pattern_text, "idPattern") if pattern_text else None
    q_text = params.get("q")
    test = _entity_test(session, tenant, q_text, ctx, archive_dir) if q_text else None
    limit = whole(params.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT) or DEFAULT_LIMIT
    offset = whole(params.get("offset"), "offset", 0, 10**9, 0) or 0
    last_n = whole(params.get("lastN"), "lastN", 1, MAX_LAST_N)
    return history.TemporalQuery(
        tenant=tenant,
        window=window,
        types=types,
        ids=ids,
        id_pattern=pattern,
        attrs=attrs,
        last_n=last_n,
        limit=limit,
        offset=offset,
        entity_test=test,
    )


def _documents(page: history.Page, query: history.TemporalQuery, shape: Shape, ctx: Context) -> list[dict[str, Any]]:
    column = query.window.column if query.window else "observed_at"
    aggregated = None
    if shape.aggregated:
        aggregated = aggregate(page.rows, methods=shape.methods, period=shape.period, window=query.window)
    return represent.entities(
        page.entities,
        page.rows,
        compact=ctx.compact,
        column=column,
        simplified=shape.simplified,
        sys_attrs=shape.sys_attrs,
        aggregated=aggregated,
    )


def query_entities(
    session: Session, *, tenant: str, ctx: Context, params: Mapping[str, str | None], archive_dir: Path | None
) -> tuple[list[dict[str, Any]], int, bool]:
    """GET /temporal/entities: (temporal entities of the page, total matches, count asked)."""
    require_tenant(session, tenant)
    shape = _shape(params)
    window = parse_window(
        params.get("timerel"), params.get("timeAt"), params.get("endTimeAt"), params.get("timeproperty")
    )
    ids = tuple(split_list(params.get("id")))
    if not (params.get("type") or ids or params.get("idPattern") or params.get("attrs") or params.get("q")):
        raise Invalid(details=[FieldError("type", MSG_SELECTOR)])
    query = _build(session, tenant=tenant, ctx=ctx, params=params, window=window, ids=ids, archive_dir=archive_dir)
    page = history.run(session, query, archive_dir, aggregated=shape.aggregated)
    return _documents(page, query, shape, ctx), page.count, shape.count


def retrieve(
    session: Session,
    *,
    tenant: str,
    ctx: Context,
    entity_id: str,
    params: Mapping[str, str | None],
    archive_dir: Path | None,
) -> dict[str, Any]:
    """GET /temporal/entities/{id}: the entity's history (timerel optional: all of it)."""
    require_tenant(session, tenant)
    shape = _shape(params)
    window = None
    if params.get("timerel") or params.get("timeAt"):
        window = parse_window(
            params.get("timerel"), params.get("timeAt"), params.get("endTimeAt"), params.get("timeproperty")
        )
    query = _build(
        session,
        tenant=tenant,
        ctx=ctx,
        params={**params, "limit": "1", "offset": "0", "q": None},
        window=window,
        ids=(entity_id,),
        archive_dir=archive_dir,
    )
    page = history.run(session, query, archive_dir, aggregated=shape.aggregated)
    if not page.entities:
        entity_type = history.entity_type_of(session, tenant, entity_id, archive_dir)
        if entity_type is None:
            raise NotFound(MSG_NO_HISTORY)
        return {"id": entity_id, "type": ctx.compact(entity_type)}  # history outside the window
    return _documents(page, query, shape, ctx)[0]


MSG_ENTITIES = N_("entities must be a list of entity selectors (type, id, idPattern).")
MSG_TEMPORAL_Q = N_("temporalQ must be an object with timerel and timeAt.")
MSG_ATTRS = N_("attrs must be a list of attribute names.")
MSG_TEXT = N_("This value must be text.")
_BODY_TEXT = ("aggrMethods", "aggrPeriodDuration", "lastN", "options", "format")


def _text(value: Any, field: str, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and field.endswith("lastN"):
        return str(value)
    if isinstance(value, list) and field in ("aggrMethods", "options") and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if not isinstance(value, str):
        errors.append(FieldError(field, MSG_TEXT))
        return None
    return value


def query_by_body(
    session: Session,
    *,
    tenant: str,
    ctx: Context,
    body: Mapping[str, Any],
    params: Mapping[str, str | None],
    archive_dir: Path | None,
) -> tuple[list[dict[str, Any]], int, bool]:
    """POST /temporal/entityOperations/query: a Query object (``entities`` selectors, ``attrs``,
    ``q``, ``temporalQ``); paging and options from the URL (or the body). The selectors' matches
    are united."""
    require_tenant(session, tenant)
    errors: list[FieldError] = []
    merged: dict[str, str | None] = dict(params)
    temporal = body.get("temporalQ")
    if not isinstance(temporal, dict):
        raise Invalid(details=[FieldError("temporalQ", MSG_TEMPORAL_Q)])
    for name in ("timerel", "timeAt", "endTimeAt", "timeproperty", "lastN"):
        value = _text(temporal.get(name), f"temporalQ.{name}", errors)
        if value is not None:
            merged[name] = value
    attrs = body.get("attrs")
    if attrs is not None and not (isinstance(attrs, list) and all(isinstance(a, str) for a in attrs)):
        errors.append(FieldError("attrs", MSG_ATTRS))
    elif attrs:
        merged["attrs"] = ",".join(attrs)
    merged["q"] = _text(body.get("q"), "q", errors) or params.get("q")
    for name in _BODY_TEXT:
        value = _text(body.get(name), name, errors)
        if value is not None:
            merged[name] = value
    selectors = body.get("entities")
    if selectors is None:
        selectors = [{}]
    if not isinstance(selectors, list) or not selectors or not all(isinstance(s, dict) for s in selectors):
        errors.append(FieldError("entities", MSG_ENTITIES))
        selectors = []
    else:
        for i, selector in enumerate(selectors):
            for key in ("type", "id", "idPattern"):
                _text(selector.get(key), f"entities[{i}].{key}", errors)
    if errors:
        raise Invalid(details=errors)
    shape = _shape(merged)
    window = parse_window(
        merged.get("timerel"), merged.get("timeAt"), merged.get("endTimeAt"), merged.get("timeproperty")
    )
    found: dict[str, str] = {}
    base: history.TemporalQuery | None = None
    for selector in selectors:
        one = {**merged, "type": selector.get("type"), "idPattern": selector.get("idPattern")}
        ids = (selector["id"],) if selector.get("id") else ()
        if not (one.get("type") or ids or one.get("idPattern") or one.get("attrs") or one.get("q")):
            raise Invalid(details=[FieldError("entities", MSG_SELECTOR)])
        query = _build(session, tenant=tenant, ctx=ctx, params=one, window=window, ids=ids, archive_dir=archive_dir)
        base = base or query
        found.update(history.matching_entities(session, query, archive_dir))
    assert base is not None
    fetch = history.TemporalQuery(
        tenant=tenant, window=window, attrs=base.attrs, last_n=base.last_n, limit=base.limit, offset=base.offset
    )
    matches = sorted(found.items())
    page_entities = matches[fetch.offset : fetch.offset + fetch.limit]
    limit = history.MAX_AGGREGATED_ROWS if shape.aggregated else history.MAX_ROWS
    rows = history.instances(session, fetch, archive_dir, [i for i, _ in page_entities], limit=limit)
    page = history.Page(count=len(matches), entities=page_entities, rows=rows)
    return _documents(page, fetch, shape, ctx), page.count, shape.count
