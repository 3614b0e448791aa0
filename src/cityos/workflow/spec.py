"""The shape of a process definition and the checks that keep a definition runnable.

A definition is a JSON document::

    {"key": "city_event", "title": "城市事件", "initial": "found",
     "limit": {"amount": 15, "unit": "working_days"},
     "states": {"found": {"title": "发现", "limit": {"amount": 2, "unit": "working_hours"},
                          "escalation": [{"after_hours": 0, "kind": "remind"},
                                         {"after_hours": 4, "kind": "supervisor"}]},
                "closed": {"title": "结案", "final": true}},
     "actions": [{"name": "close", "from": ["found"], "to": "closed", "roles": ["dispatcher"]}],
     "reopen": {"within_days": 7, "to": "found", "roles": ["resident"]}}

An action may carry a condition on the instance's data (``when``), require a comment, and be a
countersign: ``countersign: "departments"`` means every party listed in ``data["departments"]``
must take the action before the process moves to ``to``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cityos.core.errors import FieldError
from cityos.core.i18n import N_

Unit = Literal["working_hours", "working_days", "hours", "days"]
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

MSG_INITIAL = N_("The initial state {state} is not one of the states.")
MSG_UNKNOWN_STATE = N_("Action {action} refers to the unknown state {state}.")
MSG_UNREACHABLE = N_("State {state} cannot be reached from the initial state.")
MSG_DEAD_END = N_("State {state} is not final and no action leaves it.")
MSG_NO_FINAL = N_("The process has no final state.")
MSG_FINAL_EXIT = N_("Final state {state} may not be left by action {action}.")
MSG_DUPLICATE = N_("Action {action} is defined twice for state {state}.")
MSG_REOPEN = N_("Reopen goes to the unknown state {state}.")
MSG_NAME = N_("Names are lower-case letters, digits and '_', starting with a letter: {name}.")


class Limit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: float = Field(gt=0, le=10_000)
    unit: Unit


class EscalationStep(BaseModel):
    """``after_hours`` office hours past the state's limit, do ``kind``."""

    model_config = ConfigDict(extra="forbid")

    after_hours: float = Field(ge=0, le=10_000)
    kind: Literal["remind", "supervisor", "escalate"]


class StateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=64)
    final: bool = False
    limit: Limit | None = None
    escalation: list[EscalationStep] = Field(default_factory=list, max_length=10)


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=64)
    equals: Any = None
    present: bool | None = None

    def holds(self, data: dict[str, Any]) -> bool:
        if self.present is not None:
            return (data.get(self.field) not in (None, "", [])) is self.present
        return bool(data.get(self.field) == self.equals)


class ActionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    title: str = ""
    from_: list[str] = Field(alias="from", min_length=1)
    to: str
    roles: list[str] = Field(min_length=1)
    when: Condition | None = None
    comment_required: bool = False
    countersign: str | None = None  # key in instance data listing the parties who must all act

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(MSG_NAME.format(name=value))
        return value


class ReopenSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    within_days: float = Field(gt=0, le=365)
    to: str
    roles: list[str] = Field(min_length=1)


class ProcessSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    title: str = Field(min_length=1, max_length=128)
    initial: str
    states: dict[str, StateSpec] = Field(min_length=2)
    actions: list[ActionSpec] = Field(min_length=1)
    limit: Limit | None = None
    reopen: ReopenSpec | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(MSG_NAME.format(name=value))
        return value

    def actions_from(self, state: str) -> list[ActionSpec]:
        return [a for a in self.actions if state in a.from_]

    def action(self, state: str, name: str) -> ActionSpec | None:
        return next((a for a in self.actions_from(state) if a.name == name), None)


def graph_errors(spec: ProcessSpec) -> list[FieldError]:
    """What makes a definition unrunnable: unknown states, unreachable states, dead ends."""
    errors: list[FieldError] = []
    states = spec.states
    for name in states:
        if not _NAME.match(name):
            errors.append(FieldError("states", MSG_NAME, {"name": name}))
    if spec.initial not in states:
        errors.append(FieldError("initial", MSG_INITIAL, {"state": spec.initial}))
    seen: set[tuple[str, str]] = set()
    for action in spec.actions:
        for state in [*action.from_, action.to]:
            if state not in states:
                errors.append(FieldError("actions", MSG_UNKNOWN_STATE, {"action": action.name, "state": state}))
        for state in action.from_:
            if (state, action.name) in seen:
                errors.append(FieldError("actions", MSG_DUPLICATE, {"action": action.name, "state": state}))
            seen.add((state, action.name))
            if state in states and states[state].final:
                errors.append(FieldError("actions", MSG_FINAL_EXIT, {"state": state, "action": action.name}))
    if spec.reopen is not None and spec.reopen.to not in states:
        errors.append(FieldError("reopen", MSG_REOPEN, {"state": spec.reopen.to}))
    if errors:
        return errors
    if not any(s.final for s in states.values()):
        errors.append(FieldError("states", MSG_NO_FINAL))
    reachable = {spec.initial}
    frontier = [spec.initial]
    while frontier:
        state = frontier.pop()
        for action in spec.actions_from(state):
            if action.to not in reachable:
                reachable.add(action.to)
                frontier.append(action.to)
    for name, state_spec in states.items():
        if name not in reachable:
            errors.append(FieldError("states", MSG_UNREACHABLE, {"state": name}))
        if not state_spec.final and not spec.actions_from(name):
            errors.append(FieldError("states", MSG_DEAD_END, {"state": name}))
    return errors
