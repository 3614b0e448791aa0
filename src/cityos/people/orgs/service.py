"""Organisations (enterprises, property companies, merchants, NGOs), government departments and
their responsibility list (权责清单: case category × region → department)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.people import validation
from cityos.people.models import Department, Organisation, OrganisationKind, Responsibility
from cityos.places.models import Region

MSG_NAME = N_("Enter a name of 1 to {max_length} characters.")
MSG_KIND = N_("Must be one of: {expected}.")
MSG_REGION = N_("The region does not exist or is outside your area.")
MSG_USCC_TAKEN = N_("An organisation with this unified social credit code is already registered.")
MSG_ADDRESS = N_("Must be at most {max_length} characters.")
MSG_DEPT_CODE = N_("Use 1 to 32 letters, digits, '.', '_' or '-'.")
MSG_DEPT_CODE_TAKEN = N_("A department with code {code} already exists.")
MSG_PARENT = N_("The parent department does not exist or is outside your area.")
MSG_CATEGORY = N_("A case category is 1 to 64 lower-case letters, digits, '.', '_' or '-' (for example event.01).")
MSG_RESP_REGION = N_("A department answers only inside its own region.")
MSG_RESP_TAKEN = N_("This department already answers for this category in this region.")

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _region_in_scope(session: Session, actor: Actor, region_id: int | None) -> Region | None:
    region = session.get(Region, region_id) if region_id is not None else None
    return region if region is not None and actor.covers(region) else None


# --- organisations ---------------------------------------------------------------------------------


def get_organisation(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None or not (actor.covers(org.region_path) or actor.organisation_id == org.id):
        raise NotFound()
    if actor.organisation_id != org.id:
        actor.require("organisation:read", region=org.region_path)
    return org


def list_organisations(
    session: Session,
    actor: Actor,
    params: PageParams,
    *,
    region_id: int | None = None,
    kind: str | None = None,
    q: str | None = None,
) -> tuple[list[Organisation], int | None]:
    actor.require("organisation:read")
    path = actor.scope_path
    if region_id is not None:
        region = _region_in_scope(session, actor, region_id)
        if region is None:
            raise NotFound()
        path = region.path
    query = select(Organisation).where(subtree_clause(Organisation.region_path, path))
    if kind:
        query = query.where(Organisation.kind == kind)
    if q and q.strip():
        text = q.strip()
        query = query.where(
            or_(Organisation.name.contains(text, autoescape=True), Organisation.uscc.startswith(text.upper()))
        )
    return fetch_page(session, query.order_by(Organisation.name, Organisation.id), params)


def _organisation_errors(session: Session, actor: Actor, data: dict[str, Any], *, partial: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if "name" in data or not partial:
        name = _clean(data.get("name"))
        if not name or len(name) > 128:
            errors.append(FieldError("name", MSG_NAME, {"max_length": 128}))
        data["name"] = name
    if "kind" in data or not partial:
        if data.get("kind") not in {k.value for k in OrganisationKind}:
            expected = ", ".join(k.value for k in OrganisationKind)
            errors.append(FieldError("kind", MSG_KIND, {"expected": expected}))
    if "uscc" in data or not partial:
        uscc = validation.normalise_uscc(str(data.get("uscc") or ""))
        error = validation.uscc_error(uscc)
        if error:
            errors.append(FieldError("uscc", error))
        data["uscc"] = uscc
    if "region_id" in data or not partial:
        if _region_in_scope(session, actor, data.get("region_id")) is None:
            errors.append(FieldError("region_id", MSG_REGION))
    if data.get("address") is not None:
        data["address"] = _clean(data["address"]) or None
        if data["address"] and len(data["address"]) > 255:
            errors.append(FieldError("address", MSG_ADDRESS, {"max_length": 255}))
    return errors


def create_organisation(session: Session, actor: Actor, *, data: dict[str, Any]) -> Organisation:
    actor.require("organisation:write")
    data = dict(data)
    errors = _organisation_errors(session, actor, data, partial=False)
    if errors:
        raise Invalid(details=errors)
    if session.scalar(select(Organisation.id).where(Organisation.uscc == data["uscc"])) is not None:
        raise Conflict(details=[FieldError("uscc", MSG_USCC_TAKEN)])
    region = session.get(Region, data["region_id"])
    assert region is not None  # checked above
    actor.require("organisation:write", region=region)
    org = Organisation(
        uscc=data["uscc"],
        name=data["name"],
        kind=data["kind"],
        region_id=region.id,
        region_path=region.path,
        address=data.get("address"),
    )
    session.add(org)
    session.flush()
    return org


def update_organisation(session: Session, actor: Actor, *, organisation_id: int, data: dict[str, Any]) -> Organisation:
    org = get_organisation(session, actor, organisation_id)
    actor.require("organisation:write", region=org.region_path)
    data = dict(data)
    errors = _organisation_errors(session, actor, data, partial=True)
    if errors:
        raise Invalid(details=errors)
    if "uscc" in data and data["uscc"] != org.uscc:
        taken = session.scalar(select(Organisation.id).where(Organisation.uscc == data["uscc"]))
        if taken is not None:
            raise Conflict(details=[FieldError("uscc", MSG_USCC_TAKEN)])
    if "region_id" in data:
        region = session.get(Region, data.pop("region_id"))
        assert region is not None
        actor.require("organisation:write", region=region)
        org.region_id, org.region_path = region.id, region.path
    for name in ("uscc", "name", "kind", "address"):
        if name in data:
            setattr(org, name, data[name])
    session.flush()
    return org


# --- departments -----------------------------------------------------------------------------------


def _ancestor_paths(path: str) -> list[str]:
    """'/1/7/42/' -> ['/1/', '/1/7/', '/1/7/42/']."""
    parts = [p for p in path.strip("/").split("/") if p]
    return [f"/{'/'.join(parts[: i + 1])}/" for i in range(len(parts))]


def _department_clause(actor: Actor) -> Any:
    """Departments of the actor's area and of the regions above it (a district's staff work
    with the city's bureaus too)."""
    return or_(
        actor.scope_clause(Department.region_path), Department.region_path.in_(_ancestor_paths(actor.scope_path))
    )


def get_department(session: Session, actor: Actor, department_id: int) -> Department:
    department = session.get(Department, department_id)
    visible = department is not None and (
        actor.covers(department.region_path)
        or department.region_path in _ancestor_paths(actor.scope_path)
        or actor.department_id == department.id
    )
    if department is None or not visible:
        raise NotFound()
    actor.require("department:read")
    return department


def department_query(actor: Actor, *, q: str | None = None) -> Select[Department]:
    query = select(Department).where(_department_clause(actor))
    if q and q.strip():
        query = query.where(Department.name.contains(q.strip(), autoescape=True))
    return query.order_by(func.length(Department.region_path), Department.region_path, Department.code)


def list_departments(
    session: Session, actor: Actor, params: PageParams, *, q: str | None = None
) -> tuple[list[Department], int | None]:
    actor.require("department:read")
    return fetch_page(session, department_query(actor, q=q), params)


def create_department(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    region_id: int,
    parent_id: int | None = None,
) -> Department:
    actor.require("department:write")
    errors: list[FieldError] = []
    code = code.strip()
    if not _CODE.match(code):
        errors.append(FieldError("code", MSG_DEPT_CODE))
    clean_name = _clean(name)
    if not clean_name or len(clean_name) > 128:
        errors.append(FieldError("name", MSG_NAME, {"max_length": 128}))
    region = _region_in_scope(session, actor, region_id)
    if region is None:
        errors.append(FieldError("region_id", MSG_REGION))
    parent = session.get(Department, parent_id) if parent_id is not None else None
    if parent_id is not None and (parent is None or not actor.covers(parent.region_path)):
        errors.append(FieldError("parent_id", MSG_PARENT))
    if errors or region is None:
        raise Invalid(details=errors)
    if session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise Conflict(details=[FieldError("code", MSG_DEPT_CODE_TAKEN, {"code": code})])
    actor.require("department:write", region=region)
    department = Department(
        code=code, name=clean_name, region_id=region.id, region_path=region.path, parent_id=parent_id
    )
    session.add(department)
    session.flush()
    return department


# --- the responsibility list (权责清单) ---------------------------------------------------------------


@dataclass
class ResponsibilityRow:
    responsibility: Responsibility
    department: Department
    region_name: str


def list_responsibilities(
    session: Session,
    actor: Actor,
    params: PageParams,
    *,
    department_id: int | None = None,
    category: str | None = None,
) -> tuple[list[ResponsibilityRow], int | None]:
    actor.require("department:read")
    query = (
        select(Responsibility, Department, Region.name)
        .join(Department, Department.id == Responsibility.department_id)
        .join(Region, Region.id == Responsibility.region_id)
        .where(
            or_(
                actor.scope_clause(Responsibility.region_path),
                Responsibility.region_path.in_(_ancestor_paths(actor.scope_path)),
            )
        )
    )
    if department_id is not None:
        get_department(session, actor, department_id)
        query = query.where(Responsibility.department_id == department_id)
    if category:
        query = query.where(Responsibility.case_category == category)
    query = query.order_by(Responsibility.case_category, func.length(Responsibility.region_path), Responsibility.id)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.limit(params.size).offset(params.offset)).all()
    return [ResponsibilityRow(r, d, str(n)) for r, d, n in rows], total


def add_responsibility(
    session: Session, actor: Actor, *, department_id: int, case_category: str, region_id: int
) -> ResponsibilityRow:
    department = get_department(session, actor, department_id)
    errors: list[FieldError] = []
    category = case_category.strip()
    if not _CATEGORY.match(category):
        errors.append(FieldError("case_category", MSG_CATEGORY))
    region = _region_in_scope(session, actor, region_id)
    if region is None:
        errors.append(FieldError("region_id", MSG_REGION))
    elif not region.path.startswith(department.region_path):
        errors.append(FieldError("region_id", MSG_RESP_REGION))
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require("department:write", region=region)
    taken = session.scalar(
        select(Responsibility.id).where(
            Responsibility.case_category == category,
            Responsibility.region_id == region.id,
            Responsibility.department_id == department.id,
        )
    )
    if taken is not None:
        raise Conflict(details=[FieldError("case_category", MSG_RESP_TAKEN)])
    row = Responsibility(
        department_id=department.id, case_category=category, region_id=region.id, region_path=region.path
    )
    session.add(row)
    session.flush()
    return ResponsibilityRow(row, department, region.name)


def remove_responsibility(session: Session, actor: Actor, *, responsibility_id: int) -> None:
    row = session.get(Responsibility, responsibility_id)
    if row is None or not actor.covers(row.region_path):
        raise NotFound()
    actor.require("department:write", region=row.region_path)
    session.delete(row)
    session.flush()


def responsible_department(session: Session, *, category: str, region_path: str) -> Department | None:
    """The department that answers for ``category`` at this place: the entry of the 权责清单 whose
    region is the nearest one containing the place (a street's own rule beats the district's)."""
    row = session.execute(
        select(Department)
        .join(Responsibility, Responsibility.department_id == Department.id)
        .where(Responsibility.case_category == category, Responsibility.region_path.in_(_ancestor_paths(region_path)))
        .order_by(func.length(Responsibility.region_path).desc(), Responsibility.id)
        .limit(1)
    ).first()
    return row[0] if row is not None else None


def resolve(session: Session, actor: Actor, *, category: str, region_id: int) -> Department:
    """``responsible_department`` for a region in the actor's area; ``NotFound`` when no entry applies."""
    actor.require("department:read")
    region = _region_in_scope(session, actor, region_id)
    if region is None:
        raise NotFound()
    department = responsible_department(session, category=category, region_path=region.path)
    if department is None:
        raise NotFound()
    return department


def categories(session: Session, actor: Actor) -> list[str]:
    """The case categories the visible responsibility list knows."""
    actor.require("department:read")
    rows = session.scalars(
        select(Responsibility.case_category)
        .join(Department, Department.id == Responsibility.department_id)
        .where(_department_clause(actor))
        .distinct()
        .order_by(Responsibility.case_category)
    )
    return list(rows)
