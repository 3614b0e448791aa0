"""The entity store's batch statements in driver SQL read and write what the ORM columns hold."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import only_read
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.models import NgsiEntity

TEMPERATURE = "https://uri.etsi.org/ngsi-ld/default-context/temperature"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def _entities(session: Session, tenant: str, n: int) -> list[str]:
    ids = [f"urn:ngsi-ld:Sensor:st-{i}" for i in range(n)]
    for entity_id in ids:
        store.upsert_attributes(
            session,
            tenant=tenant,
            entity_id=entity_id,
            entity_type="Sensor",
            attrs={TEMPERATURE: {"type": "Property", "value": 20.0}},
        )
    return ids


def test_load_many_finds_each_entity_once_across_tenants_and_batch_sizes(session: Session) -> None:
    a = _entities(session, "st-a", 5)
    b = _entities(session, "st-b", 2)
    for size in (1, 2, 3, 5):  # 3 and 5 are padded to 4 and 8 with the last id repeated
        keys = [("st-a", i) for i in a[:size]] + [("st-b", b[0]), ("st-b", "urn:ngsi-ld:Sensor:none")]
        found = store.load_many(session, keys)
        assert sorted(found) == sorted([("st-a", i) for i in a[:size]] + [("st-b", b[0])])
        row = found[("st-a", a[0])]
        assert row.tenant == "st-a"
        assert row.type.endswith("Sensor")
        assert row.data[TEMPERATURE]["value"] == 20.0  # decoded JSON, not text


def test_save_many_writes_data_time_and_location_as_the_orm_reads_them(session: Session) -> None:
    ids = _entities(session, "st-c", 2)
    rows = store.load_many(session, [("st-c", i) for i in ids])
    moved, kept = rows[("st-c", ids[0])], rows[("st-c", ids[1])]
    at = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)
    moved.data = {
        **moved.data,
        TEMPERATURE: {"type": "Property", "value": 31.5},
        LOCATION: {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [120.5, 30.25]}},
        "name": "测试",
    }
    kept.data = {**kept.data, TEMPERATURE: {"type": "Property", "value": 18.0}}
    session.commit()
    store.save_many(session, [(moved, at, True), (kept, at, False)])
    assert not only_read(session)  # the driver-level UPDATE marked the transaction as written
    session.expire_all()
    first = session.scalars(select(NgsiEntity).filter_by(tenant="st-c", entity_id=ids[0])).one()
    second = session.scalars(select(NgsiEntity).filter_by(tenant="st-c", entity_id=ids[1])).one()
    assert first.data[TEMPERATURE]["value"] == 31.5
    assert first.data["name"] == "测试"
    assert first.modified_at == at
    assert (first.lon, first.lat, first.min_lon, first.max_lat) == (120.5, 30.25, 120.5, 30.25)
    assert second.data[TEMPERATURE]["value"] == 18.0
    assert second.modified_at == at
    assert second.lon is None  # relocate=False leaves the location columns alone
    assert second.type == kept.type
