"""Where a dataset's rows come from. Three kinds:

- ``table``: one of the fixed platform sources below (``SOURCES``), each a read-only query of its
  module's tables scoped to the owner department (its cases) or its region subtree; a user never
  gives SQL, only the key of a source.
- ``entity_type``: NGSI-LD entities of one type, read through ``cityos.hub.ngsi.service`` and
  flattened to one value per attribute (``flatten``).
- ``file``: an uploaded CSV or JSON file kept by content hash (``files.py``).

Every reader returns ``(rows, total)``: rows are dicts keyed by field name, in a stable order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import subtree_clause
from cityos.core.i18n import N_
from cityos.hub.catalogue.models import Dataset

Rows = tuple[list[dict[str, Any]], int]


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    fields: tuple[dict[str, str], ...]
    read: Callable[[Session, Dataset, int, int], Rows]


def _f(name: str, type_: str, description: str, sensitivity: str = "none") -> dict[str, str]:
    return {"name": name, "type": type_, "description": description, "sensitivity": sensitivity}


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _page(session: Session, query: Any, offset: int, limit: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return list(session.execute(query.offset(offset).limit(limit)).all()), int(total)


def _cases(session: Session, dataset: Dataset, offset: int, limit: int) -> Rows:
    from cityos.cases.models import Case

    query = (
        select(
            Case.no,
            Case.category_code,
            Case.title,
            Case.status,
            Case.address,
            Case.lon,
            Case.lat,
            Case.reporter_label,
            Case.created_at,
            Case.closed_at,
        )
        .where(Case.department_id == dataset.department_id)
        .order_by(Case.id)
    )
    rows, total = _page(session, query, offset, limit)
    return [{k: _iso(v) for k, v in row._mapping.items()} for row in rows], total


def _orgs(session: Session, dataset: Dataset, offset: int, limit: int) -> Rows:
    from cityos.people.models import Organisation

    query = (
        select(Organisation.uscc, Organisation.name, Organisation.kind, Organisation.address, Organisation.created_at)
        .where(subtree_clause(Organisation.region_path, dataset.region_path))
        .order_by(Organisation.id)
    )
    rows, total = _page(session, query, offset, limit)
    return [{k: _iso(v) for k, v in row._mapping.items()} for row in rows], total


def _devices(session: Session, dataset: Dataset, offset: int, limit: int) -> Rows:
    from cityos.places.devices.models import Device

    query = (
        select(Device.code, Device.kind, Device.name, Device.status, Device.lon, Device.lat, Device.last_seen_at)
        .where(subtree_clause(Device.region_path, dataset.region_path))
        .order_by(Device.id)
    )
    rows, total = _page(session, query, offset, limit)
    return [{k: _iso(v) for k, v in row._mapping.items()} for row in rows], total


def _applications(session: Session, dataset: Dataset, offset: int, limit: int) -> Rows:
    from cityos.services.applications.models import Application

    query = (
        select(Application.item_code, Application.status, func.count().label("count"))
        .where(subtree_clause(Application.region_path, dataset.region_path))
        .group_by(Application.item_code, Application.status)
        .order_by(Application.item_code, Application.status)
    )
    rows, total = _page(session, query, offset, limit)
    return [dict(row._mapping) for row in rows], total


SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            "cases",
            N_("Cases of the owner department"),
            (
                _f("no", "string", "工单号"),
                _f("category_code", "string", "类别"),
                _f("title", "text", "标题"),
                _f("status", "string", "状态"),
                _f("address", "text", "地址", "personal"),
                _f("lon", "lon", "经度", "personal"),
                _f("lat", "lat", "纬度", "personal"),
                _f("reporter_label", "name", "反映人", "personal"),
                _f("created_at", "datetime", "创建时间"),
                _f("closed_at", "datetime", "结案时间"),
            ),
            _cases,
        ),
        Source(
            "people.orgs",
            N_("Organisations in the owner department's area"),
            (
                _f("uscc", "string", "统一社会信用代码"),
                _f("name", "string", "名称"),
                _f("kind", "string", "类型"),
                _f("address", "text", "地址"),
                _f("created_at", "datetime", "登记时间"),
            ),
            _orgs,
        ),
        Source(
            "places.devices",
            N_("Devices in the owner department's area"),
            (
                _f("code", "string", "设备编码"),
                _f("kind", "string", "类型"),
                _f("name", "string", "名称"),
                _f("status", "string", "状态"),
                _f("lon", "lon", "经度"),
                _f("lat", "lat", "纬度"),
                _f("last_seen_at", "datetime", "最后上报"),
            ),
            _devices,
        ),
        Source(
            "services.applications",
            N_("Service applications counted by item and status"),
            (
                _f("item_code", "string", "事项编码"),
                _f("status", "string", "状态"),
                _f("count", "integer", "件数"),
            ),
            _applications,
        ),
    )
}


# --- NGSI-LD entities ------------------------------------------------------------------------------


def _short(key: str) -> str:
    for sep in ("#", "/"):
        if sep in key:
            key = key.rsplit(sep, 1)[1]
    return key


def _attribute_value(attr: Any) -> Any:
    if isinstance(attr, list):
        attr = attr[0] if attr else None
    if not isinstance(attr, dict):
        return attr
    kind = attr.get("type")
    if kind == "Relationship":
        return attr.get("object")
    if kind == "LanguageProperty":
        return attr.get("languageMap")
    value = attr.get("value")
    if kind == "GeoProperty" and isinstance(value, dict) and value.get("type") == "Point":
        return list(value.get("coordinates", [])[:2])
    return value


def flatten(entity: dict[str, Any]) -> dict[str, Any]:
    """An entity in canonical form as one flat row: ``id``, ``type`` (short), ``modifiedAt`` and
    one value per attribute under its short name (the last segment of the expanded IRI)."""
    row: dict[str, Any] = {
        "id": entity.get("id"),
        "type": _short(str(entity.get("type", ""))),
        "modifiedAt": entity.get("modifiedAt"),
    }
    for key, attr in entity.items():
        if key in ("id", "type", "createdAt", "modifiedAt", "@context"):
            continue
        row.setdefault(_short(key), _attribute_value(attr))
    return row


def read_entities(session: Session, dataset: Dataset, offset: int, limit: int) -> Rows:
    from cityos.hub.ngsi import service as ngsi

    # One more than asked tells whether there is a next page; the store gives no count.
    found = ngsi.entities_of_type(
        session, tenant=dataset.tenant, entity_type=dataset.source, limit=limit + 1, offset=offset
    )
    rows = [flatten(e) for e in found[:limit]]
    return rows, offset + len(found)


def read(session: Session, dataset: Dataset, offset: int, limit: int, *, upload_dir: Path | None = None) -> Rows:
    """The rows ``[offset, offset + limit)`` of a dataset, unprojected (callers project them)."""
    if dataset.kind == "table":
        return SOURCES[dataset.source].read(session, dataset, offset, limit)
    if dataset.kind == "entity_type":
        return read_entities(session, dataset, offset, limit)
    from cityos.hub.catalogue import files

    rows = files.load(dataset.source, dataset.file_name or "", upload_dir or files.default_dir())
    return rows[offset : offset + limit], len(rows)
