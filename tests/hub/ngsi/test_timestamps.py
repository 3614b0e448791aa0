"""The store's timestamp text (createdAt, modifiedAt, observedAt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from cityos.hub.ngsi.attributes import iso


def test_the_store_timestamp_is_utc_milliseconds_with_z() -> None:
    assert iso(datetime(2026, 12, 1, 8, 30, 15, 999999, tzinfo=UTC)) == "2026-12-01T08:30:15.999Z"  # cut, not rounded
    beijing = timezone(timedelta(hours=8))
    assert iso(datetime(2026, 1, 1, 7, 0, 0, tzinfo=beijing)) == "2025-12-31T23:00:00.000Z"
