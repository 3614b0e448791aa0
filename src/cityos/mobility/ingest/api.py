"""JSON routes of the feeds: senders post batches (traffic:ingest), operators read the
quarantine and the hourly counts (traffic:manage)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.core.pagination import PageQuery
from cityos.identity.deps import CurrentActor

from . import feeds, service
from .records import REASONS
from .schemas import FeedBatch, HourStatRead, IngestReportRead, QuarantinePage, QuarantineRead

router = APIRouter(prefix="/api/v1/mobility/feeds", tags=["mobility"])


@router.get("/quarantine", response_model=QuarantinePage)
def list_quarantine(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    source: str | None = None,
    reason: str | None = None,
) -> QuarantinePage:
    rows, total = feeds.quarantine(session, actor, params=params, source=source, reason=reason)
    items = [
        QuarantineRead.model_validate(r).model_copy(
            update={"reason_text": translate(REASONS[r.reason], field=r.field or "")}
        )
        if r.reason in REASONS
        else QuarantineRead.model_validate(r)
        for r in rows
    ]
    return QuarantinePage(items=items, page=params.page, size=params.size, total=total)


@router.get("/stats", response_model=list[HourStatRead])
def feed_stats(session: DbSession, actor: CurrentActor, hours: Annotated[int, Query()] = 24) -> list[HourStatRead]:
    return [HourStatRead.model_validate(s) for s in feeds.stats(session, actor, hours=hours)]


@router.post("/{source}", response_model=IngestReportRead)
def post_feed(source: str, body: FeedBatch, session: DbSession, actor: CurrentActor) -> IngestReportRead:
    report = service.ingest(session, actor, source=source, records=body.records, batch_ref=body.batch_ref)
    return IngestReportRead.model_validate(asdict(report))
