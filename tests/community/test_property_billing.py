"""Bills: tariffs, the billing run (idempotent, exact in fen), meters, collection, reminders, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.property import billing, parking, service
from cityos.community.property.estates import effective_tariff, parse_period, previous_period, set_tariff
from cityos.community.property.models import Bill
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.pagination import PageParams
from cityos.identity.models import Notification
from tests.community.property_fixtures import PropWorld, device, prop_world, tariff  # noqa: F401

LAST = previous_period(utcnow())


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d.field for d in exc.value.details}


def test_tariff_defaults_and_bad_input(session: Session, pw: PropWorld) -> None:
    assert effective_tariff(session, pw.estate).property_fee_fen_per_m2 == 250
    with pytest.raises(Invalid) as bad:
        tariff(
            session,
            pw,
            property_fee_fen_per_m2=-1,
            default_area_m2=0,
            visitor_free_minutes=1.5,
            due_days=True,
            payment_gateway="nope",
        )
    assert _fields(bad) == {
        "property_fee_fen_per_m2",
        "default_area_m2",
        "visitor_free_minutes",
        "due_days",
        "payment_gateway",
    }
    tariff(session, pw, property_fee_fen_per_m2=260, default_area_m2=100.5)
    stored = effective_tariff(session, pw.estate)
    assert (stored.property_fee_fen_per_m2, stored.default_area_m2, stored.organisation_id) == (
        260,
        100.5,
        pw.company.id,
    )
    with pytest.raises(NotFound):  # another estate's manager does not see this one
        set_tariff(session, pw.other_manager, estate_id=pw.estate.id, values={"due_days": 1})


def test_billing_run_is_exact_in_fen_and_idempotent(session: Session, pw: PropWorld) -> None:
    tariff(session, pw, property_fee_fen_per_m2=255, default_area_m2=90, parking_monthly_fen=30000)
    space, _ = device(session, pw, "parking_spot", "P-001")
    parking.lease_space(
        session,
        pw.manager,
        estate_id=pw.estate.id,
        space_id=space.id,
        room_id=pw.room.id,
        since=parse_period(LAST)[0].date(),
    )
    pw.room2.attrs = {"area": "not known"}  # unreadable: the default area
    run = billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST)
    by = {(b.room_id, b.kind): b for b in run.created}
    # 89.5 m² × 2.55 元 = 228.225 元 → 22823 fen (halves up); 90 m² default × 2.55 = 229.50 元
    assert by[(pw.room.id, "property_fee")].amount_fen == 22823
    assert by[(pw.room2.id, "property_fee")].amount_fen == 22950
    assert by[(pw.room.id, "parking")].amount_fen == 30000
    assert by[(pw.room.id, "parking")].detail["spaces"] == ["P-001"]
    assert (pw.room2.id, "parking") not in by
    assert by[(pw.room.id, "property_fee")].building_id == pw.w.building.id
    start, end = parse_period(LAST)
    assert by[(pw.room.id, "property_fee")].due_at == end + timedelta(days=15)
    again = billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST)
    assert (len(again.created), again.existing) == (0, 3)
    total = session.scalar(select(func.count()).select_from(Bill).where(Bill.period == LAST))
    assert total == 3


def test_metered_bills_from_readings(session: Session, pw: PropWorld) -> None:
    tariff(session, pw, water_fen_per_m3=365, power_fen_per_kwh=57)
    water, _ = device(session, pw, "meter_water", "W-101", region=pw.room)
    power, _ = device(session, pw, "meter_power", "E-101", region=pw.room)
    lonely, _ = device(session, pw, "meter_water", "W-102", region=pw.room2)
    start, end = parse_period(LAST)
    billing.record_reading(session, water, value=100.125, at=start - timedelta(hours=3))
    billing.record_reading(session, water, value="103.5", at=start + timedelta(days=10))
    billing.record_reading(session, water, value=112.4, at=end - timedelta(hours=1))
    billing.record_reading(session, water, value=500, at=end + timedelta(hours=1))  # next month
    billing.record_reading(session, power, value=2000, at=start + timedelta(days=1))
    billing.record_reading(session, power, value=2310.5, at=end - timedelta(days=1))
    billing.record_reading(session, lonely, value=5, at=start + timedelta(days=1))  # one reading: no bill
    run = billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST, kinds=["water", "power"])
    by = {(b.room_id, b.kind): b for b in run.created}
    # 112.4 − 100.125 = 12.275 m³ × 3.65 元 = 44.80375 元 → 4480 fen
    assert by[(pw.room.id, "water")].amount_fen == 4480
    assert by[(pw.room.id, "water")].detail["consumption"] == "12.275"
    # 310.5 kWh × 0.57 元 = 176.985 元 → 17699 fen
    assert by[(pw.room.id, "power")].amount_fen == 17699
    assert [(s.room_id, s.kind) for s in run.skipped] == [(pw.room2.id, "water")]
    assert water.state["reading"] == 500.0  # the device's state holds the latest reading
    # The same reading sent twice is one; a different value at the same time is refused.
    billing.record_reading(session, water, value=500, at=end + timedelta(hours=1))
    with pytest.raises(Conflict) as taken:
        billing.record_reading(session, water, value=501, at=end + timedelta(hours=1))
    assert taken.value.details[0].field == "value"
    for bad in (-1, "abc", 1.0001, True, None):
        with pytest.raises(Invalid):
            billing.record_reading(session, water, value=bad)


def test_billing_run_refuses_bad_input(session: Session, pw: PropWorld) -> None:
    with pytest.raises(Invalid) as no_tariff:
        billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST)
    assert _fields(no_tariff) == {"estate_id"}
    tariff(session, pw)
    with pytest.raises(Invalid) as bad:
        billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period="2026-13", kinds=["gas"])
    assert _fields(bad) == {"period", "kinds"}
    future = (utcnow() + timedelta(days=40)).strftime("%Y-%m")
    with pytest.raises(Invalid) as ahead:
        billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=future)
    assert _fields(ahead) == {"period"}
    with pytest.raises(NotFound):
        billing.run_billing(session, pw.other_manager, estate_id=pw.estate.id, period=LAST)
    with pytest.raises(Forbidden):
        billing.run_billing(session, pw.resident, estate_id=pw.estate.id, period=LAST)
    assert session.scalar(select(func.count()).select_from(Bill)) == 0


def test_my_bills_collection_and_scope(session: Session, pw: PropWorld) -> None:
    tariff(session, pw)
    billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST)
    mine = service.my_bills(session, pw.resident)
    assert [b.room_id for b in mine] == [pw.room.id]
    assert mine[0].title.endswith("物业费") or "Property fee" in mine[0].title
    assert service.my_bills(session, pw.neighbour)[0].room_id == pw.room2.id
    mine[0].status, mine[0].paid_at = "paid", utcnow()
    session.flush()
    assert service.my_bills(session, pw.resident) == []
    assert len(service.my_bills(session, pw.resident, unpaid_only=False)) == 1
    rows = billing.collection(session, pw.manager, estate_id=pw.estate.id, period=LAST)
    building, total = rows
    assert (building.name, building.bills, building.paid, building.unpaid) == ("1栋", 2, 1, 1)
    assert total.billed_fen == 22375 + 22500
    assert total.paid_fen == 22375
    assert round(total.rate, 4) == round(22375 / 44875, 4)
    with pytest.raises(NotFound):
        billing.collection(session, pw.other_manager, estate_id=pw.estate.id, period=LAST)
    listed, count = billing.list_bills(session, pw.manager, PageParams(), estate_id=pw.estate.id)
    assert count == 2
    with pytest.raises(NotFound):
        billing.get_bill(session, pw.other_manager, listed[0].id)
    figures = service.stats(session, region=pw.w.community)
    assert figures["bill_collection_rate"] == round(22375 / 44875, 4)
    assert figures["bills_unpaid"] == 1


def test_overdue_reminders_once_a_week(session: Session, pw: PropWorld) -> None:
    tariff(session, pw, due_days=0)
    billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST)
    session.commit()
    now = datetime.now(UTC)
    assert billing.remind_overdue(session, now=now) == 2
    session.commit()  # the reminders go out after the commit
    titles = session.scalars(select(Notification.title).where(Notification.account_id == pw.resident_account_id)).all()
    assert len(titles) == 1
    assert titles[0].startswith("账单逾期")
    assert billing.remind_overdue(session, now=now + timedelta(days=6)) == 0
    assert billing.remind_overdue(session, now=now + timedelta(days=7)) == 2
    session.commit()
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.account_id == pw.resident_account_id)
        )
        == 2
    )
