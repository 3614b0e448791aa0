"""好差评 of any subject (a case, an application …): five levels, one re-rating.

The caller checks who may rate what and when (the reporter of a closed case, the applicant of a
finished application); this keeps the levels, the revision count and the row.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Rating
from cityos.core.actor import Actor
from cityos.core.errors import Conflict, FieldError, Invalid
from cityos.core.i18n import N_

RATING_LEVELS = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Basically satisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
BAD_RATING = 2  # 不满意 and 非常不满意 are 差评
MAX_REVISIONS = 2  # the first rating and one change

MSG_RATING_LEVEL = N_("Choose a rating from 1 (very dissatisfied) to 5 (very satisfied).")
MSG_RATING_TWICE = N_("This has already been rated again; a rating can be changed only once.")


def latest(session: Session, *, subject_type: str, subject_id: object) -> Rating | None:
    return session.scalars(
        select(Rating)
        .where(Rating.subject_type == subject_type, Rating.subject_id == str(subject_id))
        .order_by(Rating.revision.desc())
        .limit(1)
    ).first()


def rate_subject(
    session: Session,
    actor: Actor,
    *,
    subject_type: str,
    subject_id: object,
    level: int,
    comment: str | None = None,
    twice_message: str = MSG_RATING_TWICE,
) -> Rating:
    """Record a rating (revision 1) or its one change (revision 2); a third is a ``Conflict``."""
    if level not in RATING_LEVELS:
        raise Invalid(details=[FieldError("level", MSG_RATING_LEVEL)])
    previous = latest(session, subject_type=subject_type, subject_id=subject_id)
    if previous is not None and previous.revision >= MAX_REVISIONS:
        raise Conflict(twice_message)
    row = Rating(
        subject_type=subject_type,
        subject_id=str(subject_id),
        level=level,
        comment=(comment or "").strip()[:2000] or None,
        account_id=actor.account_id,
        revision=(previous.revision + 1) if previous else 1,
    )
    session.add(row)
    session.flush()
    return row
