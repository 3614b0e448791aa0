"""Group commit: concurrent writes share one transaction; a failing one answers only its error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.errors import Invalid
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.writer import GroupWriter


def test_concurrent_writes_commit_together(session_factory: sessionmaker[Session]) -> None:
    writer = GroupWriter(session_factory)

    def upsert(i: int) -> Any:
        def work(session: Session) -> str:
            store.upsert_attributes(
                session, tenant="gw", entity_id=f"urn:ngsi-ld:Thing:{i}", entity_type="Thing", attrs={"n": i}
            )
            return f"ok {i}"

        return work

    def failing(session: Session) -> None:
        store.upsert_attributes(session, tenant="gw", entity_id="urn:ngsi-ld:Thing:x", entity_type="Thing", attrs={})
        raise Invalid("refused after a write")

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(writer.submit(upsert(i)) for i in range(5)), writer.submit(failing), return_exceptions=True
        )

    results = asyncio.run(main())
    assert results[:5] == [f"ok {i}" for i in range(5)]
    assert isinstance(results[5], Invalid)
    assert writer.jobs == 6
    assert writer.batches < 6  # they were grouped
    with session_factory() as check:
        assert store.get_entity(check, tenant="gw", entity_id="urn:ngsi-ld:Thing:4") is not None
        assert store.get_entity(check, tenant="gw", entity_id="urn:ngsi-ld:Thing:x") is None  # rolled back alone


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_errors_keep_the_callers_language(client: TestClient, auth: dict[str, str], lang: str) -> None:
    body = [{"id": "bad", "type": "Thing"}, {"id": "urn:ngsi-ld:Thing:ok", "type": "Thing"}]
    r = client.post("/ngsi-ld/v1/entityOperations/create", json=body, headers={**auth, "Accept-Language": lang})
    assert r.status_code == 207
    title = r.json()["errors"][0]["error"]["title"]
    assert (title == "The request data is not valid") == (lang == "en")
