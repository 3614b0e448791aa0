"""The pages: browse and search, publish with the schema editor (and its field errors), the
dataset page with a sample read through a grant (masked fields stay masked), request, approve,
refuse, revoke, and the read log's chain badge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.hub.catalogue import grants
from cityos.hub.catalogue.models import ReadLogEntry
from tests.factories import session_cookie
from tests.hub.catalogue.fixtures import SECRETS, Cat, cat, publish_file

__all__ = ["cat"]


def _sign_in(client: TestClient, session: Session, c: Cat, key: str) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, c.accounts[key].id))


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_catalogue_and_publish_form(client: TestClient, session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    session.commit()
    _sign_in(client, session, cat, "officer")
    listed = client.get("/data", params={"q": "名册"}, headers={"Accept-Language": "zh-CN"})
    assert listed.status_code == 200
    assert 'data-testid="dataset-elderly"' in listed.text
    assert "有条件共享" in listed.text
    assert 'data-testid="publish-link"' in listed.text
    assert client.get("/data/new").status_code == 200
    bad = client.post(
        "/data/new",
        data={
            "code": "Bad Code",
            "name": "",
            "access_class": "shared",
            "kind": "table",
            "source": "cases",
            "f0_name": "1x",
            "f0_type": "string",
            "f0_sensitivity": "none",
            "frequency": "daily",
        },
    )
    assert bad.status_code == 422
    assert 'data-testid="error-code"' in bad.text
    assert 'data-testid="error-fields.0.name"' in bad.text
    made = client.post(
        "/data/new",
        data={
            "code": "cg.orgs",
            "name": "辖区组织",
            "access_class": "open",
            "kind": "table",
            "source": "people.orgs",
            "f0_name": "",
            "frequency": "weekly",
            "tags": "组织，企业",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/data/cg.orgs?notice=published"
    page = client.get("/data/cg.orgs?notice=published")
    assert page.status_code == 200
    assert 'id="dc-usage"' in page.text
    uploaded = client.post(
        "/data/new",
        data={
            "code": "upload.csv",
            "name": "上传",
            "access_class": "shared",
            "kind": "file",
            "f0_name": "a",
            "f0_type": "integer",
            "f0_sensitivity": "none",
            "frequency": "once",
        },
        files={"file": ("a.csv", b"a\n1\nx\n", "text/csv")},
    )
    assert uploaded.status_code == 422
    assert "Row 2" in uploaded.text


def test_request_approve_sample_and_no_leak_on_pages(client: TestClient, session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    session.commit()
    _sign_in(client, session, cat, "staff")
    page = client.get("/data/elderly")
    assert 'data-testid="request-form"' in page.text
    assert not _leaks(page.text)
    bad = client.post("/data/elderly/request", data={"purpose": "x", "days": "0", "fields": ["name"]})
    assert bad.status_code == 422
    assert 'data-testid="error-purpose"' in bad.text
    assert 'data-testid="error-days"' in bad.text
    sent = client.post(
        "/data/elderly/request",
        data={"purpose": "民政探访核对", "days": "30", "fields": ["name", "phone", "note", "lon"]},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert 'data-testid="waiting"' in client.get("/data/elderly").text
    _sign_in(client, session, cat, "officer")
    queue = client.get("/data/requests?box=todo")
    request_id = grants.list_requests(session, cat.officer, grants.PageParams(), box="todo")[0][0].id
    assert f'data-testid="approve-{request_id}"' in queue.text
    wrong = client.post(
        f"/data/requests/{request_id}/approve", data={"fields": ["name"], "masked": ["street"], "days": "30"}
    )
    assert wrong.status_code == 422
    approved = client.post(
        f"/data/requests/{request_id}/approve",
        data={"fields": ["name", "phone", "note", "lon"], "masked": ["name", "phone", "note", "lon"], "days": "30"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    _sign_in(client, session, cat, "staff")
    sample = client.get("/data/elderly?sample=1")
    assert sample.status_code == 200
    assert 'data-testid="sample"' in sample.text
    assert "张*" in sample.text
    assert "138****0001" in sample.text
    assert "104.01" in sample.text
    assert not _leaks(sample.text)
    assert "一街道" not in sample.text  # a field not granted is not shown
    grants_page = client.get("/data/grants?box=held")
    assert "elderly" in grants_page.text or "独居老人名册" in grants_page.text
    _sign_in(client, session, cat, "officer")
    grant_id = grants.list_grants(session, cat.officer, grants.PageParams(), box="given")[0][0].id
    revoked = client.post(f"/data/grants/{grant_id}/revoke", data={"reason": "结束"}, follow_redirects=False)
    assert revoked.status_code == 303
    _sign_in(client, session, cat, "staff")
    after = client.get("/data/elderly?sample=1")
    assert 'data-testid="sample"' not in after.text
    assert not _leaks(after.text)


def test_refuse_on_the_page(client: TestClient, session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    request = grants.request_access(session, cat.staff, "elderly", purpose="民政探访核对", days=30)
    session.commit()
    _sign_in(client, session, cat, "officer")
    done = client.post(f"/data/requests/{request.id}/refuse", data={"reason": "用途不明确"}, follow_redirects=False)
    assert done.status_code == 303
    _sign_in(client, session, cat, "staff")
    mine = client.get("/data/requests?box=mine", headers={"Accept-Language": "zh-CN"})
    assert "未同意" in mine.text or "申请未获同意" in mine.text
    assert "用途不明确" in mine.text


def test_readlog_page_shows_the_chain_badge(client: TestClient, session: Session, cat: Cat) -> None:
    publish_file(session, cat)
    from cityos.hub.catalogue import records

    records.read_records(session, cat.officer, "elderly", upload_dir=cat.upload_dir)
    records.read_records(session, cat.officer, "elderly", upload_dir=cat.upload_dir)
    session.commit()
    _sign_in(client, session, cat, "admin")
    page = client.get("/data/readlog")
    assert page.status_code == 200
    assert 'data-testid="chain-ok"' in page.text
    assert not _leaks(page.text)
    session.execute(update(ReadLogEntry).where(ReadLogEntry.seq == 1).values(row_count=99))
    session.commit()
    bad = client.get("/data/readlog")
    assert 'data-testid="chain-bad"' in bad.text
    _sign_in(client, session, cat, "staff")
    assert client.get("/data/readlog").status_code == 403


def test_a_developer_browses_but_does_not_see_the_sharing_pages(client: TestClient, session: Session, cat: Cat) -> None:
    from tests.factories import make_account

    publish_file(session, cat)
    dev = make_account(session, roles=["developer"], scope=cat.world.city)
    session.commit()
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, dev.id))
    page = client.get("/data")
    assert page.status_code == 200
    assert 'data-testid="dataset-elderly"' in page.text
    assert 'data-testid="to-requests"' not in page.text
    assert 'data-testid="to-readlog"' not in page.text
    detail = client.get("/data/elderly?sample=1")
    assert detail.status_code == 200
    assert 'data-testid="sample"' not in detail.text
    assert not _leaks(detail.text)
    assert client.get("/data/readlog").status_code == 403
