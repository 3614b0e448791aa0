"""Demo history of 一网通办: a few hundred past applications of one district's residents, decided
in realistic times and rated, so the statistics and the department inboxes have something to show.
Written as plain rows (the demo is synthetic; the application service is exercised by the tests
and the benchmark), in one flush."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Rating
from cityos.core.db import utcnow
from cityos.people.models import Person
from cityos.places.models import Region
from cityos.services.applications.models import Application, ApplicationDepartment, ApplicationStatus
from cityos.services.catalogue import service as catalogue
from cityos.services.catalogue.models import Audience, ServiceItem
from cityos.workflow.calendar import WorkCalendar

# How often residents ask for each kind of item (the rest share what is left).
_POPULAR = {"mzj-002": 8, "ybj-002": 8, "gaj-002": 6, "rsj-002": 6, "gaj-004": 5, "mzj-005": 4, "jyj-001": 4}
_RATINGS = (5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1)


def seed(
    session: Session, *, district: Region, rng: random.Random, count: int = 300, now: datetime | None = None
) -> int:
    """Adds ``count`` past applications in ``district`` (nothing when it already has some)."""
    if session.scalar(select(Application.id).where(Application.region_path.startswith(district.path)).limit(1)):
        return 0
    now = now or utcnow()
    items = list(
        session.scalars(
            select(ServiceItem).where(ServiceItem.active.is_(True), ServiceItem.audience == Audience.PERSON)
        )
    )
    people = list(
        session.execute(
            select(Person.id, Person.region_id, Person.region_path)
            .where(Person.region_path.startswith(district.path))
            .limit(5000)
        )
    )
    if not items or not people:
        return 0
    weights = [_POPULAR.get(i.code, 1) for i in items]
    calendar = WorkCalendar.load(session)
    departments: dict[tuple[str, int], int | None] = {}
    regions: dict[int, Region | None] = {}
    made = 0
    for _ in range(count):
        item = rng.choices(items, weights)[0]
        person_id, region_id, region_path = rng.choice(people)
        if region_id is not None and region_id not in regions:
            regions[region_id] = session.get(Region, region_id)
        region = (regions.get(region_id) if region_id is not None else None) or district
        dept_ids: list[int] = []
        for kind in item.department_kinds:
            key = (kind, region.id)
            if key not in departments:
                found = catalogue.department_for(session, kind=kind, region=region)
                departments[key] = found.id if found else None
            if departments[key] is not None:
                dept_ids.append(departments[key])  # type: ignore[arg-type]
        if len(dept_ids) != len(item.department_kinds):
            continue
        submitted = now - timedelta(days=rng.uniform(1, 90), hours=rng.uniform(0, 8))
        limit = item.promised_days or item.time_limit_days
        decided: datetime | None
        if item.instant:
            decided = submitted + timedelta(minutes=rng.randint(5, 90))
        elif rng.random() < 0.88:
            days = max(0, min(item.time_limit_days + 2, int(rng.triangular(0, limit + 1, limit * 0.4))))
            decided = calendar.add(submitted, days, "working_days") if days else submitted + timedelta(hours=3)
        else:
            decided = None
        if decided is not None and decided > now:
            decided = None
        refused = decided is not None and rng.random() < 0.05
        status = (
            ApplicationStatus.APPROVING
            if decided is None
            else (ApplicationStatus.REJECTED if refused else ApplicationStatus.APPROVED)
        )
        zero = all("credential_kind" in m for m in item.materials if m.get("required", True))
        app = Application(
            no=f"SQ{submitted:%Y%m%d}{secrets.token_hex(5).upper()}",
            item_code=item.code,
            applicant_person_id=person_id,
            channel=rng.choices(["online", "counter", "kiosk"], [7, 2, 1])[0],
            region_id=region_id,
            region_path=region_path,
            form_enc="",
            zero_material=zero,
            uploads=0 if zero else 1,
            status=status,
            department_ids=dept_ids,
            decision_note="材料不符合要求" if refused else None,
            extra={"demo": True},
            created_at=submitted,
            updated_at=decided or submitted,
            submitted_at=submitted,
            due_at=calendar.add(submitted, item.time_limit_days, "working_days"),
            decided_at=decided,
        )
        session.add(app)
        session.flush()
        for dept_id in dept_ids:
            session.add(
                ApplicationDepartment(
                    application_id=app.id,
                    department_id=dept_id,
                    decision=None if decided is None else ("rejected" if refused else "approved"),
                    decided_at=decided,
                )
            )
        if decided is not None and rng.random() < 0.7:
            level = rng.choice(_RATINGS)
            app.rating = level
            session.add(Rating(subject_type="application", subject_id=str(app.id), level=level, created_at=decided))
        made += 1
    session.flush()
    return made
