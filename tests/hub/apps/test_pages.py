"""The pages: the developer portal (register with field errors, submit, keys shown once, rotate,
webhooks with their secret shown once, delivery log, usage), the review pages (approve with
scopes, region and rate limit; reject; suspend; resume) and the residents' launcher."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.hub.apps import service
from cityos.hub.apps.models import AppStatus, LightApp
from tests.factories import session_cookie
from tests.hub.apps.fixtures import AppWorld, submitted

ZH = {"Accept-Language": "zh-CN"}


def test_portal_register_submit_and_collect_keys(client: TestClient, session: Session, aw: AppWorld) -> None:
    from cityos.core.settings import get_settings

    name = get_settings().session_cookie_name
    client.cookies.set(name, session_cookie(session, aw.dev.account_id))  # type: ignore[arg-type]
    page = client.get("/developer", headers=ZH)
    assert page.status_code == 200
    assert "注册轻应用" in page.text
    bad = client.post("/developer/apps", data={"name": "", "category": "x", "entry_url": "ftp://x"}, headers=ZH)
    assert bad.status_code == 422
    assert 'data-testid="error-name"' in bad.text
    assert "请输入以 http:// 或 https:// 开头" in bad.text
    assert session.scalar(select(func.count()).select_from(LightApp)) == 0
    made = client.post(
        "/developer/apps",
        data={
            "name": "社区跑腿",
            "category": "community",
            "entry_url": "https://run.example.org",
            "requested_scopes": ["region:read", "hub:read"],
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    app_url = made.headers["location"].split("?")[0]
    app_id = int(app_url.rsplit("/", 1)[1])
    detail = client.get(made.headers["location"])
    assert "saved as a draft" in detail.text
    assert client.post(f"{app_url}/icon", files={"icon": ("x.txt", b"hello", "text/plain")}).status_code == 422
    assert client.post(f"{app_url}/submit", follow_redirects=False).status_code == 303
    assert client.get(app_url).status_code == 200
    session.expire_all()
    service.approve(session, aw.reviewer, app_id, scopes=["region:read"], region_id=aw.world.district_a.id)
    session.commit()
    approved = client.get(app_url)
    assert 'data-testid="collect"' in approved.text
    keys = client.post(f"{app_url}/keys")
    assert keys.status_code == 200
    assert 'data-testid="client-secret"' in keys.text
    assert client.post(f"{app_url}/keys").status_code == 409  # once
    assert 'data-testid="collect"' not in client.get(app_url).text
    rotated = client.post(f"{app_url}/secret")
    assert "the old one no longer works" in rotated.text
    hook_bad = client.post(f"{app_url}/webhooks", data={"url": "x"})
    assert hook_bad.status_code == 422
    assert 'data-testid="error-url"' in hook_bad.text
    hook = client.post(f"{app_url}/webhooks", data={"url": "https://e.org/h", "topics": ["cases.reported"]})
    assert 'data-testid="webhook-secret"' in hook.text
    from cityos.hub.apps import webhooks

    session.expire_all()
    assert webhooks.queue_event(session, "cases.reported", {"case_id": 1, "category_code": "x", "department_id": None})
    session.commit()
    final = client.get(app_url, headers=ZH)
    assert "https://e.org/h" in final.text
    assert "待发送" in final.text  # the delivery log
    assert 'id="usage-chart"' in final.text
    other = client.get("/developer/apps/999999")
    assert other.status_code == 404


def test_review_pages_approve_reject_suspend(client: TestClient, session: Session, aw: AppWorld) -> None:
    from cityos.core.settings import get_settings

    one = submitted(session, aw)
    two = submitted(session, aw, name="第二个应用")
    session.commit()
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, aw.reviewer.account_id))  # type: ignore[arg-type]
    queue = client.get("/admin/apps?status=submitted", headers=ZH)
    assert queue.status_code == 200
    assert "垃圾分类助手" in queue.text
    assert "第二个应用" in queue.text
    page = client.get(f"/admin/apps/{one.id}", headers=ZH)
    assert "批准上线" in page.text
    bad = client.post(f"/admin/apps/{one.id}/approve", data={"rate_limit": "abc", "region_id": "0"})
    assert bad.status_code == 422
    assert 'data-testid="error-scopes"' in bad.text
    assert 'data-testid="error-rate_limit"' in bad.text
    ok = client.post(
        f"/admin/apps/{one.id}/approve",
        data={"scopes": ["hub:read"], "region_id": str(aw.world.district_a.id), "rate_limit": "120"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    live = client.get(f"/admin/apps/{one.id}", headers=ZH)
    assert 'data-testid="do-suspend"' in live.text
    assert "每分钟 120 次请求" in live.text
    session.expire_all()
    assert session.get(LightApp, one.id).status == AppStatus.APPROVED  # type: ignore[union-attr]
    assert client.post(f"/admin/apps/{two.id}/reject", data={"reason": ""}).status_code == 422
    client.post(f"/admin/apps/{two.id}/reject", data={"reason": "资料不全"})
    assert (
        client.post(f"/admin/apps/{one.id}/suspend", data={"reason": "投诉"}, follow_redirects=False).status_code == 303
    )
    assert 'data-testid="do-resume"' in client.get(f"/admin/apps/{one.id}").text
    client.post(f"/admin/apps/{one.id}/resume")
    assert client.post(f"/admin/apps/{one.id}/nonsense").status_code == 404
    session.expire_all()
    assert session.get(LightApp, two.id).status == AppStatus.REJECTED  # type: ignore[union-attr]
    assert session.get(LightApp, one.id).status == AppStatus.APPROVED  # type: ignore[union-attr]

    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, aw.resident.account_id))  # type: ignore[arg-type]
    launcher = client.get("/apps", headers=ZH)
    assert launcher.status_code == 200
    assert f'data-testid="tile-{one.id}"' in launcher.text
    assert "应用广场" in launcher.text
    assert client.get("/admin/apps").status_code == 403
    assert client.get("/developer").status_code == 403
