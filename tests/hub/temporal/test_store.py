"""The observations store: bulk append of every value type, and the entity-change listener."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.temporal.models import SensorObservation
from cityos.hub.temporal.service import (
    INSTANCE_PREFIX,
    ObservationRow,
    append_observations,
    join_value,
    record_changes,
)

T = "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer"
FILL = "https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel"
STATUS = "https://smartdatamodels.org/dataModel.WasteManagement/status"
LOC = "https://uri.etsi.org/ngsi-ld/location"
REF = "https://smartdatamodels.org/refDevice"
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def rows_of(session: Session, entity_id: str) -> list[SensorObservation]:
    return list(
        session.scalars(
            select(SensorObservation)
            .where(SensorObservation.entity_id == entity_id)
            .order_by(SensorObservation.attr, SensorObservation.observed_at)
        )
    )


def test_append_is_bulk_and_keeps_every_type(session: Session) -> None:
    geo = {"type": "Point", "coordinates": [104.06, 30.67]}
    rows = [
        ObservationRow("default", "urn:ngsi-ld:WasteContainer:1", T, FILL, AT + timedelta(minutes=i), i / 10, unit="P1")
        for i in range(12000)
    ]
    rows += [
        ObservationRow("default", "urn:ngsi-ld:WasteContainer:2", T, STATUS, AT, "ok", source="dev-7"),
        ObservationRow("default", "urn:ngsi-ld:WasteContainer:2", T, LOC, AT, geo),
        ObservationRow("default", "urn:ngsi-ld:WasteContainer:2", T, FILL, AT, True, dataset_id="urn:d:1"),
        ObservationRow("default", "urn:ngsi-ld:WasteContainer:2", T, FILL, AT + timedelta(seconds=1), 3),
    ]
    assert append_observations(session, rows) == 12004
    assert append_observations(session, []) == 0
    count = session.scalar(select(func.count()).where(SensorObservation.entity_id == "urn:ngsi-ld:WasteContainer:1"))
    assert count == 12000
    no_json = select(func.count()).where(
        SensorObservation.entity_id == "urn:ngsi-ld:WasteContainer:1", SensorObservation.value_json.is_(None)
    )
    assert session.scalar(no_json) == 12000  # SQL NULL, not JSON null
    two = rows_of(session, "urn:ngsi-ld:WasteContainer:2")
    by_attr = {(r.attr, r.observed_at): r for r in two}
    status = by_attr[(STATUS, AT)]
    assert (status.value_text, status.value_num, status.source, status.kind) == ("ok", None, "dev-7", "Property")
    loc = by_attr[(LOC, AT)]
    assert (loc.value_json, loc.kind) == (geo, "GeoProperty")
    flag = by_attr[(FILL, AT)]
    assert (flag.value_json, flag.value_num, flag.dataset_id) == (True, None, "urn:d:1")
    three = by_attr[(FILL, AT + timedelta(seconds=1))]
    assert three.value_num == 3.0
    assert join_value(three.value_num, three.value_text, three.value_json) == 3
    assert three.observed_at == AT + timedelta(seconds=1)
    assert three.observed_at.tzinfo is not None
    assert all(r.instance_id.startswith(INSTANCE_PREFIX) for r in two)
    assert len({r.instance_id for r in two}) == 4


@pytest.mark.parametrize("driver", [True, False], ids=["driver", "core"])
def test_both_write_paths_read_back_alike(session: Session, monkeypatch: pytest.MonkeyPatch, driver: bool) -> None:
    from cityos.hub.temporal import service

    if not driver:
        monkeypatch.setattr(service, "DRIVER_DIALECTS", ())
    at = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
    eid = f"urn:ngsi-ld:WasteContainer:{'d' if driver else 'c'}"
    values: list[object] = [0.25, "half", {"a": [1, "二"]}, False, None]
    rows = [ObservationRow("default", eid, T, FILL, at + timedelta(seconds=i), v) for i, v in enumerate(values)]
    assert append_observations(session, rows) == 5
    got = rows_of(session, eid)
    assert [join_value(r.value_num, r.value_text, r.value_json) for r in got] == values
    assert [r.observed_at for r in got] == [at + timedelta(seconds=i) for i in range(5)]
    later = select(func.count()).where(SensorObservation.entity_id == eid, SensorObservation.observed_at > at)
    assert session.scalar(later) == 4  # stored times compare with bound times


def test_append_refuses_naive_times(session: Session) -> None:
    naive = datetime(2026, 11, 30, 8, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone"):
        append_observations(session, [ObservationRow("default", "urn:x", T, FILL, naive, 1)])


def _attr(value: object, **extra: object) -> dict[str, object]:
    return {"type": "Property", "value": value, "createdAt": AT.isoformat(), "modifiedAt": AT.isoformat(), **extra}


def test_record_changes_writes_each_instance(session: Session) -> None:
    later = AT + timedelta(hours=1)
    entity = {
        "id": "urn:ngsi-ld:WasteContainer:9",
        "type": T,
        FILL: [
            _attr(0.5, observedAt="2026-11-30T07:30:00Z", unitCode="P1"),
            _attr(0.7, datasetId="urn:ngsi-ld:Dataset:b"),
        ],
        STATUS: _attr("full"),
        REF: {"type": "Relationship", "object": "urn:ngsi-ld:Device:4"},
        LOC: {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.0, 2.0]}},
        "createdAt": AT.isoformat(),
        "modifiedAt": AT.isoformat(),
    }
    created = EntityChange(
        tenant="default",
        entity_id=entity["id"],  # type: ignore[arg-type]
        entity_type=T,
        kind="created",
        attrs=frozenset({FILL, STATUS, REF, LOC, "createdAt"}),
        entity=entity,
        previous=None,
        at=later,
    )
    skipped = EntityChange(
        "default",
        "urn:ngsi-ld:WasteContainer:9",
        T,
        "updated",
        frozenset({STATUS}),
        entity,
        entity,
        later,
        history=False,
    )
    deleted = EntityChange(
        "default", "urn:ngsi-ld:WasteContainer:9", T, "deleted", frozenset({STATUS}), None, entity, later
    )
    record_changes(session, [created, skipped, deleted])
    rows = rows_of(session, "urn:ngsi-ld:WasteContainer:9")
    got = sorted((r.attr, r.kind, r.observed_at, r.value_num, r.value_text, r.unit, r.dataset_id) for r in rows)
    assert got == sorted(
        [
            (FILL, "Property", datetime(2026, 11, 30, 7, 30, tzinfo=UTC), 0.5, None, "P1", None),
            (FILL, "Property", later, 0.7, None, None, "urn:ngsi-ld:Dataset:b"),
            (STATUS, "Property", later, None, "full", None, None),
            (REF, "Relationship", later, None, "urn:ngsi-ld:Device:4", None, None),
            (LOC, "GeoProperty", later, None, None, None, None),
        ]
    )
    assert next(r for r in rows if r.attr == LOC).value_json == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert {r.source for r in rows} == {"ngsi"}
