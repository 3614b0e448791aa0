"""Events community.governance publishes on the bus (delivered after the transaction commits)."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class NoticePublished(Event):
    """A notice was published: the people it reaches are told (by SMS too when urgent)."""

    topic: ClassVar[str] = "community.notice_published"
    notice_id: int
    urgency: str = "normal"


@event_type
class SurveyOpened(Event):
    """A survey was opened: the people it asks are told."""

    topic: ClassVar[str] = "community.survey_opened"
    survey_id: int


@event_type
class VoteCalled(Event):
    """An owners' vote was called: the owners of its rooms are told."""

    topic: ClassVar[str] = "community.vote_called"
    vote_id: int


@event_type
class TasksPlanned(Event):
    """A period's grid tasks were made: the grid workers of the grids concerned are told."""

    topic: ClassVar[str] = "community.tasks_planned"
    plan_id: int
    period: str
    grid_ids: list[int]
