"""/tocc/feeds: charts per source, the quarantine table with filters, zh_CN and en, permission."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.settings import get_settings
from cityos.identity.deps import actor_for_account
from cityos.mobility.ingest import service
from tests.factories import make_account, make_world, session_cookie

from .conftest import loop, video


def _sign_in(client: TestClient, session: Session, roles: list[str]) -> Actor:
    world = make_world(session)
    account = make_account(session, roles=roles, scope=world.city)
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account.id))
    return actor_for_account(session, account)


def test_feeds_page(client: TestClient, session: Session, grid: Any) -> None:
    actor = _sign_in(client, session, ["traffic_operator"])
    service.ingest(session, actor, source="loop", records=[loop(), loop(occupancy=9, lane=4)])
    service.ingest(session, actor, source="video", records=[video(mode="plane")])
    session.commit()
    page = client.get("/tocc/feeds", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text[-800:]
    assert "交通数据接入" in page.text
    assert "隔离区" in page.text
    for source in ("loop", "probe", "bus", "nav", "video"):
        assert f'data-testid="feed-{source}"' in page.text
    charts = re.findall(r"data-accepted='(.*?)' data-quarantined='(.*?)'", page.text)
    assert len(charts) == 5
    assert sum(json.loads(charts[0][0])) == 1
    assert sum(json.loads(charts[0][1])) == 1
    assert len(json.loads(charts[0][0])) == 24
    assert 'data-testid="q-out_of_range"' in page.text
    assert 'data-testid="q-unknown_mode"' in page.text
    assert "字段 occupancy 的取值超出范围。" in page.text
    only = client.get("/tocc/feeds", params={"source": "video", "reason": "unknown_mode"})
    assert 'data-testid="q-unknown_mode"' in only.text
    assert 'data-testid="q-out_of_range"' not in only.text
    odd = client.get("/tocc/feeds", params={"source": "plane", "reason": "x", "page": "-3"})
    assert odd.status_code == 200
    assert 'data-testid="q-out_of_range"' in odd.text
    en = client.get("/tocc/feeds", params={"lang": "en"})
    assert "Traffic feeds" in en.text
    assert "The value of occupancy is out of range." in en.text
    assert "交通数据接入" not in en.text


def test_feeds_page_needs_manage(client: TestClient, session: Session) -> None:
    _sign_in(client, session, ["department_staff"])
    assert client.get("/tocc/feeds").status_code == 403
