"""Pages: the board's alerts panel (htmx fragment), the alerts list with its map and actions, and
the rules editor with bad input; zh_CN and en."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.mobility.alerts import evaluate, reactions
from cityos.mobility.alerts.models import TrafficAlert, TrafficAlertRule
from tests.factories import session_cookie
from tests.mobility.alerts.fixtures import EXPRESSWAY, NETWORK, AlertWorld, at, put_state

ZH = {"Accept-Language": "zh-CN"}


def _sign_in(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))


def _jam(session: Session, aw: AlertWorld) -> TrafficAlert:
    """An alert whose case the bus handler opened (delivered after the commit)."""
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
        evaluate.evaluate(session, network_code=NETWORK, bin_start=at(k))
    session.commit()
    for _ in range(6):
        if aw.runtime.bus.deliver_pending() == 0:
            break
    session.expire_all()
    alert = session.scalars(select(TrafficAlert)).one()
    if alert.case_id is None:  # the handler is the bus's; open it here if it has not run
        reactions.open_case(session, alert)
        session.commit()
    return alert


def test_the_panel_lists_open_alerts_with_their_case(client: TestClient, session: Session, aw: AlertWorld) -> None:
    _sign_in(client, session, aw.reader_id)
    empty = client.get("/tocc/alerts/panel", headers=ZH)
    assert empty.status_code == 200
    assert 'id="tocc-alerts"' in empty.text
    assert "data-alert-id" not in empty.text
    alert = _jam(session, aw)
    panel = client.get("/tocc/alerts/panel", headers=ZH)
    assert f'data-alert-id="{alert.alert_id}"' in panel.text
    assert "快速路路段 n0_0-n0_1" in panel.text
    assert "严重拥堵" in panel.text
    assert "#d73027" in panel.text  # the severe colour
    assert "12-01 08:00" in panel.text  # started at 00:00 UTC, shown in the city's time
    assert f'href="/cases/{alert.case_id}"' in panel.text
    assert str(alert.case_no) in panel.text
    swapped = client.get("/tocc/alerts/panel", headers={**ZH, "HX-Request": "true"})  # into the board's section
    assert 'id="tocc-alerts"' not in swapped.text
    assert f'data-alert-id="{alert.alert_id}"' in swapped.text
    english = client.get("/tocc/alerts/panel", headers={"Accept-Language": "en"})
    assert "Expressway segment n0_0-n0_1" in english.text
    assert "severe" in english.text


def test_the_list_maps_filters_and_acts(client: TestClient, session: Session, aw: AlertWorld) -> None:
    alert = _jam(session, aw)
    _sign_in(client, session, aw.reader_id)
    page = client.get("/tocc/alerts", headers=ZH)
    assert page.status_code == 200, page.text[-600:]
    assert "拥堵告警" in page.text
    assert 'data-testid="acknowledge"' not in page.text  # reading staff do not act
    points = json.loads(re.search(r'<script type="application/json" id="ta-points">(.*?)</script>', page.text, re.S)[1])
    assert [p["id"] for p in points] == [alert.alert_id]
    assert client.post(f"/tocc/alerts/{alert.alert_id}/close").status_code == 403
    _sign_in(client, session, aw.operator_id)
    page = client.get("/tocc/alerts")
    assert 'data-testid="acknowledge"' in page.text
    done = client.post(f"/tocc/alerts/{alert.alert_id}/acknowledge", follow_redirects=False)
    assert done.status_code == 303
    session.expire_all()
    assert session.get(TrafficAlert, alert.id).status == "acknowledged"  # type: ignore[union-attr]
    client.post(f"/tocc/alerts/{alert.alert_id}/close")
    assert alert.alert_id not in client.get("/tocc/alerts").text
    assert alert.alert_id in client.get("/tocc/alerts?status=cleared").text
    assert client.get("/tocc/alerts?status=all&kind=corridor").status_code == 200


def test_the_rules_editor(client: TestClient, session: Session, aw: AlertWorld) -> None:
    _sign_in(client, session, aw.reader_id)
    assert client.get("/tocc/alerts/rules").status_code == 403
    _sign_in(client, session, aw.operator_id)
    page = client.get("/tocc/alerts/rules", headers=ZH)
    assert page.status_code == 200
    assert "快速路、主干路中度拥堵" in page.text
    bad = {"name": "", "target": "segment", "kind": "band", "min_band": "4", "duration_min": "7", "clear_min": "x"}
    refused = client.post("/tocc/alerts/rules", data=bad, headers=ZH)
    assert refused.status_code == 422
    assert 'data-testid="error-name"' in refused.text
    assert 'data-testid="error-duration_min"' in refused.text
    assert 'data-testid="error-clear_min"' in refused.text
    good = {
        "name": "支路严重拥堵",
        "target": "segment",
        "kind": "band",
        "min_band": "5",
        "duration_min": "20",
        "clear_min": "10",
        "road_classes": ["branch"],
        "active": "1",
    }
    made = client.post("/tocc/alerts/rules", data=good, follow_redirects=False)
    assert made.status_code == 303
    session.expire_all()
    rule = session.scalars(select(TrafficAlertRule).where(TrafficAlertRule.name == "支路严重拥堵")).one()
    assert (rule.min_band, rule.road_classes, rule.active) == (5, ["branch"], True)
    edit = client.get(f"/tocc/alerts/rules/{rule.id}")
    assert 'value="支路严重拥堵"' in edit.text
    saved = client.post(f"/tocc/alerts/rules/{rule.id}", data={**good, "active": ""}, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    assert session.get(TrafficAlertRule, rule.id).active is False  # type: ignore[union-attr]
    assert client.post(f"/tocc/alerts/rules/{rule.id}/delete", follow_redirects=False).status_code == 303
