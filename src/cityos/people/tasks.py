"""Periodic jobs of people."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from cityos.people.models import Person, PersonTag, Tag
from cityos.people.service import ADULT_AGE, ELDERLY_AGE


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def refresh_age_tags(session: Session, *, today: date | None = None) -> int:
    """Add and remove the age tags (elderly 60+, child under 18) as birthdays pass; run daily.

    Set-based, so it costs a few statements however many residents there are. Returns how many
    tags were added or removed.
    """
    today = today or date.today()
    elderly_born_by = _years_before(today, ELDERLY_AGE)  # born on or before: 60 or older
    adult_born_by = _years_before(today, ADULT_AGE)  # born on or before: 18 or older
    rules = (
        (Tag.ELDERLY.value, Person.birth_date <= elderly_born_by),
        (Tag.CHILD.value, Person.birth_date > adult_born_by),
    )
    changed = 0
    for tag, due in rules:
        has_tag = select(PersonTag.person_id).where(PersonTag.tag == tag)
        stale = (
            select(PersonTag.id)
            .join(Person, Person.id == PersonTag.person_id)
            .where(PersonTag.tag == tag, or_(Person.birth_date.is_(None), ~due))
        )
        missing = select(Person.id, literal(tag)).where(
            and_(Person.birth_date.is_not(None), due), Person.id.not_in(has_tag)
        )
        # Counted up front: drivers disagree on rowcount for INSERT … SELECT.
        for query in (stale, missing):
            changed += int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        session.execute(delete(PersonTag).where(PersonTag.id.in_(stale)).execution_options(synchronize_session=False))
        session.execute(insert(PersonTag).from_select(["person_id", "tag"], missing))
    session.flush()
    return changed
