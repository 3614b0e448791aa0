"""Every role × every JSON endpoint: allowed (2xx) exactly when the role holds the endpoint's
permission, 403/404 otherwise; and a record outside the account's region subtree is never read
or written. A new /api/v1 route without an entry here fails the test, so the matrix stays whole.

Every account acts within grid 1 of the test world; the "outside" records live in grid 2 or
district B. Each request runs inside a savepoint that is rolled back, so writes do not leak
from one request into the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cityos.identity import tokens
from cityos.identity.models import OAuthClient
from cityos.identity.permissions import CLIENT_GRANTABLE, ROLE_PERMISSIONS, ROLES, Role
from cityos.people.models import Department, Organisation, Residence, Responsibility
from cityos.places import index
from tests.factories import World, box, make_account, make_actor, make_person, make_world
from tests.matrix_parts import PARTS
from tests.matrix_parts.base import Case


@dataclass
class Ids:
    """Records the matrix points at: ``inside`` grid 1, ``outside`` it."""

    inside: dict[str, Any]
    outside: dict[str, Any]
    self_person: int


def _geometry(ids: dict[str, Any]) -> dict[str, Any]:
    return box(ids["lon"] - 0.01, 30.0, 0.05, 0.1)


MATRIX_SPEC: dict[str, Any] = {
    "key": "matrix",
    "title": "矩阵",
    "initial": "open",
    "states": {"open": {"title": "开"}, "done": {"title": "完", "final": True}},
    "actions": [{"name": "finish", "from": ["open"], "to": "done", "roles": ["admin"]}],
}

CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/regions/locate", "region:read", query=lambda i: {"lon": i["lon"], "lat": 30.05}),
    Case("GET", "/api/v1/regions/search", "region:read", query=lambda i: {"q": "网格"}, list_key="", kind="grid"),
    Case(
        "POST",
        "/api/v1/regions",
        "region:write",
        body=lambda i: {"parent_id": i["grid"], "level": "estate", "code": "MATRIX1", "name": "矩阵小区"},
    ),
    Case("GET", "/api/v1/regions/{region_id}", "region:read"),
    Case("PATCH", "/api/v1/regions/{region_id}", "region:write", body=lambda i: {"name": "改名"}),
    Case("PUT", "/api/v1/regions/{region_id}/geometry", "region:write", body=_geometry),
    Case("DELETE", "/api/v1/regions/{region_id}/geometry", "region:write"),
    Case("GET", "/api/v1/regions/{region_id}/children", "region:read"),
    Case("GET", "/api/v1/regions/{region_id}/ancestors", "region:read"),
    Case("GET", "/api/v1/regions/{region_id}/geojson", "region:read"),
    Case("GET", "/api/v1/people", "person:read", list_key="items", kind="person", outside=False),
    Case("POST", "/api/v1/people", "person:write", body=lambda i: {"name": "矩阵", "region_id": i["room"]}),
    Case(
        "POST", "/api/v1/people/lookup", "person:read", body=lambda i: {"phone": i["phone"]}, list_key="", kind="person"
    ),
    Case("GET", "/api/v1/people/{person_id}", "person:read"),
    Case("PATCH", "/api/v1/people/{person_id}", "person:write", body=lambda i: {"name": "改"}),
    Case("POST", "/api/v1/people/{person_id}/reveal", "pii:read", body=lambda i: {}),
    Case("GET", "/api/v1/people/{person_id}/residences", "person:read"),
    Case(
        "POST",
        "/api/v1/people/{person_id}/residences",
        "household:write",
        body=lambda i: {"room_id": i["room2"], "relation": "tenant"},
    ),
    Case("POST", "/api/v1/residences/{residence_id}/end", "household:write", body=lambda i: {}),
    Case("GET", "/api/v1/households", "household:read", list_key="items", kind="household", outside=False),
    Case("GET", "/api/v1/households/{household_id}", "household:read"),
    Case("GET", "/api/v1/me", lambda perms, role: role == Role.RESIDENT, outside=False),
    Case("GET", "/api/v1/me/residences", lambda perms, role: role == Role.RESIDENT, outside=False),
    Case("GET", "/api/v1/organisations", "organisation:read", list_key="items", kind="organisation", outside=False),
    Case(
        "POST",
        "/api/v1/organisations",
        "organisation:write",
        body=lambda i: {"uscc": i["uscc"], "name": "矩阵公司", "kind": "enterprise", "region_id": i["grid"]},
    ),
    Case("GET", "/api/v1/organisations/{organisation_id}", "organisation:read"),
    Case("PATCH", "/api/v1/organisations/{organisation_id}", "organisation:write", body=lambda i: {"name": "改"}),
    Case("GET", "/api/v1/departments", "department:read", list_key="items", kind="department", outside=False),
    Case(
        "POST",
        "/api/v1/departments",
        "department:write",
        body=lambda i: {"code": "matrix-dept", "name": "矩阵局", "region_id": i["grid"]},
    ),
    Case("GET", "/api/v1/departments/{department_id}", "department:read"),
    Case("GET", "/api/v1/responsibilities", "department:read", list_key="items", kind="responsibility", outside=False),
    Case(
        "GET",
        "/api/v1/responsibilities/resolve",
        "department:read",
        query=lambda i: {"category": "event.01", "region_id": i["grid"]},
    ),
    Case(
        "POST",
        "/api/v1/departments/{department_id}/responsibilities",
        "department:write",
        body=lambda i: {"case_category": "event.09", "region_id": i["grid"]},
    ),
    Case("DELETE", "/api/v1/responsibilities/{responsibility_id}", "department:write"),
    Case("GET", "/api/v1/me/account", lambda perms, role: True, outside=False),
    Case("GET", "/api/v1/accounts", "account:read", list_key="items", kind="account", outside=False),
    Case(
        "POST",
        "/api/v1/accounts",
        "account:write",
        body=lambda i: {
            "username": "matrix-user",
            "display_name": "矩阵",
            "roles": ["grid_worker"],
            "scope_region_id": i["grid"],
            "password": "a-good-password",
        },
    ),
    Case("GET", "/api/v1/accounts/{account_id}", "account:read"),
    Case("PATCH", "/api/v1/accounts/{account_id}", "account:write", body=lambda i: {"display_name": "改"}),
    Case("POST", "/api/v1/accounts/{account_id}/roles", "account:write", body=lambda i: {"role": "merchant"}),
    Case("DELETE", "/api/v1/accounts/{account_id}/roles/{role}", "account:write"),
    Case("GET", "/api/v1/clients", "client:write", list_key="items", kind="client", outside=False),
    Case(
        "POST",
        "/api/v1/clients",
        "client:write",
        body=lambda i: {"name": "矩阵应用", "scopes": ["region:read"], "scope_region_id": i["grid"]},
    ),
    Case("DELETE", "/api/v1/clients/{client_pk}", "client:write"),
    Case("GET", "/api/v1/audit", "audit:read", outside=False),
    Case("GET", "/api/v1/sms", "sms:read", outside=False),
    Case("GET", "/api/v1/processes", "process:read", outside=False),
    Case("POST", "/api/v1/processes", "process:write", body=lambda i: MATRIX_SPEC, outside=False),
    Case("GET", "/api/v1/processes/{key}", "process:read", outside=False),
    Case("GET", "/api/v1/calendar/{year}", "process:read", outside=False),
    Case("PUT", "/api/v1/calendar/days/{day}", "process:write", body=lambda i: {"workday": False}, outside=False),
    Case("GET", "/api/v1/case-categories", lambda perms, role: True, outside=False),
    # One's own notifications; apps have no account and so none (an empty list).
    Case("GET", "/api/v1/notifications", lambda perms, role: True, outside=False),
    # Everyone with an account lists at least their own reports; apps have no account.
    Case(
        "GET",
        "/api/v1/cases",
        lambda perms, role: role != Role.APP_CLIENT,
        list_key="items",
        kind="case",
        outside=False,
    ),
    Case(
        "POST",
        "/api/v1/cases",
        "case:report",
        # Residents may report anywhere in the city, so there is no "outside" variant.
        body=lambda i: {"category_code": "event.01.01", "title": "矩阵", "lon": i["lon"], "lat": 30.05},
        outside=False,
    ),
    Case("GET", "/api/v1/cases/{case_id}", lambda perms, role: role in CASE_AREA_ROLES),
    Case("GET", "/api/v1/cases/{case_id}/timeline", lambda perms, role: role in CASE_AREA_ROLES),
    Case(
        "POST",
        "/api/v1/cases/{case_id}/actions/{action}",
        lambda perms, role: role in ("grid_worker", "dispatcher"),  # 受理 is theirs by the process
        body=lambda i: {},
    ),
    Case(
        "POST",
        "/api/v1/cases/{case_id}/reopen",
        lambda perms, role: role in CASE_AREA_ROLES,  # they see it; it is not closed, so 409
        body=lambda i: {"comment": "矩阵"},
        allowed_status=(409,),
    ),
    Case("GET", "/api/v1/case-dashboard", "case:read", query=lambda i: {"region_id": i["grid"]}),
    Case("POST", "/api/v1/case-suggestions", "case:report", body=lambda i: {"text": "路灯不亮"}, outside=False),
    Case(
        "POST",
        "/api/v1/video-events",
        lambda perms, role: role == Role.APP_CLIENT,  # vendors' apps only
        body=lambda i: {
            "event_id": "matrix-1",
            "camera_id": "cam-1",
            "category_code": "event.05.02",
            "lon": i["lon"],
            "lat": 30.05,
            "confidence": 0.9,
        },
        outside=False,
    ),
    Case(
        "POST",
        "/api/v1/cases/{case_id}/category",
        lambda perms, role: role == "dispatcher",
        body=lambda i: {"category_code": "event.01.02"},
    ),
    Case("GET", "/api/v1/case-map", "case:read", query=lambda i: {"region_id": i["grid"]}),
    # Only the reporter rates (and only a closed case).
    Case("POST", "/api/v1/cases/{case_id}/rating", lambda perms, role: False, body=lambda i: {"level": 5}),
    # The dispatch centre merges; merging a case into itself is refused (422): that is its answer.
    Case(
        "POST",
        "/api/v1/cases/{case_id}/merge",
        lambda perms, role: role == "dispatcher",
        body=lambda i: {"into_id": i["case"]},
        allowed_status=(422,),
    ),
)


CASE_AREA_ROLES = ("grid_worker", "dispatcher", "commander", "admin", "property_manager")


PATH_PARAMS = {
    "region_id": "grid",
    "person_id": "person",
    "residence_id": "residence",
    "household_id": "household",
    "organisation_id": "organisation",
    "department_id": "department",
    "responsibility_id": "responsibility",
    "account_id": "account",
    "role": "role",
    "client_pk": "client",
    "key": "process_key",
    "year": "year",
    "day": "day",
    "case_id": "case",
    "action": "case_action",
}
for _part in PARTS:
    CASES += _part.CASES
    PATH_PARAMS.update(_part.PATH_PARAMS)


def _ids(body: Any, case: Case) -> set[int]:
    items = body[case.list_key] if case.list_key else body
    return {int(item["id"]) for item in items}


def _uscc(org: str) -> str:
    from cityos.people.validation import org_code_check_char, uscc_check_char

    body = f"91510104{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


def _records(session: Session, world: World) -> Ids:
    def place(room: Any, grid: Any, district: Any, n: int, phone: str) -> dict[str, int]:
        person = make_person(session, name=f"矩阵{n}", region=room, phone=phone)
        household_id = _household(session, room)
        residence = Residence(
            person_id=person.id, room_id=room.id, household_id=household_id, relation="owner", since=date(2020, 1, 1)
        )
        session.add(residence)
        org = Organisation(
            uscc=_uscc(f"MA6C00{n:02d}"), name=f"组织{n}", kind="merchant", region_id=grid.id, region_path=grid.path
        )
        dept = Department(code=f"dept-{n}", name=f"部门{n}", region_id=district.id, region_path=district.path)
        session.add_all([org, dept])
        session.flush()
        resp = Responsibility(department_id=dept.id, case_category="event.01", region_id=grid.id, region_path=grid.path)
        session.add(resp)
        session.flush()
        account = make_account(session, roles=["merchant"], scope=grid)
        client = OAuthClient(
            client_id=f"matrix-client-{n}",
            secret_hash="unused",
            name=f"应用{n}",
            scopes=["region:read"],
            scope_region_id=grid.id,
            scope_path=grid.path,
            active=True,
        )
        session.add(client)
        session.flush()
        return {
            "process_key": "matrix",
            "year": 2026,
            "day": "2026-12-31",
            "account": account.id,
            "role": "merchant",
            "client": client.id,
            "grid": grid.id,
            "room": room.id,
            "person": person.id,
            "residence": residence.id,
            "household": household_id,
            "organisation": org.id,
            "department": dept.id,
            "responsibility": resp.id,
        }

    inside: dict[str, Any] = place(world.room, world.grid1, world.district_a, 1, "13800000001")
    inside.update(room2=world.room2.id, lon=104.01, phone="13800000001", uscc=_uscc("MA6C0098"))
    outside: dict[str, Any] = place(world.other_room, world.grid2, world.district_b, 2, "13800000002")
    outside.update(room2=world.other_room.id, lon=104.07, phone="13800000002", uscc=_uscc("MA6C0099"))
    from cityos.core.actor import SYSTEM
    from cityos.workflow import service as workflow

    workflow.save_definition(session, SYSTEM, MATRIX_SPEC)
    from cityos.cases import processes
    from cityos.cases import service as cases

    cases.install_categories(session)
    processes.install(session)
    reporter = make_actor(session, roles=["dispatcher"], scope=world.city)
    for side, (lon, lat) in ((inside, (104.02, 30.05)), (outside, (104.07, 30.05))):
        case = cases.report(
            session, reporter, category_code="event.01.01", title="矩阵", channel="resident", lon=lon, lat=lat
        )
        side.update(case=case.id, case_action="accept")
    me = make_person(session, name="居民本人", region=world.room2)
    inside["self_person"] = outside["self_person"] = me.id
    for part in PARTS:
        part.records(session, world, inside, outside)
    session.commit()
    return Ids(inside, outside, me.id)


def _household(session: Session, room: Any) -> int:
    from cityos.people.models import Household

    household = Household(room_id=room.id, region_path=room.path)
    session.add(household)
    session.flush()
    return household.id


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    session.commit()
    yield w
    index.invalidate()


def _headers(session: Session, world: World, role: str, ids: Ids) -> dict[str, str]:
    if role == Role.APP_CLIENT:
        client = OAuthClient(
            client_id="matrix-app",
            secret_hash="unused",
            name="matrix",
            scopes=sorted(CLIENT_GRANTABLE),
            scope_region_id=world.grid1.id,
            scope_path=world.grid1.path,
            active=True,
        )
        session.add(client)
        session.commit()
        token, _ = tokens.issue("client", "matrix-app", timedelta(minutes=10), scope=" ".join(sorted(CLIENT_GRANTABLE)))
    else:
        person_id = ids.self_person if role == Role.RESIDENT else None
        account = make_account(session, roles=[role], scope=world.grid1, person_id=person_id)
        session.commit()
        token, _ = tokens.issue("access", str(account.id), timedelta(minutes=10))
    return {"Authorization": f"Bearer {token}"}


def _permissions(role: str) -> frozenset[str]:
    if role == Role.APP_CLIENT:
        return frozenset(CLIENT_GRANTABLE)
    return ROLE_PERMISSIONS[role]


def _call(client: TestClient, case: Case, ids: dict[str, Any], headers: dict[str, str]) -> Any:
    path = case.path
    for param, key in PATH_PARAMS.items():
        path = path.replace("{" + param + "}", str(ids[key]))
    return client.request(
        case.method,
        path,
        headers=headers,
        params=case.query(ids) if case.query else None,
        json=case.body(ids) if case.body else None,
    )


def test_every_api_route_is_in_the_matrix(app: Any) -> None:
    # The OpenAPI document lists every JSON route, however the routers were included.
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    covered = {(c.method, c.path) for c in CASES} | set(PUBLIC_ROUTES)
    assert routes - covered == set(), "add these routes to the permission matrix"
    assert covered - routes == set(), "the matrix lists routes that no longer exist"


# Routes anyone may call: signing in and trading tokens (each checks its own credentials).
PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/code"),
    ("POST", "/api/v1/auth/code/verify"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/signout"),
    ("POST", "/api/v1/oauth/token"),
)


def test_anonymous_callers_are_asked_to_sign_in(client: TestClient, session: Session, world: World) -> None:
    ids = _records(session, world)
    for case in CASES:
        response = _call(client, case, ids.inside, {})
        assert response.status_code == 401, (case.method, case.path, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role: str, client: TestClient, session: Session, world: World, connection: Connection) -> None:
    ids = _records(session, world)
    headers = _headers(session, world, role, ids)
    perms = _permissions(role)
    problems: list[str] = []
    for case in CASES:
        if callable(case.permission):
            allowed = case.permission(perms, role)
        else:
            allowed = case.permission in perms
        savepoint = connection.begin_nested()
        try:
            response = _call(client, case, ids.inside, headers)
        finally:
            savepoint.rollback()
        ok = 200 <= response.status_code < 300 or response.status_code in case.allowed_status
        if allowed and not ok:
            problems.append(f"{case.method} {case.path}: allowed but {response.status_code} {response.text[:200]}")
        if not allowed and response.status_code not in (403, 404):
            problems.append(f"{case.method} {case.path}: refused expected, got {response.status_code}")
        listed = ok and response.status_code < 300 and case.list_key is not None
        if listed and _ids(response.json(), case) & {ids.outside[case.kind]}:
            problems.append(f"{case.method} {case.path}: returned a record from outside the scope")
        if not case.outside:
            continue
        savepoint = connection.begin_nested()
        try:
            outside = _call(client, case, ids.outside, headers)
        finally:
            savepoint.rollback()
        if case.list_key is not None and outside.status_code == 200:
            if _ids(outside.json(), case) & {ids.outside[case.kind]}:
                problems.append(f"{case.method} {case.path}: found a record from outside the scope")
        elif outside.status_code not in (403, 404, 422):
            problems.append(f"{case.method} {case.path} outside the scope: {outside.status_code} {outside.text[:200]}")
    assert problems == [], "\n".join(problems)
