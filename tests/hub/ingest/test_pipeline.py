"""One ingest batch: observations in bulk, the entity's latest values, the device's state,
de-duplication by message id, refusals with reasons, events on the bus, tallies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.models import OutboxEvent
from cityos.hub.events import DeviceObserved, TrafficObserved
from cityos.hub.ingest import pipeline, service, tasks
from cityos.hub.ingest.models import IngestMessage, IngestRejection, IngestTally
from cityos.hub.ingest.pipeline import Inbound
from cityos.hub.ingest.stores import expand
from cityos.hub.ngsi.service import get_entity
from cityos.hub.temporal.models import SensorObservation
from cityos.places.devices.models import Device
from tests.hub.ingest.conftest import IngestWorld, register

FILL = expand("fillingLevel")


def msg(device: Device, mid: str, values: object, ts: str | None = None) -> Inbound:
    body: dict[str, object] = {"mid": mid, "values": values}
    if ts is not None:
        body["ts"] = ts
    return Inbound(channel="http", device_id=device.id, body=body, device_code=device.code)


def observations(session: Session, entity_id: str) -> list[SensorObservation]:
    return list(
        session.scalars(
            select(SensorObservation)
            .where(SensorObservation.entity_id == entity_id)
            .order_by(SensorObservation.observed_at, SensorObservation.attr)
        )
    )


def events(session: Session, topic: str) -> list[dict]:
    return [e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic))]


def test_a_batch_stores_observations_and_the_latest_values(session: Session, iw: IngestWorld) -> None:
    device, _ = register(session, iw, "bin-1", "waste-container", kind="bin")
    now = utcnow().replace(microsecond=0)
    t1, t2 = now - timedelta(minutes=10), now - timedelta(minutes=5)
    out = pipeline.process(
        session,
        [
            msg(device, "m2", {"fill": 80, "temperature": 20}, t2.isoformat()),
            msg(device, "m1", {"fill": 40}, t1.isoformat()),
        ],
    )
    assert [o.status for o in out] == ["accepted", "accepted"]
    rows = observations(session, "urn:ngsi-ld:WasteContainer:bin-1")
    assert [(r.attr, r.value_num, r.source) for r in rows] == [
        (FILL, 0.4, "bin-1"),
        (FILL, 0.8, "bin-1"),
        (expand("temperature"), 20.0, "bin-1"),
    ]
    assert rows[0].observed_at == t1
    entity = get_entity(session, tenant="default", entity_id="urn:ngsi-ld:WasteContainer:bin-1")
    assert entity is not None
    assert entity[FILL]["value"] == 0.8  # the later reading wins, whatever the order in the batch
    assert entity[expand("temperature")]["unitCode"] == "CEL"
    assert device.state["fillingLevel"] == 0.8
    assert device.last_seen_at is not None
    [event] = events(session, DeviceObserved.topic)  # one per device per batch
    assert event["device_code"] == "bin-1"
    assert event["attrs"] == {"fillingLevel": 0.8, "temperature": 20}
    assert event["entity_type"] == "WasteContainer"
    assert event["lon"] == 104.06


def test_the_same_message_id_is_stored_once(session: Session, iw: IngestWorld) -> None:
    device, _ = register(session, iw, "spot-1", "parking-spot", kind="parking_spot")
    first = pipeline.process(session, [msg(device, "a", {"status": "occupied"}), msg(device, "a", {"status": "free"})])
    assert [o.status for o in first] == ["accepted", "duplicate"]
    again = pipeline.process(session, [msg(device, "a", {"status": "occupied"})])
    assert [o.status for o in again] == ["duplicate"]
    assert len(observations(session, "urn:ngsi-ld:ParkingSpot:spot-1")) == 1
    assert session.scalar(select(func.count()).select_from(IngestMessage)) == 1
    other, _ = register(session, iw, "spot-2", "parking-spot", kind="parking_spot")
    assert pipeline.process(session, [msg(other, "a", {"status": "free"})])[0].status == "accepted"  # per device


def test_bad_messages_are_refused_with_reasons_and_counted(session: Session, iw: IngestWorld) -> None:
    device, _ = register(session, iw, "tilt-1", "manhole-cover", kind="manhole")
    old = (utcnow() - timedelta(days=2)).isoformat()
    out = pipeline.process(
        session,
        [
            msg(device, "ok", {"tilt": 3.5, "state": "closed"}),
            msg(device, "bad", {"tilt": 400}),
            msg(device, "", {"tilt": 1}),
            msg(device, "old", {"tilt": 1}, old),
            msg(device, "when", {"tilt": 1}, "yesterday"),
            Inbound(channel="http", device_id=device.id, body=["not", "an", "object"]),
            Inbound(channel="http", device_id=None, body={"mid": "x"}),
        ],
    )
    assert [(o.status, o.reason) for o in out] == [
        ("accepted", None),
        ("rejected", "invalid"),
        ("rejected", "malformed"),
        ("rejected", "stale"),
        ("rejected", "malformed"),
        ("rejected", "malformed"),
        ("rejected", "unknown_device"),
    ]
    assert [e.field for e in out[1].errors] == ["values.tilt"]
    assert [e.field for e in out[2].errors] == ["mid"]
    assert len(observations(session, "urn:ngsi-ld:DeviceMeasurement:tilt-1")) == 2  # tilt + state of "ok"
    tallies = {
        (t.outcome, t.reason): t.count
        for t in session.scalars(select(IngestTally).where(IngestTally.channel == "http"))
    }
    assert tallies == {("accepted", ""): 1, ("rejected", "invalid"): 1, ("rejected", "malformed"): 3,
                       ("rejected", "stale"): 1, ("rejected", "unknown_device"): 1}  # fmt: skip
    rejected = session.scalars(select(IngestRejection).order_by(IngestRejection.id)).all()
    assert [r.reason for r in rejected] == ["invalid", "malformed", "stale", "malformed", "malformed", "unknown_device"]
    range_msg = "Must be from {min} to {max} (after scaling)."
    assert rejected[0].fields == [{"field": "values.tilt", "message": range_msg, "params": {"min": "0", "max": "180"}}]
    assert "400" not in str(rejected[0].fields)  # the payload is not kept
    figures = service.stats(session, since=utcnow() - timedelta(hours=1))
    assert figures.accepted == 1
    assert figures.rejected == {"invalid": 1, "malformed": 3, "stale": 1, "unknown_device": 1}
    assert sum(m.rejected for m in figures.minutes) == 6
    assert len(figures.minutes) == 60


def test_traffic_intervals_are_published_for_mobility(session: Session, iw: IngestWorld) -> None:
    device, _ = register(session, iw, "loop-7", "traffic-loop", kind="loop_detector")
    end = utcnow().replace(second=0, microsecond=0)
    values = {
        "count": 42, "occupancy": 35, "speed": 48.5, "lane": 2, "segment": "urn:ngsi-ld:RoadSegment:R1",
        "from": (end - timedelta(minutes=5)).isoformat(), "to": end.isoformat(),
    }  # fmt: skip
    out = pipeline.process(session, [msg(device, "i1", values), msg(device, "i2", {**values, "count": 40})])
    assert {o.status for o in out} == {"accepted"}
    traffic = events(session, TrafficObserved.topic)
    assert len(traffic) == 2
    assert traffic[0]["intensity"] == 42.0
    assert traffic[0]["occupancy"] == 0.35
    assert traffic[0]["lane_id"] == 2
    assert traffic[0]["ref_road_segment"] == "urn:ngsi-ld:RoadSegment:R1"
    assert traffic[0]["date_observed_to"] == end.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert len(events(session, DeviceObserved.topic)) == 1
    rows = observations(session, "urn:ngsi-ld:TrafficFlowObserved:loop-7")
    assert {r.observed_at for r in rows} == {end}  # the interval's end is the observation time


def test_prune_forgets_message_ids_after_a_day(session: Session, iw: IngestWorld) -> None:
    device, _ = register(session, iw, "m-1", "meter", kind="meter")
    pipeline.process(session, [msg(device, "r1", {"value": 12.5})])
    assert tasks.prune(session, now=utcnow() + timedelta(hours=1)) == 0
    assert tasks.prune(session, now=datetime.now(UTC) + timedelta(hours=25)) == 2  # the message id and the tally
    assert session.scalar(select(func.count()).select_from(IngestMessage)) == 0
