"""What the alerts part does on the bus: evaluate the rules when the monitor stored a bin, and
open a case for the traffic police (交警) when an alert is raised.

Both handlers are idempotent: the bus records each event per consumer, the evaluation keeps a
cursor per network, and the case is opened with the alert id as its external reference (the
same alert gives the same case) and stored on the alert.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.core.errors import DomainError
from cityos.core.i18n import N_, translate
from cityos.mobility.alerts import evaluate, guidance
from cityos.mobility.alerts.models import TrafficAlert
from cityos.mobility.events import TrafficAlertRaised, TrafficStatesComputed

log = structlog.get_logger(__name__)

CATEGORY = "event.09.01"  # 交通拥堵, routed to the 交警大队 by the responsibility list
SOURCE = "traffic"
MSG_TITLE = N_("Congestion: {target}")
MSG_DETAIL_BAND = N_("{level} since {start} (rule: {rule}); speed {speed} km/h.")
MSG_DETAIL_BASELINE = N_("Speed {speed} km/h against {baseline} km/h usual at this time of the week, since {start}.")


def parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def on_states_computed(session: Session, evt: TrafficStatesComputed) -> None:
    evaluate.evaluate(session, network_code=evt.network_code, bin_start=parse_time(evt.bin_start))


def _local(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    from cityos.core.settings import get_settings

    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


def _speed(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def open_case(session: Session, alert: TrafficAlert) -> int | None:
    """Opens (once) the case of the alert for the traffic police; returns its id. Cases are in
    Chinese, the working language of the departments."""
    if alert.case_id is not None:
        return alert.case_id
    locale = "zh_CN"
    target = guidance.target_label(alert, locale)
    if alert.rule_kind == "baseline":
        detail = translate(
            MSG_DETAIL_BASELINE,
            locale,
            speed=_speed(alert.speed_kmh),
            baseline=_speed(alert.baseline_kmh),
            start=_local(alert.started_at),
        )
    else:
        detail = translate(
            MSG_DETAIL_BAND,
            locale,
            level=guidance.level_label(alert.severity, locale),
            start=_local(alert.started_at),
            rule=alert.rule_kind,
            speed=_speed(alert.speed_kmh),
        )
    try:
        case, _created = cases.machine_report(
            session,
            source=SOURCE,
            external_ref=alert.alert_id,
            category_code=CATEGORY,
            title=translate(MSG_TITLE, locale, target=target)[:128],
            lon=alert.lon,
            lat=alert.lat,
            detail=detail,
        )
    except DomainError as exc:
        # A place outside every region (or a missing category): logged, the alert stands without a case.
        log.warning("mobility.alerts.case_refused", alert=alert.alert_id, error=exc.code)
        return None
    alert.case_id = case.id
    alert.case_no = case.no
    session.flush()
    return case.id


def on_alert_raised(session: Session, evt: TrafficAlertRaised) -> None:
    alert = session.scalar(select(TrafficAlert).where(TrafficAlert.alert_id == evt.alert_id))
    if alert is not None:
        open_case(session, alert)
