"""Observations for the temporal tests: a few containers with hourly readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cityos.hub.temporal.service import ObservationRow, append_observations

VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
T = VOCAB + "Bin"
FILL = VOCAB + "fill"
STATUS = VOCAB + "state"
START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def bin_id(n: int) -> str:
    return f"urn:ngsi-ld:Bin:{n:03d}"


def seed(session: Session, *, tenant: str = "default", bins: int = 3, hours: int = 6, start: datetime = START) -> None:
    """Bin n reports fill = n*10 + hour (hour 0..hours-1) at start + hour; status "ok"/"full"."""
    rows = []
    for n in range(1, bins + 1):
        for h in range(hours):
            at = start + timedelta(hours=h)
            rows.append(ObservationRow(tenant, bin_id(n), T, FILL, at, n * 10 + h, unit="P1"))
            rows.append(ObservationRow(tenant, bin_id(n), T, STATUS, at, "full" if h >= hours - 2 else "ok"))
    append_observations(session, rows)
