"""Batch entity operations (``/entityOperations/create|upsert|update|delete``).

Each entity succeeds or fails on its own (a savepoint each); the caller answers 201/204 when all
succeeded and 207 ``{"success": [...], "errors": [{"entityId", "error": ProblemDetails}]}``
otherwise. The changes of the entities that succeeded are emitted once, together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.i18n import N_
from cityos.hub.ngsi import changes
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.attributes import LOCATION, instances, is_uri, put_instance
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.problems import BAD_REQUEST_DATA, NgsiProblem, problem_of

MAX_BATCH = 1000


@dataclass
class BatchResult:
    success: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, entity_id: Any, exc: DomainError) -> None:
        self.errors.append({"entityId": entity_id if isinstance(entity_id, str) else None, "error": problem_of(exc)})

    def body(self) -> dict[str, Any]:
        return {"success": self.success, "errors": self.errors}


def _items(data: Any, contexts: list[Context] | None, ctx: Context) -> list[tuple[Any, Context]]:
    if not isinstance(data, list):
        raise NgsiProblem(BAD_REQUEST_DATA, N_("Send a JSON array of entities."))
    if not data:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("Send at least one entity."))
    if len(data) > MAX_BATCH:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("At most {max} entities fit in one batch."), params={"max": MAX_BATCH})
    return [(item, contexts[i] if contexts else ctx) for i, item in enumerate(data)]


def _id_of(item: Any) -> Any:
    return item.get("id", item.get("@id")) if isinstance(item, dict) else None


def create(
    session: Session, *, tenant: str, data: Any, ctx: Context, contexts: list[Context] | None = None
) -> BatchResult:
    store.write_intent(session)
    result = BatchResult()
    done: list[EntityChange] = []
    for item, item_ctx in _items(data, contexts, ctx):
        now, stamp = store.stamp_now()
        try:
            entity = store.normalize_entity(item, item_ctx, stamp)
            with session.begin_nested():
                done.append(store.insert_entity(session, tenant=tenant, entity=entity, at=now))
        except DomainError as exc:
            result.fail(_id_of(item), exc)
            continue
        result.success.append(entity["id"])
    changes.emit(session, done)
    return result


def _merge(
    row: store.Stored, entity: dict[str, Any], stamp: str, *, overwrite: bool
) -> tuple[dict[str, Any], list[str]]:
    merged = dict(row.data)
    written: list[str] = []
    for name in store.attr_names(entity):
        current = merged.get(name)
        wrote = False
        for item in instances(entity[name]):
            current, ok = put_instance(current, item, overwrite=overwrite)
            wrote = wrote or ok
        if wrote:
            merged[name] = current
            written.append(name)
    merged["modifiedAt"] = stamp
    return merged, written


def upsert(
    session: Session,
    *,
    tenant: str,
    data: Any,
    ctx: Context,
    contexts: list[Context] | None = None,
    replace: bool = True,
) -> BatchResult:
    """Creates missing entities; replaces existing ones (``options=replace``, the default) or
    merges their attributes (``options=update``)."""
    store.write_intent(session)
    result = BatchResult()
    done: list[EntityChange] = []
    for item, item_ctx in _items(data, contexts, ctx):
        now, stamp = store.stamp_now()
        try:
            entity = store.normalize_entity(item, item_ctx, stamp)
            with session.begin_nested():
                row = store.load(session, tenant, entity["id"], for_update=True)
                if row is None:
                    done.append(store.insert_entity(session, tenant=tenant, entity=entity, at=now))
                    result.created.append(entity["id"])
                elif replace:
                    entity["createdAt"] = row.data.get("createdAt", stamp)
                    names = set(store.attr_names(entity)) | set(store.attr_names(row.data))
                    row.type = entity["type"]
                    done.append(store.save(session, row, entity, kind="replaced", attrs=names, at=now))
                else:
                    _same_type(row, entity)
                    merged, written = _merge(row, entity, stamp, overwrite=True)
                    done.append(store.save(session, row, merged, kind="updated", attrs=written, at=now))
        except DomainError as exc:
            result.fail(_id_of(item), exc)
            continue
        result.success.append(entity["id"])
    changes.emit(session, done)
    return result


def _same_type(row: store.Stored, entity: dict[str, Any]) -> None:
    if entity["type"] != row.type:
        raise Invalid(details=[FieldError("type", N_("The entity exists with another type."))])


def update(
    session: Session,
    *,
    tenant: str,
    data: Any,
    ctx: Context,
    contexts: list[Context] | None = None,
    overwrite: bool = True,
) -> BatchResult:
    """Merges the attributes of existing entities (``noOverwrite`` keeps existing ones)."""
    store.write_intent(session)
    result = BatchResult()
    done: list[EntityChange] = []
    for item, item_ctx in _items(data, contexts, ctx):
        now, stamp = store.stamp_now()
        try:
            if isinstance(item, dict) and "type" not in item and "@type" not in item:
                row0 = store.load(session, tenant, str(_id_of(item))) if is_uri(_id_of(item)) else None
                item = {**item, "type": item_ctx.compact(row0.type) if row0 else "Thing"}
            entity = store.normalize_entity(item, item_ctx, stamp)
            with session.begin_nested():
                row = store.load(session, tenant, entity["id"], for_update=True)
                if row is None:
                    raise store.not_found(entity["id"])
                _same_type(row, entity)
                merged, written = _merge(row, entity, stamp, overwrite=overwrite)
                if written:
                    done.append(
                        store.save(
                            session, row, merged, kind="updated", attrs=written, at=now, relocate=LOCATION in written
                        )
                    )
        except DomainError as exc:
            result.fail(_id_of(item), exc)
            continue
        result.success.append(entity["id"])
    changes.emit(session, done)
    return result


def delete(session: Session, *, tenant: str, data: Any) -> BatchResult:
    if not isinstance(data, list) or not data:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("Send a JSON array of entity ids."))
    if len(data) > MAX_BATCH:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("At most {max} entities fit in one batch."), params={"max": MAX_BATCH})
    store.write_intent(session)
    result = BatchResult()
    done: list[EntityChange] = []
    for entity_id in data:
        try:
            if not is_uri(entity_id):
                raise Invalid(details=[FieldError("id", N_("An entity id must be a URI (urn:ngsi-ld:Type:001)."))])
            row = store.load(session, tenant, entity_id, for_update=True)
            if row is None:
                raise store.not_found(entity_id)
            now = utcnow()
            attrs = store.attr_names(row.data)
            done.append(store.make_change(tenant, "deleted", entity_id, row.type, attrs, None, row.data, now))
            with session.begin_nested():
                store.remove(session, row)
        except DomainError as exc:
            result.fail(entity_id, exc)
            continue
        result.success.append(entity_id)
    changes.emit(session, done)
    return result
