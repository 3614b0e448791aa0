"""Pages of campaigns: the list with creation from a template, the overview with publish and the
lists, the form builder (add, move, remove, save a version, field errors), printable building
QR codes, the workers' task and door-to-door check pages, the residents' building page (sign-in,
household picker, report, late report, help request) and the enterprises' page, in zh_CN and en."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.emergency.campaigns import reports
from cityos.emergency.campaigns.models import Campaign, CampaignForm, HelpRequest, OrgReport, Reach, Report, Task
from tests.emergency.campaigns_fixtures import FEVER, CampWorld, camp_world, signed_in  # noqa: F401

ZH = {"Accept-Language": "zh-CN"}


def test_a_worker_creates_and_publishes_a_campaign_from_a_template(
    client: TestClient, session: Session, cw: CampWorld
) -> None:
    c = signed_in(client, session, cw.staff_account_id)
    page = c.get("/emergency", headers=ZH)
    assert page.status_code == 200, page.text
    assert "疫情筛查" in page.text
    assert 'data-testid="template-flood_check"' in page.text
    refused = c.post("/emergency/campaigns", data={"template": "nope", "scope_region_id": "x"}, headers=ZH)
    assert refused.status_code == 422
    assert 'data-testid="error-template"' in refused.text
    assert "请选择一个行动模板" in refused.text
    assert 'data-testid="error-scope_region_id"' in refused.text
    made = c.post(
        "/emergency/campaigns",
        data={"template": "heat_visits", "scope_region_id": str(cw.world.grid1.id)},
        headers=ZH,
        follow_redirects=False,
    )
    assert made.status_code == 303
    overview = c.get(made.headers["location"], headers=ZH)
    assert "高温探访 · 第一网格" in overview.text
    assert 'data-testid="publish"' in overview.text
    campaign_id = int(re.search(r"/emergency/campaigns/(\d+)", made.headers["location"]).group(1))  # type: ignore[union-attr]
    published = c.post(f"/emergency/campaigns/{campaign_id}/publish", follow_redirects=False)
    assert published.status_code == 303
    after = c.get(published.headers["location"], headers=ZH)
    assert 'data-state="published"' in after.text
    assert 'data-testid="rollup"' in after.text
    assert session.scalar(select(func.count()).select_from(Task).where(Task.campaign_id == campaign_id)) == 1
    again = c.post(f"/emergency/campaigns/{campaign_id}/publish")
    assert again.status_code == 409


def test_the_overview_lists_in_both_languages(client: TestClient, session: Session, cw: CampWorld) -> None:
    reports.submit_report(session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=FEVER)
    session.commit()
    c = signed_in(client, session, cw.staff_account_id)
    zh = c.get(f"/emergency/campaigns/{cw.campaign.id}", headers=ZH)
    assert zh.status_code == 200, zh.text
    assert "未报" in zh.text
    assert 'data-testid="people-' in zh.text
    assert "孕产妇" in zh.text  # the neighbour is listed, special group first
    en = c.get(f"/emergency/campaigns/{cw.campaign.id}?list=abnormal")
    assert "Abnormal reports" in en.text
    assert "/emergency/reports/" in en.text
    for name in ("key_group", "special", "help", "organisations", "supplies"):
        r = c.get(f"/emergency/campaigns/{cw.campaign.id}?list={name}", headers=ZH)
        assert r.status_code == 200, (name, r.text)
    narrowed = c.get(f"/emergency/campaigns/{cw.campaign.id}?region_id={cw.world.grid1.id}")
    assert narrowed.status_code == 200
    outside = c.get(f"/emergency/campaigns/{cw.campaign.id}?region_id={cw.other_community.id}")
    assert outside.status_code == 404
    qr = c.get(f"/emergency/campaigns/{cw.campaign.id}/qr", headers=ZH)
    assert qr.status_code == 200
    assert qr.text.count("<svg") == 3  # two buildings and the enterprises' code
    assert f"/e/{cw.campaign.id}/b/{cw.world.building.id}" in qr.text
    report_id = session.scalar(select(Report.id))
    detail = c.get(f"/emergency/reports/{report_id}", headers=ZH)
    assert "体温(℃)" in detail.text
    assert "发热、咳嗽" in detail.text
    other = signed_in(client, session, cw.grid_worker_account_id)
    assert other.get(f"/emergency/campaigns/{cw.campaign.id}").status_code == 200


def test_the_form_builder_edits_and_saves_a_version(client: TestClient, session: Session, cw: CampWorld) -> None:
    c = signed_in(client, session, cw.staff_account_id)
    url = f"/emergency/campaigns/{cw.campaign.id}/form"
    page = c.get(url, headers=ZH)
    assert page.status_code == 200, page.text
    assert 'data-testid="question-4"' in page.text
    fields = _fields(page.text)
    added = c.post(url, data={**fields, "op": "add", "new_kind": "single"}, headers=ZH)
    assert 'data-testid="question-5"' in added.text
    fields = _fields(added.text)
    fields.update({"q5-title": "是否需要代购", "q5-options": "需要\n不需要", "q5-abnormal_choices": "需要"})
    moved = c.post(url, data={**fields, "op": "up:5"}, headers=ZH)
    fields = _fields(moved.text)
    assert fields["q4-title"] == "是否需要代购"
    removed = c.post(url, data={**fields, "op": "remove:0"}, headers=ZH)
    fields = _fields(removed.text)
    assert fields["q0-title"] == "今日症状"
    bad = c.post(url, data={**fields, "q0-title": "", "op": "save"}, headers=ZH)
    assert bad.status_code == 422
    assert 'data-testid="error-q0-title"' in bad.text
    assert "问题须为1至64个字符" in bad.text
    saved = c.post(url, data={**fields, "op": "save"}, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    campaign = session.get(Campaign, cw.campaign.id)
    assert campaign is not None
    assert campaign.form_version == 2
    schema = session.scalar(select(CampaignForm.schema).where(CampaignForm.version == 2))
    assert schema["x-order"][:4] == ["symptoms", "test_result", "close_contact", "q6"]  # type: ignore[index]
    assert schema["properties"]["q6"]["x-abnormal"] == {"in": ["o1"]}  # type: ignore[index]
    assert "temperature" not in schema["properties"]  # type: ignore[index]
    old = c.get(f"{url}?version=1")
    assert 'data-testid="preview"' in old.text
    volunteer = signed_in(client, session, cw.volunteer_account_id)
    assert volunteer.post(url, data={**fields, "op": "save"}).status_code == 403


def _fields(html: str) -> dict[str, str]:
    """The builder's form as a browser would post it (inputs, textareas, selected options, checked boxes)."""
    out: dict[str, str] = {}
    form = html[html.index('data-testid="builder"') :]
    for m in re.finditer(r"<input([^>]*)>", form):
        attrs = m.group(1)
        name = re.search(r'name="([^"]+)"', attrs)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', attrs)
        if kind and kind.group(1) == "checkbox" and "checked" not in attrs:
            continue
        value = re.search(r'value="([^"]*)"', attrs)
        out[name.group(1)] = _unescape(value.group(1) if value else "")
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        out[m.group(1)] = _unescape(m.group(2))
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2)) or re.search(
            r'<option value="([^"]*)"', m.group(2)
        )
        out[m.group(1)] = chosen.group(1) if chosen else ""
    out.pop("op", None)
    return out


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_a_resident_reports_through_the_building_page(client: TestClient, session: Session, cw: CampWorld) -> None:
    link = f"/e/{cw.campaign.id}/b/{cw.world.building.id}"
    anonymous = client.get(link, headers=ZH)
    assert anonymous.status_code == 200
    assert 'data-testid="signin"' in anonymous.text
    assert f'name="next" value="{link}"' in anonymous.text
    c = signed_in(client, session, cw.resident_account_id)
    page = c.get(link, headers=ZH)
    assert f'data-testid="member-{cw.person.id}"' in page.text
    assert f'data-testid="member-{cw.family.id}"' in page.text
    assert f'data-testid="member-{cw.neighbour.id}"' not in page.text
    form = c.get(f"{link}?person_id={cw.family.id}", headers=ZH)
    assert 'data-testid="report-form"' in form.text
    assert "体温(℃)" in form.text
    bad = c.post(link, data={"person_id": str(cw.family.id), "temperature": "很烫"}, headers=ZH)
    assert bad.status_code == 422
    assert 'data-testid="error-temperature"' in bad.text
    assert "必须是数字" in bad.text
    assert 'data-testid="error-test_result"' in bad.text
    en = c.post(link, data={"person_id": str(cw.family.id)})
    assert "This field is required." in en.text
    sent = c.post(
        link,
        data={
            "person_id": str(cw.family.id),
            "temperature": "38.5",
            "symptoms": ["fever", "cough"],
            "test_result": "negative",
            "close_contact": "0",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    done = c.get(sent.headers["location"], headers=ZH)
    assert 'data-testid="done"' in done.text
    report = session.scalar(select(Report))
    assert report is not None
    assert report.abnormal
    assert report.answers["symptoms"] == ["fever", "cough"]
    assert report.answers["close_contact"] is False
    late = c.post(
        link,
        data={"person_id": str(cw.person.id), "late": "1", "temperature": "36.5", "test_result": "negative"},
        follow_redirects=False,
    )
    assert late.status_code == 303
    assert session.scalar(select(func.count()).select_from(Report).where(Report.late.is_(True))) == 1
    other = c.get(f"/e/{cw.campaign.id}/b/{cw.building2.id}", headers=ZH)
    assert 'data-testid="not-here"' in other.text
    assert c.get(f"/e/{cw.campaign.id}/b/{cw.other_building.id}").status_code == 404
    assert c.get(f"/e/999999/b/{cw.world.building.id}").status_code == 404


def test_a_resident_asks_for_help_and_sees_the_answer(client: TestClient, session: Session, cw: CampWorld) -> None:
    link = f"/e/{cw.campaign.id}/b/{cw.world.building.id}/help"
    c = signed_in(client, session, cw.resident_account_id)
    page = c.get(link, headers=ZH)
    assert "代买药品" in page.text
    bad = c.post(link, data={"person_id": str(cw.person.id), "text": ""}, headers=ZH)
    assert bad.status_code == 422
    assert 'data-testid="error-category_code"' in bad.text
    assert 'data-testid="error-text"' in bad.text
    assert session.scalar(select(func.count()).select_from(HelpRequest)) == 0
    sent = c.post(
        link,
        data={"person_id": str(cw.person.id), "category_code": "help.01.01", "text": "需要降压药"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    shown = c.get(sent.headers["location"], headers=ZH)
    assert 'data-testid="sent"' in shown.text
    assert "等待响应" in shown.text
    help_id = session.scalar(select(HelpRequest.id))
    worker = signed_in(client, session, cw.grid_worker_account_id)
    detail = worker.get(f"/emergency/help/{help_id}", headers=ZH)
    assert 'data-testid="answer-form"' in detail.text
    assert worker.post(f"/emergency/help/{help_id}", data={"intent": "answer", "answer": ""}).status_code == 422
    assert worker.post(f"/emergency/help/{help_id}", data={"intent": "close", "note": "x"}).status_code == 409
    took = worker.post(
        f"/emergency/help/{help_id}", data={"intent": "answer", "answer": "马上送来"}, follow_redirects=False
    )
    assert took.status_code == 303
    c = signed_in(client, session, cw.resident_account_id)
    assert "马上送来" in c.get(f"/e/{cw.campaign.id}/b/{cw.world.building.id}", headers=ZH).text


def test_the_door_to_door_check(client: TestClient, session: Session, cw: CampWorld) -> None:
    c = signed_in(client, session, cw.volunteer_account_id)
    tasks = c.get("/emergency/tasks", headers=ZH)
    assert tasks.status_code == 200, tasks.text
    task_id = session.scalar(select(Task.id).where(Task.region_id == cw.world.building.id))
    assert f'data-testid="task-{task_id}"' in tasks.text
    assert "上门排查" in tasks.text
    page = c.get(f"/emergency/tasks/{task_id}", headers=ZH)
    assert page.status_code == 200
    # 102 (a pregnant resident) comes before 101.
    assert page.text.index(f'data-testid="household-{cw.world.room2.id}"') < page.text.index(
        f'data-testid="household-{cw.world.room.id}"'
    )
    assert c.post(f"/emergency/tasks/{task_id}/reach", data={}, headers=ZH).status_code == 422
    saved = c.post(
        f"/emergency/tasks/{task_id}/reach",
        data={"door": [str(cw.person.id), str(cw.neighbour.id)], "phone": [str(cw.key.id)]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert dict(session.execute(select(Reach.person_id, Reach.how)).all()) == {
        cw.person.id: "door",
        cw.neighbour.id: "door",
        cw.key.id: "phone",
    }
    form = c.get(f"/emergency/tasks/{task_id}/report/{cw.family.id}", headers=ZH)
    assert 'data-testid="answer-form"' in form.text
    bad = c.post(f"/emergency/tasks/{task_id}/report/{cw.family.id}", data={"temperature": "50"}, headers=ZH)
    assert bad.status_code == 422
    assert "不能大于" in bad.text or "至多" in bad.text or "43" in bad.text
    ok = c.post(
        f"/emergency/tasks/{task_id}/report/{cw.family.id}",
        data={"temperature": "36.4", "test_result": "negative"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert session.scalar(select(Report.channel)) == "door"
    supplies = c.post(
        f"/emergency/tasks/{task_id}/supplies", data={"room_id": str(cw.world.room.id), "qty-rice": "abc"}, headers=ZH
    )
    assert supplies.status_code == 422
    assert (
        c.post(
            f"/emergency/tasks/{task_id}/supplies",
            data={"room_id": str(cw.world.room.id), "qty-rice": "2"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    test = c.post(f"/emergency/tasks/{task_id}/test", data={"person_id": str(cw.person.id), "kind": "pcr"}, headers=ZH)
    assert test.status_code == 422
    done = c.post(f"/emergency/tasks/{task_id}/done", data={"note": "全部排查"}, follow_redirects=False)
    assert done.status_code == 303
    assert session.scalar(select(Task.status).where(Task.id == task_id)) == "done"
    assert c.post(f"/emergency/tasks/{task_id}/done", data={}).status_code == 409
    outsider = signed_in(client, session, cw.resident_account_id)
    assert outsider.get(f"/emergency/tasks/{task_id}").status_code == 403


def test_the_enterprise_page(client: TestClient, session: Session, cw: CampWorld) -> None:
    link = f"/e/{cw.campaign.id}/org"
    page = client.get(link, headers=ZH)
    assert page.status_code == 200
    assert "统一社会信用代码" in page.text
    bad = client.post(link, data={"org_code": "123", "name": "", "phone": "1"}, headers=ZH)
    assert bad.status_code == 422
    for field in ("org_code", "name", "phone", "temperature"):
        assert f'data-testid="error-{field}"' in bad.text
    sent = client.post(
        link,
        data={
            "org_code": cw.org.uscc,
            "name": "王五",
            "phone": "13912345678",
            "temperature": "36.5",
            "test_result": "negative",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert session.scalar(select(func.count()).select_from(OrgReport)) == 1
    c = signed_in(client, session, cw.staff_account_id)
    rollup = c.get(f"/emergency/campaigns/{cw.campaign.id}?list=organisations", headers=ZH)
    assert "阳光科技有限公司" in rollup.text
