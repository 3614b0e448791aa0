"""Permission-matrix entries of emergency.campaigns (see tests/matrix_parts/base.py).

The "inside" campaign is a published epidemic screening over grid 1 (the matrix's accounts act
in grid 1, so those who manage campaigns manage it); the "outside" one covers grid 2. Each has
a report, a task per building and an open help request of the matrix person living there.
The matrix's resident has no residence record, so reporting or asking for help for someone
else's household is refused with a field error (422), which counts as the answer it may get.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import World, make_actor
from tests.matrix_parts.base import Case

ANY = frozenset({"campaign:read", "campaign:manage", "campaign:task", "campaign:report", "supplies:distribute"})
READ = frozenset({"campaign:read", "campaign:manage", "campaign:task"})
WORK = frozenset({"campaign:task", "campaign:manage"})
REPORTERS = frozenset({"campaign:task", "campaign:manage", "campaign:report"})
GOOD = {"temperature": 36.6, "symptoms": ["none"], "test_result": "negative", "close_contact": False}


def _any(perms: frozenset[str], role: str) -> bool:
    return bool(perms & ANY)


def _read(perms: frozenset[str], role: str) -> bool:
    return bool(perms & READ)


def _work(perms: frozenset[str], role: str) -> bool:
    return bool(perms & WORK)


def _reporters(perms: frozenset[str], role: str) -> bool:
    return bool(perms & REPORTERS)


def _help(perms: frozenset[str], role: str) -> bool:
    return "case:report" in perms and bool(perms & REPORTERS)


def _households(perms: frozenset[str], role: str) -> bool:
    return bool(perms & (READ | {"supplies:distribute"}))


QUESTIONS = [
    {"key": "temperature", "kind": "number", "title": "体温", "required": True, "abnormal": {"gte": 37.3}},
    {"key": "note", "kind": "text", "title": "备注"},
]

CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/campaign-templates", _any, outside=False),
    Case("GET", "/api/v1/campaigns", _any, list_key="", kind="campaign", outside=False),
    Case(
        "POST",
        "/api/v1/campaigns",
        "campaign:manage",
        body=lambda i: {"template": "flood_check", "scope_region_id": i["grid"]},
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}", _any),
    # The inside campaign is running already: publishing it again is a conflict, its answer.
    Case("POST", "/api/v1/campaigns/{campaign_id}/publish", "campaign:manage", allowed_status=(409,)),
    Case("POST", "/api/v1/campaigns/{campaign_id}/close", "campaign:manage"),
    Case("GET", "/api/v1/campaigns/{campaign_id}/form", _any),
    Case("PUT", "/api/v1/campaigns/{campaign_id}/form", "campaign:manage", body=lambda i: {"questions": QUESTIONS}),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/reports",
        _reporters,
        body=lambda i: {"person_id": i["person"], "answers": GOOD},
        allowed_status=(422,),
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}/reports", _read, list_key="items", kind="campaign_report"),
    Case("GET", "/api/v1/campaign-reports/{report_id}", _read),
    Case("GET", "/api/v1/campaigns/{campaign_id}/not-reported", _read),
    Case("GET", "/api/v1/campaigns/{campaign_id}/key-group", _read),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/key-group",
        _work,
        body=lambda i: {"person_id": i["person"], "tag": "close_contact"},
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}/special-groups", _read),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/reach",
        _work,
        body=lambda i: {"person_ids": [i["person"]], "how": "phone"},
    ),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/test-results",
        "campaign:task",
        body=lambda i: {"person_id": i["person"], "kind": "antigen", "result": "negative"},
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}/organisations", _read),
    Case("GET", "/api/v1/campaign-tasks", _read, list_key="", kind="campaign_task", outside=False),
    Case("POST", "/api/v1/campaign-tasks/{campaign_task_id}/done", "campaign:task", body=lambda i: {"note": "已排查"}),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/help-requests",
        _help,
        body=lambda i: {"category_code": "help.01.01", "text": "需要代买药品", "person_id": i["person"]},
        allowed_status=(422,),
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}/help-requests", _any, list_key="", kind="campaign_help"),
    Case("GET", "/api/v1/help-requests/{help_id}", _read),
    Case("POST", "/api/v1/help-requests/{help_id}/answer", _work, body=lambda i: {"answer": "马上送到"}),
    # Closing needs an answer first: the open request gives 409 to those who may close it.
    Case(
        "POST",
        "/api/v1/help-requests/{help_id}/close",
        _work,
        body=lambda i: {"note": "已送达"},
        allowed_status=(409,),
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}/supplies", _any),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/supplies/deliveries",
        "supplies:distribute",
        body=lambda i: {"room_id": i["room"], "quantities": {"rice": 1}},
    ),
    Case("GET", "/api/v1/campaigns/{campaign_id}/supplies/households", _households),
)
PATH_PARAMS: dict[str, str] = {
    "campaign_id": "campaign",
    "report_id": "campaign_report",
    "campaign_task_id": "campaign_task",
    "help_id": "campaign_help",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Creates this module's records inside grid 1 and outside it and adds their ids."""
    from cityos.emergency.campaigns import help as helps
    from cityos.emergency.campaigns import reports
    from cityos.emergency.campaigns import service as campaigns
    from cityos.emergency.campaigns.models import Task

    campaigns.install(session)
    commander = make_actor(session, roles=["commander"], scope=world.city)
    worker = make_actor(session, roles=["grid_worker"], scope=world.city)
    for side, grid in ((inside, world.grid1), (outside, world.grid2)):
        campaign = campaigns.create_from_template(
            session, commander, template="epidemic_screening", scope_region_id=grid.id
        )
        campaigns.publish(session, commander, campaign_id=campaign.id)
        report = reports.submit_report(session, worker, campaign_id=campaign.id, person_id=side["person"], answers=GOOD)
        task = session.scalar(select(Task.id).where(Task.campaign_id == campaign.id).limit(1))
        help_request = helps.request_help(
            session, worker, campaign_id=campaign.id, category_code="help.01.03", text="送餐", person_id=side["person"]
        )
        side.update(campaign=campaign.id, campaign_report=report.id, campaign_task=task, campaign_help=help_request.id)
