"""HTML pages of hub.ingest: ``/hub/ingest`` shows accepted, duplicate and rejected messages per
minute over the last hour (ECharts), rejections by reason, the MQTT writer's queue, the bridge's
state and the latest rejected messages (who, why, which fields — never the payload); its live
part refreshes every 10 seconds. device:manage. Templates in web/templates/hub/ingest/."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.core.settings import get_settings
from cityos.hub.ingest import service
from cityos.hub.ingest.pipeline import REASON_TITLES
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 10


def _local(moment: datetime, fmt: str = "%H:%M") -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def _context(session: Session) -> dict[str, Any]:
    figures = service.stats(session, since=utcnow() - timedelta(hours=1))
    chart = {
        "minutes": [_local(m.minute) for m in figures.minutes],
        "accepted": [m.accepted for m in figures.minutes],
        "duplicates": [m.duplicates for m in figures.minutes],
        "rejected": [m.rejected for m in figures.minutes],
    }
    rejections = [
        {
            "at": _local(r.at, "%m-%d %H:%M:%S"),
            "channel": r.channel,
            "device": r.device_code or "—",
            "mid": r.mid or "—",
            "reason": translate(REASON_TITLES.get(r.reason, r.reason)),
            "fields": [
                (f.get("field", ""), translate(str(f.get("message", "")), **(f.get("params") or {})))
                for f in r.fields or []
            ],
        }
        for r in figures.latest_rejections
    ]
    return {
        "f": figures,
        "chart": chart,
        "rejections": rejections,
        "reasons": [(translate(REASON_TITLES.get(k, k)), n) for k, n in sorted(figures.rejected.items())],
        "mqtt_configured": bool(get_settings().mqtt_url),
        "refresh_seconds": REFRESH_SECONDS,
        "as_of": _local(utcnow(), "%H:%M:%S"),
    }


@router.get("/hub/ingest", response_class=HTMLResponse)
def ingest_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """物联接入: the last hour of ingest, the queue and the MQTT bridge."""
    actor.require(service.PERMISSION)
    return render(request, "hub/ingest/index.html", _context(session))


@router.get("/hub/ingest/live", response_class=HTMLResponse)
def ingest_live(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The page's live part (figures, queue, bridge, rejections), polled by HTMX."""
    actor.require(service.PERMISSION)
    return render(request, "hub/ingest/_live.html", _context(session))
