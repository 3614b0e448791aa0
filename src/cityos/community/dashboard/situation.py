"""情: the KPIs each part of 智慧社区 reports for a region through its ``stats(session, *, region)``.

Each part is called on its own, inside a SAVEPOINT: a part that is missing, refuses or fails
leaves its own panel empty with a message and never the others (nor the request's transaction).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.orm import Session

from cityos.core.i18n import N_, translate
from cityos.places.models import Region

log = structlog.get_logger(__name__)

PARTS: tuple[tuple[str, str], ...] = (
    ("access", N_("Entry passes")),
    ("property", N_("Property")),
    ("commerce", N_("Neighbourhood services")),
    ("governance", N_("Notices, votes and tasks")),
)
MSG_MISSING = N_("This part does not report figures yet.")
MSG_FAILED = N_("These figures could not be loaded just now.")

# Labels of the figures the parts report, by key (a key without a label is shown as it is).
FIGURE_LABELS: dict[str, str] = {
    # access
    "passes_active": N_("Active passes"),
    "active_passes": N_("Active passes"),
    "entries_today": N_("Entries today"),
    "exits_today": N_("Exits today"),
    "visitors_today": N_("Visitors today"),
    "visitor_passes_active": N_("Active visitor passes"),
    "refused_today": N_("Refused at the gate today"),
    "gates": N_("Gates"),
    "gates_online": N_("Gates online"),
    # property
    "bill_collection_rate": N_("Bill collection rate"),
    "collection_rate": N_("Bill collection rate"),
    "bills_unpaid": N_("Unpaid bills"),
    "bills_overdue": N_("Overdue bills"),
    "parking_occupancy": N_("Parking occupancy"),
    "parking_spaces": N_("Parking spaces"),
    "lockers_overdue": N_("Parcels overdue"),
    "parcels_waiting": N_("Parcels waiting"),
    "sorting_accuracy": N_("Sorting accuracy"),
    "bins_full": N_("Full bins"),
    "repairs_open": N_("Open repairs"),
    "devices_fault": N_("Devices in fault"),
    # commerce
    "offers": N_("Services offered"),
    "offers_active": N_("Services offered"),
    "merchants": N_("Merchants"),
    "orders_open": N_("Open orders"),
    "orders_month": N_("Orders this month"),
    "orders_this_month": N_("Orders this month"),
    "average_rating": N_("Average rating"),
    # governance
    "notices_this_month": N_("Notices this month"),
    "notices_month": N_("Notices this month"),
    "open_votes": N_("Open votes"),
    "votes_open": N_("Open votes"),
    "surveys_open": N_("Open surveys"),
    "task_completion_rate": N_("Task completion rate"),
    "tasks_overdue": N_("Overdue tasks"),
    "visits_this_month": N_("Visits this month"),
    "visits_month": N_("Visits this month"),
    "help_open": N_("Open help requests"),
    "volunteers": N_("Volunteers"),
}
_PERCENT_HINTS = ("_rate", "_share", "accuracy", "occupancy", "_percent", "_pct")


@dataclass
class Figure:
    key: str
    label: str
    value: float | int | None
    unit: str = ""  # "%" for shares


@dataclass
class Part:
    part: str
    title: str
    ok: bool
    figures: list[Figure] = field(default_factory=list)
    error: str | None = None


def _flatten(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}."))
        else:
            out.append((name, value))
    return out


def figure(key: str, value: Any) -> Figure | None:
    """One reported value as a figure; shares given as fractions (0.93) are shown as percents."""
    if isinstance(value, bool) or not (value is None or isinstance(value, int | float)):
        return None
    label = translate(FIGURE_LABELS[key]) if key in FIGURE_LABELS else key
    if not any(hint in key for hint in _PERCENT_HINTS):
        return Figure(key, label, value)
    if isinstance(value, float) and 0 <= value <= 1 and not key.endswith(("_percent", "_pct")):
        value = value * 100
    return Figure(key, label, None if value is None else round(float(value), 1), "%")


def _stats_of(part: str) -> Callable[..., dict[str, Any]] | None:
    try:
        module = importlib.import_module(f"cityos.community.{part}.service")
    except ImportError:
        return None
    stats = getattr(module, "stats", None)
    return stats if callable(stats) else None


def situation(session: Session, region: Region) -> list[Part]:
    out: list[Part] = []
    for part, title in PARTS:
        stats = _stats_of(part)
        if stats is None:
            out.append(Part(part, translate(title), False, error=translate(MSG_MISSING)))
            continue
        try:
            with session.begin_nested():
                values = stats(session, region=region)
            figures = [f for f in (figure(k, v) for k, v in _flatten(dict(values or {}))) if f is not None]
        except Exception as exc:  # one part's failure must not take the dashboard down
            log.warning("community.dashboard.part_failed", part=part, error=type(exc).__name__)
            out.append(Part(part, translate(title), False, error=translate(MSG_FAILED)))
            continue
        out.append(Part(part, translate(title), True, figures))
    return out
