"""Attribute writes grouped in one group-commit batch (``grouped.py``) end as the same writes
made one at a time: the same answers and errors, stored entities, history rows and queued
notifications; a failing write leaves nothing and does not disturb the others."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.actor import SYSTEM
from cityos.core.errors import DomainError
from cityos.hub.ngsi import changes
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.attribute_ops import WriteResult
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.ngsi.context import core_context
from cityos.hub.ngsi.grouped import AttrWrite
from cityos.hub.ngsi.writer import GroupWriter
from cityos.hub.subscriptions import service as subscriptions
from cityos.hub.subscriptions.models import HubNotification
from cityos.hub.temporal.models import SensorObservation

CTX = core_context()  # no Link header
IDS = [f"urn:ngsi-ld:Sensor:g{i}" for i in range(3)]


def _setup(session: Session, tenant: str) -> None:
    for entity_id in IDS:
        store.upsert_attributes(
            session,
            tenant=tenant,
            entity_id=entity_id,
            entity_type=CTX.expand("Sensor"),
            attrs={  # expanded as the requests' names are (the store API's own context adds SDM terms)
                CTX.expand("temperature"): {"type": "Property", "value": 20.0, "unitCode": "CEL"},
                CTX.expand("humidity"): {"type": "Property", "value": 40},
                CTX.expand("location"): {
                    "type": "GeoProperty",
                    "value": {"type": "Point", "coordinates": [121.4, 31.2]},
                },
            },
        )
    body = {
        "type": "Subscription",
        "entities": [{"type": "Sensor"}],
        "watchedAttributes": ["temperature"],
        "q": "temperature>30",
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n", "accept": "application/json"}},
    }
    subscriptions.create(session, SYSTEM, tenant=tenant, body=body, expand=CTX.expand)
    session.commit()


def _writes(tenant: str) -> list[AttrWrite]:
    a, b, c = IDS
    return [
        AttrWrite("patch", tenant, a, {"value": 31.5}, CTX, attr="temperature"),
        AttrWrite("patch", tenant, b, {"value": 18}, CTX, attr="temperature"),
        AttrWrite("patch", tenant, "urn:ngsi-ld:Sensor:none", {"value": 1}, CTX, attr="temperature"),  # 404
        AttrWrite("patch", tenant, "not a uri", {"value": 1}, CTX, attr="temperature"),  # 400
        AttrWrite("patch", tenant, a, {"value": 33, "unitCode": "FAH"}, CTX, attr="temperature"),  # a again
        AttrWrite("patch", tenant, a, {"type": "Relationship"}, CTX, attr="humidity"),  # invalid: no object
        AttrWrite("update", tenant, b, {"humidity": {"type": "Property", "value": 55}, "nope": {"value": 1}}, CTX),
        AttrWrite(
            "update",
            tenant,
            c,
            {"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [120.0, 30.0]}}},
            CTX,
        ),
        AttrWrite("append", tenant, c, {"pressure": {"type": "Property", "value": 1013}}, CTX),
        AttrWrite("append", tenant, c, {"pressure": {"type": "Property", "value": 1}}, CTX, overwrite=False),
        AttrWrite("append", tenant, b, [], CTX),  # invalid body
        AttrWrite("patch", tenant, c, {"value": 40}, CTX, attr="temperature"),
    ]


def _outcome(result: Any) -> Any:
    if isinstance(result, DomainError):
        details = [(d.field, d.message) for d in getattr(result, "details", None) or []]
        return (type(result).__name__, result.status_code, str(result), details)
    if isinstance(result, WriteResult):
        return (result.updated, result.not_updated, result.change is not None)
    if isinstance(result, EntityChange):
        return (result.kind, sorted(result.attrs))
    return repr(result)


def _plain(data: Any, tenant: str) -> Any:
    """``data`` without timestamps and the tenant's name, to compare two tenants' records."""
    if isinstance(data, dict):
        return {k: _plain(v, tenant) for k, v in data.items() if k not in ("createdAt", "modifiedAt", "notifiedAt")}
    if isinstance(data, list):
        return [_plain(v, tenant) for v in data]
    if isinstance(data, str):
        return data.replace(tenant, "<tenant>")
    return data


def _state(session: Session, tenant: str) -> dict[str, Any]:
    session.expire_all()
    entities = {i: _plain(store.get_entity(session, tenant=tenant, entity_id=i), tenant) for i in IDS}
    located = {
        i: (row.lon, row.lat, row.min_lon, row.max_lat)
        for i in IDS
        if (row := session.scalars(select(store.NgsiEntity).filter_by(tenant=tenant, entity_id=i)).one())
    }
    history = [
        (r.entity_id, r.attr, r.kind, r.value_num, r.value_text, r.unit, r.dataset_id, r.source)
        for r in session.scalars(
            select(SensorObservation).where(SensorObservation.tenant == tenant).order_by(SensorObservation.id)
        )
    ]
    notified = []
    for n in session.scalars(
        select(HubNotification).where(HubNotification.tenant == tenant).order_by(HubNotification.id)
    ):
        payload = {k: v for k, v in _plain(n.payload, tenant).items() if k not in ("id", "subscriptionId")}
        notified.append((n.status, json.dumps(payload, sort_keys=True)))
    return {"entities": entities, "located": located, "history": history, "notified": notified}


def test_a_grouped_batch_ends_as_the_same_writes_one_at_a_time(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        _setup(session, "grp-one")
        _setup(session, "grp-many")

    alone: list[Any] = []
    for work in _writes("grp-one"):  # the single path: each write alone, statement by statement
        with session_factory() as session:
            try:
                alone.append(work(session))
                session.commit()
            except DomainError as exc:
                session.rollback()
                alone.append(exc)
    writer = GroupWriter(session_factory)

    async def together() -> list[Any]:
        return await asyncio.gather(*(writer.submit(w) for w in _writes("grp-many")), return_exceptions=True)

    grouped = asyncio.run(together())
    assert writer.grouped == len(grouped)  # one batch, one run of the group
    assert writer.retried == 0

    assert [_outcome(r) for r in grouped] == [_outcome(r) for r in alone]
    assert sum(isinstance(r, DomainError) for r in grouped) == 4
    with session_factory() as check:
        one, many = _state(check, "grp-one"), _state(check, "grp-many")
    assert many == one
    assert len(one["history"]) == 7 + 9  # the set-up's nine instances, then one per written instance
    assert len(one["notified"]) == 3  # temperature 31.5 and 33 on a, 40 on c (q: temperature>30)
    assert one["located"][IDS[2]][:2] == (120.0, 30.0)


def test_a_write_alone_in_its_batch_runs_as_a_group_of_one(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        _setup(session, "grp-alone")
    writer = GroupWriter(session_factory)
    work = AttrWrite("patch", "grp-alone", IDS[0], {"value": 27.5}, CTX, attr="temperature")
    missing = AttrWrite("patch", "grp-alone", "urn:ngsi-ld:Sensor:none", {"value": 1}, CTX, attr="temperature")

    change = asyncio.run(writer.submit(work))
    assert change.kind == "updated"
    with pytest.raises(DomainError):  # answers its own error; nothing was written for it
        asyncio.run(writer.submit(missing))
    assert (writer.batches, writer.grouped, writer.retried) == (2, 2, 0)
    with session_factory() as check:
        entity = store.get_entity(check, tenant="grp-alone", entity_id=IDS[0])
        assert entity is not None
        assert entity[CTX.expand("temperature")]["value"] == 27.5


def test_the_changes_reach_the_listeners_as_one_write_at_a_time(
    session_factory: sessionmaker[Session], monkeypatch: Any
) -> None:
    with session_factory() as session:
        _setup(session, "grp-listen")
    seen: list[list[str]] = []

    def listener(session: Session, batch: Any) -> None:
        seen.append([c.entity_id for c in batch])

    monkeypatch.setattr(changes, "_resolved", [listener])
    writer = GroupWriter(session_factory)
    writes = [AttrWrite("patch", "grp-listen", i, {"value": 25}, CTX, attr="temperature") for i in IDS]

    async def together() -> list[Any]:
        return await asyncio.gather(*(writer.submit(w) for w in writes))

    asyncio.run(together())
    assert writer.grouped == 3
    assert seen == [[i] for i in IDS]  # a listener not in changes.GROUPED gets each write's own call


def test_a_failing_statement_runs_the_batch_again_one_write_at_a_time(
    session_factory: sessionmaker[Session], monkeypatch: Any
) -> None:
    with session_factory() as session:
        _setup(session, "grp-fail")
    calls = {"n": 0}
    real = store.save_many

    def broken(session: Session, saved: Any) -> None:
        calls["n"] += 1
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(store, "save_many", broken)
    writer = GroupWriter(session_factory)
    writes = [AttrWrite("patch", "grp-fail", i, {"value": 26}, CTX, attr="temperature") for i in IDS]

    async def together() -> list[Any]:
        return await asyncio.gather(*(writer.submit(w) for w in writes))

    results = asyncio.run(together())
    monkeypatch.setattr(store, "save_many", real)
    assert calls["n"] == 1
    assert writer.retried == 1
    assert writer.grouped == 0
    assert [r.kind for r in results] == ["updated"] * 3
    with session_factory() as check:
        for entity_id in IDS:
            stored = store.get_entity(check, tenant="grp-fail", entity_id=entity_id)
            assert stored is not None
            assert stored[CTX.expand("temperature")]["value"] == 26
