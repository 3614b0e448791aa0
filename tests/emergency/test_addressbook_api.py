"""The address book's JSON routes: status codes, field-level messages in the caller's language,
masking, scope, and nothing half-written on bad input."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.emergency.addressbook.models import Broadcast, Group, Member
from tests.emergency.addressbook_fixtures import Book, address_book  # noqa: F401
from tests.factories import bearer

ZH = {"Accept-Language": "zh-CN"}


def _sync(client: TestClient, book: Book) -> None:
    done = client.post(
        "/api/v1/address-groups/sync",
        json={"region_id": book.world.community.id},
        headers=bearer(book.staff.account_id),
    )  # type: ignore[arg-type]
    assert done.status_code == 200, done.text
    assert done.json()["groups"] == 4


def _group_id(session: Session, key: str) -> int:
    gid = session.scalar(select(Group.id).where(Group.auto_key == key))
    assert gid is not None
    return gid


def test_groups_and_members(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    staff = bearer(book.staff.account_id)  # type: ignore[arg-type]
    assert client.get("/api/v1/address-groups", params={"region_id": w.grid1.id}).status_code == 401
    _sync(client, book)
    listed = client.get("/api/v1/address-groups", params={"region_id": w.grid1.id}, headers=staff)
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 2
    building = next(g for g in body["items"] if g["kind"] == "building")
    assert building["name"] == "阳光小区 1栋"
    assert building["kind_title"] == "Building group"
    assert building["members"]["resident"] == 3
    zh = client.get("/api/v1/address-groups", params={"region_id": w.grid1.id}, headers={**staff, **ZH})
    assert {g["kind_title"] for g in zh.json()["items"]} == {"楼栋群", "网格群"}
    missing = client.get("/api/v1/address-groups", headers=staff)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "region_id"
    other = bearer(book.other_staff.account_id)  # type: ignore[arg-type]
    assert client.get("/api/v1/address-groups", params={"region_id": w.grid1.id}, headers=other).status_code == 404
    members = client.get(f"/api/v1/address-groups/{building['id']}/members", params={"role": "resident"}, headers=staff)
    assert members.status_code == 200
    assert members.json()["unmasked"] is False
    assert {m["name"] for m in members.json()["items"]} == {"王**", "李**"}
    assert client.get(f"/api/v1/address-groups/{building['id']}/members", headers=other).status_code == 404
    bad = client.get(
        f"/api/v1/address-groups/{building['id']}/members", params={"role": "boss"}, headers={**staff, **ZH}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [
        {
            "field": "role",
            "message": "必须是以下之一：staff, grid_worker, lead, volunteer, resident。",
            "type": "invalid",
        }
    ]


def test_manual_groups_through_the_api(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    staff = bearer(book.staff.account_id)  # type: ignore[arg-type]
    made = client.post(
        "/api/v1/address-groups",
        json={
            "region_id": w.community.id,
            "name": "党员突击队",
            "members": [{"account_id": book.volunteer.account_id}],
        },
        headers=staff,
    )
    assert made.status_code == 201, made.text
    assert made.json()["members"] == {"volunteer": 1}
    gid = made.json()["id"]
    bad = client.post(
        "/api/v1/address-groups",
        json={"region_id": book.other_building.id, "name": " ", "members": [{"account_id": 987654}]},
        headers={**staff, **ZH},
    )
    assert bad.status_code == 422
    assert {(d["field"], d["message"]) for d in bad.json()["error"]["details"]} == {
        ("region_id", "请选择您辖区内的地点。"),
        ("name", "请填写群组名称，1 至 64 个字。"),
        ("members.0.account_id", "您辖区内没有这个账号。"),
    }
    shape = client.post("/api/v1/address-groups", json={"region_id": "x", "name": 5, "extra": 1}, headers=staff)
    assert shape.status_code == 422
    assert {d["field"] for d in shape.json()["error"]["details"]} == {"region_id", "name", "extra"}
    assert session.scalar(select(func.count()).select_from(Group)) == 1
    added = client.post(f"/api/v1/address-groups/{gid}/members", json={"account_id": book.resident1.id}, headers=staff)
    assert added.status_code == 201
    assert added.json()["role"] == "resident"
    assert added.json()["name"] == "王**"  # a resident: masked
    twice = client.post(
        f"/api/v1/address-groups/{gid}/members", json={"account_id": book.resident1.id}, headers=ZH | staff
    )
    assert twice.status_code == 422
    assert twice.json()["error"]["details"][0]["message"] == "该账号已是此角色的成员。"
    gone = client.delete(f"/api/v1/address-groups/{gid}/members/{added.json()['member_id']}", headers=staff)
    assert gone.status_code == 204
    again = client.delete(f"/api/v1/address-groups/{gid}/members/{added.json()['member_id']}", headers=staff)
    assert again.status_code == 404
    observer = bearer(book.observer.account_id)  # type: ignore[arg-type]
    assert (
        client.post(
            "/api/v1/address-groups", json={"region_id": w.community.id, "name": "x"}, headers=observer
        ).status_code
        == 403
    )


def test_automatic_members_cannot_be_removed(client: TestClient, session: Session, book: Book) -> None:
    _sync(client, book)
    gid = _group_id(session, f"building:{book.world.building.id}")
    member = session.scalar(select(Member.id).where(Member.group_id == gid, Member.role == "resident").limit(1))
    staff = bearer(book.staff.account_id)  # type: ignore[arg-type]
    refused = client.delete(f"/api/v1/address-groups/{gid}/members/{member}", headers={**staff, **ZH})
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "该成员由角色、辖区和居住信息自动生成，请修改这些信息。"


def test_building_lead(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    staff = bearer(book.staff.account_id)  # type: ignore[arg-type]
    path = f"/api/v1/buildings/{w.building.id}/lead"
    done = client.put(path, json={"account_id": book.volunteer.account_id}, headers=staff)
    assert done.status_code == 200, done.text
    assert done.json() == {"building_id": w.building.id, "account_id": book.volunteer.account_id, "name": "1栋志愿者"}
    wrong = client.put(path, json={"account_id": book.resident1.id}, headers={**staff, **ZH})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0] == {
        "field": "account_id",
        "message": "楼栋长须是志愿者、网格员或社区工作者。",
        "type": "invalid",
    }
    far = client.put(path, json={"account_id": book.grid_worker2.account_id}, headers=staff)
    assert far.status_code == 422
    assert far.json()["error"]["details"][0]["message"] == (
        "This account's area does not include the building, so it could not act there."
    )
    assert client.put(path, json={}, headers=staff).status_code == 422
    assert client.put(path, json={"account_id": "7"}, headers=staff).status_code == 422
    assert (
        client.put(
            path, json={"account_id": book.volunteer.account_id}, headers=bearer(book.grid_worker.account_id)
        ).status_code
        == 403
    )  # type: ignore[arg-type]
    assert client.put(path, json={"account_id": None}, headers=bearer(book.other_staff.account_id)).status_code == 404  # type: ignore[arg-type]
    cleared = client.put(path, json={"account_id": None}, headers=staff)
    assert cleared.json()["account_id"] is None


def test_broadcast_round_trip(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    staff = bearer(book.staff.account_id)  # type: ignore[arg-type]
    sent = client.post(
        "/api/v1/broadcasts",
        json={"target_region_id": w.building.id, "title": "明早核酸", "body": "8点楼下", "urgency": "urgent"},
        headers=staff,
    )
    assert sent.status_code == 201, sent.text
    row = sent.json()
    assert row["recipient_count"] == 5
    assert row["sms_count"] == 0  # texts go out after the request's commit
    resident = bearer(book.resident1.id)
    inbox = client.get("/api/v1/broadcasts", headers=resident)
    assert [(b["id"], b["read_at"]) for b in inbox.json()["items"]] == [(row["id"], None)]
    assert inbox.json()["items"][0]["read_count"] is None  # residents do not see who read
    opened = client.get(f"/api/v1/broadcasts/{row['id']}", headers=resident)
    assert opened.status_code == 200
    assert opened.json()["read_at"] is not None
    assert opened.json()["receipts"] is None
    assert client.get("/api/v1/broadcasts", headers=resident).json()["items"][0]["read_at"] is not None
    counts = client.get(f"/api/v1/broadcasts/{row['id']}", headers=staff).json()
    assert counts["sms_count"] == 1  # 101's resident has a phone on record
    assert counts["read_count"] == 1
    assert counts["receipts"]["buildings"][0] == {
        "building_id": w.building.id,
        "name": "阳光小区 1栋",
        "recipients": 3,
        "read": 1,
        "unread": 2,
    }
    sent_box = client.get("/api/v1/broadcasts", params={"box": "sent"}, headers=staff).json()
    assert sent_box["items"][0]["read_count"] == 1
    unread = client.get(f"/api/v1/broadcasts/{row['id']}/unread", params={"building_id": w.building.id}, headers=staff)
    assert unread.status_code == 200
    assert {p["name"] for p in unread.json()["items"]} == {"李**", "1栋志愿者"}
    assert client.get(f"/api/v1/broadcasts/{row['id']}/unread", headers=resident).status_code == 404
    outsider = bearer(book.resident3.id)
    assert client.get(f"/api/v1/broadcasts/{row['id']}", headers=outsider).status_code == 404
    assert client.get("/api/v1/broadcasts", params={"box": "nope"}, headers=staff).status_code == 422


def test_broadcast_bad_input(client: TestClient, session: Session, book: Book) -> None:
    staff = bearer(book.staff.account_id)  # type: ignore[arg-type]
    refused = client.post(
        "/api/v1/broadcasts",
        json={"target_region_id": book.other_building.id, "title": "", "body": "b"},
        headers={**staff, **ZH},
    )
    assert refused.status_code == 422
    assert {(d["field"], d["message"]) for d in refused.json()["error"]["details"]} == {
        ("title", "请填写标题，1 至 128 个字。"),
        ("target_region_id", "请选择您辖区内的地点。"),
    }
    neither = client.post("/api/v1/broadcasts", json={"title": "t", "body": "b"}, headers=staff)
    assert neither.json()["error"]["details"][0] == {
        "field": "target_region_id",
        "message": "Choose one: a place or a group.",
        "type": "invalid",
    }
    shape = client.post(
        "/api/v1/broadcasts", json={"target_region_id": 1, "title": "t", "body": "b", "urgency": "panic"}, headers=staff
    )
    assert shape.status_code == 422
    assert shape.json()["error"]["details"][0]["field"] == "urgency"
    resident = client.post(
        "/api/v1/broadcasts",
        json={"target_region_id": book.world.building.id, "title": "t", "body": "b"},
        headers=bearer(book.resident1.id),
    )
    assert resident.status_code == 403
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
