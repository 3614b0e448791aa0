"""Open311 GeoReport v2: every field, status value and error shape, in JSON and XML."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.core.actor import SYSTEM
from cityos.identity import accounts
from cityos.places import index
from tests.factories import World, make_world

REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    session.commit()
    yield w
    index.invalidate()


@pytest.fixture
def api_key(session: Session, world: World) -> str:
    client, secret = accounts.register_client(
        session, SYSTEM, name="街拍上报", scopes=["case:report"], scope_region_id=world.city.id
    )
    session.commit()
    return f"{client.client_id}.{secret}"


def test_services_in_both_formats(client: TestClient, world: World) -> None:
    services = client.get("/open311/v2/services.json").json()
    light = next(s for s in services if s["service_code"] == "component.01.01")
    assert light == {
        "service_code": "component.01.01",
        "service_name": "路灯",
        "description": "公用设施 · 路灯",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "公用设施",
    }
    assert not any(s["service_code"].startswith(("help.", "repair.")) for s in services)  # private kinds
    xml = client.get("/open311/v2/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services"
    first = root.find("service")
    assert first is not None
    assert {c.tag for c in first} == set(light)
    assert client.get("/open311/v2/services/component.01.01.json").json() == {
        "service_code": "component.01.01",
        "attributes": [],
    }
    missing = client.get("/open311/v2/services/nothing.json")
    assert (missing.status_code, missing.json()) == (404, [{"code": 404, "description": "service_code not found"}])


def test_post_and_read_requests(client: TestClient, session: Session, world: World, api_key: str) -> None:
    r = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "service_code": "component.01.01",
            "lat": "30.05",
            "long": "104.02",
            "description": "路灯不亮",
        },
    )
    assert r.status_code == 201, r.text
    (created,) = r.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    request_id = created["service_request_id"]
    (one,) = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert set(one) == REQUEST_FIELDS
    assert (one["status"], one["service_code"], one["lat"], one["long"]) == ("open", "component.01.01", 30.05, 104.02)
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert xml.tag == "service_requests"
    assert xml.findtext("request/service_request_id") == request_id
    assert xml.findtext("request/status") == "open"
    assert client.get("/open311/v2/requests.json?status=open").json()[0]["service_request_id"] == request_id
    assert client.get("/open311/v2/requests.json?status=closed").json() == []
    assert client.get("/open311/v2/requests.json?service_code=event.01.01").json() == []
    assert client.get("/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z").json() == []
    assert client.get(f"/open311/v2/tokens/{request_id}.json").json() == [
        {"service_request_id": request_id, "token": request_id}
    ]
    assert session.scalar(select(Case.channel).where(Case.id == int(request_id))) == "open311"


def test_errors(client: TestClient, session: Session, world: World, api_key: str) -> None:
    no_key = client.post(
        "/open311/v2/requests.json", data={"service_code": "component.01.01", "lat": "30.05", "long": "104.02"}
    )
    assert (no_key.status_code, no_key.json()[0]["code"]) == (403, 403)
    bad_key = client.post("/open311/v2/requests.xml", data={"api_key": "app-x.nope", "service_code": "component.01.01"})
    assert bad_key.status_code == 403
    error = ET.fromstring(bad_key.content)
    assert error.tag == "errors"
    assert error.findtext("error/code") == "403"
    no_place = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "component.01.01"})
    assert no_place.status_code == 400
    assert "location" in no_place.json()[0]["description"]
    outside = client.post(
        "/open311/v2/requests.json",
        data={"api_key": api_key, "service_code": "component.01.01", "lat": "39.9", "long": "116.4"},
    )
    assert outside.status_code == 400
    unknown = client.post(
        "/open311/v2/requests.json",
        data={"api_key": api_key, "service_code": "help.01.01", "lat": "30.05", "long": "104.02"},
    )
    assert unknown.status_code == 404
    assert client.get("/open311/v2/requests.json?status=maybe").status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests/999999.json").status_code == 404
    assert client.get("/open311/v2/services.csv").status_code == 404
    assert session.scalar(select(func.count()).select_from(Case)) == 0
