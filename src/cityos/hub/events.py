"""Events the data hub publishes on the bus, for the modules that react to devices and traffic."""

from __future__ import annotations

from typing import Any, ClassVar

from cityos.core.bus import Event, event_type


@event_type
class DeviceObserved(Event):
    """A registered device reported readings (one event per device per ingest batch, carrying its
    latest values). ``attrs`` uses the short attribute names of the device's profile
    (``fillingLevel``, ``status``, ``occupancy`` …); community feeds its bins and parking spots
    from it, the hub's reactions turn alarming readings into ``DeviceAlarm``."""

    topic: ClassVar[str] = "hub.device_observed"
    tenant: str
    device_code: str
    device_kind: str
    entity_id: str
    entity_type: str
    attrs: dict[str, Any]
    observed_at: str  # ISO 8601, UTC
    lon: float | None = None
    lat: float | None = None


@event_type
class TrafficObserved(Event):
    """A traffic detector's interval (FIWARE TrafficFlowObserved), for the mobility module."""

    topic: ClassVar[str] = "hub.traffic_observed"
    tenant: str
    entity_id: str
    device_code: str | None
    ref_road_segment: str | None
    lane_id: int | None
    date_observed_from: str
    date_observed_to: str
    intensity: float | None  # vehicles in the interval
    occupancy: float | None  # 0..1
    average_vehicle_speed: float | None  # km/h
    lon: float | None = None
    lat: float | None = None
