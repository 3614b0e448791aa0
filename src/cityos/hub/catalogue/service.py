"""The data catalogue (数据目录): departments publish datasets once (X-Road's once-only), others
find them here. Who may do what:

- ``dataset:read``: browse the published catalogue (city-wide metadata; never the rows).
- ``dataset:publish``: publish, edit and withdraw the datasets of one's own department; an
  administrator does it for any department in their area (``department_id``).
- rows are read through ``records.py`` (grants, masking, the read log).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.hub.catalogue import files
from cityos.hub.catalogue.masking import FIELD_TYPES, SENSITIVITIES
from cityos.hub.catalogue.models import Dataset, DatasetClass, DatasetKind, DatasetStatus
from cityos.hub.catalogue.sources import SOURCES
from cityos.people.models import Department

CODE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
RESERVED = frozenset({"new", "requests", "grants", "readlog"})  # page paths under /data/
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FREQUENCIES = ("realtime", "hourly", "daily", "weekly", "monthly", "yearly", "once")
CLASSES = tuple(c.value for c in DatasetClass)
KINDS = tuple(k.value for k in DatasetKind)
MAX_TAGS = 20

MSG_REQUIRED = N_("This field is required.")
MSG_CODE = N_("Use 2 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter.")
MSG_CODE_TAKEN = N_("A dataset with the code {code} already exists.")
MSG_CHOICE = N_("Choose one of: {choices}.")
MSG_SOURCE = N_("Choose one of the platform sources: {choices}.")
MSG_ENTITY_TYPE = N_("Give the NGSI-LD entity type, e.g. WasteContainer.")
MSG_NO_FIELDS = N_("A dataset needs at least one field.")
MSG_FIELD_NAME = N_("Field names are letters, digits and '_', starting with a letter.")
MSG_FIELD_TWICE = N_("The field {name} is listed twice.")
MSG_FIELD_NOT_IN_SOURCE = N_("The source has no field {name}.")
MSG_TAG = N_("Tags are 1 to 32 characters.")
MSG_NO_DEPARTMENT = N_("Your account belongs to no department.")
MSG_NOT_OWNER = N_("Only the owner department may change this dataset.")
MSG_WITHDRAWN = N_("This dataset has been withdrawn.")
MSG_NOT_FILE = N_("Only a file dataset takes an uploaded file.")
MSG_FILE_NEEDED = N_("Upload the file of the dataset.")
MSG_OPEN_PERSONAL = N_("An open dataset may not have personal or sensitive fields: {names}.")


def is_admin(actor: Actor) -> bool:
    return "admin" in actor.roles or "*" in actor.permissions


def owns(actor: Actor, dataset: Dataset) -> bool:
    """The owner department's staff, or an administrator whose area holds the owner department."""
    if actor.department_id is not None and actor.department_id == dataset.department_id:
        return True
    return is_admin(actor) and actor.covers(dataset.region_path)


def _department(session: Session, actor: Actor, department_id: int | None) -> Department:
    if department_id is not None and is_admin(actor):
        dept = session.get(Department, department_id)
        if dept is None or not actor.covers(dept.region_path):
            raise Invalid(details=[FieldError("department_id", N_("Not found."))])
        return dept
    if actor.department_id is None:
        raise Forbidden(MSG_NO_DEPARTMENT, params={"permission": "dataset:publish"})
    dept = session.get(Department, actor.department_id)
    if dept is None:
        raise Forbidden(MSG_NO_DEPARTMENT, params={"permission": "dataset:publish"})
    return dept


def check_fields(raw: list[dict[str, Any]] | None, *, kind: str, source: str) -> list[dict[str, Any]]:
    """A clean schema, or ``Invalid`` with a message for each bad entry (``fields.N.name`` …).
    A table source's schema defaults to the source's and may only choose among its fields."""
    if raw is None and kind == DatasetKind.TABLE and source in SOURCES:
        return [dict(f) for f in SOURCES[source].fields]
    if not raw:
        raise Invalid(details=[FieldError("fields", MSG_NO_FIELDS)])
    known = {f["name"]: f for f in SOURCES[source].fields} if kind == DatasetKind.TABLE and source in SOURCES else None
    errors: list[FieldError] = []
    seen: set[str] = set()
    clean: list[dict[str, Any]] = []
    for n, item in enumerate(raw):
        name = str(item.get("name") or "").strip()
        type_ = str(item.get("type") or "string")
        sensitivity = str(item.get("sensitivity") or "none")
        if not FIELD_NAME.match(name):
            errors.append(FieldError(f"fields.{n}.name", MSG_FIELD_NAME))
        elif name in seen:
            errors.append(FieldError(f"fields.{n}.name", MSG_FIELD_TWICE, {"name": name}))
        elif known is not None and name not in known:
            errors.append(FieldError(f"fields.{n}.name", MSG_FIELD_NOT_IN_SOURCE, {"name": name}))
        seen.add(name)
        if known is not None and name in known:
            type_ = known[name]["type"]  # the source decides the type
        if type_ not in FIELD_TYPES:
            errors.append(FieldError(f"fields.{n}.type", MSG_CHOICE, {"choices": ", ".join(FIELD_TYPES)}))
        if sensitivity not in SENSITIVITIES:
            errors.append(FieldError(f"fields.{n}.sensitivity", MSG_CHOICE, {"choices": ", ".join(SENSITIVITIES)}))
        clean.append(
            {
                "name": name,
                "type": type_,
                "description": str(item.get("description") or "")[:255],
                "sensitivity": sensitivity,
            }
        )
    if errors:
        raise Invalid(details=errors)
    return clean


def _check_common(
    *, name: str | None, access_class: str | None, frequency: str | None, tags: list[str] | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if name is not None and not name.strip():
        errors.append(FieldError("name", MSG_REQUIRED))
    if access_class is not None and access_class not in CLASSES:
        errors.append(FieldError("access_class", MSG_CHOICE, {"choices": ", ".join(CLASSES)}))
    if frequency is not None and frequency not in FREQUENCIES:
        errors.append(FieldError("frequency", MSG_CHOICE, {"choices": ", ".join(FREQUENCIES)}))
    for tag in tags or []:
        if not 1 <= len(tag.strip()) <= 32:
            errors.append(FieldError("tags", MSG_TAG))
            break
    return errors


def _open_check(access_class: str, fields: list[dict[str, Any]]) -> list[FieldError]:
    personal = [f["name"] for f in fields if f["sensitivity"] != "none"]
    if access_class == DatasetClass.OPEN and personal:
        return [FieldError("access_class", MSG_OPEN_PERSONAL, {"names": ", ".join(personal)})]
    return []


def create_dataset(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    description: str = "",
    access_class: str = "shared",
    kind: str = "table",
    source: str = "",
    tenant: str = "default",
    fields: list[dict[str, Any]] | None = None,
    frequency: str = "daily",
    tags: list[str] | None = None,
    department_id: int | None = None,
    file: bytes | None = None,
    file_name: str | None = None,
    upload_dir: Path | None = None,
) -> Dataset:
    """Publish a dataset of one's department (发布). A file dataset comes with its file."""
    actor.require("dataset:publish")
    dept = _department(session, actor, department_id)
    code = (code or "").strip()
    source = (source or "").strip()
    errors = _check_common(name=name, access_class=access_class, frequency=frequency, tags=tags)
    if not CODE.match(code):
        errors.append(FieldError("code", MSG_CODE))
    elif code in RESERVED:
        errors.append(FieldError("code", MSG_CODE_TAKEN, {"code": code}))
    if kind not in KINDS:
        errors.append(FieldError("kind", MSG_CHOICE, {"choices": ", ".join(KINDS)}))
    elif kind == DatasetKind.TABLE and source not in SOURCES:
        errors.append(FieldError("source", MSG_SOURCE, {"choices": ", ".join(SOURCES)}))
    elif kind == DatasetKind.ENTITY_TYPE and not re.match(r"^[A-Za-z][\w:/#.-]{0,254}$", source):
        errors.append(FieldError("source", MSG_ENTITY_TYPE))
    elif kind == DatasetKind.FILE and not file:
        errors.append(FieldError("file", MSG_FILE_NEEDED))
    clean: list[dict[str, Any]] = []
    if not any(e.field in ("kind", "source") for e in errors):
        try:
            clean = check_fields(fields, kind=kind, source=source)
        except Invalid as exc:
            errors.extend(exc.details)
    if not errors:
        errors.extend(_open_check(access_class, clean))
    if errors:
        raise Invalid(details=errors)
    if session.scalar(select(Dataset.id).where(Dataset.code == code)) is not None:
        raise Conflict(
            MSG_CODE_TAKEN, details=[FieldError("code", MSG_CODE_TAKEN, {"code": code})], params={"code": code}
        )
    rows: int | None = None
    if kind == DatasetKind.FILE:
        assert file is not None
        suffix, parsed = files.check(file, file_name or "data.csv", clean)
        source = files.store(file, suffix, upload_dir or files.default_dir())
        file_name = (file_name or f"data.{suffix}")[:255]
        rows = len(parsed)
    dataset = Dataset(
        code=code,
        name=name.strip()[:128],
        description=(description or "").strip(),
        department_id=dept.id,
        region_path=dept.region_path,
        access_class=access_class,
        kind=kind,
        source=source,
        tenant=(tenant or "default").strip() or "default",
        fields=clean,
        frequency=frequency,
        tags=[t.strip() for t in tags or []][:MAX_TAGS],
        status=DatasetStatus.PUBLISHED,
        version=1,
        file_name=file_name if kind == DatasetKind.FILE else None,
        file_rows=rows,
        created_by=actor.label[:128],
    )
    session.add(dataset)
    session.flush()
    return dataset


def find(session: Session, code: str) -> Dataset | None:
    return session.scalar(select(Dataset).where(Dataset.code == code))


def get_dataset(session: Session, actor: Actor, code: str) -> Dataset:
    """A published dataset (its owner also sees it withdrawn)."""
    actor.require("dataset:read")
    dataset = find(session, code)
    if dataset is None or (dataset.status != DatasetStatus.PUBLISHED and not owns(actor, dataset)):
        raise NotFound()
    return dataset


def _owned(session: Session, actor: Actor, code: str) -> Dataset:
    actor.require("dataset:publish")
    dataset = find(session, code)
    if dataset is None:
        raise NotFound()
    if not owns(actor, dataset):
        if dataset.status != DatasetStatus.PUBLISHED or not actor.can("dataset:read"):
            raise NotFound()
        raise Forbidden(MSG_NOT_OWNER, params={"permission": "dataset:publish"})
    return dataset


def search(
    session: Session,
    actor: Actor,
    params: PageParams,
    *,
    q: str | None = None,
    access_class: str | None = None,
    department_id: int | None = None,
    tag: str | None = None,
    mine: bool = False,
) -> tuple[list[Dataset], int | None]:
    """Published datasets (and one's own withdrawn ones), by words in the code, name,
    description or tags. Only metadata: never a row of data."""
    actor.require("dataset:read")
    query = select(Dataset).order_by(Dataset.updated_at.desc(), Dataset.id.desc())
    own = Dataset.department_id == actor.department_id if actor.department_id is not None else None
    if mine and own is not None:
        query = query.where(own)
    elif mine:
        query = query.where(Dataset.id.is_(None))
    elif own is not None:
        query = query.where(or_(Dataset.status == DatasetStatus.PUBLISHED, own))
    else:
        query = query.where(Dataset.status == DatasetStatus.PUBLISHED)
    words = (q or "").strip().lower()
    if words:
        for word in words.split()[:5]:
            pattern = f"%{word}%"
            query = query.where(
                or_(
                    func.lower(Dataset.code).like(pattern),
                    func.lower(Dataset.name).like(pattern),
                    func.lower(Dataset.description).like(pattern),
                    func.lower(cast(Dataset.tags, String)).like(pattern),
                )
            )
    if access_class in CLASSES:
        query = query.where(Dataset.access_class == access_class)
    if department_id is not None:
        query = query.where(Dataset.department_id == department_id)
    if tag:
        query = query.where(cast(Dataset.tags, String).like(f'%"{tag.strip()}"%'))
    return fetch_page(session, query, params)


def update_dataset(session: Session, actor: Actor, code: str, changes: dict[str, Any]) -> Dataset:
    """Edit a dataset; a new schema or class is a new version (grants keep their field lists)."""
    dataset = _owned(session, actor, code)
    if dataset.status != DatasetStatus.PUBLISHED:
        raise Conflict(MSG_WITHDRAWN)
    errors = _check_common(
        name=changes.get("name"),
        access_class=changes.get("access_class"),
        frequency=changes.get("frequency"),
        tags=changes.get("tags"),
    )
    fields = dataset.fields
    if changes.get("fields") is not None:
        try:
            fields = check_fields(changes["fields"], kind=dataset.kind, source=dataset.source)
        except Invalid as exc:
            errors.extend(exc.details)
        if dataset.kind == DatasetKind.FILE and not errors:
            names = sorted(f["name"] for f in fields)
            if names != sorted(f["name"] for f in dataset.fields):
                errors.append(FieldError("fields", N_("A file dataset's field names follow its file.")))
    if not errors:
        errors.extend(_open_check(changes.get("access_class") or dataset.access_class, fields))
    if errors:
        raise Invalid(details=errors)
    bump = False
    if changes.get("name") is not None:
        dataset.name = str(changes["name"]).strip()[:128]
    if changes.get("description") is not None:
        dataset.description = str(changes["description"]).strip()
    if changes.get("frequency") is not None:
        dataset.frequency = changes["frequency"]
    if changes.get("tags") is not None:
        dataset.tags = [t.strip() for t in changes["tags"]][:MAX_TAGS]
    if changes.get("access_class") is not None and changes["access_class"] != dataset.access_class:
        dataset.access_class = changes["access_class"]
        bump = True
    if changes.get("fields") is not None and fields != dataset.fields:
        dataset.fields = fields
        bump = True
    if bump:
        dataset.version += 1
    dataset.updated_at = utcnow()
    session.flush()
    return dataset


def replace_file(
    session: Session, actor: Actor, code: str, *, data: bytes, file_name: str, upload_dir: Path | None = None
) -> Dataset:
    """A new version of a file dataset's data, checked against its schema."""
    dataset = _owned(session, actor, code)
    if dataset.kind != DatasetKind.FILE:
        raise Invalid(details=[FieldError("file", MSG_NOT_FILE)])
    if dataset.status != DatasetStatus.PUBLISHED:
        raise Conflict(MSG_WITHDRAWN)
    suffix, parsed = files.check(data, file_name, dataset.fields)
    dataset.source = files.store(data, suffix, upload_dir or files.default_dir())
    dataset.file_name = file_name[:255]
    dataset.file_rows = len(parsed)
    dataset.version += 1
    dataset.updated_at = utcnow()
    session.flush()
    return dataset


def withdraw_dataset(session: Session, actor: Actor, code: str) -> Dataset:
    """Take a dataset out of the catalogue (下架): nobody but its owner reads it any more."""
    dataset = _owned(session, actor, code)
    if dataset.status == DatasetStatus.WITHDRAWN:
        return dataset
    dataset.status = DatasetStatus.WITHDRAWN
    dataset.withdrawn_at = utcnow()
    dataset.updated_at = dataset.withdrawn_at
    session.flush()
    return dataset


def department_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(ids))).all())
