"""The processes applications run on: 受理 → 审批 → 办结, with 补正 (一次性告知) and 不予许可.

``service_approval`` has one approving department; ``service_parallel`` (并联审批) makes 审批 a
countersign of every approving department listed in the instance's ``departments``;
``service_instant`` (即办件) is decided on submission. The overall time limit is the item's
legal limit in working days, given when the instance starts; 受理 has a limit of its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.workflow import service as workflow

APPROVAL = "service_approval"
PARALLEL = "service_parallel"
INSTANT = "service_instant"

STAFF = ["department_staff", "admin"]
# The applicant answers a supplement request: the resident, the business, or the clerk who filed it.
APPLICANTS = ["resident", "merchant", "window_clerk", "admin"]

_STATES: dict[str, Any] = {
    "submitted": {
        "title": "受理",
        "limit": {"amount": 1, "unit": "working_days"},
        "escalation": [{"after_hours": 0, "kind": "remind"}],
    },
    "approving": {"title": "审批", "escalation": []},
    "supplement": {"title": "补正"},
    "approved": {"title": "办结", "final": True},
    "rejected": {"title": "不予许可", "final": True},
}


def _actions(countersign: bool) -> list[dict[str, Any]]:
    approve: dict[str, Any] = {
        "name": "approve",
        "title": "准予许可",
        "from": ["approving"],
        "to": "approved",
        "roles": STAFF,
    }
    if countersign:
        approve["countersign"] = "departments"
    return [
        {"name": "receive", "title": "受理", "from": ["submitted"], "to": "approving", "roles": STAFF},
        approve,
        {
            "name": "reject",
            "title": "不予许可",
            "from": ["submitted", "approving"],
            "to": "rejected",
            "roles": STAFF,
            "comment_required": True,
        },
        {
            "name": "supplement",
            "title": "一次性告知补正",
            "from": ["submitted", "approving"],
            "to": "supplement",
            "roles": STAFF,
        },
        {"name": "resubmit", "title": "补正提交", "from": ["supplement"], "to": "submitted", "roles": APPLICANTS},
    ]


SERVICE_APPROVAL: dict[str, Any] = {
    "key": APPROVAL,
    "title": "政务服务审批",
    "initial": "submitted",
    "states": _STATES,
    "actions": _actions(countersign=False),
}

SERVICE_PARALLEL: dict[str, Any] = {
    "key": PARALLEL,
    "title": "并联审批",
    "initial": "submitted",
    "states": _STATES,
    "actions": _actions(countersign=True),
}

SERVICE_INSTANT: dict[str, Any] = {
    "key": INSTANT,
    "title": "即办件",
    "initial": "submitted",
    "states": {"submitted": {"title": "受理"}, "approved": {"title": "办结", "final": True}},
    "actions": [{"name": "decide", "title": "即时办结", "from": ["submitted"], "to": "approved", "roles": ["system"]}],
}

DEFINITIONS = (SERVICE_APPROVAL, SERVICE_PARALLEL, SERVICE_INSTANT)


def install(session: Session) -> None:
    for raw in DEFINITIONS:
        workflow.ensure_definition(session, raw)


def process_key(*, instant: bool, departments: int, declared: str | None = None) -> str:
    """The process an item's application runs: instant items are decided on submission; several
    approving departments approve in parallel; otherwise the item's declared process, if known."""
    if instant:
        return INSTANT
    if departments > 1:
        return PARALLEL
    if declared in (APPROVAL, PARALLEL):
        return APPROVAL
    return declared or APPROVAL
