"""Writes of the NGSI-LD temporal API: add attribute instances (create a temporal entity or
append to one), delete an entity's or an attribute's history, modify one instance. Reaches the
Parquet archive too, so a purged day changes like the rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.hub.temporal import archive, history
from cityos.hub.temporal.models import SensorObservation as Obs
from cityos.hub.temporal.params import MSG_DATETIME
from cityos.hub.temporal.service import (
    ENTITY_KEYS,
    VALUE_KEYS,
    ObservationRow,
    append_observations,
    parse_time,
    split_value,
)

MAX_INSTANCES = 10_000  # instances in one write
MSG_ID = N_("Give the entity id as a URI (for example urn:ngsi-ld:WasteContainer:001).")
MSG_TYPE = N_("Give the entity type.")
MSG_NO_ATTRS = N_("Give at least one attribute with its instances.")
MSG_INSTANCE = N_("Each instance needs a type (Property, Relationship, GeoProperty …) and its value.")
MSG_OBJECT = N_("A relationship's object must be a URI.")
MSG_GEOMETRY = N_("A GeoProperty's value must be a GeoJSON geometry.")
MSG_UNIT = N_("unitCode must be text.")
MSG_DATASET = N_("datasetId must be a URI.")
MSG_TOO_MANY = N_("At most {limit} instances in one request.")
MSG_NO_HISTORY = N_("No temporal history of this entity.")
MSG_NO_ATTR_HISTORY = N_("No temporal history of this attribute.")
MSG_NO_INSTANCE = N_("No attribute instance with this instanceId.")
GEOMETRIES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
Expand = Callable[[str], str]


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and not any(c.isspace() for c in value) and len(value) <= 256


def _check_instance(name: str, item: Any, errors: list[FieldError]) -> tuple[str, Any, datetime | None] | None:
    if not isinstance(item, dict):
        errors.append(FieldError(name, MSG_INSTANCE))
        return None
    kind = item.get("type", "Property")
    key = VALUE_KEYS.get(kind) if isinstance(kind, str) else None
    if key is None or key not in item:
        errors.append(FieldError(name, MSG_INSTANCE))
        return None
    value = item[key]
    if kind == "Relationship" and not _is_uri(value):
        errors.append(FieldError(f"{name}.object", MSG_OBJECT))
    if kind == "GeoProperty" and not (
        isinstance(value, dict)
        and value.get("type") in GEOMETRIES
        and ("coordinates" in value or "geometries" in value)
    ):
        errors.append(FieldError(f"{name}.value", MSG_GEOMETRY))
    observed = None
    if "observedAt" in item:
        observed = parse_time(item["observedAt"]) if isinstance(item["observedAt"], str) else None
        if observed is None:
            errors.append(FieldError(f"{name}.observedAt", MSG_DATETIME))
    if "unitCode" in item and not isinstance(item["unitCode"], str):
        errors.append(FieldError(f"{name}.unitCode", MSG_UNIT))
    if "datasetId" in item and not _is_uri(item["datasetId"]):
        errors.append(FieldError(f"{name}.datasetId", MSG_DATASET))
    return kind, value, observed


def rows_of_fragment(
    *, tenant: str, entity_id: str, entity_type: str, fragment: dict[str, Any], expand: Expand
) -> list[ObservationRow]:
    """The instances of a temporal entity fragment as rows (all checked; Invalid lists every problem)."""
    errors: list[FieldError] = []
    rows: list[ObservationRow] = []
    now = utcnow()
    for name, attribute in fragment.items():
        if name in ENTITY_KEYS:
            continue
        items = attribute if isinstance(attribute, list) else [attribute]
        if not items:
            errors.append(FieldError(name, MSG_INSTANCE))
        for item in items:
            checked = _check_instance(name, item, errors)
            if checked is None:
                continue
            kind, value, observed = checked
            unit, dataset = item.get("unitCode"), item.get("datasetId")
            rows.append(
                ObservationRow(
                    tenant=tenant,
                    entity_id=entity_id,
                    entity_type=entity_type,
                    attr=expand(name),
                    observed_at=observed or now,
                    value=value,
                    unit=unit if isinstance(unit, str) else None,
                    dataset_id=dataset if isinstance(dataset, str) else None,
                    source="ngsi",
                    kind=kind,
                )
            )
    if not rows and not errors:
        errors.append(FieldError("body", MSG_NO_ATTRS))
    if len(rows) > MAX_INSTANCES:
        errors.append(FieldError("body", MSG_TOO_MANY, {"limit": MAX_INSTANCES}))
    if errors:
        raise Invalid(details=errors)
    return rows


def has_history(session: Session, tenant: str, entity_id: str) -> bool:
    return bool(session.scalar(select(exists().where(Obs.tenant == tenant, Obs.entity_id == entity_id))))


def create_or_add(
    session: Session, *, tenant: str, body: dict[str, Any], expand: Expand, archive_dir: Path | None
) -> bool:
    """POST /temporal/entities: stores the instances; True when the entity had no history yet."""
    errors: list[FieldError] = []
    entity_id, entity_type = body.get("id"), body.get("type")
    if not _is_uri(entity_id):
        errors.append(FieldError("id", MSG_ID))
    if not isinstance(entity_type, str) or not entity_type.strip():
        errors.append(FieldError("type", MSG_TYPE))
    if errors:
        raise Invalid(details=errors)
    eid, etype = str(entity_id), str(entity_type)
    new = not has_history(session, tenant, eid) and history.entity_type_of(session, tenant, eid, archive_dir) is None
    rows = rows_of_fragment(tenant=tenant, entity_id=eid, entity_type=expand(etype), fragment=body, expand=expand)
    append_observations(session, rows)
    return new


def append_attrs(
    session: Session, *, tenant: str, entity_id: str, body: dict[str, Any], expand: Expand, archive_dir: Path | None
) -> int:
    """POST /temporal/entities/{id}/attrs: adds instances to an entity that has a history."""
    entity_type = history.entity_type_of(session, tenant, entity_id, archive_dir)
    if entity_type is None:
        raise NotFound(MSG_NO_HISTORY)
    rows = rows_of_fragment(tenant=tenant, entity_id=entity_id, entity_type=entity_type, fragment=body, expand=expand)
    return append_observations(session, rows)


def delete_history(
    session: Session,
    *,
    tenant: str,
    entity_id: str,
    attr: str | None = None,
    dataset_id: str | None = None,
    delete_all: bool = False,
    archive_dir: Path | None,
    zone: str,
) -> int:
    """Deletes an entity's history, or one attribute's (its default instances, one datasetId's,
    or with ``delete_all`` every dataset's); NotFound when nothing matched."""
    filters = [Obs.tenant == tenant, Obs.entity_id == entity_id]
    expr = pl.col("entity_id") == entity_id
    if attr is not None:
        filters.append(Obs.attr == attr)
        expr = expr & (pl.col("attr") == attr)
        if not delete_all:
            filters.append(Obs.dataset_id == dataset_id if dataset_id is not None else Obs.dataset_id.is_(None))
            expr = expr & (
                pl.col("dataset_id") == dataset_id if dataset_id is not None else pl.col("dataset_id").is_null()
            )
    gone = int(
        getattr(
            session.execute(delete(Obs).where(and_(*filters)).execution_options(synchronize_session=False)),
            "rowcount",
            0,
        )
        or 0
    )
    if archive_dir is not None:
        gone += archive.rewrite(archive_dir, tenant, lambda frame: frame.filter(~expr), zone=zone)
    if gone == 0:
        raise NotFound(MSG_NO_ATTR_HISTORY if attr is not None else MSG_NO_HISTORY)
    return gone


def modify_instance(
    session: Session,
    *,
    tenant: str,
    entity_id: str,
    attr: str,
    instance_id: str,
    fragment: dict[str, Any],
    compact_name: str,
    archive_dir: Path | None,
    zone: str,
) -> None:
    """PATCH /temporal/entities/{id}/attrs/{attr}/{instanceId}: replaces the instance's value
    (and observedAt, unitCode when given). ``fragment`` is the instance, or ``{attr: instance}``."""
    item: Any = fragment
    if not any(k in fragment for k in ("type", *VALUE_KEYS.values())):
        item = next((v for k, v in fragment.items() if k not in ENTITY_KEYS), None)
        if isinstance(item, list) and len(item) == 1:
            item = item[0]
    errors: list[FieldError] = []
    checked = _check_instance(compact_name, item, errors)
    if errors or checked is None:
        raise Invalid(details=errors or [FieldError(compact_name, MSG_INSTANCE)])
    kind, value, observed = checked
    num, text, js = split_value(value)
    values: dict[str, Any] = {"kind": kind, "value_num": num, "value_text": text, "value_json": js}
    if observed is not None:
        values["observed_at"] = observed
    if isinstance(item.get("unitCode"), str):
        values["unit"] = item["unitCode"]
    where = and_(Obs.tenant == tenant, Obs.entity_id == entity_id, Obs.attr == attr, Obs.instance_id == instance_id)
    changed = int(
        getattr(
            session.execute(update(Obs).where(where).values(**values).execution_options(synchronize_session=False)),
            "rowcount",
            0,
        )
        or 0
    )
    if changed == 0 and archive_dir is not None:
        match = (pl.col("entity_id") == entity_id) & (pl.col("attr") == attr) & (pl.col("instance_id") == instance_id)
        stored: dict[str, Any] = dict(values)
        stored["value_json"] = None if js is None else json.dumps(js, ensure_ascii=False, separators=(",", ":"))

        def change(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.with_columns(
                [
                    pl.when(match).then(pl.lit(v, dtype=frame.schema[k])).otherwise(pl.col(k)).alias(k)
                    for k, v in stored.items()
                ]
            )

        changed = archive.rewrite(archive_dir, tenant, change, zone=zone)
    if changed == 0:
        raise NotFound(MSG_NO_INSTANCE)
