"""The NGSI-LD entity store (实体库): the store API other hub parts call, and the entity and
attribute operations of ``/ngsi-ld/v1/entities``.

Entities are kept in canonical form (see ``models.NgsiEntity``). Every write validates first
(ids, attribute shapes, Smart Data Models), then writes, then hands its ``EntityChange``s to
``changes.emit`` inside the same transaction (temporal history, subscriptions). Services flush,
never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core.db import take_write_lock, utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.hub.ngsi import changes, statements
from cityos.hub.ngsi.attributes import (
    LOCATION,
    RESERVED_NAMES,
    Normalizer,
    geometry_bbox,
    instances,
    is_uri,
    iso,
    put_instance,
    valid_name,
)
from cityos.hub.ngsi.changes import ChangeKind, EntityChange
from cityos.hub.ngsi.context import Context, default_context
from cityos.hub.ngsi.models import NgsiEntity, NgsiTenant
from cityos.hub.ngsi.problems import (
    ALREADY_EXISTS,
    BAD_REQUEST_DATA,
    NONEXISTENT_TENANT,
    RESOURCE_NOT_FOUND,
    NgsiProblem,
)

DEFAULT_TENANT = "default"
SYSTEM_KEYS = frozenset({"id", "type", "createdAt", "modifiedAt"})

_known_tenants: set[str] = set()


# -- tenants ----------------------------------------------------------------------------------
def forget_tenants() -> None:
    """Drop the per-process cache of tenants known to exist (tests, tenant removal)."""
    _known_tenants.clear()


def tenant_exists(session: Session, tenant: str) -> bool:
    if tenant == DEFAULT_TENANT or tenant in _known_tenants:
        return True
    found = session.scalar(select(NgsiTenant.id).where(NgsiTenant.name == tenant)) is not None
    if found:
        _known_tenants.add(tenant)
    return found


def require_tenant(session: Session, tenant: str) -> None:
    """A read of a tenant that never got a write: 404 NonexistentTenant."""
    if not tenant_exists(session, tenant):
        raise NgsiProblem(NONEXISTENT_TENANT, N_("The tenant {tenant} does not exist."), params={"tenant": tenant})


def ensure_tenant(session: Session, tenant: str) -> None:
    """Creates the tenant on its first write (concurrent first writes are fine)."""
    if tenant_exists(session, tenant):
        return
    values = {"name": tenant, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(NgsiTenant).values(**values).on_conflict_do_nothing(index_elements=["name"]))
    elif dialect == "sqlite":
        session.execute(sqlite_insert(NgsiTenant).values(**values).on_conflict_do_nothing(index_elements=["name"]))
    else:  # pragma: no cover - other databases are not supported
        session.add(NgsiTenant(**values))
        session.flush()


def list_tenants(session: Session) -> list[str]:
    names = set(session.scalars(select(NgsiTenant.name)))
    return sorted(names | {DEFAULT_TENANT})


# -- helpers ----------------------------------------------------------------------------------
def write_intent(session: Session) -> None:
    """Ask for the write lock up front (SQLite: BEGIN IMMEDIATE), the platform's one way
    (``core.db.take_write_lock``: a transaction that has only read is restarted as a writer)."""
    take_write_lock(session)


_TABLE: Table = NgsiEntity.__table__  # type: ignore[assignment]
_COLS = _TABLE.c
_SELECT = select(_COLS.id, _COLS.type, _COLS.data).where(
    _COLS.tenant == bindparam("t"), _COLS.entity_id == bindparam("e")
)
_SELECT_LOCKED = _SELECT.with_for_update()
_UPDATE = (
    _TABLE.update()
    .where(_COLS.id == bindparam("pk"))
    .values(type=bindparam("type"), data=bindparam("data"), modified_at=bindparam("at"))
)
_UPDATE_LOCATED = _UPDATE.values(
    lon=bindparam("lon"),
    lat=bindparam("lat"),
    min_lon=bindparam("min_lon"),
    min_lat=bindparam("min_lat"),
    max_lon=bindparam("max_lon"),
    max_lat=bindparam("max_lat"),
)
_DELETE = _TABLE.delete().where(_COLS.id == bindparam("pk"))


@dataclass
class Stored:
    """A stored entity as the write paths use it (plain Core rows: no ORM on the hot path)."""

    pk: int
    tenant: str
    entity_id: str
    type: str
    data: dict[str, Any]


def load(session: Session, tenant: str, entity_id: str, *, for_update: bool = False) -> Stored | None:
    locked = for_update and session.get_bind().dialect.name == "postgresql"
    row = session.connection().execute(_SELECT_LOCKED if locked else _SELECT, {"t": tenant, "e": entity_id}).first()
    if row is None:
        return None
    return Stored(row[0], tenant, entity_id, row[1], row[2])


def not_found(entity_id: str) -> NgsiProblem:
    return NgsiProblem(RESOURCE_NOT_FOUND, N_("The entity {id} was not found."), params={"id": entity_id[:200]})


def stamp_now() -> tuple[datetime, str]:
    now = utcnow()
    return now, iso(now)


def located(data: dict[str, Any]) -> dict[str, float | None]:
    """The spatial pre-filter columns from the ``location`` GeoProperty."""
    geo = next((i.get("value") for i in instances(data.get(LOCATION)) if isinstance(i.get("value"), dict)), None)
    box = geometry_bbox(geo) if geo else None
    if box is None or geo is None:
        return dict.fromkeys(("lon", "lat", "min_lon", "min_lat", "max_lon", "max_lat"))
    if geo.get("type") == "Point":
        lon, lat = float(geo["coordinates"][0]), float(geo["coordinates"][1])
    else:
        lon, lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return {"lon": lon, "lat": lat, "min_lon": box[0], "min_lat": box[1], "max_lon": box[2], "max_lat": box[3]}


def _insert(session: Session, tenant: str, entity: dict[str, Any], at: datetime) -> None:
    """INSERT in a savepoint; IntegrityError when the id is taken (a concurrent create)."""
    values = {
        "tenant": tenant,
        "entity_id": entity["id"],
        "type": entity["type"],
        "data": entity,
        "created_at": at,
        "modified_at": at,
        **located(entity),
    }
    with session.begin_nested():
        session.connection().execute(_TABLE.insert().values(**values))


def _smart_errors(type_iri: str, entity: dict[str, Any]) -> list[FieldError]:
    from cityos.hub.ngsi import smartmodels

    validate = getattr(smartmodels, "validate", None)
    return list(validate(type_iri, entity)) if validate is not None else []


def check_smart(type_iri: str, entity: dict[str, Any]) -> None:
    """Writes of the Smart Data Models types must follow their schema."""
    found = _smart_errors(type_iri, entity)
    if found:
        raise Invalid(N_("The entity does not follow its Smart Data Model."), details=found)


def make_change(
    tenant: str,
    kind: ChangeKind,
    entity_id: str,
    entity_type: str,
    attrs: Iterable[str],
    entity: dict[str, Any] | None,
    previous: dict[str, Any] | None,
    at: datetime,
    history: bool = True,
) -> EntityChange:
    return EntityChange(
        tenant=tenant,
        entity_id=entity_id,
        entity_type=entity_type,
        kind=kind,
        attrs=frozenset(attrs),
        entity=entity,
        previous=previous,
        at=at,
        history=history,
    )


def attr_names(entity: dict[str, Any]) -> list[str]:
    return [k for k in entity if k not in SYSTEM_KEYS]


def expand_type(ctx: Context, value: Any, errors: list[FieldError], field_name: str = "type") -> str | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not valid_name(value):
        errors.append(FieldError(field_name, N_("An entity needs a type (a term or an IRI).")))
        return None
    return ctx.expand(value)


def normalize_attrs(
    raw: dict[str, Any], ctx: Context, now: str, *, prefix: str = "", errors: list[FieldError] | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """Expanded name -> normalized attribute, for every attribute of ``raw`` (not id/type)."""
    norm = Normalizer(ctx.expand, now)
    if errors is not None:
        norm.errors = errors
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("id", "type", "@context") or key in ("createdAt", "modifiedAt"):
            continue
        if key in RESERVED_NAMES or key.startswith("@"):
            norm.fail(prefix + key[:60], N_("This attribute name is not allowed."))
            continue
        if not valid_name(key):
            norm.fail(prefix + key[:60], N_("This attribute name is not allowed."))
            continue
        name = ctx.expand(key)
        attr = norm.attribute(prefix + key, value, name=name)
        if attr is not None:
            out[name] = attr
    return out, norm.errors


def normalize_entity(raw: Any, ctx: Context, now: str, *, prefix: str = "") -> dict[str, Any]:
    """A whole entity from a request body, canonical; Invalid with every field error."""
    if not isinstance(raw, dict):
        raise Invalid(
            N_("An entity must be a JSON object."), details=[FieldError(prefix or "body", N_("Must be an object."))]
        )
    errors: list[FieldError] = []
    entity_id = raw.get("id", raw.get("@id"))
    if not is_uri(entity_id):
        errors.append(FieldError(prefix + "id", N_("An entity id must be a URI (urn:ngsi-ld:Type:001).")))
    type_iri = expand_type(ctx, raw.get("type", raw.get("@type")), errors, prefix + "type")
    attrs, errors = normalize_attrs(raw, ctx, now, prefix=prefix, errors=errors)
    if errors:
        raise Invalid(details=errors)
    return {"id": entity_id, "type": type_iri, **attrs, "createdAt": now, "modifiedAt": now}


# -- the store API (for ingest, devices, demo …) -----------------------------------------------
def upsert_attributes(
    session: Session,
    *,
    tenant: str,
    entity_id: str,
    entity_type: str,
    attrs: dict[str, dict[str, Any]],
    observed_at: datetime | None = None,
    history: bool = True,
) -> EntityChange:
    """Creates the entity if missing and merges ``attrs`` (short names of the core and Smart Data
    Models contexts, or expanded IRIs; normalized or concise) into it; emits the change."""
    ctx = default_context()
    now, stamp = stamp_now()
    errors: list[FieldError] = []
    if not is_uri(entity_id):
        errors.append(FieldError("id", N_("An entity id must be a URI (urn:ngsi-ld:Type:001).")))
    type_iri = expand_type(ctx, entity_type, errors)
    new_attrs, errors = normalize_attrs(attrs, ctx, stamp, errors=errors)
    if errors or type_iri is None:
        raise Invalid(details=errors)
    if observed_at is not None:
        when = iso(observed_at)
        for attr in new_attrs.values():
            for item in instances(attr):
                item.setdefault("observedAt", when)
    ensure_tenant(session, tenant)
    row = load(session, tenant, entity_id, for_update=True)
    if row is None:
        entity = {"id": entity_id, "type": type_iri, **new_attrs, "createdAt": stamp, "modifiedAt": stamp}
        check_smart(type_iri, entity)
        try:
            _insert(session, tenant, entity, now)
        except IntegrityError:
            row = load(session, tenant, entity_id, for_update=True)
            if row is None:
                raise
        else:
            change = make_change(tenant, "created", entity_id, type_iri, new_attrs, entity, None, now, history)
            changes.emit(session, [change])
            return change
    previous = row.data
    entity = dict(previous)
    for name, attr in new_attrs.items():
        current = entity.get(name)
        for item in instances(attr):
            current, _ = put_instance(current, item)
        entity[name] = current
    entity["modifiedAt"] = stamp
    change = save(session, row, entity, kind="updated", attrs=new_attrs, at=now, relocate=LOCATION in new_attrs)
    if not history:
        change = replace(change, history=False)
    changes.emit(session, [change])
    return change


def get_entity(session: Session, *, tenant: str, entity_id: str) -> dict[str, Any] | None:
    """The canonical entity, or None."""
    row = load(session, tenant, entity_id)
    return None if row is None else row.data


def entities_of_type(
    session: Session, *, tenant: str, entity_type: str, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Canonical entities of one type (an IRI or a core/Smart Data Models term), oldest first."""
    type_iri = entity_type if ":" in entity_type else default_context().expand(entity_type)
    stmt = (
        select(NgsiEntity.data)
        .where(NgsiEntity.tenant == tenant, NgsiEntity.type == type_iri)
        .order_by(NgsiEntity.id)
        .limit(max(0, min(limit, 10_000)))
        .offset(max(0, offset))
    )
    return list(session.scalars(stmt))


def count_of_type(session: Session, *, tenant: str, entity_type: str) -> int:
    type_iri = entity_type if ":" in entity_type else default_context().expand(entity_type)
    stmt = select(func.count()).select_from(NgsiEntity).where(NgsiEntity.tenant == tenant, NgsiEntity.type == type_iri)
    return int(session.scalar(stmt) or 0)


# -- entity operations of the API --------------------------------------------------------------
def insert_entity(session: Session, *, tenant: str, entity: dict[str, Any], at: datetime) -> EntityChange:
    """Stores a normalized entity that must not exist yet (AlreadyExists otherwise)."""
    check_smart(entity["type"], entity)
    ensure_tenant(session, tenant)
    if load(session, tenant, entity["id"]) is not None:
        raise NgsiProblem(ALREADY_EXISTS, N_("The entity {id} already exists."), params={"id": entity["id"][:200]})
    try:
        _insert(session, tenant, entity, at)
    except IntegrityError as exc:
        raise NgsiProblem(
            ALREADY_EXISTS, N_("The entity {id} already exists."), params={"id": entity["id"][:200]}
        ) from exc
    return make_change(tenant, "created", entity["id"], entity["type"], attr_names(entity), entity, None, at)


def create_entity(session: Session, *, tenant: str, body: Any, ctx: Context) -> EntityChange:
    write_intent(session)
    now, stamp = stamp_now()
    entity = normalize_entity(body, ctx, stamp)
    change = insert_entity(session, tenant=tenant, entity=entity, at=now)
    changes.emit(session, [change])
    return change


def retrieve_entity(session: Session, *, tenant: str, entity_id: str, type_iris: Sequence[str] = ()) -> dict[str, Any]:
    if not is_uri(entity_id):
        raise NgsiProblem(BAD_REQUEST_DATA, N_("An entity id must be a URI (urn:ngsi-ld:Type:001)."))
    require_tenant(session, tenant)
    row = load(session, tenant, entity_id)
    if row is None or (type_iris and row.type not in type_iris):
        raise not_found(entity_id)
    return row.data


def check_entity_id(entity_id: str) -> None:
    if not is_uri(entity_id):
        raise NgsiProblem(BAD_REQUEST_DATA, N_("An entity id must be a URI (urn:ngsi-ld:Type:001)."))


def existing(session: Session, tenant: str, entity_id: str) -> Stored:
    check_entity_id(entity_id)
    write_intent(session)
    row = load(session, tenant, entity_id, for_update=True)
    if row is None:
        raise not_found(entity_id)
    return row


def save(
    session: Session,
    row: Stored,
    entity: dict[str, Any],
    *,
    kind: ChangeKind,
    attrs: Iterable[str],
    at: datetime,
    relocate: bool = True,
) -> EntityChange:
    """One UPDATE of the entity (and of its location columns when ``relocate``)."""
    change = checked_change(row, entity, kind=kind, attrs=attrs, at=at)
    session.connection().execute(_UPDATE_LOCATED if relocate else _UPDATE, _update_params(row, at, relocate))
    return change


def checked_change(
    row: Stored, entity: dict[str, Any], *, kind: ChangeKind, attrs: Iterable[str], at: datetime
) -> EntityChange:
    """What ``save`` checks and records before its UPDATE: the Smart Data Models check, then
    ``row`` holds ``entity`` and the change is made (``previous``: what it held before)."""
    previous = row.data
    check_smart(row.type, entity)
    row.data = entity
    return make_change(row.tenant, kind, row.entity_id, row.type, attrs, entity, previous, at)


def _update_params(row: Stored, at: datetime, relocate: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"pk": row.pk, "type": row.type, "data": row.data, "at": at}
    if relocate:
        params.update(located(row.data))
    return params


def save_many(session: Session, saved: Iterable[tuple[Stored, datetime, bool]]) -> None:
    """The UPDATEs of several entities (each once: ``row`` holds what to store, ``at`` is its
    modification time, ``relocate`` whether its location columns change) as at most two
    executemany statements (``statements.update_many``)."""
    statements.update_many(
        session.connection(),
        ((row.pk, row.data, at, located(row.data) if relocate else None) for row, at, relocate in saved),
    )


def load_many(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Stored]:
    """The stored entities of several (tenant, entity id) pairs, one SELECT per tenant (locked
    for the update on PostgreSQL, tenants by name and rows by id, so that two writers lock in
    the same order)."""
    wanted: dict[str, set[str]] = {}
    for tenant, entity_id in keys:
        wanted.setdefault(tenant, set()).add(entity_id)
    out: dict[tuple[str, str], Stored] = {}
    connection = session.connection()
    for tenant, ids in sorted(wanted.items()):  # one lock order for every writer
        for pk, entity_id, type_iri, data in statements.select_many(connection, tenant, sorted(ids)):
            out[(tenant, entity_id)] = Stored(pk, tenant, entity_id, type_iri, data)
    return out


def remove(session: Session, row: Stored) -> None:
    session.connection().execute(_DELETE, {"pk": row.pk})


def replace_entity(session: Session, *, tenant: str, entity_id: str, body: Any, ctx: Context) -> EntityChange:
    """PUT /entities/{id}: every attribute replaced; the id stays, the type may be restated."""
    row = existing(session, tenant, entity_id)
    now, stamp = stamp_now()
    if isinstance(body, dict):
        body = {**body, "id": body.get("id", entity_id), "type": body.get("type", ctx.compact(row.type))}
    entity = normalize_entity(body, ctx, stamp)
    if entity["id"] != entity_id:
        raise Invalid(details=[FieldError("id", N_("The id in the body differs from the id in the path."))])
    entity["createdAt"] = row.data.get("createdAt", stamp)
    row.type = entity["type"]
    names = set(attr_names(entity)) | set(attr_names(row.data))
    change = save(session, row, entity, kind="replaced", attrs=names, at=now)
    changes.emit(session, [change])
    return change


def delete_entity(session: Session, *, tenant: str, entity_id: str) -> EntityChange:
    row = existing(session, tenant, entity_id)
    now = utcnow()
    change = make_change(tenant, "deleted", entity_id, row.type, attr_names(row.data), None, row.data, now)
    remove(session, row)
    changes.emit(session, [change])
    return change
