"""Uploaded dataset files: a CSV (UTF-8, first line the field names) or JSON (a list of objects),
checked against the dataset's schema on upload and kept by content hash under
``settings.upload_dir/datasets/`` (the same bytes are stored once)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.hub.catalogue.masking import conforms

MSG_EMPTY = N_("The file is empty.")
MSG_TOO_BIG = N_("The file is larger than {mb} MB.")
MSG_FORMAT = N_("The file must be a CSV file (UTF-8) or a JSON list of objects.")
MSG_MISSING_COLUMN = N_("The file has no column {field}.")
MSG_EXTRA_COLUMN = N_("The column {field} is not in the schema.")
MSG_CELL = N_("Row {row}: the value of {field} is not of the type {type}.")
MAX_CELL_ERRORS = 10


def default_dir() -> Path:
    return Path(get_settings().upload_dir)


def path_of(upload_dir: Path, digest: str, suffix: str) -> Path:
    return upload_dir / "datasets" / f"{digest}.{suffix}"


def _parse(data: bytes, filename: str) -> tuple[str, list[dict[str, Any]], list[str]]:
    """``(suffix, rows, columns)``; raises ``Invalid`` when neither CSV nor JSON."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(details=[FieldError("file", MSG_FORMAT)]) from exc
    stripped = text.lstrip()
    if filename.lower().endswith(".json") or stripped.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise Invalid(details=[FieldError("file", MSG_FORMAT)]) from exc
        if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
            raise Invalid(details=[FieldError("file", MSG_FORMAT)])
        columns: list[str] = []
        for row in loaded:
            columns.extend(k for k in row if k not in columns)
        return "json", loaded, columns
    try:
        reader = csv.DictReader(io.StringIO(text))
        rows = [dict(r) for r in reader]
        columns = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise Invalid(details=[FieldError("file", MSG_FORMAT)]) from exc
    if not columns or any(None in r for r in rows):
        raise Invalid(details=[FieldError("file", MSG_FORMAT)])
    return "csv", rows, columns


def check(data: bytes, filename: str, fields: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Parse and validate an upload against the schema; every problem is a ``file`` field error."""
    limit_mb = get_settings().max_upload_mb
    if not data.strip():
        raise Invalid(details=[FieldError("file", MSG_EMPTY)])
    if len(data) > limit_mb * 1024 * 1024:
        raise Invalid(details=[FieldError("file", MSG_TOO_BIG, {"mb": limit_mb})])
    suffix, rows, columns = _parse(data, filename)
    if not rows:
        raise Invalid(details=[FieldError("file", MSG_EMPTY)])
    names = [f["name"] for f in fields]
    errors = [FieldError("file", MSG_MISSING_COLUMN, {"field": n}) for n in names if n not in columns]
    errors += [FieldError("file", MSG_EXTRA_COLUMN, {"field": c}) for c in columns if c not in names]
    if errors:
        raise Invalid(details=errors)
    types = {f["name"]: f["type"] for f in fields}
    for number, row in enumerate(rows, start=1):
        for name, value in row.items():
            if not conforms(types[name], value):
                # The message names the row and the field, never the value (it may be personal).
                errors.append(FieldError("file", MSG_CELL, {"row": number, "field": name, "type": types[name]}))
                if len(errors) >= MAX_CELL_ERRORS:
                    raise Invalid(details=errors)
    if errors:
        raise Invalid(details=errors)
    return suffix, rows


def store(data: bytes, suffix: str, upload_dir: Path) -> str:
    """Keep the bytes under their SHA-256; returns the digest."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(upload_dir, digest, suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return digest


@lru_cache(maxsize=32)
def _load(path: str) -> tuple[dict[str, Any], ...]:
    file = Path(path)
    data = file.read_bytes()
    _suffix, rows, _columns = _parse(data, file.name)
    return tuple(rows)


def load(digest: str, filename: str, upload_dir: Path) -> list[dict[str, Any]]:
    """The rows of a stored file (cached by path; the content of a path never changes)."""
    suffix = "json" if filename.lower().endswith(".json") else "csv"
    path = path_of(upload_dir, digest, suffix)
    if not path.exists():
        other = path_of(upload_dir, digest, "csv" if suffix == "json" else "json")
        path = other if other.exists() else path
    if not path.exists():
        return []
    return [dict(r) for r in _load(str(path))]
