"""JSON routes of organisations, departments and the responsibility list (权责清单)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from cityos.core.http import DbSession
from cityos.core.pagination import PageParams, PageQuery
from cityos.identity.deps import CurrentActor
from cityos.people.models import Department, Organisation, OrganisationKind
from cityos.people.orgs import service
from cityos.people.orgs.schemas import (
    DepartmentCreate,
    DepartmentPage,
    DepartmentRead,
    OrganisationCreate,
    OrganisationPage,
    OrganisationRead,
    OrganisationUpdate,
    ResponsibilityCreate,
    ResponsibilityPage,
    ResponsibilityRead,
)

router = APIRouter(prefix="/api/v1", tags=["organisations"])


@router.get("/organisations", response_model=OrganisationPage)
def list_organisations(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    region_id: int | None = None,
    kind: OrganisationKind | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> OrganisationPage:
    rows, total = service.list_organisations(
        session, actor, params, region_id=region_id, kind=kind.value if kind else None, q=q
    )
    items = [OrganisationRead.model_validate(o) for o in rows]
    return OrganisationPage(items=items, page=params.page, size=params.size, total=total)


@router.post("/organisations", response_model=OrganisationRead, status_code=201)
def create_organisation(body: OrganisationCreate, session: DbSession, actor: CurrentActor) -> Organisation:
    return service.create_organisation(session, actor, data=body.model_dump(mode="json"))


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
def get_organisation(organisation_id: int, session: DbSession, actor: CurrentActor) -> Organisation:
    return service.get_organisation(session, actor, organisation_id)


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead)
def update_organisation(
    organisation_id: int, body: OrganisationUpdate, session: DbSession, actor: CurrentActor
) -> Organisation:
    data: dict[str, Any] = body.model_dump(mode="json", include=body.model_fields_set)
    return service.update_organisation(session, actor, organisation_id=organisation_id, data=data)


@router.get("/departments", response_model=DepartmentPage)
def list_departments(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> DepartmentPage:
    """Departments of your area and of the regions above it."""
    rows, total = service.list_departments(session, actor, params, q=q)
    items = [DepartmentRead.model_validate(d) for d in rows]
    return DepartmentPage(items=items, page=params.page, size=params.size, total=total)


@router.post("/departments", response_model=DepartmentRead, status_code=201)
def create_department(body: DepartmentCreate, session: DbSession, actor: CurrentActor) -> Department:
    return service.create_department(
        session, actor, code=body.code, name=body.name, region_id=body.region_id, parent_id=body.parent_id
    )


@router.get("/departments/{department_id}", response_model=DepartmentRead)
def get_department(department_id: int, session: DbSession, actor: CurrentActor) -> Department:
    return service.get_department(session, actor, department_id)


def _responsibility_page(
    rows: list[service.ResponsibilityRow], total: int | None, params: PageParams
) -> ResponsibilityPage:
    items = [
        ResponsibilityRead(
            id=r.responsibility.id,
            department_id=r.department.id,
            department_name=r.department.name,
            case_category=r.responsibility.case_category,
            region_id=r.responsibility.region_id,
            region_name=r.region_name,
        )
        for r in rows
    ]
    return ResponsibilityPage(items=items, page=params.page, size=params.size, total=total)


@router.get("/responsibilities", response_model=ResponsibilityPage)
def list_responsibilities(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    department_id: int | None = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> ResponsibilityPage:
    """The responsibility list (权责清单) of your area."""
    rows, total = service.list_responsibilities(session, actor, params, department_id=department_id, category=category)
    return _responsibility_page(rows, total, params)


@router.get("/responsibilities/resolve", response_model=DepartmentRead)
def resolve_responsibility(
    session: DbSession,
    actor: CurrentActor,
    category: Annotated[str, Query(min_length=1, max_length=64)],
    region_id: int,
) -> Department:
    """The department that answers for a case category at a region (nearest entry wins)."""
    return service.resolve(session, actor, category=category, region_id=region_id)


@router.post("/departments/{department_id}/responsibilities", response_model=ResponsibilityRead, status_code=201)
def add_responsibility(
    department_id: int, body: ResponsibilityCreate, session: DbSession, actor: CurrentActor
) -> ResponsibilityRead:
    row = service.add_responsibility(
        session, actor, department_id=department_id, case_category=body.case_category, region_id=body.region_id
    )
    return _responsibility_page([row], 1, PageParams()).items[0]


@router.delete("/responsibilities/{responsibility_id}", status_code=204)
def remove_responsibility(responsibility_id: int, session: DbSession, actor: CurrentActor) -> Response:
    service.remove_responsibility(session, actor, responsibility_id=responsibility_id)
    return Response(status_code=204)
