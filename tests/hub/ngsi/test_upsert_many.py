"""``upsert_many``: the bulk form of ``upsert_attributes`` (the ingest writer's one call per batch).

The reference is ``upsert_attributes`` called item by item: the same entities, location columns
and changes (timestamps aside), in a handful of statements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.hub.ngsi import bulk as ngsi_bulk
from cityos.hub.ngsi import changes, service
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.ngsi.context import default_context
from cityos.hub.ngsi.models import NgsiEntity

WC = "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer"
FILLING = "https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel"
TEMPERATURE = default_context().expand("temperature")
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
STAMPS = {"createdAt", "modifiedAt"}
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)
W1, W2 = "urn:ngsi-ld:WasteContainer:001", "urn:ngsi-ld:WasteContainer:002"


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[EntityChange]]]:
    """Every ``changes.emit`` call, as the list of changes it carried."""
    got: list[list[EntityChange]] = []

    def listener(_session: Session, batch: Sequence[EntityChange]) -> None:
        got.append(list(batch))

    monkeypatch.setattr(changes, "_resolved", [listener])
    service.forget_tenants()
    yield got
    service.forget_tenants()


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def unstamped(value: Any) -> Any:
    """``value`` without createdAt/modifiedAt anywhere (they differ by the call's clock)."""
    if isinstance(value, dict):
        return {k: unstamped(v) for k, v in value.items() if k not in STAMPS}
    if isinstance(value, list):
        return [unstamped(v) for v in value]
    return value


def change_view(c: EntityChange) -> tuple[Any, ...]:
    return (c.kind, c.entity_id, c.entity_type, c.attrs, unstamped(c.entity), unstamped(c.previous), c.history)


def stored(session: Session, tenant: str) -> dict[str, tuple[Any, ...]]:
    rows = session.execute(
        select(
            NgsiEntity.entity_id, NgsiEntity.type, NgsiEntity.data, NgsiEntity.lon, NgsiEntity.lat,
            NgsiEntity.min_lon, NgsiEntity.max_lat,
        ).where(NgsiEntity.tenant == tenant)
    ).all()  # fmt: skip
    return {r[0]: (r[1], unstamped(r[2]), r[3], r[4], r[5], r[6]) for r in rows}


ITEMS: list[tuple[str, str, dict[str, Any], datetime | None]] = [
    # an existing entity: a new value
    (W1, "WasteContainer", {"fillingLevel": prop(0.5)}, T0),
    # a new one, located
    (W2, "WasteContainer", {"fillingLevel": prop(0.1), "location": point(104.1, 30.6)}, T0),
    # the new one again in the same batch: merged in order into what the first item created
    (W2, "WasteContainer", {"fillingLevel": prop(0.2), "temperature": prop(21.5)}, T1),
    # the existing one: a second instance (datasetId), and it moves
    (W1, "WasteContainer", {"fillingLevel": prop(0.6, datasetId="urn:ngsi-ld:Dataset:b")}, None),
    (W1, "WasteContainer", {"location": point(104.3, 30.7)}, T1),
    # expanded names and a core-vocabulary type
    ("urn:ngsi-ld:Thing:003", "Thing", {FILLING: prop(3)}, None),
]  # fmt: skip


def seed(session: Session, tenant: str) -> None:
    service.upsert_attributes(
        session,
        tenant=tenant,
        entity_id="urn:ngsi-ld:WasteContainer:001",
        entity_type="WasteContainer",
        attrs={"fillingLevel": prop(0.4), "location": point(104.0, 30.5)},
        observed_at=T0,
    )


@pytest.mark.parametrize("history", [True, False])
def test_the_same_as_upsert_attributes_item_by_item(
    session: Session, seen: list[list[EntityChange]], history: bool
) -> None:
    seed(session, "one")
    seed(session, "many")
    seen.clear()
    single = [
        service.upsert_attributes(
            session, tenant="one", entity_id=e, entity_type=t, attrs=a, observed_at=at, history=history
        )
        for e, t, a, at in ITEMS
    ]
    assert len(seen) == len(ITEMS)
    seen.clear()
    bulk = ngsi_bulk.upsert_many(session, tenant="many", items=ITEMS, history=history)

    assert [change_view(c) for c in bulk] == [change_view(c) for c in single]
    assert [c.kind for c in bulk] == ["updated", "created", "updated", "updated", "updated", "created"]
    assert len(seen) == 1  # one emit for the batch
    assert [change_view(c) for c in seen[0]] == [change_view(c) for c in single]
    assert stored(session, "many") == stored(session, "one")
    two = service.get_entity(session, tenant="many", entity_id="urn:ngsi-ld:WasteContainer:002")
    assert two is not None
    assert two[FILLING]["value"] == 0.2  # the later item wins
    assert two[FILLING]["observedAt"] == "2026-12-01T08:05:00.000Z"
    assert two[TEMPERATURE]["value"] == 21.5
    assert two["createdAt"]
    assert two[FILLING]["createdAt"]
    one = stored(session, "many")["urn:ngsi-ld:WasteContainer:001"]
    assert one[2:4] == (104.3, 30.7)  # the location columns follow the move
    assert len(one[1][FILLING]) == 2  # default instance + datasetId b


def test_a_few_statements_for_a_batch(session: Session, seen: list[list[EntityChange]]) -> None:
    seed(session, "city")
    seen.clear()
    items = [
        (f"urn:ngsi-ld:WasteContainer:{i:03d}", "WasteContainer", {"fillingLevel": prop(0.3)}, T0)
        for i in range(1, 301)
    ]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "hub_ngsi_entity" in sql:
            statements.append(sql.split()[0].upper())

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        out = ngsi_bulk.upsert_many(session, tenant="city", items=items)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [c.kind for c in out].count("created") == 299
    assert statements.count("SELECT") == 1
    assert statements.count("INSERT") <= 2  # one statement (insertmanyvalues may page it)
    assert statements.count("UPDATE") == 1
    assert len(seen) == 1
    assert len(seen[0]) == 300


def test_bad_items_are_named_and_nothing_is_written(session: Session, seen: list[list[EntityChange]]) -> None:
    seed(session, "city")
    seen.clear()
    before = stored(session, "city")
    items = [
        ("urn:ngsi-ld:WasteContainer:001", "WasteContainer", {"fillingLevel": prop(0.9)}, None),
        ("not a uri", "WasteContainer", {"fillingLevel": prop(0.1)}, None),
        ("urn:ngsi-ld:WasteContainer:009", "WasteContainer", {"fillingLevel": {"type": "Property"}}, None),
        ("urn:ngsi-ld:WasteContainer:010", "WasteContainer", {"id": prop(1), "@bad": prop(2)}, None),
        ("urn:ngsi-ld:WasteContainer:011", "WasteContainer", {"fillingLevel": prop(7)}, None),  # the model: ≤ 1
    ]
    with pytest.raises(Invalid) as caught:
        ngsi_bulk.upsert_many(session, tenant="city", items=items)
    fields = [e.field for e in caught.value.details]
    assert "items[1].id" in fields
    assert any(f.startswith("items[2].fillingLevel") for f in fields)
    assert any(f.startswith("items[3].@bad") for f in fields)
    assert not any(f.startswith("items[0]") for f in fields)
    assert seen == []
    assert stored(session, "city") == before

    with pytest.raises(Invalid) as smart:  # Smart Data Models checks, named by item too
        ngsi_bulk.upsert_many(session, tenant="city", items=[items[0], items[4]])
    assert [e.field.split(".")[0] for e in smart.value.details] == ["items[1]"]
    assert seen == []
    assert stored(session, "city") == before


def test_an_entity_created_meanwhile_is_merged_into(
    session: Session, seen: list[list[EntityChange]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent writer created the entity between our SELECT and our INSERT: the INSERT
    skips it (ON CONFLICT DO NOTHING) and the item merges into the stored entity instead."""
    seed(session, "city")
    real = ngsi_bulk._load_many
    calls: list[int] = []

    def first_blind(s: Session, tenant: str, ids: Sequence[str]) -> dict[str, service.Stored]:
        calls.append(len(ids))
        return {} if len(calls) == 1 else real(s, tenant, ids)

    monkeypatch.setattr(ngsi_bulk, "_load_many", first_blind)
    out = ngsi_bulk.upsert_many(
        session,
        tenant="city",
        items=[
            ("urn:ngsi-ld:WasteContainer:001", "WasteContainer", {"temperature": prop(18.0)}, None),
            ("urn:ngsi-ld:WasteContainer:005", "WasteContainer", {"fillingLevel": prop(0.2)}, None),
        ],
    )
    assert len(calls) == 2
    assert [c.kind for c in out] == ["updated", "created"]
    one = service.get_entity(session, tenant="city", entity_id="urn:ngsi-ld:WasteContainer:001")
    assert one is not None
    assert one[FILLING]["value"] == 0.4
    assert one[TEMPERATURE]["value"] == 18.0
    assert out[0].previous is not None
    assert FILLING in out[0].previous


def test_an_empty_batch_does_nothing(session: Session, seen: list[list[EntityChange]]) -> None:
    assert ngsi_bulk.upsert_many(session, tenant="city", items=[]) == []
    assert seen == []
