"""Events the mobility module publishes on the bus."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class TrafficStatesComputed(Event):
    """The monitor stored the segment states and vital signs of one 5-minute bin; alert rules
    and anything else that reacts to fresh traffic states run on it."""

    topic: ClassVar[str] = "mobility.states_computed"
    network_code: str
    bin_start: str  # ISO 8601, UTC
    segments: int  # segments with a state in the bin


@event_type
class TrafficAlertRaised(Event):
    """Congestion on a segment or a corridor (a TPI band at or above the rule's for N minutes, or
    a speed far below the same time of the week). The module opens a case for the traffic police."""

    topic: ClassVar[str] = "mobility.alert_raised"
    alert_id: str
    kind: str  # segment | corridor
    target_id: str  # segment id or corridor code
    target_name: str
    rule: str  # band | baseline
    severity: int  # the state / TPI band, 1..5
    speed_kmh: float | None
    baseline_kmh: float | None
    lon: float
    lat: float
    started_at: str  # ISO 8601, UTC


@event_type
class TrafficAlertCleared(Event):
    topic: ClassVar[str] = "mobility.alert_cleared"
    alert_id: str
    cleared_at: str  # ISO 8601, UTC


@event_type
class GuidanceIssued(Event):
    """A message of the guidance feed (诱导信息) for navigation apps and variable message signs:
    no personal data, so the open platform offers it to light apps' webhooks."""

    topic: ClassVar[str] = "mobility.guidance"
    message_id: str
    alert_id: str | None
    kind: str  # congestion | cleared
    target_id: str
    text_zh: str
    text_en: str
    lon: float
    lat: float
    issued_at: str  # ISO 8601, UTC
