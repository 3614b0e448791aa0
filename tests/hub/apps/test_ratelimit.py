"""Per-app rate limits: the middleware (installed by ``create_app``) answers 429 with
Retry-After and the platform's body (ProblemDetails under /ngsi-ld), recovers when the window
passes, follows a changed limit, leaves other callers alone, and counts requests and refusals
per day."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.hub.apps import ratelimit, service
from cityos.hub.apps.models import AppUsage
from cityos.identity import accounts
from tests.factories import bearer
from tests.hub.apps.fixtures import AppWorld, approved


@pytest.fixture
def limited(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Accept-Language": "en"}) as c:
        yield c


def _app_token(session: Session, aw: AppWorld, *, rate_limit: int) -> tuple[int, str, dict[str, str]]:
    app, secret = approved(session, aw, rate_limit=rate_limit)
    assert app.client_id is not None
    token = accounts.client_token(session, client_id=app.client_id, client_secret=secret, scope=None).token
    session.commit()
    return app.id, app.client_id, {"Authorization": f"Bearer {token}"}


def test_over_the_limit_is_429_with_retry_after_then_recovers(
    limited: TestClient, session: Session, aw: AppWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "WINDOW_SECONDS", 1.0)
    _app_id, _client_id, auth = _app_token(session, aw, rate_limit=3)
    for _ in range(3):
        assert limited.get("/api/v1/me/account", headers=auth).status_code == 200
    over = limited.get("/api/v1/me/account", headers=auth)
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 2
    assert over.json()["error"]["code"] == "rate_limited"
    assert "more than 3 requests a minute" in over.json()["error"]["message"]
    zh = limited.get("/api/v1/me/account", headers={**auth, "Accept-Language": "zh-CN"})
    assert zh.json()["error"]["message"].startswith("该应用每分钟请求超过 3 次")
    ngsi = limited.get("/ngsi-ld/v1/entities?type=Thing", headers=auth)
    assert ngsi.status_code == 429
    assert ngsi.json()["status"] == 429
    assert ngsi.json()["type"] == "urn:cityos:errors:TooManyRequests"
    assert ngsi.json()["title"] == "Too many requests"
    assert "error" not in ngsi.json()
    # Accounts, anonymous callers and pages are not the apps' limit.
    assert limited.get("/api/v1/me/account", headers=bearer(aw.dev.account_id)).status_code == 200  # type: ignore[arg-type]
    assert limited.get("/api/v1/me/account").status_code == 401
    time.sleep(1.1)
    assert limited.get("/api/v1/me/account", headers=auth).status_code == 200


def test_a_changed_limit_applies_at_once_and_usage_is_counted(
    limited: TestClient, session: Session, aw: AppWorld
) -> None:
    app_id, client_id, auth = _app_token(session, aw, rate_limit=2)
    assert [limited.get("/api/v1/me/account", headers=auth).status_code for _ in range(3)] == [200, 200, 429]
    rev = bearer(aw.reviewer.account_id)  # type: ignore[arg-type]
    assert (
        limited.put(f"/api/v1/apps/review/{app_id}/rate-limit", json={"rate_limit": 5}, headers=rev).status_code == 200
    )
    assert [limited.get("/api/v1/me/account", headers=auth).status_code for _ in range(4)] == [200, 200, 200, 429]
    usage = limited.get(f"/api/v1/apps/{app_id}/usage?days=3", headers=bearer(aw.dev.account_id))  # type: ignore[arg-type]
    assert usage.json()[-1]["requests"] == 7
    assert usage.json()[-1]["limited"] == 2
    assert ratelimit.flush_usage(session) == 1
    session.commit()
    row = session.scalar(select(AppUsage).where(AppUsage.client_id == client_id))
    assert row is not None
    assert (row.requests, row.limited) == (7, 2)
    assert ratelimit.flush_usage(session) == 0
    again = limited.get(f"/api/v1/apps/{app_id}/usage?days=3", headers=bearer(aw.dev.account_id))  # type: ignore[arg-type]
    assert (again.json()[-1]["requests"], again.json()[-1]["limited"]) == (7, 2)  # from the table now
    assert limited.get(f"/api/v1/apps/{app_id}/usage?days=0", headers=bearer(aw.dev.account_id)).status_code == 422  # type: ignore[arg-type]


def test_a_suspended_app_is_refused_by_the_platform_not_by_the_limiter(
    limited: TestClient, session: Session, aw: AppWorld
) -> None:
    app_id, _client_id, auth = _app_token(session, aw, rate_limit=100)
    assert limited.get("/api/v1/me/account", headers=auth).status_code == 200
    service.suspend(session, aw.reviewer, app_id, reason="滥用")
    session.commit()
    assert limited.get("/api/v1/me/account", headers=auth).status_code == 401
