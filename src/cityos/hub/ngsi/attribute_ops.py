"""Attribute operations of ``/ngsi-ld/v1/entities/{id}``: append (``POST /attrs``), update
(``PATCH /attrs``), partial attribute update and replace (``PATCH``/``PUT /attrs/{attr}``),
merge-patch of the entity (``PATCH /entities/{id}``) and attribute deletion. Each validates
everything first, then writes one UPDATE and emits its change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.hub.ngsi import changes
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.attributes import (
    LOCATION,
    RESERVED_NAMES,
    Normalizer,
    instances,
    is_uri,
    pack,
    patch_instance,
    put_instance,
    valid_name,
)
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.problems import RESOURCE_NOT_FOUND, NgsiProblem


class Rows:
    """Where an attribute operation reads its entity and writes its change: the database,
    statement by statement (this class), or a group-commit batch that writes them together
    (``grouped.GroupRows``). The operations are written once against it, so both paths check
    and plan alike."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def existing(self, tenant: str, entity_id: str) -> store.Stored:
        return store.existing(self.session, tenant, entity_id)

    def save(
        self, row: store.Stored, entity: dict[str, Any], *, attrs: Iterable[str], at: datetime, relocate: bool
    ) -> EntityChange:
        return store.save(self.session, row, entity, kind="updated", attrs=attrs, at=at, relocate=relocate)

    def emit(self, change: EntityChange) -> None:
        changes.emit(self.session, [change])


@dataclass
class WriteResult:
    """What an attribute operation did: the written attributes and those it left (207)."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)  # (expanded name, reason msgid)
    change: EntityChange | None = None


def _fragment(body: Any, ctx: Context, stamp: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not body:
        raise Invalid(details=[FieldError("body", N_("Send the attributes as a JSON object."))])
    if "id" in body or "type" in body:
        body = {k: v for k, v in body.items() if k not in ("id", "type")}
    attrs, errors = store.normalize_attrs(body, ctx, stamp)
    if errors:
        raise Invalid(details=errors)
    if not attrs:
        raise Invalid(details=[FieldError("body", N_("Send at least one attribute."))])
    return attrs


def append_attrs(
    session: Session,
    *,
    tenant: str,
    entity_id: str,
    body: Any,
    ctx: Context,
    overwrite: bool = True,
    rows: Rows | None = None,
) -> WriteResult:
    """POST /entities/{id}/attrs: adds attributes (replacing same-datasetId instances unless
    ``noOverwrite``)."""
    rows = rows or Rows(session)
    row = rows.existing(tenant, entity_id)
    now, stamp = store.stamp_now()
    attrs = _fragment(body, ctx, stamp)
    entity = dict(row.data)
    result = WriteResult()
    for name, attr in attrs.items():
        current = entity.get(name)
        wrote = False
        for item in instances(attr):
            current, ok = put_instance(current, item, overwrite=overwrite)
            wrote = wrote or ok
        if wrote:
            entity[name] = current
            result.updated.append(name)
        else:
            result.not_updated.append((name, N_("The attribute exists and noOverwrite was asked.")))
    if result.updated:
        entity["modifiedAt"] = stamp
        result.change = rows.save(row, entity, attrs=result.updated, at=now, relocate=LOCATION in result.updated)
        rows.emit(result.change)
    return result


def update_attrs(
    session: Session, *, tenant: str, entity_id: str, body: Any, ctx: Context, rows: Rows | None = None
) -> WriteResult:
    """PATCH /entities/{id}/attrs: replaces existing attribute instances only."""
    rows = rows or Rows(session)
    row = rows.existing(tenant, entity_id)
    now, stamp = store.stamp_now()
    attrs = _fragment(body, ctx, stamp)
    entity = dict(row.data)
    result = WriteResult()
    for name, attr in attrs.items():
        current = entity.get(name)
        if current is None:
            result.not_updated.append((name, N_("The entity has no such attribute.")))
            continue
        wrote = False
        for item in instances(attr):
            if any(i.get("datasetId") == item.get("datasetId") for i in instances(current)):
                current, _ = put_instance(current, item)
                wrote = True
        if wrote:
            entity[name] = current
            result.updated.append(name)
        else:
            result.not_updated.append((name, N_("The entity has no instance of the attribute with that datasetId.")))
    if result.updated:
        entity["modifiedAt"] = stamp
        result.change = rows.save(row, entity, attrs=result.updated, at=now, relocate=LOCATION in result.updated)
        rows.emit(result.change)
    return result


def _patched(
    target: dict[str, Any], fragment: dict[str, Any], name: str, ctx: Context, stamp: str, field_name: str
) -> dict[str, Any]:
    """``target`` with the members of ``fragment`` (a partial attribute), normalized again."""
    if not isinstance(fragment, dict):
        fragment = {"value": fragment}
    kind = fragment.get("type", target.get("type"))
    merged = {k: v for k, v in patch_instance(target, fragment, stamp).items() if k not in ("createdAt", "modifiedAt")}
    merged["type"] = kind
    norm = Normalizer(ctx.expand, stamp)
    fresh = norm.instance(field_name, merged, name=name)
    if norm.errors or fresh is None:
        raise Invalid(details=norm.errors)
    fresh["createdAt"] = target.get("createdAt", stamp)
    return fresh


def _attr_target(row: store.Stored, attr: str, ctx: Context, dataset: Any) -> tuple[str, Any, dict[str, Any]]:
    if not valid_name(attr) or attr in RESERVED_NAMES:
        raise Invalid(details=[FieldError("attr", N_("This attribute name is not allowed."))])
    name = ctx.expand(attr)
    current = row.data.get(name)
    target = next((i for i in instances(current) if i.get("datasetId") == dataset), None)
    if target is None:
        raise NgsiProblem(RESOURCE_NOT_FOUND, N_("The entity has no attribute {attr}."), params={"attr": attr[:100]})
    return name, current, target


def patch_attribute(
    session: Session, *, tenant: str, entity_id: str, attr: str, body: Any, ctx: Context, rows: Rows | None = None
) -> EntityChange:
    """PATCH /entities/{id}/attrs/{attr}: the fragment's members replace those of the instance
    (its datasetId's, the default one otherwise); the attribute must exist."""
    if not isinstance(body, dict) or not body:
        raise Invalid(details=[FieldError("body", N_("Send the attribute as a JSON object."))])
    rows = rows or Rows(session)
    row = rows.existing(tenant, entity_id)
    now, stamp = store.stamp_now()
    name, current, target = _attr_target(row, attr, ctx, body.get("datasetId"))
    fresh = _patched(target, body, name, ctx, stamp, "body")
    entity = dict(row.data)
    entity[name], _ = put_instance(current, fresh)
    entity["modifiedAt"] = stamp
    change = rows.save(row, entity, attrs=(name,), at=now, relocate=name == LOCATION)
    rows.emit(change)
    return change


def replace_attribute(
    session: Session, *, tenant: str, entity_id: str, attr: str, body: Any, ctx: Context
) -> EntityChange:
    """PUT /entities/{id}/attrs/{attr}: the instance replaced whole; the attribute must exist."""
    if not isinstance(body, dict) or not body:
        raise Invalid(details=[FieldError("body", N_("Send the attribute as a JSON object."))])
    row = store.existing(session, tenant, entity_id)
    now, stamp = store.stamp_now()
    name, current, target = _attr_target(row, attr, ctx, body.get("datasetId"))
    norm = Normalizer(ctx.expand, stamp)
    fresh = norm.instance("body", body, name=name)
    if norm.errors or fresh is None:
        raise Invalid(details=norm.errors)
    entity = dict(row.data)
    entity[name], _ = put_instance(current, fresh)
    entity["modifiedAt"] = stamp
    change = store.save(session, row, entity, kind="updated", attrs=(name,), at=now, relocate=name == LOCATION)
    changes.emit(session, [change])
    return change


NULL = "urn:ngsi-ld:null"


def merge_entity(session: Session, *, tenant: str, entity_id: str, body: Any, ctx: Context) -> EntityChange:
    """PATCH /entities/{id} (merge-patch): attributes given are merged member by member into
    the existing ones or added; ``null`` / ``"urn:ngsi-ld:null"`` deletes an attribute."""
    if not isinstance(body, dict) or not body:
        raise Invalid(details=[FieldError("body", N_("Send the attributes as a JSON object."))])
    row = store.existing(session, tenant, entity_id)
    now, stamp = store.stamp_now()
    if "type" in body and ctx.expand(str(body["type"])) != row.type:
        raise Invalid(details=[FieldError("type", N_("The entity exists with another type."))])
    entity = dict(row.data)
    written: list[str] = []
    errors: list[FieldError] = []
    for key, value in body.items():
        if key in ("id", "type", "@context"):
            continue
        if key in RESERVED_NAMES or not valid_name(key):
            errors.append(FieldError(key[:60], N_("This attribute name is not allowed.")))
            continue
        name = ctx.expand(key)
        if value is None or value == NULL:
            if name in entity:
                del entity[name]
                written.append(name)
            continue
        current = entity.get(name)
        dataset = value.get("datasetId") if isinstance(value, dict) else None
        target = next((i for i in instances(current) if i.get("datasetId") == dataset), None)
        try:
            if target is not None and not isinstance(value, list):
                fresh: Any = _patched(target, value, name, ctx, stamp, key)
            else:
                norm = Normalizer(ctx.expand, stamp)
                fresh = norm.attribute(key, value, name=name)
                if norm.errors or fresh is None:
                    raise Invalid(details=norm.errors)
        except Invalid as exc:
            errors.extend(exc.details)
            continue
        for item in instances(fresh):
            current, _ = put_instance(current, item)
        entity[name] = current
        written.append(name)
    if errors:
        raise Invalid(details=errors)
    entity["modifiedAt"] = stamp
    change = store.save(session, row, entity, kind="updated", attrs=written, at=now)
    changes.emit(session, [change])
    return change


def delete_attribute(
    session: Session,
    *,
    tenant: str,
    entity_id: str,
    attr: str,
    ctx: Context,
    dataset_id: str | None = None,
    delete_all: bool = False,
) -> EntityChange:
    """DELETE /entities/{id}/attrs/{attr}: one instance (the default or ``datasetId``'s), or all."""
    if dataset_id is not None and not is_uri(dataset_id):
        raise Invalid(details=[FieldError("datasetId", N_("Must be a URI."))])
    row = store.existing(session, tenant, entity_id)
    now, stamp = store.stamp_now()
    name = ctx.expand(attr)
    current = instances(row.data.get(name))
    kept = [] if delete_all else [i for i in current if i.get("datasetId") != dataset_id]
    if not current or len(kept) == len(current):
        raise NgsiProblem(RESOURCE_NOT_FOUND, N_("The entity has no attribute {attr}."), params={"attr": attr[:100]})
    entity = dict(row.data)
    packed = pack(kept)
    if packed is None:
        del entity[name]
    else:
        entity[name] = packed
    entity["modifiedAt"] = stamp
    change = store.save(session, row, entity, kind="updated", attrs=(name,), at=now, relocate=name == LOCATION)
    changes.emit(session, [change])
    return change
