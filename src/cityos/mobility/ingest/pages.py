"""The feeds page of the TOCC (数据接入, traffic:manage): ``/tocc/feeds`` shows per source the last
24 hours of accepted and quarantined records (stacked bars, hours in the city's zone) and the
quarantine with reason, field and the record, filtered by source and reason.
Templates in ``web/templates/mobility/ingest/``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.web.shell import PageActor
from cityos.web.templating import render

from . import feeds
from .models import SOURCES
from .records import REASONS

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
RECORD_CHARS = 400
SOURCE_TITLES: dict[str, str] = {
    "loop": N_("Loop detectors"),
    "probe": N_("Taxi and ride-hailing probes"),
    "bus": N_("Bus positions"),
    "nav": N_("Navigation speeds"),
    "video": N_("Hub cameras"),
}


def _local(moment: datetime, fmt: str) -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def _charts(stats: list[feeds.HourStat]) -> list[dict[str, Any]]:
    out = []
    for source in SOURCES:
        rows = [s for s in stats if s.source == source]
        reasons: dict[str, int] = {}
        for s in rows:
            for k, n in s.reasons.items():
                reasons[k] = reasons.get(k, 0) + n
        out.append(
            {
                "source": source,
                "title": SOURCE_TITLES[source],
                "hours": [_local(s.hour, "%H:00") for s in rows],
                "accepted": [s.accepted for s in rows],
                "quarantined": [s.quarantined for s in rows],
                "total_accepted": sum(s.accepted for s in rows),
                "total_duplicates": sum(s.duplicates for s in rows),
                "total_quarantined": sum(s.quarantined for s in rows),
                "reasons": sorted(reasons.items(), key=lambda kv: -kv[1]),
            }
        )
    return out


@router.get("/tocc/feeds", response_class=HTMLResponse)
def feeds_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    source: Annotated[str | None, Query()] = None,
    reason: Annotated[str | None, Query()] = None,
    page: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    # an unknown filter value filters nothing (a page answers, it does not refuse a link)
    source = source if source in SOURCES else None
    reason = reason if reason in REASONS else None
    number = int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1
    rows, total = feeds.quarantine(
        session, actor, params=PageParams(page=number, size=PAGE_SIZE), source=source, reason=reason
    )
    stats = feeds.stats(session, actor, hours=24)
    items = [
        {
            "when": _local(q.received_at, "%m-%d %H:%M:%S"),
            "source": q.source,
            "source_title": SOURCE_TITLES.get(q.source, q.source),
            "reason": q.reason,
            "reason_text": translate(REASONS[q.reason], field=q.field or "") if q.reason in REASONS else q.reason,
            "field": q.field or "",
            "detail": q.detail,
            "record": json.dumps(q.record, ensure_ascii=False)[:RECORD_CHARS],
            "batch_ref": q.batch_ref or "",
        }
        for q in rows
    ]
    pages = max(1, ((total or 0) + PAGE_SIZE - 1) // PAGE_SIZE)
    return render(
        request,
        "mobility/ingest/feeds.html",
        {
            "charts": _charts(stats),
            "items": items,
            "total": total or 0,
            "page": number,
            "pages": pages,
            "filters": {"source": source or "", "reason": reason or ""},
            "sources": [(s, SOURCE_TITLES[s]) for s in SOURCES],
            "reasons": list(REASONS),
        },
    )
