"""Permission-matrix entries of hub.catalogue (see tests/matrix_parts/base.py).

A department of grid 1 and one of grid 2, each owning a shared file dataset; each asks for the
other's dataset (a pending request) and holds a grant on it. The matrix's accounts belong to no
department, so only an administrator of grid 1 acts as the owner of the first dataset (publish,
edit, read its rows, approve, revoke); requesting needs a department, so it is refused to every
role. The catalogue's metadata (the list, a dataset, its usage) is city-wide by design: no
"outside" variant for those."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.hub.catalogue import grants
from cityos.hub.catalogue.models import DataGrant, Dataset
from cityos.identity.permissions import ROLE_PERMISSIONS
from cityos.people.models import Department
from tests.factories import World
from tests.matrix_parts.base import Case


def _admin(perms: frozenset[str], role: str) -> bool:
    return role == "admin"


def _nobody(perms: frozenset[str], role: str) -> bool:
    return False


def _requests(perms: frozenset[str], role: str) -> bool:
    return "dataset:request" in perms or "dataset:approve" in perms


def _audit(perms: frozenset[str], role: str) -> bool:
    return "audit:read" in perms


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/datasets", "dataset:read", outside=False),
    Case(
        "POST",
        "/api/v1/datasets",
        _admin,
        body=lambda i: {
            "code": "matrix.new",
            "name": "矩阵数据集",
            "kind": "table",
            "source": "places.devices",
            "department_id": i["catalogue_department"],
        },
    ),
    Case("GET", "/api/v1/datasets/{dataset_code}", "dataset:read", outside=False),
    Case("PATCH", "/api/v1/datasets/{dataset_code}", _admin, body=lambda i: {"description": "矩阵"}),
    Case("POST", "/api/v1/datasets/{dataset_code}/withdraw", _admin),
    Case("PUT", "/api/v1/datasets/{dataset_code}/file", _admin, body=lambda i: [{"a": "1"}]),
    Case(
        "POST",
        "/api/v1/datasets/{dataset_code}/requests",
        _nobody,
        body=lambda i: {"purpose": "矩阵用途", "days": 10},
    ),
    Case("GET", "/api/v1/datasets/{dataset_code}/records", _admin),
    Case("GET", "/api/v1/datasets/{dataset_code}/export", _admin),
    Case("GET", "/api/v1/datasets/{dataset_code}/usage", "dataset:read", outside=False),
    Case("GET", "/api/v1/data-usage/top", "dataset:read", outside=False),
    Case("GET", "/api/v1/data-requests", _requests, list_key="items", kind="catalogue_request", outside=False),
    Case("GET", "/api/v1/data-requests/{data_request_id}", _admin),  # others: a request of their department
    Case("POST", "/api/v1/data-requests/{data_request_id}/approve", _admin, body=lambda i: {}),
    Case("POST", "/api/v1/data-requests/{data_request_id}/refuse", _admin, body=lambda i: {"reason": "矩阵"}),
    Case("POST", "/api/v1/data-requests/{data_request_id}/cancel", _nobody),
    Case("GET", "/api/v1/data-grants", _requests, list_key="items", kind="catalogue_grant", outside=False),
    Case("POST", "/api/v1/data-grants/{data_grant_id}/revoke", _admin, body=lambda i: {"reason": "矩阵"}),
    Case("GET", "/api/v1/data-readlog", _audit, outside=False),
    Case("GET", "/api/v1/data-readlog/verify", _audit, outside=False),
)
PATH_PARAMS: dict[str, str] = {
    "dataset_code": "catalogue_dataset",
    "data_request_id": "catalogue_request",
    "data_grant_id": "catalogue_grant",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """This part's records inside grid 1 and outside it."""
    sides = ((inside, world.grid1, "in"), (outside, world.grid2, "out"))
    departments: dict[str, Department] = {}
    for side, grid, tag in sides:
        dept = Department(code=f"cat-{tag}", name=f"数据部门{tag}", region_id=grid.id, region_path=grid.path)
        session.add(dept)
        session.flush()
        departments[tag] = dept
        dataset = Dataset(
            code=f"matrix.{tag}",
            name=f"矩阵数据{tag}",
            description="",
            department_id=dept.id,
            region_path=dept.region_path,
            access_class="shared",
            kind="file",
            source="0" * 64,
            tenant="default",
            fields=[{"name": "a", "type": "string", "description": "", "sensitivity": "none"}],
            frequency="daily",
            tags=[],
            status="published",
            version=1,
            file_name="matrix.csv",
            file_rows=0,
        )
        session.add(dataset)
        session.flush()
        side.update(catalogue_department=dept.id, catalogue_dataset=dataset.code)
    staff = ROLE_PERMISSIONS["department_staff"]
    now = utcnow()
    for (side, _grid, tag), other in zip(sides, ("out", "in"), strict=True):
        requester = Actor(
            account_id=None,
            label=f"matrix-{other}",
            roles=frozenset({"department_staff"}),
            permissions=staff,
            department_id=departments[other].id,
        )
        request = grants.request_access(session, requester, f"matrix.{tag}", purpose="矩阵用途", days=10)
        dataset_id = request.dataset_id
        grant = DataGrant(
            dataset_id=dataset_id,
            department_id=departments[other].id,
            fields=["a"],
            masked=[],
            valid_from=now,
            valid_until=now + timedelta(days=10),
            status="active",
        )
        session.add(grant)
        session.flush()
        side.update(catalogue_request=request.id, catalogue_grant=grant.id)
