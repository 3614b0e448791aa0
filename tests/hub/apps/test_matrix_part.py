"""This part's permission-matrix entries, checked here with the matrix's rules for a few roles
(the whole matrix, every role × every module, runs in tests/test_permission_matrix.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cityos.identity import tokens
from cityos.identity.models import OAuthClient
from cityos.identity.permissions import CLIENT_GRANTABLE, ROLE_PERMISSIONS, Role
from tests.factories import make_account, make_world
from tests.matrix_parts import hub_apps


def _call(client: TestClient, case: hub_apps.Case, ids: dict[str, Any], headers: dict[str, str]) -> Any:
    path = case.path
    for param, key in hub_apps.PATH_PARAMS.items():
        path = path.replace("{" + param + "}", str(ids[key]))
    body = case.body(ids) if case.body else None
    return client.request(case.method, path, headers=headers, json=body)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DEVELOPER, Role.APP_CLIENT])
def test_matrix_part(role: str, client: TestClient, session: Session, connection: Connection) -> None:
    world = make_world(session)
    inside: dict[str, Any] = {"grid": world.grid1.id}
    outside: dict[str, Any] = {"grid": world.grid2.id}
    hub_apps.records(session, world, inside, outside)
    if role == Role.APP_CLIENT:
        session.add(
            OAuthClient(
                client_id="matrix-app",
                secret_hash="unused",
                name="matrix",
                scopes=sorted(CLIENT_GRANTABLE),
                scope_region_id=world.grid1.id,
                scope_path=world.grid1.path,
                active=True,
            )
        )
        token, _ = tokens.issue("client", "matrix-app", timedelta(minutes=5), scope=" ".join(sorted(CLIENT_GRANTABLE)))
        perms = frozenset(CLIENT_GRANTABLE)
    else:
        account = make_account(session, roles=[role], scope=world.grid1)
        token, _ = tokens.issue("access", str(account.id), timedelta(minutes=5))
        perms = ROLE_PERMISSIONS[role]
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    problems: list[str] = []
    for case in hub_apps.CASES:
        allowed = case.permission(perms, role) if callable(case.permission) else case.permission in perms
        for side, ids in (("inside", inside), ("outside", outside)):
            if side == "outside" and not case.outside:
                continue
            savepoint = connection.begin_nested()
            try:
                response = _call(client, case, ids, headers)
                anonymous = _call(client, case, ids, {})
            finally:
                savepoint.rollback()
            if anonymous.status_code != 401:
                problems.append(f"{case.method} {case.path} anonymous: {anonymous.status_code}")
            ok = 200 <= response.status_code < 300 or response.status_code in case.allowed_status
            if side == "inside" and allowed and not ok:
                problems.append(f"{case.method} {case.path}: allowed but {response.status_code} {response.text[:160]}")
            elif side == "inside" and not allowed and response.status_code not in (403, 404):
                problems.append(f"{case.method} {case.path}: refused expected, got {response.status_code}")
            elif side == "outside" and response.status_code not in (403, 404, 422):
                problems.append(f"{case.method} {case.path} outside: {response.status_code}")
            if case.list_key is not None and response.status_code == 200:
                if {int(item["id"]) for item in response.json()} & {outside[case.kind]}:
                    problems.append(f"{case.method} {case.path}: listed a record from outside the scope")
    assert problems == [], "\n".join(problems)
