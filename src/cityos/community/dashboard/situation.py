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
    "refusal_rate": N_("Refusal rate at the gates"),
    "goods_slips_today": N_("Goods-out slips today"),
    "gates_online": N_("Gates online"),
    "gates_total": N_("Gates"),
    # property
    "bill_collection_rate": N_("Bill collection rate"),
    "collection_rate": N_("Bill collection rate"),
    "bills_unpaid": N_("Unpaid bills"),
    "bills_overdue": N_("Overdue bills"),
    "parking_occupancy": N_("Parking occupancy"),
    "parking_spaces": N_("Parking spaces"),
    "parking_occupied": N_("Parking spaces taken"),
    "lockers_overdue": N_("Parcels overdue"),
    "parcels_waiting": N_("Parcels waiting"),
    "sorting_accuracy": N_("Sorting accuracy"),
    "bins_full": N_("Full bins"),
    "faults_open": N_("Open device faults"),
    "devices_online": N_("Devices online"),
    "devices_offline": N_("Devices offline"),
    "devices_fault": N_("Devices in fault"),
    "devices_alarm": N_("Devices in alarm"),
    # commerce
    "offers_active": N_("Services offered"),
    "shops": N_("Shops"),
    "orders_open": N_("Open orders"),
    "orders_this_month": N_("Orders this month"),
    "orders_done_this_month": N_("Orders done this month"),
    "average_rating": N_("Average rating"),
    "ratings": N_("Ratings"),
    # governance
    "notices_this_month": N_("Notices this month"),
    "open_votes": N_("Open votes"),
    "open_surveys": N_("Open surveys"),
    "tasks_this_period": N_("Grid tasks this period"),
    "tasks_done": N_("Grid tasks done"),
    "task_completion_rate": N_("Task completion rate"),
    "tasks_overdue": N_("Overdue tasks"),
    "visits_this_month": N_("Visits this month"),
    "help_open": N_("Open help requests"),
    "volunteers": N_("Volunteers"),
}
# The figures each part shows first (the KPIs); the others follow under "more".
HEADLINES: dict[str, tuple[str, ...]] = {
    "access": ("passes_active", "entries_today", "visitors_today", "refused_today"),
    "property": ("bill_collection_rate", "parking_occupancy", "sorting_accuracy", "lockers_overdue"),
    "commerce": ("offers_active", "orders_this_month", "orders_open", "average_rating"),
    "governance": ("notices_this_month", "open_votes", "task_completion_rate", "visits_this_month"),
}
_PERCENT_HINTS = ("_rate", "_share", "accuracy", "occupancy", "_percent", "_pct")


@dataclass
class Figure:
    key: str
    label: str
    value: float | int | None
    unit: str = ""  # "%" for shares
    headline: bool = False


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


def _ordered(part: str, figures: list[Figure]) -> list[Figure]:
    """The part's headline figures first, in their order, then the others as reported."""
    first = HEADLINES.get(part, ())
    for f in figures:
        f.headline = f.key in first
    return sorted(figures, key=lambda f: first.index(f.key) if f.key in first else len(first))


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
            figures = _ordered(part, [f for f in (figure(k, v) for k, v in _flatten(dict(values or {}))) if f])
        except Exception as exc:  # one part's failure must not take the dashboard down
            log.warning("community.dashboard.part_failed", part=part, error=type(exc).__name__)
            out.append(Part(part, translate(title), False, error=translate(MSG_FAILED)))
            continue
        out.append(Part(part, translate(title), True, figures))
    return out
