"""Logic of community.property (物业): plain functions taking a session; they flush, never commit.

The work is split by sub-domain — ``billing`` (bills, meters, reminders), ``payments`` (the
gateway, notices, receipts), ``parking``, ``lockers``, ``garbage``, ``facilities`` (devices,
faults, repairs) — and this file holds what the rest of 智慧社区 calls: the resident's bills and
parcels for the home page and the figures for the dashboard.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region

from . import billing, facilities, garbage, lockers, parking
from .estates import period_of
from .models import Bill, FacilityFault, Parcel


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``.

    Nothing is shipped: each estate's property company sets its own tariff."""


def my_bills(session: Session, actor: Actor, *, unpaid_only: bool = True) -> list[Bill]:
    """The bills of the actor's household (``bill:pay``), unpaid only by default."""
    return billing.my_bills(session, actor, unpaid_only=unpaid_only)


def my_parcels(session: Session, actor: Actor) -> list[Parcel]:
    """Parcels waiting for pickup for the actor or their household."""
    return lockers.my_parcels(session, actor)


def stats(session: Session, *, region: Region, now: datetime | None = None) -> dict[str, int | float]:
    """Property figures of a subtree for the dashboard: the collection rate of the latest billed
    month, parking occupancy, parcels waiting and overdue, this month's sorting accuracy, full
    bins, and property devices by status. Rates are fractions from 0 to 1."""
    now = now or utcnow()
    path = region.path
    latest = session.scalar(select(func.max(Bill.period)).where(subtree_clause(Bill.region_path, path)))
    rate = billing.collection_rate(session, region_path=path, period=latest) if latest else None
    unpaid = (
        int(
            session.scalar(
                select(func.count())
                .select_from(Bill)
                .where(subtree_clause(Bill.region_path, path), Bill.period == latest, Bill.status == "unpaid")
            )
            or 0
        )
        if latest
        else 0
    )
    occupied, spaces = parking.occupancy(session, region_path=path)
    waiting, overdue = lockers.waiting_counts(session, region_path=path, now=now)
    accuracy = garbage.accuracy(session, region_path=path, month=period_of(now))
    full = int(
        session.scalar(
            select(func.count())
            .select_from(Device)
            .where(
                Device.kind == garbage.BIN,
                Device.status == DeviceStatus.ALARM,
                subtree_clause(Device.region_path, path),
            )
        )
        or 0
    )
    by_status = facilities.status_counts(session, region_path=path)
    faults = int(
        session.scalar(
            select(func.count())
            .select_from(FacilityFault)
            .join(Device, Device.id == FacilityFault.device_id)
            .where(FacilityFault.cleared_at.is_(None), subtree_clause(Device.region_path, path))
        )
        or 0
    )
    return {
        "bill_collection_rate": round(rate, 4) if rate is not None else 0.0,
        "bills_unpaid": unpaid,
        "bills_overdue": billing.overdue_count(session, region_path=path, now=now),
        "parking_spaces": spaces,
        "parking_occupied": occupied,
        "parking_occupancy": round(occupied / spaces, 4) if spaces else 0.0,
        "parcels_waiting": waiting,
        "lockers_overdue": overdue,
        "sorting_accuracy": round(accuracy, 4) if accuracy is not None else 0.0,
        "bins_full": full,
        "faults_open": faults,
        **{f"devices_{status.value}": by_status.get(status.value, 0) for status in DeviceStatus},
    }
