"""The scopes on the developer and review pages are described in the reader's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.i18n import catalogue
from cityos.core.settings import get_settings
from cityos.identity.permissions import PERMISSIONS
from tests.factories import session_cookie
from tests.hub.apps.fixtures import AppWorld, submitted

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def test_every_permission_has_a_chinese_description() -> None:
    zh = catalogue("zh_CN")
    assert [text for text in PERMISSIONS.values() if text not in zh] == []


def test_developer_portal_describes_scopes_in_chinese(client: TestClient, session: Session, aw: AppWorld) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, aw.dev.account_id))  # type: ignore[arg-type]
    page = client.get("/developer", headers=ZH)
    assert page.status_code == 200
    assert 'data-testid="scope-hub:read"' in page.text
    assert "查看数据中台的 NGSI-LD 实体" in page.text
    assert PERMISSIONS["hub:read"] not in page.text
    english = client.get("/developer", headers=EN)
    assert PERMISSIONS["hub:read"] in english.text


def test_review_page_describes_scopes_in_chinese(client: TestClient, session: Session, aw: AppWorld) -> None:
    app = submitted(session, aw)
    session.commit()
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, aw.reviewer.account_id))  # type: ignore[arg-type]
    page = client.get(f"/admin/apps/{app.id}", headers=ZH)
    assert page.status_code == 200
    assert 'data-testid="grant-region:read"' in page.text
    assert "浏览区划树" in page.text
    assert PERMISSIONS["region:read"] not in page.text
