"""API schemas of emergency.command: roll-ups, the unreached, overdue help."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from cityos.core.i18n import translate
from cityos.emergency.command import service
from cityos.places.service import level_label


class FiguresRead(BaseModel):
    residents: int
    households: int
    special: int
    reached: int
    unreached: int
    reported: int
    not_reported: int
    abnormal: int
    staff_reported: int
    staff_abnormal: int
    help_total: int
    help_open: int
    help_overdue: int
    help_escalated: int
    tasks_open: int
    tasks_done: int
    supplied: int
    reach_rate: float | None
    report_rate: float | None
    supplies_rate: float | None
    tasks_rate: float | None


class RegionFiguresRead(BaseModel):
    id: int
    name: str
    level: str
    level_label: str
    figures: FiguresRead

    @classmethod
    def of(cls, r: service.RegionFigures) -> RegionFiguresRead:
        return cls(
            id=r.id,
            name=r.name,
            level=r.level,
            level_label=level_label(r.level),
            figures=FiguresRead(**r.figures.as_dict()),
        )


class CrumbRead(BaseModel):
    id: int
    name: str
    level: str


class RollupRead(BaseModel):
    campaign_id: int
    campaign_title: str
    campaign_status: str
    day: date
    as_of: datetime
    live: bool
    region: RegionFiguresRead
    children: list[RegionFiguresRead]
    ancestors: list[CrumbRead]

    @classmethod
    def of(cls, r: service.Rollup) -> RollupRead:
        return cls(
            campaign_id=r.campaign_id,
            campaign_title=r.campaign_title,
            campaign_status=r.campaign_status,
            day=r.day,
            as_of=r.as_of,
            live=r.live,
            region=RegionFiguresRead.of(r.region),
            children=[RegionFiguresRead.of(c) for c in r.children],
            ancestors=[CrumbRead(id=c.id, name=c.name, level=c.level) for c in r.ancestors],
        )


class UnreachedRead(BaseModel):
    person_id: int
    name: str
    phone: str | None
    address: str
    building_id: int | None
    tags: list[str]


class UnreachedPageRead(BaseModel):
    region_id: int
    items: list[UnreachedRead]
    page: int
    size: int
    total: int

    @classmethod
    def of(cls, p: service.UnreachedPage) -> UnreachedPageRead:
        return cls(
            region_id=p.region.id,
            items=[UnreachedRead(**vars(i)) for i in p.items],
            page=p.page,
            size=p.size,
            total=p.total,
        )


class HelpItemRead(BaseModel):
    id: int
    case_id: int | None
    category: str
    address: str
    status: str
    escalation_level: int
    created_at: datetime
    due_at: datetime

    @classmethod
    def of(cls, h: service.HelpItem) -> HelpItemRead:
        return cls(**{**vars(h), "category": translate(h.category)})
