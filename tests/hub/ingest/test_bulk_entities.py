"""The writer updates the entities of a batch in one store call per tenant (``ngsi.upsert_many``),
with the same latest values as one call per device."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import Invalid
from cityos.hub.ingest import pipeline, stores
from cityos.hub.ingest.pipeline import Inbound
from cityos.hub.ingest.stores import expand
from cityos.hub.ngsi import bulk
from cityos.hub.ngsi import service as ngsi
from cityos.hub.ngsi.models import NgsiEntity
from tests.hub.ingest.conftest import IngestWorld, register


def msg(device: Any, mid: str, values: dict[str, Any], minutes_ago: int) -> Inbound:
    ts = (utcnow() - timedelta(minutes=minutes_ago)).isoformat()
    return Inbound(channel="mqtt", device_id=device.id, body={"mid": mid, "ts": ts, "values": values})


def test_one_store_call_per_tenant_per_batch(
    session: Session, iw: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bins = [register(session, iw, f"bulk-bin-{i}", "waste-container", kind="bin")[0] for i in range(5)]
    spot, _ = register(session, iw, "bulk-spot", "parking-spot", kind="parking_spot", tenant="north")
    # one entity went missing since registration: the batch creates it again
    session.execute(delete(NgsiEntity).where(NgsiEntity.entity_id == "urn:ngsi-ld:WasteContainer:bulk-bin-4"))
    calls: list[tuple[str, int, bool]] = []
    real = bulk.upsert_many

    def spy(session: Session, *, tenant: str, items: Sequence[Any], history: bool = True) -> Any:
        calls.append((tenant, len(items), history))
        return real(session, tenant=tenant, items=items, history=history)

    monkeypatch.setattr(bulk, "upsert_many", spy)
    monkeypatch.setattr(
        ngsi, "upsert_attributes", lambda *a, **k: pytest.fail("no per-device store call in the writer")
    )
    batch = [msg(b, f"m{i}-{j}", {"fill": 10 * i + j}, 10 - j) for j in range(3) for i, b in enumerate(bins)]
    batch.append(msg(spot, "s1", {"status": "occupied"}, 3))
    out = pipeline.process(session, batch)
    assert {o.status for o in out} == {"accepted"}
    assert sorted(calls) == [("default", 5, False), ("north", 1, False)]
    for i in range(5):
        entity = ngsi.get_entity(session, tenant="default", entity_id=f"urn:ngsi-ld:WasteContainer:bulk-bin-{i}")
        assert entity is not None
        assert entity[expand("fillingLevel")]["value"] == pytest.approx((10 * i + 2) / 100)  # the latest
    spot_entity = ngsi.get_entity(session, tenant="north", entity_id="urn:ngsi-ld:ParkingSpot:bulk-spot")
    assert spot_entity is not None
    assert spot_entity[expand("status")]["value"] == "occupied"


def test_a_store_refusal_writes_nothing_of_the_batch(
    session: Session, iw: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store validates the whole batch before writing: an error leaves no partial entities
    (the writer's transaction is rolled back and the batch retried or split by its caller)."""
    register(session, iw, "bulk-bad", "waste-container", kind="bin")
    with pytest.raises(Invalid) as caught:
        stores.upsert_entities(
            session,
            tenant="default",
            items=[
                ("urn:ngsi-ld:WasteContainer:bulk-bad", "WasteContainer", {"fillingLevel": {"value": 0.5}}, None),
                ("not-a-uri", "WasteContainer", {"fillingLevel": {"value": 0.5}}, None),
            ],
        )
    assert [e.field for e in caught.value.details] == ["items[1].id"]
    entity = ngsi.get_entity(session, tenant="default", entity_id="urn:ngsi-ld:WasteContainer:bulk-bad")
    assert entity is not None
    assert expand("fillingLevel") not in entity
