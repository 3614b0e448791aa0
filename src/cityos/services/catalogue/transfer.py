"""The catalogue's export and import (政务服务事项 in bulk): CSV of the items, or JSON of the items and
bundles; an import checks every row as ``service`` checks one item, then writes all or nothing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.services.catalogue.models import ServiceBundle, ServiceItem
from cityos.services.catalogue.schemas import BundleData, ItemData
from cityos.services.catalogue.service import (
    BUNDLE_FIELDS,
    ITEM_FIELDS,
    bundle_item_errors,
    credential_kinds,
    item_meaning_errors,
    parse_into,
    write_bundles,
    write_items,
)

MSG_CODE_TWICE = N_('The code "{code}" appears twice in the file.')
MSG_FORMAT = N_("Must be one of: {expected}.")
MSG_FILE = N_("The file could not be read: {problem}")
MSG_EMPTY = N_("The file holds no items.")
MSG_JSON_TEXT = N_("Must be JSON text.")

JSON_COLUMNS = ("department_kinds", "materials", "form_schema", "channels")
_NULLABLE = ("promised_days", "result_credential_kind")


def export_items(session: Session, fmt: str) -> str | bytes:
    """The whole catalogue. ``json``: ``{"items": [...], "bundles": [...]}`` as text; ``csv``: the items,
    one a row, the list and object columns as JSON text, UTF-8 with a byte-order mark (opens in Excel)."""
    if fmt not in ("json", "csv"):
        raise Invalid(details=[FieldError("format", MSG_FORMAT, {"expected": "json, csv"})])
    items = [_record(i) for i in session.scalars(select(ServiceItem).order_by(ServiceItem.code))]
    if fmt == "json":
        bundles = [
            {k: getattr(b, k) for k in BUNDLE_FIELDS}
            for b in session.scalars(select(ServiceBundle).order_by(ServiceBundle.code))
        ]
        return json.dumps({"items": items, "bundles": bundles}, ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ITEM_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in items:
        writer.writerow({k: _csv_cell(k, record[k]) for k in ITEM_FIELDS})
    return out.getvalue().encode("utf-8-sig")


def _record(item: ServiceItem) -> dict[str, Any]:
    return {k: getattr(item, k) for k in ITEM_FIELDS}


def _csv_cell(key: str, value: Any) -> str:
    if key in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _csv_rows(text: str, errors: list[FieldError]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    reader = csv.DictReader(io.StringIO(text))
    for n, line in enumerate(reader, start=1):
        row: dict[str, Any] = {}
        for key, value in line.items():
            if key is None:  # more cells than columns
                errors.append(FieldError(f"items.{n}", N_("This row has more cells than the header has columns.")))
                continue
            cell = (value or "").strip() if key not in ("guide", "conditions") else (value or "")
            if key in JSON_COLUMNS:
                try:
                    row[key] = json.loads(cell) if cell else None
                except ValueError:
                    errors.append(FieldError(f"items.{n}.{key}", MSG_JSON_TEXT))
                    row[key] = None
            elif cell == "":
                row[key] = None  # an empty cell: null where allowed, else the default (or "required")
            else:
                row[key] = cell
        rows.append({k: v for k, v in row.items() if v is not None or (k in _NULLABLE and line.get(k) == "")})
    return rows


def _read(data: str | bytes, fmt: str) -> tuple[list[Any], list[Any], list[FieldError]]:
    errors: list[FieldError] = []
    if fmt not in ("json", "csv"):
        raise Invalid(details=[FieldError("format", MSG_FORMAT, {"expected": "json, csv"})])
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise Invalid(details=[FieldError("file", MSG_FILE, {"problem": "not UTF-8"})]) from exc
    if fmt == "csv":
        try:
            return _csv_rows(text, errors), [], errors
        except csv.Error as exc:
            raise Invalid(details=[FieldError("file", MSG_FILE, {"problem": str(exc)[:200]})]) from exc
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise Invalid(details=[FieldError("file", MSG_FILE, {"problem": str(exc)[:200]})]) from exc
    if isinstance(parsed, list):
        return parsed, [], errors
    if isinstance(parsed, dict) and set(parsed) <= {"items", "bundles"}:
        items, bundles = parsed.get("items", []), parsed.get("bundles", [])
        if isinstance(items, list) and isinstance(bundles, list):
            return items, bundles, errors
    raise Invalid(
        details=[
            FieldError("file", MSG_FILE, {"problem": 'expected a list of items or {"items": [...], "bundles": [...]}'})
        ]
    )


def import_items(session: Session, actor: Actor, data: str | bytes, fmt: str) -> int:
    """Imports items (and, from JSON, bundles): all or nothing. Every row is checked first; the field
    errors say which row (``items.3.form_schema``, rows counted from 1, a CSV header not counted) and
    which field. Existing codes are replaced, new ones added. Returns how many records were written."""
    actor.require("service:write")
    raw_items, raw_bundles, errors = _read(data, fmt)
    if not raw_items and not raw_bundles:
        raise Invalid(details=[FieldError("file", MSG_EMPTY)])
    kinds = credential_kinds(session)
    items: list[ItemData] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(raw_items, start=1):
        prefix = f"items.{n}."
        parsed = parse_into(ItemData, raw, prefix, errors)
        if parsed is None:
            continue
        errors += item_meaning_errors(parsed, kinds, prefix)
        if parsed.code in seen:
            errors.append(FieldError(f"{prefix}code", MSG_CODE_TWICE, {"code": parsed.code}))
        seen[parsed.code] = n
        items.append(parsed)
    bundles: list[BundleData] = []
    bundle_codes: set[str] = set()
    for n, raw in enumerate(raw_bundles, start=1):
        prefix = f"bundles.{n}."
        bundle = parse_into(BundleData, raw, prefix, errors)
        if bundle is None:
            continue
        errors += bundle_item_errors(session, bundle, prefix, set(seen))
        if bundle.code in bundle_codes:
            errors.append(FieldError(f"{prefix}code", MSG_CODE_TWICE, {"code": bundle.code}))
        bundle_codes.add(bundle.code)
        bundles.append(bundle)
    if errors:
        raise Invalid(details=errors)
    return write_items(session, items) + write_bundles(session, bundles)
