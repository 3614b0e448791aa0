"""The campaigns API: status codes, field errors in the caller's language, nothing half-written,
scope (another community's campaign is 404), and the main journey over JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.emergency.campaigns.models import Campaign, HelpRequest, Report, SuppliesDelivery
from tests.emergency.campaigns_fixtures import FEVER, GOOD, CampWorld, camp_world  # noqa: F401
from tests.factories import bearer

ZH = {"Accept-Language": "zh-CN"}


def _fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_create_publish_and_read_a_campaign(client: TestClient, session: Session, cw: CampWorld) -> None:
    staff = bearer(cw.staff_account_id)
    templates = client.get("/api/v1/campaign-templates", headers=staff)
    assert [t["key"] for t in templates.json()] == ["epidemic_screening", "flood_check", "heat_visits"]
    assert templates.json()[0]["title"] == "Epidemic screening"
    assert client.get("/api/v1/campaign-templates", headers={**staff, **ZH}).json()[0]["title"] == "疫情筛查"
    bad = client.post("/api/v1/campaigns", json={"template": "x", "scope_region_id": 0}, headers={**staff, **ZH})
    assert bad.status_code == 422
    assert _fields(bad) == {
        "template": "请选择一个行动模板。",
        "scope_region_id": "请选择您辖区内的一个区域（市至楼栋）。",
    }
    missing = client.post("/api/v1/campaigns", json={}, headers=staff)
    assert missing.status_code == 422
    assert set(_fields(missing)) == {"template", "scope_region_id"}
    made = client.post(
        "/api/v1/campaigns", json={"template": "flood_check", "scope_region_id": cw.world.grid1.id}, headers=staff
    )
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert made.json()["status"] == "draft"
    published = client.post(f"/api/v1/campaigns/{cid}/publish", headers=staff)
    assert published.status_code == 200
    assert published.json()["tasks"] == 1
    assert client.post(f"/api/v1/campaigns/{cid}/publish", headers=staff).status_code == 409
    form = client.get(f"/api/v1/campaigns/{cid}/form", headers=staff).json()
    assert form["version"] == 1
    assert form["form"]["properties"]["household_status"]["x-abnormal"] == {"in": ["needs_evacuation"]}
    assert client.get(f"/api/v1/campaigns/{cid}/form?version=9", headers=staff).status_code == 404
    other = bearer(cw.other_staff.account_id)  # type: ignore[arg-type]
    assert client.get(f"/api/v1/campaigns/{cid}", headers=other).status_code == 404
    assert [c["id"] for c in client.get("/api/v1/campaigns", headers=other).json()] == []
    assert client.post(f"/api/v1/campaigns/{cid}/close", headers=bearer(cw.grid_worker_account_id)).status_code == 403
    assert client.post(f"/api/v1/campaigns/{cid}/close", headers=staff).json()["status"] == "closed"


def test_forms_over_json(client: TestClient, session: Session, cw: CampWorld) -> None:
    staff = bearer(cw.staff_account_id)
    url = f"/api/v1/campaigns/{cw.campaign.id}/form"
    bad = client.put(url, json={"questions": [{"key": "t", "kind": "number", "title": ""}]}, headers={**staff, **ZH})
    assert bad.status_code == 422
    assert _fields(bad) == {"questions.0.title": "问题须为1至64个字符。"}
    assert client.put(url, json={"questions": "no"}, headers=staff).status_code == 422
    ok = client.put(
        url,
        json={
            "title": "简表",
            "questions": [{"key": "t", "kind": "number", "title": "体温", "required": True, "abnormal": {"gte": 37.3}}],
        },
        headers=staff,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    assert client.get(f"{url}?version=1", headers=staff).json()["form"]["title"] == "每日健康报告"


def test_reports_over_json(client: TestClient, session: Session, cw: CampWorld) -> None:
    resident = bearer(cw.resident_account_id)
    url = f"/api/v1/campaigns/{cw.campaign.id}/reports"
    bad = client.post(
        url, json={"person_id": cw.person.id, "answers": {"temperature": "烫"}}, headers={**resident, **ZH}
    )
    assert bad.status_code == 422
    assert _fields(bad) == {"temperature": "必须是数字。", "test_result": "此项必填。"}
    neighbour = client.post(url, json={"person_id": cw.neighbour.id, "answers": GOOD}, headers={**resident, **ZH})
    assert _fields(neighbour) == {"person_id": "您只能为本人及同户家庭成员填报。"}
    assert client.post(url, json={"person_id": cw.person.id, "answers": []}, headers=resident).status_code == 422
    assert session.scalar(select(func.count()).select_from(Report)) == 0
    sent = client.post(url, json={"person_id": cw.person.id, "answers": FEVER}, headers=resident)
    assert sent.status_code == 201, sent.text
    assert sent.json()["abnormal"] is True
    again = client.post(url, json={"person_id": cw.person.id, "answers": GOOD}, headers=resident)
    assert again.json()["id"] == sent.json()["id"]
    assert again.json()["entries"] == 2
    staff = bearer(cw.staff_account_id)
    listed = client.get(url, headers=staff).json()
    assert listed["total"] == 1
    assert listed["items"][0]["name"] == "居**"
    detail = client.get(f"/api/v1/campaign-reports/{sent.json()['id']}", headers=staff).json()
    assert [a["question"] for a in detail["answers"]][0] == "体温(℃)"
    assert client.get(f"{url}?day=2026-13-01", headers=staff).status_code == 422
    assert client.get(url, headers=resident).status_code == 403
    missing = client.get(f"/api/v1/campaigns/{cw.campaign.id}/not-reported", headers=staff).json()
    assert {p["person_id"] for b in missing for p in b["people"]} == {
        cw.family.id,
        cw.neighbour.id,
        cw.key.id,
        cw.far.id,
    }
    special = client.get(f"/api/v1/campaigns/{cw.campaign.id}/special-groups", headers=staff).json()
    assert [p["tags"] for b in special for p in b["people"]] == [["pregnant"]]
    worker = bearer(cw.grid_worker_account_id)
    watched = client.post(
        f"/api/v1/campaigns/{cw.campaign.id}/key-group",
        json={"person_id": cw.family.id, "tag": "x"},
        headers={**worker, **ZH},
    )
    assert watched.status_code == 422
    assert "tag" in _fields(watched)
    reach = client.post(
        f"/api/v1/campaigns/{cw.campaign.id}/reach", json={"person_ids": [cw.family.id], "how": "door"}, headers=worker
    )
    assert reach.json() == {"added": 1}
    test = client.post(
        f"/api/v1/campaigns/{cw.campaign.id}/test-results",
        json={"person_id": cw.family.id, "kind": "pcr", "result": "??"},
        headers=worker,
    )
    assert test.status_code == 422
    assert set(_fields(test)) == {"result"}


def test_tasks_help_and_supplies_over_json(client: TestClient, session: Session, cw: CampWorld) -> None:
    volunteer = bearer(cw.volunteer_account_id)
    tasks = client.get("/api/v1/campaign-tasks", headers=volunteer).json()
    assert [t["region_id"] for t in tasks] == [cw.world.building.id]
    assert tasks[0]["residents"] == 4
    assert tasks[0]["special"] == 1
    done = client.post(f"/api/v1/campaign-tasks/{tasks[0]['id']}/done", json={"note": "完成"}, headers=volunteer)
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert client.post(f"/api/v1/campaign-tasks/{tasks[0]['id']}/done", json={}, headers=volunteer).status_code == 409
    resident = bearer(cw.resident_account_id)
    url = f"/api/v1/campaigns/{cw.campaign.id}/help-requests"
    bad = client.post(url, json={"category_code": "nope", "text": ""}, headers={**resident, **ZH})
    assert bad.status_code == 422
    assert _fields(bad) == {
        "category_code": "请选择本次行动提供的求助类别。",
        "text": "请用1至500个字说明您需要什么帮助。",
    }
    made = client.post(url, json={"category_code": "help.01.03", "text": "送餐"}, headers=resident)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "open"
    hid = made.json()["id"]
    assert [h["id"] for h in client.get(url, headers=resident).json()] == [hid]
    assert client.post(f"/api/v1/help-requests/{hid}/answer", json={"answer": "x"}, headers=resident).status_code == 403
    answered = client.post(f"/api/v1/help-requests/{hid}/answer", json={"answer": "就来"}, headers=volunteer)
    assert answered.json()["status"] == "answered"
    assert client.get(f"/api/v1/help-requests/{hid}", headers=resident).json()["answer"] == "就来"
    closed = client.post(f"/api/v1/help-requests/{hid}/close", json={"note": "送到了"}, headers=volunteer)
    assert closed.json()["status"] == "closed"
    assert session.scalar(select(func.count()).select_from(HelpRequest)) == 1
    deliveries = f"/api/v1/campaigns/{cw.campaign.id}/supplies/deliveries"
    wrong = client.post(
        deliveries,
        json={"room_id": cw.world.room.id, "quantities": {"rice": 0.0, "gold": 1}},
        headers={**volunteer, **ZH},
    )
    assert wrong.status_code == 422
    assert set(_fields(wrong)) == {"quantities.gold"}
    given = client.post(deliveries, json={"room_id": cw.world.room.id, "quantities": {"rice": 2}}, headers=volunteer)
    assert given.status_code == 201
    assert session.scalar(select(func.count()).select_from(SuppliesDelivery)) == 1
    households = client.get(
        f"/api/v1/campaigns/{cw.campaign.id}/supplies/households?unserved=true", headers=bearer(cw.staff_account_id)
    ).json()
    assert [[h["room"] for h in b["households"]] for b in households] == [["102"], ["201"]]
    orgs = client.get(f"/api/v1/campaigns/{cw.campaign.id}/organisations", headers=bearer(cw.staff_account_id)).json()
    assert [o["name"] for o in orgs] == ["阳光科技有限公司"]
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
