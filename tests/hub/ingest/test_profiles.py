"""Mapping readings through the shipped profiles: names, scale, units, types, ranges, time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.i18n import translate
from cityos.hub.ingest import profiles
from cityos.hub.ingest.models import DeviceProfile
from cityos.hub.ingest.profiles import Profile, map_values


def shipped(code: str) -> Profile:
    row = next(r for r in profiles.shipped() if r["code"] == code)
    return Profile.parse(row["code"], row["device_kind"], row["entity_type"], row["mapping"])


def test_the_seven_profiles_ship_and_install_once(session: Session) -> None:
    codes = {r["code"] for r in profiles.shipped()}
    assert codes == {
        "waste-container", "parking-spot", "traffic-loop", "water-level", "manhole-cover", "gate-door", "meter"
    }  # fmt: skip
    profiles.install(session)
    assert profiles.install(session) == 0
    assert session.scalar(select(func.count()).select_from(DeviceProfile)) == 7
    # A changed shipped profile is brought up to date; an operator's own profile is left alone.
    row = session.scalar(select(DeviceProfile).where(DeviceProfile.code == "meter"))
    assert row is not None
    row.mapping = {"time": None, "fields": {}}
    session.add(DeviceProfile(code="own", name="Own", device_kind="x", entity_type="Device", mapping={}, builtin=False))
    session.flush()
    assert profiles.install(session) == 1
    assert row.mapping["fields"]["value"]["attr"] == "numValue"


def test_fill_level_is_scaled_into_zero_to_one_with_units() -> None:
    mapped = map_values(shipped("waste-container"), {"fill": 85, "temperature": 21.5, "status": "ok"})
    assert not mapped.errors
    by = {r.attr: r for r in mapped.readings}
    assert by["fillingLevel"].value == pytest.approx(0.85)
    assert by["temperature"].unit == "CEL"
    assert by["status"].value == "ok"
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert by["temperature"].attribute(at) == {
        "type": "Property", "value": 21.5, "observedAt": "2026-12-01T08:00:00Z", "unitCode": "CEL"
    }  # fmt: skip


def test_every_bad_reading_is_reported_with_its_field() -> None:
    mapped = map_values(
        shipped("waste-container"), {"fill": 140, "temperature": "warm", "status": "gone", "colour": "red"}
    )
    assert mapped.readings == []
    errors = {e.field: e for e in mapped.errors}
    assert set(errors) == {"values.fill", "values.temperature", "values.status", "values.colour"}
    assert translate(errors["values.fill"].message, "en", **errors["values.fill"].params) == (
        "Must be from 0 to 1 (after scaling)."
    )
    assert "lidOpen" in errors["values.status"].params["expected"]
    assert translate(errors["values.fill"].message, "zh_CN", **errors["values.fill"].params) != (
        "Must be from 0 to 1 (after scaling)."
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"count": 3.5}, "values.count"),  # whole numbers only
        ({"count": True}, "values.count"),  # a boolean is not a number
        ({"lane": 0}, "values.lane"),
        ({"speed": float("nan")}, "values.speed"),
        ({"to": "2026-12-01T08:00:00"}, "values.to"),  # no offset
        ({"segment": "not a urn"}, "values.segment"),
    ],
)
def test_traffic_loop_checks_types(values: dict[str, object], field: str) -> None:
    mapped = map_values(shipped("traffic-loop"), values)
    assert [e.field for e in mapped.errors] == [field]


def test_traffic_loop_takes_its_time_from_the_end_of_the_interval() -> None:
    mapped = map_values(
        shipped("traffic-loop"),
        {
            "count": 42, "occupancy": 35, "speed": 48.5, "lane": 2,
            "from": "2026-12-01T16:00:00+08:00", "to": "2026-12-01T16:05:00+08:00",
            "segment": "urn:ngsi-ld:RoadSegment:R1",
        },
    )  # fmt: skip
    assert not mapped.errors
    assert mapped.observed_at == datetime(2026, 12, 1, 8, 5, tzinfo=UTC)
    by = {r.attr: r for r in mapped.readings}
    assert by["occupancy"].value == pytest.approx(0.35)
    assert by["refRoadSegment"].kind == "Relationship"
    assert by["refRoadSegment"].attribute(mapped.observed_at)["object"] == "urn:ngsi-ld:RoadSegment:R1"
    assert by["dateObservedFrom"].value == "2026-12-01T08:00:00Z"


@pytest.mark.parametrize("values", [None, [], {}, "fill=3"])
def test_values_must_be_a_non_empty_object(values: object) -> None:
    mapped = map_values(shipped("meter"), values)
    assert [e.field for e in mapped.errors] == ["values"]


def test_a_profile_with_a_bad_definition_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        Profile.parse("x", "x", "Device", {"fields": {"a": {"attr": "a", "type": "colour"}}})
    with pytest.raises(ValueError, match="time field"):
        Profile.parse("x", "x", "Device", {"time": "a", "fields": {"a": {"attr": "a", "type": "number"}}})
