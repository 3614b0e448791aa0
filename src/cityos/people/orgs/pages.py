"""HTML pages of departments with the responsibility list (权责清单), and of organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.pagination import PageParams
from cityos.identity.deps import CurrentActor
from cityos.people.models import OrganisationKind
from cityos.people.orgs import service
from cityos.places.models import Region
from cityos.web.forms import field_errors, refused
from cityos.web.shell import PageActor, current_region, page_actor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
KIND_LABELS: dict[str, str] = {
    OrganisationKind.ENTERPRISE: N_("Enterprise"),
    OrganisationKind.PROPERTY_COMPANY: N_("Property company"),
    OrganisationKind.MERCHANT: N_("Merchant"),
    OrganisationKind.NGO: N_("Social organisation"),
}


@router.get("/departments", response_class=HTMLResponse)
def departments(
    request: Request,
    session: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Departments of the area and above, and who answers for each case category here."""
    region = current_region(request, session, actor)
    rows, total = service.list_departments(session, actor, PageParams(page=page, size=PER_PAGE), q=q)
    answers = []
    if region is not None:
        for category in service.categories(session, actor):
            dept = service.responsible_department(session, category=category, region_path=region.path)
            answers.append((category, dept))
    return render(
        request,
        "people/departments.html",
        {
            "region": region,
            "departments": rows,
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "q": q,
            "answers": answers,
        },
    )


def _department_page(
    request: Request,
    session: Session,
    actor: Actor,
    department_id: int,
    *,
    errors: dict[str, str],
    values: dict[str, str],
) -> HTMLResponse:
    department = service.get_department(session, actor, department_id)
    page_actor(request, session, actor)
    rows, total = service.list_responsibilities(
        session, actor, PageParams(page=1, size=200), department_id=department.id
    )
    return render(
        request,
        "people/department.html",
        {
            "department": department,
            "rows": rows,
            "total": total or 0,
            "can_write": actor.can("department:write", region=department.region_path),
            "errors": errors,
            "values": values,
            "regions": _answer_regions(session, actor, department.region_id),
        },
        status_code=422 if errors else 200,
    )


def _answer_regions(session: Session, actor: Actor, region_id: int) -> list[Region]:
    """Where a department may take on a category: its own region and the regions just below it."""
    rows = session.scalars(
        select(Region)
        .where(or_(Region.id == region_id, Region.parent_id == region_id))
        .order_by(Region.depth, Region.code)
        .limit(300)
    )
    return [r for r in rows if actor.covers(r)]


@router.get("/departments/{department_id}", response_class=HTMLResponse)
def department_page(department_id: int, request: Request, session: DbSession, actor: CurrentActor) -> HTMLResponse:
    return _department_page(request, session, actor, department_id, errors={}, values={})


@router.post("/departments/{department_id}/responsibilities", response_class=HTMLResponse)
def add_responsibility(
    department_id: int,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    case_category: Annotated[str, Form(max_length=80)] = "",
    region_id: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    values = {"case_category": case_category, "region_id": region_id}
    if not region_id.isdigit():
        errors = {"region_id": translate("This field is required.")}
        return _department_page(request, session, actor, department_id, errors=errors, values=values)
    try:
        service.add_responsibility(
            session, actor, department_id=department_id, case_category=case_category, region_id=int(region_id)
        )
    except DomainError as exc:
        if not exc.details:
            raise
        session.rollback()
        return _department_page(request, session, actor, department_id, errors=field_errors(exc), values=values)
    return RedirectResponse(f"/departments/{department_id}", status_code=303)


@router.post("/responsibilities/{responsibility_id}/remove")
def remove_responsibility(
    responsibility_id: int,
    session: DbSession,
    actor: CurrentActor,
    department_id: Annotated[int, Form()],
) -> Response:
    service.remove_responsibility(session, actor, responsibility_id=responsibility_id)
    return RedirectResponse(f"/departments/{department_id}", status_code=303)


def _organisations_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    kind: str,
    q: str,
    page: int,
    errors: dict[str, str],
    values: dict[str, str],
) -> HTMLResponse:
    region = current_region(request, session, actor)
    rows, total = service.list_organisations(
        session,
        actor,
        PageParams(page=page, size=PER_PAGE),
        region_id=region.id if region else None,
        kind=kind if kind in KIND_LABELS else None,
        q=q,
    )
    context = {
        "region": region,
        "organisations": rows,
        "total": total or 0,
        "page": page,
        "pages": max(1, -(-(total or 0) // PER_PAGE)),
        "kind": kind,
        "q": q,
        "kind_labels": KIND_LABELS,
        "can_write": actor.can("organisation:write", region=region.path if region else None),
        "errors": errors,
        "values": values,
    }
    if request.headers.get("hx-request") and not errors:
        return render(request, "people/_organisations_table.html", context)
    return render(request, "people/organisations.html", context, status_code=422 if errors else 200)


@router.get("/organisations", response_class=HTMLResponse)
def organisations(
    request: Request,
    session: DbSession,
    actor: PageActor,
    kind: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    return _organisations_page(request, session, actor, kind=kind, q=q, page=page, errors={}, values={})


@router.post("/organisations", response_class=HTMLResponse)
def create_organisation(
    request: Request,
    session: DbSession,
    actor: PageActor,
    uscc: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    address: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    values = {"uscc": uscc, "name": name, "kind": kind, "address": address}
    region = current_region(request, session, actor)
    data = {**values, "region_id": region.id if region else None, "address": address or None}
    try:
        service.create_organisation(session, actor, data=data)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _organisations_page(request, session, actor, kind="", q="", page=1, errors=errors, values=values)
    return RedirectResponse("/organisations?created=1", status_code=303)
