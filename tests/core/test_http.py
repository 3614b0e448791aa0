"""The request transaction and the error mapping, through a tiny router on the real app."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select

from cityos.core.errors import FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.models import AuditRecord


class ThingIn(BaseModel):
    name: str = Field(min_length=2, max_length=5)
    count: int = Field(ge=1)


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/t/ok")
    def ok(body: ThingIn, session: DbSession) -> dict[str, str]:
        session.add(AuditRecord(action="t.ok", actor_label=body.name))
        return {"status": "stored"}

    @router.post("/t/core-write")
    def core_write(session: DbSession) -> dict[str, int]:
        # A Core statement, not an ORM flush: the request must still see it as a write.
        session.execute(insert(AuditRecord).values(action="t.core", actor_label="core", outcome="ok"))
        return {"status": 1}

    @router.get("/t/read")
    def read(session: DbSession) -> dict[str, int]:
        return {"n": int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)}

    @router.post("/t/fail")
    def fail(body: ThingIn, session: DbSession) -> dict[str, str]:
        session.add(AuditRecord(action="t.fail", actor_label=body.name))
        session.flush()
        raise Invalid(details=[FieldError("name", "This value is not valid.")])

    return router


def _count(client: TestClient, runtime, action: str) -> int:  # type: ignore[no-untyped-def]
    with runtime.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)) or 0)


def test_commit_on_success_and_rollback_on_error(app, runtime) -> None:  # type: ignore[no-untyped-def]
    app.include_router(_router())
    with TestClient(app) as client:
        assert client.post("/t/ok", json={"name": "ab", "count": 1}).status_code == 200
        assert _count(client, runtime, "t.ok") == 1
        r = client.post("/t/fail", json={"name": "ab", "count": 1}, headers={"Accept-Language": "en"})
        assert r.status_code == 422
        assert r.json()["error"]["details"][0] == {
            "field": "name",
            "message": "This value is not valid.",
            "type": "invalid",
        }
        assert _count(client, runtime, "t.fail") == 0


def test_core_statement_writes_are_committed_and_reads_end_cleanly(app, runtime) -> None:  # type: ignore[no-untyped-def]
    app.include_router(_router())
    with TestClient(app) as client:
        before = client.get("/t/read").json()["n"]
        assert client.post("/t/core-write").status_code == 200
        assert _count(client, runtime, "t.core") == 1
        assert client.get("/t/read").json()["n"] == before + 1


def test_only_read_tells_reads_from_writes(session) -> None:  # type: ignore[no-untyped-def]
    from cityos.core.db import only_read

    assert only_read(session)  # nothing begun yet
    session.scalar(select(func.count()).select_from(AuditRecord))
    session.add(AuditRecord(action="t.pending", actor_label="x"))
    assert not only_read(session)  # pending ORM object


def test_validation_errors_are_field_level_and_translated(app) -> None:  # type: ignore[no-untyped-def]
    app.include_router(_router())
    with TestClient(app) as client:
        r = client.post("/t/ok", json={"name": "a", "count": 0}, headers={"Accept-Language": "zh-CN"})
        assert r.status_code == 422
        body = r.json()["error"]
        assert body["code"] == "invalid"
        assert body["message"] == "部分字段填写有误。"
        fields = {d["field"]: d["message"] for d in body["details"]}
        assert fields == {"name": "至少需要 2 个字符。", "count": "不能小于 1。"}
        r = client.post(
            "/t/ok", content=b"{not json", headers={"Accept-Language": "en", "content-type": "application/json"}
        )
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["message"] == "The request body is not valid JSON."


def test_health_metrics_and_request_id(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["x-request-id"]
    assert client.get("/healthz", headers={"x-request-id": "abc123"}).headers["x-request-id"] == "abc123"
    metrics = client.get("/metrics").text
    assert "cityos_http_requests_total" in metrics
    assert client.get("/no/such/page").json()["error"]["code"] == "http_error"
