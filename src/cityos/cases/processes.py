"""The processes cases ship with. Supervision (finding, filing, checking: grid workers and the
dispatch centre) is kept apart from handling (the departments), as 数字城管 requires."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.workflow import service as workflow

_ESCALATE = [
    {"after_hours": 0, "kind": "remind"},
    {"after_hours": 2, "kind": "supervisor"},
    {"after_hours": 8, "kind": "escalate"},
]

CITY_EVENT: dict[str, Any] = {
    "key": "city_event",
    "title": "城市管理事件",
    "initial": "found",
    "states": {
        "found": {"title": "发现", "limit": {"amount": 1, "unit": "working_hours"}},
        "reported": {"title": "已核实", "limit": {"amount": 1, "unit": "working_hours"}},
        "filed": {"title": "立案", "limit": {"amount": 1, "unit": "working_hours"}, "escalation": _ESCALATE},
        "handling": {"title": "处置", "limit": {"amount": 2, "unit": "working_days"}, "escalation": _ESCALATE},
        "checking": {"title": "核查", "limit": {"amount": 4, "unit": "working_hours"}},
        "checked": {"title": "核查通过", "limit": {"amount": 1, "unit": "working_hours"}},
        "closed": {"title": "结案", "final": True},
        "rejected": {"title": "不予立案", "final": True},
    },
    "actions": [
        {
            "name": "verify",
            "title": "核实",
            "from": ["found"],
            "to": "reported",
            "roles": ["grid_worker", "dispatcher"],
            "when": {"field": "machine", "equals": True},
        },
        {
            "name": "accept",
            "title": "受理",
            "from": ["found"],
            "to": "reported",
            "roles": ["grid_worker", "dispatcher"],
            "when": {"field": "machine", "equals": False},
        },
        {
            "name": "reject",
            "title": "不予立案",
            "from": ["found", "reported"],
            "to": "rejected",
            "roles": ["dispatcher"],
            "comment_required": True,
        },
        {"name": "file", "title": "立案", "from": ["reported"], "to": "filed", "roles": ["dispatcher"]},
        {
            "name": "dispatch",
            "title": "派遣",
            "from": ["filed"],
            "to": "handling",
            "roles": ["dispatcher"],
        },
        {
            "name": "send_back",
            "title": "退单",
            "from": ["handling"],
            "to": "filed",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {
            "name": "handle",
            "title": "处置完成",
            "from": ["handling"],
            "to": "checking",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {
            "name": "check_fail",
            "title": "核查不通过",
            "from": ["checking"],
            "to": "handling",
            "roles": ["grid_worker", "dispatcher"],
            "comment_required": True,
        },
        {
            "name": "check_pass",
            "title": "核查通过",
            "from": ["checking"],
            "to": "checked",
            "roles": ["grid_worker", "dispatcher"],
        },
        {"name": "close", "title": "结案", "from": ["checked"], "to": "closed", "roles": ["dispatcher"]},
    ],
    "reopen": {"within_days": 7, "to": "handling", "roles": ["resident", "dispatcher"]},
}

HOTLINE_12345: dict[str, Any] = {
    "key": "hotline_12345",
    "title": "12345 热线工单",
    "initial": "accepted",
    "states": {
        "accepted": {"title": "受理", "limit": {"amount": 2, "unit": "working_hours"}, "escalation": _ESCALATE},
        "dispatched": {"title": "派单", "limit": {"amount": 1, "unit": "working_days"}, "escalation": _ESCALATE},
        "handling": {"title": "办理", "escalation": []},
        "replied": {"title": "答复", "limit": {"amount": 1, "unit": "working_days"}},
        "callback": {"title": "回访", "limit": {"amount": 2, "unit": "working_days"}},
        "done": {"title": "办结", "final": True},
    },
    "actions": [
        {
            "name": "dispatch",
            "title": "派单",
            "from": ["accepted"],
            "to": "dispatched",
            "roles": ["dispatcher"],
        },
        {"name": "take", "title": "签收", "from": ["dispatched"], "to": "handling", "roles": ["department_staff"]},
        {
            "name": "send_back",
            "title": "退单",
            "from": ["dispatched", "handling"],
            "to": "accepted",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {
            "name": "reply",
            "title": "答复",
            "from": ["handling"],
            "to": "replied",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {
            "name": "review_fail",
            "title": "审核退回",
            "from": ["replied"],
            "to": "handling",
            "roles": ["dispatcher"],
            "comment_required": True,
        },
        {"name": "review_pass", "title": "审核通过", "from": ["replied"], "to": "callback", "roles": ["dispatcher"]},
        {"name": "callback", "title": "回访", "from": ["callback"], "to": "done", "roles": ["dispatcher"]},
    ],
    "reopen": {"within_days": 7, "to": "handling", "roles": ["resident", "dispatcher"]},
}

PROPERTY_REPAIR: dict[str, Any] = {
    "key": "property_repair",
    "title": "物业报修",
    "initial": "reported",
    "states": {
        "reported": {"title": "报修", "limit": {"amount": 2, "unit": "hours"}},
        "repairing": {"title": "维修中", "limit": {"amount": 2, "unit": "days"}},
        "done": {"title": "完成", "final": True},
    },
    "actions": [
        {"name": "take", "title": "接单", "from": ["reported"], "to": "repairing", "roles": ["property_manager"]},
        {
            "name": "finish",
            "title": "修好",
            "from": ["repairing"],
            "to": "done",
            "roles": ["property_manager"],
            "comment_required": True,
        },
    ],
    "reopen": {"within_days": 7, "to": "repairing", "roles": ["resident"]},
}

HELP_REQUEST: dict[str, Any] = {
    "key": "help_request",
    "title": "求助",
    "initial": "requested",
    "states": {
        "requested": {"title": "求助", "limit": {"amount": 1, "unit": "hours"}, "escalation": _ESCALATE},
        "helping": {"title": "帮助中", "limit": {"amount": 1, "unit": "days"}},
        "done": {"title": "完成", "final": True},
    },
    "actions": [
        {
            "name": "take",
            "title": "响应",
            "from": ["requested"],
            "to": "helping",
            "roles": ["grid_worker", "volunteer"],
        },
        {
            "name": "finish",
            "title": "已帮助",
            "from": ["helping"],
            "to": "done",
            "roles": ["grid_worker", "volunteer"],
            "comment_required": True,
        },
    ],
}

# 道路交通运行 (event.09): congestion found by the traffic monitor cannot wait for a person to verify it —
# the multi-source fusion that raised the alert is the verification — so the case is filed and, when the
# 权责清单 names a department (the district's 交警大队), dispatched to it at once by the machine. The
# brigade clears the jam and reports; the TOCC duty officer or a dispatcher checks and closes. Hours, not
# working hours: traffic does not keep office hours.
TRAFFIC_EVENT: dict[str, Any] = {
    "key": "traffic_event",
    "title": "交通运行事件",
    "initial": "filed",
    "states": {
        "filed": {"title": "立案", "limit": {"amount": 0.25, "unit": "hours"}, "escalation": _ESCALATE},
        "handling": {"title": "处置", "limit": {"amount": 2, "unit": "hours"}, "escalation": _ESCALATE},
        "checking": {"title": "核查", "limit": {"amount": 1, "unit": "hours"}},
        "closed": {"title": "结案", "final": True},
        "rejected": {"title": "不予立案", "final": True},
    },
    "actions": [
        {
            "name": "dispatch",
            "title": "派遣",
            "from": ["filed"],
            "to": "handling",
            "roles": ["dispatcher", "machine"],
        },
        {
            "name": "reject",
            "title": "不予立案",
            "from": ["filed"],
            "to": "rejected",
            "roles": ["dispatcher", "traffic_operator"],
            "comment_required": True,
        },
        {
            "name": "send_back",
            "title": "退单",
            "from": ["handling"],
            "to": "filed",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {
            "name": "handle",
            "title": "处置完成",
            "from": ["handling"],
            "to": "checking",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {
            "name": "check_fail",
            "title": "核查不通过",
            "from": ["checking"],
            "to": "handling",
            "roles": ["dispatcher", "traffic_operator"],
            "comment_required": True,
        },
        {
            "name": "close",
            "title": "结案",
            "from": ["checking"],
            "to": "closed",
            "roles": ["dispatcher", "traffic_operator"],
        },
    ],
}

SHIPPED = (CITY_EVENT, HOTLINE_12345, PROPERTY_REPAIR, HELP_REQUEST, TRAFFIC_EVENT)


def install(session: Session) -> None:
    """Install or update the shipped definitions (a new version only when the content changed)."""
    for spec in SHIPPED:
        workflow.ensure_definition(session, spec)
