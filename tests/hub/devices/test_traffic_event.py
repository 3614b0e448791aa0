"""The TrafficObserved event carries what the mobility module needs from a loop detector."""

from __future__ import annotations

from cityos.hub.events import TrafficObserved


def test_traffic_observed_carries_what_mobility_needs() -> None:
    evt = TrafficObserved(
        tenant="default",
        entity_id="urn:ngsi-ld:TrafficFlowObserved:LOOP-1:2026-12-01T08:00",
        device_code="LOOP-1",
        ref_road_segment="urn:ngsi-ld:RoadSegment:renmin-s-rd",
        lane_id=2,
        date_observed_from="2026-12-01T08:00:00+00:00",
        date_observed_to="2026-12-01T08:05:00+00:00",
        intensity=84,
        occupancy=0.31,
        average_vehicle_speed=27.5,
        lon=104.07,
        lat=30.65,
    )
    back = TrafficObserved.model_validate(evt.model_dump(mode="json"))
    assert back == evt
    # mobility's map matching needs the road segment or the place; its vital signs need flow,
    # occupancy and speed over a known interval and lane.
    assert back.ref_road_segment
    assert back.lon is not None
    assert back.lat is not None
    assert (back.intensity, back.occupancy, back.average_vehicle_speed, back.lane_id) == (84, 0.31, 27.5, 2)
    assert back.date_observed_from < back.date_observed_to
    assert TrafficObserved.topic == "hub.traffic_observed"
