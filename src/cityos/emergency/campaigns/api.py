"""JSON routes of emergency.campaigns: templates, campaigns, forms, reports, key and special
groups, reach, test results, enterprises, tasks, help requests and supplies."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.core.pagination import PageQuery
from cityos.emergency.campaigns import enterprises, groups, reports, supplies, work
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Campaign, CampaignForm, HelpRequest
from cityos.emergency.campaigns.schemas import (
    AnswerRead,
    BuildingGroupRead,
    BuildingHouseholdsRead,
    CampaignCreate,
    CampaignRead,
    DeliveryIn,
    DeliveryRead,
    FormIn,
    FormRead,
    HelpAnswerIn,
    HelpCloseIn,
    HelpCreate,
    HelpLineRead,
    HelpRead,
    HouseholdRead,
    OrgLineRead,
    PersonLineRead,
    PublishedRead,
    ReachIn,
    ReachResult,
    ReportCreate,
    ReportDetail,
    ReportLineRead,
    ReportPage,
    ReportRead,
    SuppliesItemRead,
    TaskDoneIn,
    TaskRead,
    TemplateRead,
    TestResultIn,
    TestResultRead,
    WatchIn,
    WatchRead,
)
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["emergency"])

Day = Annotated[date | None, Query()]
RegionId = Annotated[int | None, Query()]


def _day(day: date | None) -> date:
    return day or campaigns.local_day()


def _form(row: CampaignForm) -> FormRead:
    return FormRead(
        campaign_id=row.campaign_id,
        version=row.version,
        title=str(row.schema.get("title") or ""),
        form=row.schema,
        created_at=row.created_at,
    )


def _groups(rows: list[groups.BuildingGroup]) -> list[BuildingGroupRead]:
    return [
        BuildingGroupRead(
            building_id=g.building_id,
            building=g.building,
            special=g.special,
            people=[
                PersonLineRead(
                    person_id=p.person_id,
                    name=p.name,
                    room=p.room,
                    tags=list(p.tags),
                    special=p.special,
                    key_group=p.key_group,
                    missing=p.missing,
                    reported=p.reported,
                    reached=p.reached,
                    abnormal=p.abnormal,
                )
                for p in g.people
            ],
        )
        for g in rows
    ]


# --- templates and campaigns ---------------------------------------------------------------------------------


@router.get("/campaign-templates", response_model=list[TemplateRead])
def list_templates(session: DbSession, actor: CurrentActor) -> list[TemplateRead]:
    campaigns.campaign_query(actor)  # any campaign permission
    return [
        TemplateRead(
            key=t.key,
            title=translate(t.title),
            description=translate(t.description),
            task_kind=str(t.settings.get("task_kind")),
            task_level=str(t.settings.get("task_level")),
            cadence=int(t.settings.get("cadence") or 1),
            key_group_cadence=int(t.settings.get("key_group_cadence") or 1),
            key_group_tags=list(t.settings.get("key_group_tags") or []),
            help_categories=list(t.settings.get("help_categories") or []),
        )
        for t in campaigns.templates(session)
    ]


@router.get("/campaigns", response_model=list[CampaignRead])
def list_campaigns(
    session: DbSession, actor: CurrentActor, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[Campaign]:
    return campaigns.list_campaigns(session, actor, status=status)


@router.post("/campaigns", response_model=CampaignRead, status_code=201)
def create_campaign(body: CampaignCreate, session: DbSession, actor: CurrentActor) -> Campaign:
    return campaigns.create_from_template(
        session, actor, template=body.template, scope_region_id=body.scope_region_id, title=body.title
    )


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
def get_campaign(campaign_id: int, session: DbSession, actor: CurrentActor) -> Campaign:
    return campaigns.get_campaign(session, actor, campaign_id)


@router.post("/campaigns/{campaign_id}/publish", response_model=PublishedRead)
def publish(campaign_id: int, session: DbSession, actor: CurrentActor) -> PublishedRead:
    done = campaigns.publish(session, actor, campaign_id=campaign_id)
    return PublishedRead(
        campaign=CampaignRead.model_validate(done.campaign), tasks=done.tasks, buildings=done.buildings
    )


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignRead)
def close(campaign_id: int, session: DbSession, actor: CurrentActor) -> Campaign:
    return campaigns.close(session, actor, campaign_id=campaign_id)


@router.get("/campaigns/{campaign_id}/form", response_model=FormRead)
def get_form(
    campaign_id: int,
    session: DbSession,
    actor: CurrentActor,
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> FormRead:
    return _form(campaigns.get_form(session, actor, campaign_id=campaign_id, version=version))


@router.put("/campaigns/{campaign_id}/form", response_model=FormRead)
def save_form(campaign_id: int, body: FormIn, session: DbSession, actor: CurrentActor) -> FormRead:
    return _form(
        campaigns.save_form(session, actor, campaign_id=campaign_id, questions=body.questions, title=body.title)
    )


# --- reports ------------------------------------------------------------------------------------------------------


@router.post("/campaigns/{campaign_id}/reports", response_model=ReportRead, status_code=201)
def submit_report(campaign_id: int, body: ReportCreate, session: DbSession, actor: CurrentActor) -> object:
    return reports.submit_report(
        session,
        actor,
        campaign_id=campaign_id,
        person_id=body.person_id,
        answers=body.answers,
        day=body.day,
        building_id=body.building_id,
    )


@router.get("/campaigns/{campaign_id}/reports", response_model=ReportPage)
def list_reports(
    campaign_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    day: Day = None,
    region_id: RegionId = None,
    abnormal: bool = False,
) -> ReportPage:
    lines, total = reports.list_reports(
        session,
        actor,
        campaign_id=campaign_id,
        day=_day(day),
        region_id=region_id,
        abnormal_only=abnormal,
        params=params,
    )
    items = [
        ReportLineRead(
            id=line.report.id,
            name=line.name,
            place=line.place,
            day=line.report.day,
            form_version=line.report.form_version,
            abnormal=line.report.abnormal,
            abnormal_questions=list(line.abnormal_titles),
            late=line.report.late,
            key_group=line.report.key_group,
            reported_at=line.report.reported_at,
        )
        for line in lines
    ]
    return ReportPage(items=items, page=params.page, size=params.size, total=total)


@router.get("/campaign-reports/{report_id}", response_model=ReportDetail)
def get_report(report_id: int, session: DbSession, actor: CurrentActor) -> ReportDetail:
    view = reports.get_report(session, actor, report_id=report_id)
    r = view.report
    return ReportDetail(
        id=r.id,
        campaign_id=r.campaign_id,
        name=view.name,
        place=view.place,
        day=r.day,
        late=r.late,
        abnormal=r.abnormal,
        abnormal_fields=list(view.abnormal_keys),
        form_version=view.version,
        form_title=view.form_title,
        answers=[AnswerRead(key=k, question=q, answer=a) for k, q, a in view.answers],
        reported_at=r.reported_at,
    )


@router.get("/campaigns/{campaign_id}/not-reported", response_model=list[BuildingGroupRead])
def not_reported(
    campaign_id: int, session: DbSession, actor: CurrentActor, day: Day = None, region_id: RegionId = None
) -> list[BuildingGroupRead]:
    return _groups(groups.not_reported(session, actor, campaign_id=campaign_id, day=_day(day), region_id=region_id))


@router.get("/campaigns/{campaign_id}/key-group", response_model=list[BuildingGroupRead])
def key_group(
    campaign_id: int, session: DbSession, actor: CurrentActor, day: Day = None, region_id: RegionId = None
) -> list[BuildingGroupRead]:
    return _groups(groups.key_group(session, actor, campaign_id=campaign_id, day=_day(day), region_id=region_id))


@router.post("/campaigns/{campaign_id}/key-group", response_model=WatchRead, status_code=201)
def watch(campaign_id: int, body: WatchIn, session: DbSession, actor: CurrentActor) -> object:
    return groups.watch(session, actor, campaign_id=campaign_id, person_id=body.person_id, tag=body.tag, note=body.note)


@router.get("/campaigns/{campaign_id}/special-groups", response_model=list[BuildingGroupRead])
def special_groups(
    campaign_id: int, session: DbSession, actor: CurrentActor, day: Day = None, region_id: RegionId = None
) -> list[BuildingGroupRead]:
    return _groups(groups.special_groups(session, actor, campaign_id=campaign_id, day=_day(day), region_id=region_id))


@router.post("/campaigns/{campaign_id}/reach", response_model=ReachResult)
def reach(campaign_id: int, body: ReachIn, session: DbSession, actor: CurrentActor) -> ReachResult:
    added = reports.mark_reached(session, actor, campaign_id=campaign_id, person_ids=body.person_ids, how=body.how)
    return ReachResult(added=added)


@router.post("/campaigns/{campaign_id}/test-results", response_model=TestResultRead, status_code=201)
def test_result(campaign_id: int, body: TestResultIn, session: DbSession, actor: CurrentActor) -> object:
    return groups.record_test_result(
        session,
        actor,
        campaign_id=campaign_id,
        person_id=body.person_id,
        kind=body.kind,
        result=body.result,
        sampled_on=body.sampled_on,
    )


@router.get("/campaigns/{campaign_id}/organisations", response_model=list[OrgLineRead])
def organisations(
    campaign_id: int, session: DbSession, actor: CurrentActor, day: Day = None, region_id: RegionId = None
) -> list[OrgLineRead]:
    rows = enterprises.rollup(session, actor, campaign_id=campaign_id, day=_day(day), region_id=region_id)
    return [OrgLineRead(**r.__dict__) for r in rows]


# --- tasks ----------------------------------------------------------------------------------------------------------


def _task(view: work.TaskView) -> TaskRead:
    t = view.task
    return TaskRead(
        id=t.id,
        campaign_id=t.campaign_id,
        campaign_title=view.campaign_title,
        kind=t.kind,
        region_id=t.region_id,
        place=view.place,
        status=t.status,
        residents=view.residents,
        special=view.special,
        reached=view.reached,
        done_at=t.done_at,
        note=t.note,
    )


@router.get("/campaign-tasks", response_model=list[TaskRead])
def list_tasks(
    session: DbSession,
    actor: CurrentActor,
    campaign_id: Annotated[int | None, Query()] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> list[TaskRead]:
    return [_task(v) for v in work.list_tasks(session, actor, campaign_id=campaign_id, status=status)]


@router.post("/campaign-tasks/{campaign_task_id}/done", response_model=TaskRead)
def finish_task(campaign_task_id: int, body: TaskDoneIn, session: DbSession, actor: CurrentActor) -> TaskRead:
    task = work.finish_task(session, actor, task_id=campaign_task_id, note=body.note)
    return _task(work.task_view(session, actor, task.id))


# --- help requests --------------------------------------------------------------------------------------------------


@router.post("/campaigns/{campaign_id}/help-requests", response_model=HelpRead, status_code=201)
def request_help(campaign_id: int, body: HelpCreate, session: DbSession, actor: CurrentActor) -> HelpRequest:
    return helps.request_help(
        session,
        actor,
        campaign_id=campaign_id,
        category_code=body.category_code,
        text=body.text,
        person_id=body.person_id,
    )


@router.get("/campaigns/{campaign_id}/help-requests", response_model=list[HelpLineRead])
def list_help(
    campaign_id: int,
    session: DbSession,
    actor: CurrentActor,
    status: Annotated[str | None, Query(max_length=16)] = None,
    region_id: RegionId = None,
) -> list[HelpLineRead]:
    lines = helps.list_help(session, actor, campaign_id=campaign_id, status=status, region_id=region_id)
    return [
        HelpLineRead(
            **HelpRead.model_validate(line.help).model_dump(),
            name=line.name,
            place=line.place,
            special=line.special,
            overdue=line.overdue,
        )
        for line in lines
    ]


@router.get("/help-requests/{help_id}", response_model=HelpRead)
def get_help(help_id: int, session: DbSession, actor: CurrentActor) -> HelpRequest:
    return helps.get_help(session, actor, help_id)


@router.post("/help-requests/{help_id}/answer", response_model=HelpRead)
def answer_help(help_id: int, body: HelpAnswerIn, session: DbSession, actor: CurrentActor) -> HelpRequest:
    return helps.answer(session, actor, help_id=help_id, answer=body.answer)


@router.post("/help-requests/{help_id}/close", response_model=HelpRead)
def close_help(help_id: int, body: HelpCloseIn, session: DbSession, actor: CurrentActor) -> HelpRequest:
    return helps.close(session, actor, help_id=help_id, note=body.note)


# --- supplies -------------------------------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/supplies", response_model=list[SuppliesItemRead])
def supplies_items(campaign_id: int, session: DbSession, actor: CurrentActor) -> object:
    return supplies.items(session, actor, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/supplies/deliveries", response_model=list[DeliveryRead], status_code=201)
def deliver(campaign_id: int, body: DeliveryIn, session: DbSession, actor: CurrentActor) -> object:
    return supplies.deliver(
        session, actor, campaign_id=campaign_id, room_id=body.room_id, quantities=body.quantities, note=body.note
    )


@router.get("/campaigns/{campaign_id}/supplies/households", response_model=list[BuildingHouseholdsRead])
def households(
    campaign_id: int,
    session: DbSession,
    actor: CurrentActor,
    region_id: RegionId = None,
    unserved: bool = False,
    item: Annotated[str | None, Query(max_length=32)] = None,
) -> list[BuildingHouseholdsRead]:
    rows = supplies.households(
        session, actor, campaign_id=campaign_id, region_id=region_id, unserved_only=unserved, item_code=item
    )
    return [
        BuildingHouseholdsRead(
            building_id=g.building_id,
            building=g.building,
            served=g.served,
            households=[HouseholdRead(**h.__dict__) for h in g.households],
        )
        for g in rows
    ]
