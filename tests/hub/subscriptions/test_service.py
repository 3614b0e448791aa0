"""Subscriptions through the service: create/read/change/delete with bad input, and matching of
entity changes (type, id, idPattern, watchedAttributes, q, geoQ, triggers, throttling, expiry,
tenants) into queued notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM, Actor
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.hub.ngsi.context import core_context
from cityos.hub.subscriptions import service
from cityos.hub.subscriptions.models import HubNotification
from tests.hub.subscriptions.conftest import body, change, entity, iri

URI = "http://127.0.0.1:9/notify"
EXPAND = core_context().expand


def make(session: Session, tenant: str, **extra: object) -> str:
    row = service.create(session, SYSTEM, tenant=tenant, body=body(URI, **extra), expand=EXPAND)
    return row.subscription_id


def queued(session: Session, tenant: str) -> list[HubNotification]:
    session.flush()
    return list(
        session.scalars(select(HubNotification).where(HubNotification.tenant == tenant).order_by(HubNotification.id))
    )


def fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d.field for d in exc.value.details}


def test_create_read_update_delete(session: Session, tenant: str) -> None:
    sid = make(
        session, tenant, id="urn:ngsi-ld:Subscription:one", subscriptionName="bins", watchedAttributes=["temperature"]
    )
    row = service.get(session, SYSTEM, tenant=tenant, subscription_id=sid)
    assert row.spec["entities"] == [{"type": iri("Sensor")}]
    assert row.spec["watchedAttributes"] == [iri("temperature")]
    shown = service.represent(row, core_context().compact)
    assert shown["entities"] == [{"type": "Sensor"}]
    assert shown["watchedAttributes"] == ["temperature"]
    assert shown["status"] == "active"
    assert shown["notification"]["timesSent"] == 0
    assert shown["notification"]["format"] == "normalized"

    service.update_subscription(
        session,
        SYSTEM,
        tenant=tenant,
        subscription_id=sid,
        body={"q": "temperature>30", "isActive": False},
        expand=EXPAND,
    )
    row = service.get(session, SYSTEM, tenant=tenant, subscription_id=sid)
    assert row.spec["q"] == "temperature>30"
    assert service.status_of(row) == "paused"
    assert row.spec["watchedAttributes"] == [iri("temperature")]  # untouched members stay

    rows, total = service.listing(session, SYSTEM, tenant=tenant, limit=10, offset=0)
    assert total == 1
    assert [r.subscription_id for r in rows] == [sid]
    service.delete(session, SYSTEM, tenant=tenant, subscription_id=sid)
    with pytest.raises(NotFound):
        service.get(session, SYSTEM, tenant=tenant, subscription_id=sid)


def test_duplicate_id_conflicts_and_ids_are_made(session: Session, tenant: str) -> None:
    make(session, tenant, id="urn:ngsi-ld:Subscription:dup")
    with pytest.raises(Conflict):
        make(session, tenant, id="urn:ngsi-ld:Subscription:dup")
    made = make(session, tenant)
    assert made.startswith("urn:ngsi-ld:Subscription:")
    # the same id in another tenant is another subscription
    make(session, tenant + "b", id="urn:ngsi-ld:Subscription:dup")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"type": "Subscr"}, "type"),
        ({"id": "not a uri"}, "id"),
        ({"entities": []}, "entities"),
        ({"entities": [{"id": "urn:x:1"}]}, "entities[0]"),
        ({"entities": [{"type": "Sensor", "idPattern": "(unclosed"}]}, "entities[0].idPattern"),
        ({"watchedAttributes": ["bad name"]}, "watchedAttributes[0]"),
        ({"throttling": -5}, "throttling"),
        ({"timeInterval": "often"}, "timeInterval"),
        ({"expiresAt": "tomorrow"}, "expiresAt"),
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"isActive": "yes"}, "isActive"),
        ({"notificationTrigger": ["entityExploded"]}, "notificationTrigger"),
        ({"notification": {"endpoint": {"uri": "ftp://x/y"}}}, "notification.endpoint.uri"),
        ({"notification": {"endpoint": {"uri": "mqtt://broker:1883"}}}, "notification.endpoint.uri"),
        ({"notification": {"endpoint": {"uri": URI, "accept": "text/xml"}}}, "notification.endpoint.accept"),
        ({"notification": {"format": "flat", "endpoint": {"uri": URI}}}, "notification.format"),
        (
            {"notification": {"endpoint": {"uri": URI, "receiverInfo": [{"key": "X"}]}}},
            "notification.endpoint.receiverInfo[0]",
        ),
        (
            {
                "notification": {
                    "endpoint": {"uri": "mqtt://b:1883/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "7"}]}
                }
            },
            "notification.endpoint.notifierInfo",
        ),
        ({"notification": None}, "notification"),
        ({"q": "temperature>>"}, "q"),
        ({"geoQ": {"georel": "near;maxDistance==100", "geometry": "Point", "coordinates": "[1]"}}, "geoQ"),
        ({"timeInterval": 60, "watchedAttributes": ["temperature"]}, "timeInterval"),
        ({"status": "active"}, "status"),
        ({"colour": "red"}, "colour"),
        ({"csf": "a==b"}, "csf"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(session: Session, tenant: str, patch: dict, field: str) -> None:
    data = body(URI)
    data.update(patch)
    if data.get("notification") is None:
        del data["notification"]
    with pytest.raises(Invalid) as exc:
        service.create(session, SYSTEM, tenant=tenant, body=data, expand=EXPAND)
    found = fields(exc)
    assert any(f == field or f.startswith(field) for f in found), found
    assert service.listing(session, SYSTEM, tenant=tenant, limit=10, offset=0)[1] == 0


def test_bad_patch_changes_nothing(session: Session, tenant: str) -> None:
    sid = make(session, tenant, throttling=5)
    with pytest.raises(Invalid) as exc:
        service.update_subscription(
            session,
            SYSTEM,
            tenant=tenant,
            subscription_id=sid,
            body={"throttling": 0, "id": "urn:x:other"},
            expand=EXPAND,
        )
    assert fields(exc) == {"throttling", "id"}
    assert service.get(session, SYSTEM, tenant=tenant, subscription_id=sid).throttling == 5


def test_permission_is_required(session: Session, tenant: str) -> None:
    nobody = Actor(account_id=1, label="u", roles=frozenset(), permissions=frozenset({"hub:read"}))
    with pytest.raises(Forbidden):
        service.create(session, nobody, tenant=tenant, body=body(URI), expand=EXPAND)
    with pytest.raises(Forbidden):
        service.listing(session, nobody, tenant=tenant, limit=1, offset=0)


def test_matching_by_type_id_and_pattern(session: Session, tenant: str) -> None:
    make(session, tenant, entities=[{"type": "Sensor"}])
    make(session, tenant, entities=[{"type": "Sensor", "id": "urn:ngsi-ld:Sensor:7"}])
    make(session, tenant, entities=[{"type": "Sensor", "idPattern": "urn:ngsi-ld:Sensor:1.*"}])
    make(session, tenant, entities=[{"type": "Bin"}])
    session.flush()
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:7", temperature=20))])
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:12", temperature=20))])
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:99", "Car", temperature=20))])
    notes = queued(session, tenant)
    ids = [n.payload["data"][0]["id"] for n in notes]
    assert ids.count("urn:ngsi-ld:Sensor:7") == 2  # any-type and by id
    assert ids.count("urn:ngsi-ld:Sensor:12") == 2  # any-type and by pattern
    assert "urn:ngsi-ld:Sensor:99" not in ids
    note = notes[0].payload
    assert note["type"] == "Notification"
    assert note["id"].startswith("urn:ngsi-ld:Notification:")
    assert note["data"][0]["type"] == "Sensor"
    assert note["data"][0]["temperature"] == {"type": "Property", "value": 20}  # compacted, no sysAttrs


def test_watched_attributes_q_and_triggers(session: Session, tenant: str) -> None:
    make(session, tenant, watchedAttributes=["temperature"], q="temperature>30")
    make(session, tenant, watchedAttributes=["humidity"])
    make(session, tenant, notificationTrigger=["entityDeleted"])
    session.flush()
    hot = entity("urn:ngsi-ld:Sensor:1", temperature=35, humidity=10)
    cold = entity("urn:ngsi-ld:Sensor:2", temperature=5, humidity=10)
    service.on_changes(session, [change(tenant, hot, attrs=["temperature"])])  # first only
    service.on_changes(session, [change(tenant, cold, attrs=["temperature"])])  # q fails
    service.on_changes(session, [change(tenant, hot, attrs=["humidity"])])  # second only
    service.on_changes(session, [change(tenant, hot, kind="deleted")])  # third only
    subs = [n.payload["subscriptionId"] for n in queued(session, tenant)]
    rows, _ = service.listing(session, SYSTEM, tenant=tenant, limit=10, offset=0)
    first, second, third = (r.subscription_id for r in rows)
    assert subs == [first, second, third]
    deleted = queued(session, tenant)[-1].payload["data"][0]
    assert deleted["id"] == "urn:ngsi-ld:Sensor:1"
    assert "deletedAt" in deleted


def test_geo_query(session: Session, tenant: str) -> None:
    make(
        session,
        tenant,
        geoQ={"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [104.05, 30.05]},
    )
    session.flush()
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:near", lon=104.051, lat=30.05, t=1))])
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:far", lon=104.2, lat=30.05, t=1))])
    assert [n.payload["data"][0]["id"] for n in queued(session, tenant)] == ["urn:ngsi-ld:Sensor:near"]


def test_formats_and_attribute_filter(session: Session, tenant: str) -> None:
    first = make(
        session, tenant, notification={"format": "keyValues", "attributes": ["temperature"], "endpoint": {"uri": URI}}
    )
    second = make(session, tenant, notification={"format": "concise", "endpoint": {"uri": URI}})
    session.flush()
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", temperature=21, humidity=40))])
    by_sub = {n.payload["subscriptionId"]: n.payload["data"][0] for n in queued(session, tenant)}
    kv, concise = by_sub[first], by_sub[second]
    assert kv == {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "temperature": 21}
    assert concise["temperature"] == 21
    assert concise["humidity"] == 40
    assert concise["location"] == {"type": "Point", "coordinates": [104.05, 30.05]}


def test_throttling(session: Session, tenant: str) -> None:
    make(session, tenant, throttling=60)
    session.flush()
    for n in range(3):
        service.on_changes(session, [change(tenant, entity(f"urn:ngsi-ld:Sensor:{n}", temperature=n))])
    assert len(queued(session, tenant)) == 1


def test_paused_expired_and_tenants_do_not_match(session: Session, tenant: str) -> None:
    paused = make(session, tenant)
    service.set_active(session, SYSTEM, tenant=tenant, subscription_id=paused, active=False)
    soon = make(session, tenant, expiresAt=(datetime.now(UTC) + timedelta(seconds=30)).isoformat())
    make(session, tenant + "x")
    session.flush()
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", temperature=1))])
    assert [n.payload["subscriptionId"] for n in queued(session, tenant)] == [soon]
    later = datetime.now(UTC) + timedelta(minutes=5)
    service.expire(session, now=later)
    row = service.get(session, SYSTEM, tenant=tenant, subscription_id=soon)
    assert service.status_of(row, later) == "expired"
    assert queued(session, tenant)[0].status == "failed"  # its waiting notification was given up
    assert queued(session, tenant + "x") == []


def test_no_subscriptions_costs_no_query(session: Session, tenant: str) -> None:
    from sqlalchemy import event

    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", t=1))])  # fills the cache
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for n in range(200):
            service.on_changes(session, [change(tenant, entity(f"urn:ngsi-ld:Sensor:{n}", t=n))])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []


def test_periodic_subscriptions(session: Session, tenant: str) -> None:
    from cityos.hub.ngsi import service as store

    for n, value in ((1, 1), (2, 50)):
        store.upsert_attributes(
            session,
            tenant=tenant,
            entity_id=f"urn:ngsi-ld:Sensor:{n}",
            entity_type=iri("Sensor"),
            attrs={iri("temperature"): {"type": "Property", "value": value}},
        )
    queued(session, tenant)  # (no change subscriptions: nothing queued by the writes)
    make(session, tenant, timeInterval=60, q="temperature>10")
    session.flush()
    now = datetime.now(UTC)
    assert service.queue_periodic(session, now=now) == 1
    assert service.queue_periodic(session, now=now + timedelta(seconds=30)) == 0  # not due yet
    assert service.queue_periodic(session, now=now + timedelta(seconds=61)) == 1
    notes = queued(session, tenant)
    assert [[d["id"] for d in n.payload["data"]] for n in notes] == [["urn:ngsi-ld:Sensor:2"]] * 2
    assert notes[0].payload["data"][0]["temperature"]["value"] == 50
    # a periodic subscription is not notified by changes
    store.upsert_attributes(
        session,
        tenant=tenant,
        entity_id="urn:ngsi-ld:Sensor:2",
        entity_type=iri("Sensor"),
        attrs={iri("temperature"): {"type": "Property", "value": 60}},
    )
    assert len(queued(session, tenant)) == 2


def test_show_changes_carries_the_previous_value(session: Session, tenant: str) -> None:
    make(session, tenant, notification={"showChanges": True, "endpoint": {"uri": URI}})
    session.flush()
    before = entity("urn:ngsi-ld:Sensor:1", temperature=20)
    after = entity("urn:ngsi-ld:Sensor:1", temperature=25)
    service.on_changes(session, [change(tenant, after, attrs=["temperature"], previous=before)])
    data = queued(session, tenant)[0].payload["data"][0]
    assert data["temperature"]["value"] == 25
    assert data["temperature"]["previousValue"] == 20


def test_lang_picks_one_language(session: Session, tenant: str) -> None:
    make(session, tenant, lang="zh")
    make(session, tenant, lang="fr", notification={"format": "keyValues", "endpoint": {"uri": URI}})
    session.flush()
    data = entity("urn:ngsi-ld:Sensor:1")
    data[iri("name")] = {"type": "LanguageProperty", "languageMap": {"en": "Bin", "zh": "垃圾桶"}}
    service.on_changes(session, [change(tenant, data)])
    zh, fallback = (n.payload["data"][0]["name"] for n in queued(session, tenant))
    assert zh == {"type": "Property", "value": "垃圾桶", "lang": "zh"}
    assert fallback == "Bin"  # no French: the first language there is


def test_a_new_endpoint_takes_what_waits(session: Session, tenant: str) -> None:
    sid = make(session, tenant)
    session.flush()
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", t=1))])
    new = "mqtt://127.0.0.1:1883/city/bins"
    service.update_subscription(
        session,
        SYSTEM,
        tenant=tenant,
        subscription_id=sid,
        body={"notification": {"endpoint": {"uri": new}}},
        expand=EXPAND,
    )
    session.expire_all()
    assert [n.endpoint_uri for n in queued(session, tenant)] == [new]
    row = service.get(session, SYSTEM, tenant=tenant, subscription_id=sid)
    assert row.spec["notification"]["endpoint"]["accept"] == "application/json"  # merged, not replaced
