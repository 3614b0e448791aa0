"""Publishing, requesting, approving, reading through grants, masking, expiry and revocation."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.hub.catalogue import grants, records, sources
from cityos.hub.catalogue import service as catalogue
from cityos.hub.catalogue import tasks as catalogue_tasks
from cityos.hub.catalogue.events import DataGrantEnded, DataRequestDecided, DataRequestFiled
from cityos.hub.catalogue.models import DataGrant, Dataset, ReadLogEntry
from cityos.identity.models import Notification
from cityos.workflow.events import ProcessEscalated
from cityos.workflow.models import ProcessInstance
from tests.hub.catalogue.fixtures import CSV, FIELDS, SECRETS, Cat, cat, publish_file

__all__ = ["cat"]


def _fields(exc: pytest.ExceptionInfo[Any]) -> set[str]:
    return {d.field for d in exc.value.details}


def test_publish_a_file_dataset(session: Session, cat: Cat) -> None:
    dataset = publish_file(session, cat)
    assert dataset.department_id == cat.owner.id
    assert dataset.file_rows == 3
    assert [f["name"] for f in dataset.fields] == [f["name"] for f in FIELDS]
    assert (cat.upload_dir / "datasets" / f"{dataset.source}.csv").read_bytes() == CSV.encode()
    page, total = catalogue.search(session, cat.staff, catalogue.PageParams(), q="老人")
    assert total == 1
    assert page[0].code == "elderly"
    page, total = catalogue.search(session, cat.staff, catalogue.PageParams(), tag="民生")
    assert total == 1


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"code": "Bad Code"}, {"code"}),
        ({"code": "requests"}, {"code"}),  # a page of /data/
        ({"name": " "}, {"name"}),
        ({"access_class": "secret"}, {"access_class"}),
        ({"frequency": "sometimes"}, {"frequency"}),
        ({"fields": []}, {"fields"}),
        ({"fields": [{"name": "1x", "type": "string"}]}, {"fields.0.name"}),
        (
            {"fields": [{"name": "a", "type": "blob"}, {"name": "a", "sensitivity": "secret"}]},
            {"fields.0.type", "fields.1.name", "fields.1.sensitivity"},
        ),
        ({"file": b""}, {"file"}),
        ({"file": "name,phone\n张三,1\n".encode()}, {"file"}),
        ({"file": CSV.replace(",3\n", ",three\n").encode()}, {"file"}),
        ({"file": b"\xff\xfe\x00bad"}, {"file"}),
        ({"access_class": "open"}, {"access_class"}),  # personal fields in an open dataset
    ],
)
def test_bad_dataset_input_is_refused_with_field_errors(
    session: Session, cat: Cat, changes: dict[str, Any], fields: set[str]
) -> None:
    args: dict[str, Any] = {
        "code": "elderly",
        "name": "名册",
        "access_class": "shared",
        "kind": "file",
        "fields": [dict(f) for f in FIELDS],
        "file": CSV.encode(),
        "file_name": "x.csv",
        "upload_dir": cat.upload_dir,
        **changes,
    }
    with pytest.raises(Invalid) as exc:
        catalogue.create_dataset(session, cat.officer, **args)
    assert _fields(exc) == fields
    assert session.scalar(select(func.count()).select_from(Dataset)) == 0
    # A bad cell is named by row and field, never by its value.
    assert not any("three" in str(d.params) for d in exc.value.details)


def test_table_source_and_publishing_rules(session: Session, cat: Cat) -> None:
    with pytest.raises(Invalid) as exc:
        catalogue.create_dataset(session, cat.officer, code="x1", name="x", kind="table", source="people.secret")
    assert _fields(exc) == {"source"}
    with pytest.raises(Invalid) as exc:
        catalogue.create_dataset(
            session, cat.officer, code="x1", name="x", kind="table", source="cases", fields=[{"name": "password"}]
        )
    assert _fields(exc) == {"fields.0.name"}
    cases = catalogue.create_dataset(
        session, cat.officer, code="cg.cases", name="城管案件", kind="table", source="cases"
    )
    assert [f["name"] for f in cases.fields] == [f["name"] for f in sources.SOURCES["cases"].fields]
    with pytest.raises(Conflict):
        catalogue.create_dataset(session, cat.officer, code="cg.cases", name="again", kind="table", source="cases")
    with pytest.raises(Forbidden):  # an account of no department publishes nothing
        catalogue.create_dataset(session, cat.admin, code="x2", name="x", kind="table", source="cases")
    ok = catalogue.create_dataset(
        session, cat.admin, code="x2", name="x", kind="table", source="cases", department_id=cat.other.id
    )
    assert ok.department_id == cat.other.id
    with pytest.raises(Forbidden):  # only the owner edits
        catalogue.update_dataset(session, cat.requester_officer, "cg.cases", {"name": "mine"})
    with pytest.raises(Invalid):
        catalogue.update_dataset(session, cat.officer, "cg.cases", {"frequency": "never"})
    updated = catalogue.update_dataset(session, cat.officer, "cg.cases", {"access_class": "restricted"})
    assert updated.version == 2
    catalogue.withdraw_dataset(session, cat.officer, "cg.cases")
    with pytest.raises(NotFound):
        catalogue.get_dataset(session, cat.staff, "cg.cases")
    assert catalogue.get_dataset(session, cat.officer, "cg.cases").status == "withdrawn"


def _grant(session: Session, c: Cat, **approve: Any) -> DataGrant:
    request = grants.request_access(
        session,
        c.staff,
        "elderly",
        purpose="民政探访核对",
        fields=["name", "phone", "street", "note", "visits"],
        days=30,
    )
    grants.approve(session, c.officer, request.id, **approve)
    grant = session.scalar(select(DataGrant).where(DataGrant.request_id == request.id))
    assert grant is not None
    return grant


def test_request_approve_read_granted_fields_only_with_masks(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    with pytest.raises(Forbidden):  # no grant yet
        records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    request = grants.request_access(
        session, cat.staff, "elderly", purpose="民政探访核对", fields=["name", "phone", "street", "visits"], days=30
    )
    instance = session.get(ProcessInstance, request.process_instance_id)
    assert instance is not None
    assert instance.state == "pending"
    assert instance.state_due_at is not None
    with pytest.raises(Forbidden):  # the requester cannot approve its own request
        grants.approve(session, cat.requester_officer, request.id)
    with pytest.raises(Invalid) as exc:
        grants.approve(session, cat.officer, request.id, fields=["name", "lon"], masked=["phone"], days=400)
    assert _fields(exc) == {"fields", "masked", "days"}
    grants.approve(
        session, cat.officer, request.id, fields=["name", "phone", "street", "visits"], masked=["name", "phone"]
    )
    assert request.status == "granted"
    assert instance.state == "granted"
    result = records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    assert result.access.fields == ["name", "phone", "street", "visits"]
    assert result.items[0] == {"name": "张*", "phone": "138****0001", "street": "一街道", "visits": "3"}
    assert result.items[1]["name"] == "欧***"
    text = json.dumps(result.items, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text
    entry = session.scalar(select(ReadLogEntry).order_by(ReadLogEntry.seq.desc()).limit(1))
    assert entry is not None
    assert (entry.department_id, entry.row_count, entry.fields) == (cat.other.id, 3, result.access.fields)
    assert entry.grant_id == result.access.grant.id if result.access.grant else False
    csv_text, _ = records.export_csv(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    assert csv_text.splitlines()[0].lstrip("\ufeff") == "name,phone,street,visits"
    for secret in SECRETS:
        assert secret not in csv_text
    # The owner reads everything it holds; personal fields masked without pii:read.
    own = records.read_records(session, cat.officer, "elderly", upload_dir=cat.upload_dir)
    assert own.items[0]["name"] == "张*"
    assert own.items[0]["lon"] == 104.01
    with pytest.raises(Conflict):  # decided once
        grants.approve(session, cat.officer, request.id)


def test_default_masks_and_masking_by_type(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    grant = _grant(session, cat)
    assert sorted(grant.masked) == ["name", "note", "phone"]  # the personal and sensitive ones asked for
    result = records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    assert result.items[0]["note"] == "每周探访…"
    assert result.items[2]["note"] == ""  # an empty cell stays empty


def test_refuse_needs_a_reason_and_gives_no_access(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    request = grants.request_access(session, cat.staff, "elderly", purpose="民政探访核对", days=30)
    with pytest.raises(Invalid):
        grants.refuse(session, cat.officer, request.id, reason=" ")
    grants.refuse(session, cat.officer, request.id, reason="用途不明确")
    assert request.status == "refused"
    with pytest.raises(Forbidden):
        records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    again = grants.request_access(session, cat.staff, "elderly", purpose="用于探访核对", days=10)
    with pytest.raises(Conflict):  # one waiting request per department
        grants.request_access(session, cat.staff, "elderly", purpose="用于探访核对", days=10)
    grants.cancel(session, cat.staff, again.id)
    assert again.status == "cancelled"


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"purpose": "x"}, {"purpose"}),
        ({"purpose": "探访核对", "days": 0}, {"days"}),
        ({"purpose": "探访核对", "days": 366}, {"days"}),
        ({"purpose": "探访核对", "fields": ["salary"]}, {"fields"}),
    ],
)
def test_bad_requests_are_refused(session: Session, cat: Cat, kwargs: dict[str, Any], fields: set[str]) -> None:
    publish_file(session, cat)
    with pytest.raises(Invalid) as exc:
        grants.request_access(session, cat.staff, "elderly", **kwargs)
    assert _fields(exc) == fields
    assert grants.list_requests(session, cat.staff, grants.PageParams())[1] == 0


def test_requests_that_make_no_sense(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    with pytest.raises(Conflict):  # one's own dataset
        grants.request_access(session, cat.officer2, "elderly", purpose="自己用的", days=10)
    with pytest.raises(Forbidden):  # no department
        grants.request_access(session, cat.admin, "elderly", purpose="管理员用", days=10)
    catalogue.create_dataset(
        session,
        cat.officer,
        code="open.devices",
        name="设备",
        kind="table",
        source="places.devices",
        access_class="open",
    )
    with pytest.raises(Conflict):  # open: read it directly
        grants.request_access(session, cat.staff, "open.devices", purpose="查看设备", days=10)
    assert records.read_records(session, cat.staff, "open.devices").total == 0


def test_restricted_needs_two_approvers(session: Session, cat: Cat) -> None:
    publish_file(session, cat, access_class="restricted")
    request = grants.request_access(session, cat.staff, "elderly", purpose="民政探访核对", days=30)
    grants.approve(session, cat.officer, request.id, fields=["street", "visits"])
    assert request.status == "second"
    with pytest.raises(Forbidden):
        records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    with pytest.raises(Conflict):  # the same person twice
        grants.approve(session, cat.officer, request.id)
    grants.approve(session, cat.admin, request.id)  # the proposal of the first step holds
    assert request.status == "granted"
    result = records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    assert result.access.fields == ["street", "visits"]


def test_expiry_stops_access_at_once_and_periodic_marks_it(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    grant = _grant(session, cat, days=7)
    later = utcnow() + timedelta(days=7, seconds=1)
    assert records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir).total == 3
    with pytest.raises(Forbidden):
        records.read_records(session, cat.staff, "elderly", now=later, upload_dir=cat.upload_dir)
    assert grants.expire_grants(session, now=utcnow()) == 0
    assert grants.expire_grants(session, now=later) == 1
    assert grant.status == "expired"


def test_revoke_stops_access_at_once(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    grant = _grant(session, cat)
    with pytest.raises(Invalid):
        grants.revoke(session, cat.officer, grant.id, reason="")
    with pytest.raises(Forbidden):  # the holder cannot revoke
        grants.revoke(session, cat.requester_officer, grant.id, reason="不要了")
    grants.revoke(session, cat.officer, grant.id, reason="用途已结束")
    with pytest.raises(Forbidden):
        records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)
    with pytest.raises(Conflict):
        grants.revoke(session, cat.officer, grant.id, reason="again")
    held, _ = grants.list_grants(session, cat.staff, grants.PageParams(), box="held")
    assert [g.status for g in held] == ["revoked"]


def test_withdrawn_dataset_stops_grants(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    _grant(session, cat)
    catalogue.withdraw_dataset(session, cat.officer, "elderly")
    with pytest.raises(NotFound):
        records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir)


def test_usage_figures(session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    _grant(session, cat)
    now = utcnow()
    records.read_records(
        session, cat.officer, "elderly", limit=2, upload_dir=cat.upload_dir, now=now - timedelta(days=3)
    )
    records.read_records(session, cat.staff, "elderly", upload_dir=cat.upload_dir, now=now)
    records.read_records(session, cat.officer, "elderly", upload_dir=cat.upload_dir, now=now)
    records.read_records(session, cat.officer, "elderly", upload_dir=cat.upload_dir, now=now - timedelta(days=40))
    found = records.usage(session, cat.staff, "elderly", now=now)
    assert (found.reads, found.rows, found.departments) == (3, 8, 1)
    assert len(found.days) == 30
    assert sum(d[1] for d in found.days) == 3
    assert found.days[-1][1] == 2
    assert records.top_datasets(session, now=now) == [("elderly", 3, 8)]


def test_entity_type_dataset_reads_flattened_entities(
    session: Session, cat: Cat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityos.hub.ngsi import service as ngsi

    entity = {
        "id": "urn:ngsi-ld:WasteContainer:001",
        "type": "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer",
        "https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel": {"type": "Property", "value": 0.7},
        "https://uri.etsi.org/ngsi-ld/location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [104.01234, 30.05678]},
        },
        "https://smartdatamodels.org/refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:1"},
        "modifiedAt": "2026-12-01T00:00:00Z",
    }
    calls: list[dict[str, Any]] = []

    def fake(session: Session, **kwargs: Any) -> list[dict[str, Any]]:
        calls.append(kwargs)
        return [entity]

    monkeypatch.setattr(ngsi, "entities_of_type", fake)
    catalogue.create_dataset(
        session,
        cat.officer,
        code="bins",
        name="垃圾桶",
        kind="entity_type",
        source="WasteContainer",
        fields=[
            {"name": "id", "type": "string"},
            {"name": "fillingLevel", "type": "number"},
            {"name": "location", "type": "point", "sensitivity": "personal"},
        ],
    )
    grant_request = grants.request_access(session, cat.staff, "bins", purpose="满溢统计用", days=10)
    grants.approve(session, cat.officer, grant_request.id)
    result = records.read_records(session, cat.staff, "bins")
    assert result.items == [{"id": "urn:ngsi-ld:WasteContainer:001", "fillingLevel": 0.7, "location": [104.01, 30.06]}]
    assert calls[0]["entity_type"] == "WasteContainer"
    assert calls[0]["tenant"] == "default"


def test_departments_are_told(session: Session, cat: Cat) -> None:
    publish_file(session, cat)

    def titles(account_key: str) -> list[str]:
        account_id = cat.accounts[account_key].id
        return list(session.scalars(select(Notification.title).where(Notification.account_id == account_id)))

    catalogue_tasks.on_request_filed(
        session, DataRequestFiled(request_id=1, dataset_code="elderly", owner_department_id=cat.owner.id)
    )
    catalogue_tasks.on_request_decided(
        session,
        DataRequestDecided(request_id=1, dataset_code="elderly", department_id=cat.other.id, decision="granted"),
    )
    catalogue_tasks.on_grant_ended(
        session,
        DataGrantEnded(
            grant_id=1,
            dataset_code="elderly",
            department_id=cat.other.id,
            owner_department_id=cat.owner.id,
            reason="expired",
        ),
    )
    assert len(titles("officer")) == 2
    assert len(titles("officer2")) == 2
    assert len(titles("staff")) == 2
    request = grants.request_access(session, cat.staff, "elderly", purpose="民政探访核对", days=30)
    catalogue_tasks.on_escalated(
        session,
        ProcessEscalated(
            instance_id=request.process_instance_id or 0,
            subject_type="data_request",
            subject_id=str(request.id),
            state="pending",
            kind="remind",
            level=1,
        ),
    )
    assert len(titles("officer")) == 3  # and the reminder of the overdue request
    assert any("elderly" in t for t in titles("staff"))


def test_an_upload_over_the_size_limit_is_refused(session: Session, cat: Cat, monkeypatch: pytest.MonkeyPatch) -> None:
    from cityos.core.settings import Settings
    from cityos.hub.catalogue import files

    monkeypatch.setattr(files, "get_settings", lambda: Settings(env="test", max_upload_mb=1))
    big = (CSV + "王五,13600000004,三街道," + "长" * (1024 * 1024) + ",104.0,30.0,1\n").encode()
    with pytest.raises(Invalid) as exc:
        catalogue.create_dataset(
            session,
            cat.officer,
            code="big",
            name="大文件",
            kind="file",
            fields=[dict(f) for f in FIELDS],
            file=big,
            file_name="big.csv",
            upload_dir=cat.upload_dir,
        )
    assert [(d.field, d.params) for d in exc.value.details] == [("file", {"mb": 1})]
    assert session.scalar(select(func.count()).select_from(Dataset)) == 0
