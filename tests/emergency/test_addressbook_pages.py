"""The address book's pages in zh_CN and en: the tree browser down to a building with its
members (masked) and the lead form; a group's page; the send form with field errors under the
fields; the broadcast as a recipient reads it (the read receipt) and as the sender sees it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.emergency.addressbook import service
from cityos.emergency.addressbook.models import Broadcast, Group
from tests.emergency.addressbook_fixtures import Book, address_book  # noqa: F401
from tests.factories import session_cookie

ZH = {"Accept-Language": "zh-CN"}


def _as(client: TestClient, session: Session, account_id: int | None) -> TestClient:
    assert account_id is not None
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))
    return client


def test_the_tree_down_to_a_building(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    c = _as(client, session, book.staff.account_id)
    top = c.get("/emergency/addressbook", headers=ZH)
    assert top.status_code == 200, top.text
    assert "云上通讯录" in top.text
    assert f'data-testid="place-{w.grid1.id}"' in top.text
    assert 'data-testid="no-groups"' in top.text
    synced = c.post("/emergency/addressbook/sync", data={"region_id": w.community.id}, follow_redirects=False)
    assert synced.status_code == 303
    grid = c.get(synced.headers["location"].replace(str(w.community.id), str(w.grid1.id)))
    assert "Grid group" in grid.text
    assert "Building group" in grid.text  # the grid lists its buildings' groups
    building = c.get("/emergency/addressbook", params={"region_id": w.building.id}, headers=ZH)
    assert building.status_code == 200
    html = building.text
    assert "楼栋成员" in html
    assert "王**" in html  # residents masked
    assert "王秀英" not in html
    assert "139****0001" in html
    assert 'href="tel:' not in html  # a masked number is not dialled
    assert 'data-testid="lead-form"' in html
    assert "1栋志愿者" in html


def test_setting_the_lead_on_the_page(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    service.sync_groups(session, region=w.community)
    session.commit()
    c = _as(client, session, book.staff.account_id)
    wrong = c.post(
        "/emergency/addressbook/lead", data={"building_id": w.building.id, "account_id": book.resident1.id}, headers=ZH
    )
    assert wrong.status_code == 422
    assert 'data-testid="error-account_id"' in wrong.text
    assert "楼栋长须是志愿者、网格员或社区工作者。" in wrong.text
    assert service.building_lead(session, building=w.building) is None
    done = c.post(
        "/emergency/addressbook/lead",
        data={"building_id": w.building.id, "account_id": book.volunteer.account_id},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = c.get(done.headers["location"])
    assert "The building lead is set." in page.text
    assert re.search(r'data-testid="member-lead">\s*<span class="name">1栋志愿者', page.text)
    # A grid worker sees the building but may not choose its lead.
    g = _as(client, session, book.grid_worker.account_id)
    seen = g.get("/emergency/addressbook", params={"region_id": w.building.id})
    assert seen.status_code == 200
    assert 'data-testid="lead-form"' not in seen.text
    refused = g.post(
        "/emergency/addressbook/lead", data={"building_id": w.building.id, "account_id": book.volunteer.account_id}
    )
    assert refused.status_code == 403


def test_making_a_group_on_the_page(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    c = _as(client, session, book.staff.account_id)
    bad = c.post("/emergency/addressbook/groups", data={"region_id": w.community.id, "name": "  "}, headers=ZH)
    assert bad.status_code == 422
    assert "请填写群组名称，1 至 64 个字。" in bad.text
    assert session.scalar(select(func.count()).select_from(Group)) == 0
    made = c.post(
        "/emergency/addressbook/groups",
        data={"region_id": w.community.id, "name": "党员突击队", "member": [str(book.volunteer.account_id)]},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = c.get(made.headers["location"], headers=ZH)
    assert "党员突击队" in page.text
    assert "群组已建好。" in page.text
    assert "1栋志愿者" in page.text
    gid = int(made.headers["location"].split("/")[-1].split("?")[0])
    added = c.post(
        f"/emergency/addressbook/groups/{gid}/members",
        data={"account_id": book.grid_worker.account_id},
        follow_redirects=False,
    )
    assert added.status_code == 303
    twice = c.post(f"/emergency/addressbook/groups/{gid}/members", data={"account_id": book.grid_worker.account_id})
    assert twice.status_code == 422
    assert "This account is already a member with this role." in twice.text
    member = next(m for m in service.members(session, group_id=gid) if m.account_id == book.grid_worker.account_id)
    removed = c.post(f"/emergency/addressbook/groups/{gid}/members/{member.id}/remove", follow_redirects=False)
    assert removed.status_code == 303
    assert "Taken out of the group." in c.get(removed.headers["location"]).text


def test_scope_of_the_pages(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    other = _as(client, session, book.other_staff.account_id)
    assert other.get("/emergency/addressbook", params={"region_id": w.building.id}).status_code == 404
    resident = _as(client, session, book.resident1.id)
    assert resident.get("/emergency/addressbook").status_code == 403
    assert resident.post("/emergency/broadcasts", data={"target": f"region:{w.building.id}"}).status_code == 403


def test_sending_and_reading_a_broadcast(client: TestClient, session: Session, book: Book) -> None:
    w = book.world
    c = _as(client, session, book.staff.account_id)
    form = c.get("/emergency/broadcasts", params={"target": f"region:{w.building.id}"}, headers=ZH)
    assert form.status_code == 200
    assert "发送通知" in form.text
    assert f'<option value="region:{w.building.id}" selected>' in form.text
    refused = c.post(
        "/emergency/broadcasts",
        data={"target": f"region:{book.other_building.id}", "title": "", "body": ""},
        headers=ZH,
    )
    assert refused.status_code == 422
    assert 'data-testid="error-target"' in refused.text
    assert "请选择您辖区内的地点。" in refused.text
    assert "请填写标题，1 至 128 个字。" in refused.text
    assert "请填写通知内容，1 至 4000 个字。" in refused.text
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
    sent = c.post(
        "/emergency/broadcasts",
        data={"target": f"region:{w.building.id}", "title": "明早核酸", "body": "8点楼下集合", "urgency": "normal"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    url = sent.headers["location"].split("?")[0]
    mine = c.get(sent.headers["location"], headers=ZH)
    assert 'data-testid="receipts"' in mine.text
    assert re.search(r'data-testid="recipients">5<', mine.text)
    assert "阳光小区 1栋" in mine.text
    assert "李**" in mine.text  # who has not read, masked
    r = _as(client, session, book.resident1.id)
    inbox = r.get("/emergency/broadcasts", headers=ZH)
    assert 'data-testid="send-form"' not in inbox.text
    assert 'data-testid="unread-tag"' in inbox.text
    opened = r.get(url, headers=ZH)
    assert opened.status_code == 200
    assert "8点楼下集合" in opened.text
    assert 'data-testid="read-receipt"' in opened.text
    assert 'data-testid="receipts"' not in opened.text
    assert 'data-testid="unread-tag"' not in r.get("/emergency/broadcasts").text
    c = _as(client, session, book.staff.account_id)
    after = c.get(url)
    assert re.search(r'data-testid="read">1<', after.text)
    by_building = c.get(url, params={"building": w.building.id})
    assert "王**" not in by_building.text.split('id="unread"')[1]  # 101's resident has read it
    sent_box = c.get("/emergency/broadcasts", params={"box": "sent"})
    assert "1 of 5 read" in sent_box.text, sent_box.text[sent_box.text.find("<h1>") :]
    outsider = _as(client, session, book.resident3.id)
    assert outsider.get(url).status_code == 404
