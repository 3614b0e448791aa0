"""The entity store's bulk write: ``upsert_many``, the batch form of ``upsert_attributes`` that
the ingest writer calls once per batch (one SELECT per chunk, one INSERT of the new entities, one
executemany UPDATE, one ``changes.emit``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.hub.ngsi import changes
from cityos.hub.ngsi.attributes import LOCATION, instances, is_uri, iso, put_instance
from cityos.hub.ngsi.changes import ChangeKind, EntityChange
from cityos.hub.ngsi.context import Context, default_context
from cityos.hub.ngsi.service import (
    _COLS,
    _TABLE,
    _UPDATE,
    _UPDATE_LOCATED,
    Stored,
    _smart_errors,
    ensure_tenant,
    expand_type,
    located,
    make_change,
    normalize_attrs,
    stamp_now,
)

UpsertItem = tuple[str, str, dict[str, dict[str, Any]], datetime | None]  # id, type, attrs, observedAt
_CHUNK = 500


def _prepared(index: int, item: UpsertItem, ctx: Context, stamp: str, errors: list[FieldError]) -> dict[str, Any]:
    """The normalized attributes of one ``upsert_many`` item (errors under ``items[i].``)."""
    entity_id, entity_type, attrs, observed_at = item
    prefix = f"items[{index}]."
    if not is_uri(entity_id):
        errors.append(FieldError(prefix + "id", N_("An entity id must be a URI (urn:ngsi-ld:Type:001).")))
    expand_type(ctx, entity_type, errors, prefix + "type")
    if not isinstance(attrs, dict):
        errors.append(FieldError(prefix + "attrs", N_("Must be an object.")))
        return {}
    new_attrs, _ = normalize_attrs(attrs, ctx, stamp, prefix=prefix, errors=errors)
    if observed_at is not None:
        when = iso(observed_at)
        for attr in new_attrs.values():
            for one in instances(attr):
                one.setdefault("observedAt", when)
    return new_attrs


def _load_many(session: Session, tenant: str, ids: Sequence[str]) -> dict[str, Stored]:
    """The stored entities of ``ids`` (one SELECT per 500; locked in id order on PostgreSQL)."""
    locked = session.get_bind().dialect.name == "postgresql"
    found: dict[str, Stored] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        stmt = select(_COLS.id, _COLS.entity_id, _COLS.type, _COLS.data).where(
            _COLS.tenant == tenant, _COLS.entity_id.in_(ordered[start : start + _CHUNK])
        )
        if locked:
            stmt = stmt.order_by(_COLS.entity_id).with_for_update()
        for pk, entity_id, type_iri, data in session.connection().execute(stmt):
            found[entity_id] = Stored(pk, tenant, entity_id, type_iri, data)
    return found


def _insert_new(session: Session, values: list[dict[str, Any]]) -> set[str]:
    """One bulk INSERT … ON CONFLICT DO NOTHING; the ids actually inserted (a concurrent writer
    may have created some meanwhile)."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - other databases are not supported
        session.connection().execute(_TABLE.insert(), values)
        return {v["entity_id"] for v in values}
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(_TABLE).on_conflict_do_nothing(index_elements=["tenant", "entity_id"]).returning(_COLS.entity_id)
    return {str(r[0]) for r in session.connection().execute(stmt, values)}


def upsert_many(
    session: Session, *, tenant: str, items: Sequence[UpsertItem], history: bool = True
) -> list[EntityChange]:
    """``upsert_attributes`` for many ``(entity_id, entity_type, attrs, observed_at)`` items at
    once, with the same result as calling it item by item (several items of one entity merge in
    order; one change per item, in order), in a few statements: one SELECT of the entities (per
    500), one bulk INSERT of the missing ones, one executemany UPDATE of the others, one
    ``changes.emit``. Everything is validated first: Invalid naming every bad item
    (``items[3].fillingLevel``), nothing written."""
    if not items:
        return []
    ctx = default_context()
    now, stamp = stamp_now()
    errors: list[FieldError] = []
    prepared = [_prepared(i, item, ctx, stamp, errors) for i, item in enumerate(items)]
    if errors:
        raise Invalid(details=errors)
    types = {entity_type: ctx.expand(entity_type) for _, entity_type, _, _ in items}
    ensure_tenant(session, tenant)
    rows = _load_many(session, tenant, list({item[0] for item in items}))
    inserted: set[str] = set()
    while True:
        out, created, updated, errors = _plan(tenant, items, prepared, types, rows, now, stamp, history)
        if errors:
            raise Invalid(details=errors)
        values = [
            {"tenant": tenant, "entity_id": entity_id, "type": entity["type"], "data": entity,
             "created_at": now, "modified_at": now, **located(entity)}
            for entity_id, entity in created.items() if entity_id not in inserted
        ]  # fmt: skip
        if not values:
            break
        done = _insert_new(session, values)
        inserted |= done
        lost = [v["entity_id"] for v in values if v["entity_id"] not in done]
        if not lost:
            break
        rows.update(_load_many(session, tenant, lost))  # created meanwhile: merge into them instead
    plain = [p for p in updated if "lon" not in p]
    moved = [p for p in updated if "lon" in p]
    if plain:
        session.connection().execute(_UPDATE, plain)
    if moved:
        session.connection().execute(_UPDATE_LOCATED, moved)
    changes.emit(session, out)
    return out


def _plan(
    tenant: str,
    items: Sequence[UpsertItem],
    prepared: list[dict[str, Any]],
    types: dict[str, str],
    rows: dict[str, Stored],
    now: datetime,
    stamp: str,
    history: bool,
) -> tuple[list[EntityChange], dict[str, dict[str, Any]], list[dict[str, Any]], list[FieldError]]:
    """What ``upsert_many`` writes: the changes in item order, the entities to create (their
    final state) and the UPDATE parameters of the stored ones. Nothing is written here."""
    state: dict[str, dict[str, Any]] = {}  # entity id -> its entity after the items so far
    moved: set[str] = set()
    out: list[EntityChange] = []
    errors: list[FieldError] = []
    created: dict[str, dict[str, Any]] = {}
    for index, ((entity_id, entity_type, _, _), new_attrs) in enumerate(zip(items, prepared, strict=True)):
        row = rows.get(entity_id)
        previous = state.get(entity_id, row.data if row is not None else None)
        if previous is None:
            type_iri = types[entity_type]
            entity = {"id": entity_id, "type": type_iri, **new_attrs, "createdAt": stamp, "modifiedAt": stamp}
            kind: ChangeKind = "created"
            created[entity_id] = entity
        else:
            type_iri = row.type if row is not None else previous["type"]
            entity = dict(previous)
            for name, attr in new_attrs.items():
                current = entity.get(name)
                for one in instances(attr):
                    current, _ = put_instance(current, one)
                entity[name] = current
            entity["modifiedAt"] = stamp
            kind = "updated"
            if entity_id in created:
                created[entity_id] = entity
            elif LOCATION in new_attrs:
                moved.add(entity_id)
        errors.extend(replace(e, field=f"items[{index}].{e.field}") for e in _smart_errors(type_iri, entity))
        state[entity_id] = entity
        out.append(make_change(tenant, kind, entity_id, type_iri, new_attrs, entity, previous, now, history))
    updated = []
    for entity_id, entity in state.items():
        row = rows.get(entity_id)
        if row is None or entity_id in created:
            continue
        params: dict[str, Any] = {"pk": row.pk, "type": row.type, "data": entity, "at": now}
        if entity_id in moved:
            params.update(located(entity))
        updated.append(params)
    return out, created, updated, errors
