"""The demo city's alerts (called by the demo generator after the monitor computed the past day
of bins): the rules are evaluated over those bins in order, as the live handler would have done
bin by bin, so the TOCC shows the day's congestion alerts, the guidance they published and the
cases they opened for the traffic police.

No bus events are published for this past day (no webhook fires for a jam of this morning);
the cases are opened directly. The evaluation cursor ends at the last bin, so when the monitor's
``TrafficStatesComputed`` events for these bins are delivered later, the live handler skips
them and carries on from the next bin: nothing is raised twice.
"""

from __future__ import annotations

import random
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.mobility.alerts import evaluate, reactions, service
from cityos.mobility.alerts.models import TrafficAlert
from cityos.places.models import Region

log = structlog.get_logger(__name__)

HISTORY = timedelta(hours=25)
MAX_CASES = 30  # the newest alerts get their case; a day of peaks should not flood the 交警 inbox


def seed(session: Session, *, city: Region, rng: random.Random) -> None:
    """Evaluates the rules over the stored bins of the past day and opens the alerts' cases."""
    service.install_rules(session)
    raised: list[str] = []
    for code, bins in evaluate.pending_bins(session, since=utcnow() - HISTORY).items():
        for bin_start in bins:
            raised += evaluate.evaluate(session, network_code=code, bin_start=bin_start, publish=False).raised
    if not raised:
        return
    newest = session.scalars(
        select(TrafficAlert)
        .where(TrafficAlert.alert_id.in_(raised), TrafficAlert.case_id.is_(None))
        .order_by(TrafficAlert.started_at.desc())
        .limit(MAX_CASES)
    )
    opened = sum(1 for alert in newest if reactions.open_case(session, alert) is not None)
    log.info("mobility.alerts.demo_seeded", alerts=len(raised), cases=opened, city=city.code)
