"""通知公告: community staff publish to a region subtree or a tagged group in their area; the
people reached read them on their phones, and each first opening is a read receipt. Staff see
how many were reached and how many read; residents never see who else read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.people.models import Person
from cityos.places.models import Region

from . import audience
from .events import NoticePublished
from .models import Notice, NoticeKind, NoticeRead, OwnersVote, TagMatch, Urgency

URGENCIES: tuple[str, ...] = tuple(u.value for u in Urgency)
URGENCY_TITLES = {Urgency.NORMAL: N_("Normal"), Urgency.IMPORTANT: N_("Important"), Urgency.URGENT: N_("Urgent")}
STAFF_READ = ("notice:write", "community:read")
TITLE_MAX = 128
BODY_MAX = 10_000

MSG_TITLE = N_("Give a title of 1 to {max_length} characters.")
MSG_BODY = N_("Write the notice: 1 to {max_length} characters.")
MSG_URGENCY = N_("Must be one of: {expected}.")


def clean_line(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def clean_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def check_title(value: Any, errors: list[FieldError], *, field: str = "title", max_length: int = TITLE_MAX) -> str:
    title = clean_line(value)
    if not title or len(title) > max_length:
        errors.append(FieldError(field, MSG_TITLE, {"max_length": max_length}))
    return title


def publish(
    session: Session,
    actor: Actor,
    *,
    title: Any,
    body: Any,
    region_id: Any,
    urgency: Any = Urgency.NORMAL,
    tags: Any = None,
    tag_match: Any = TagMatch.ALL,
    now: datetime | None = None,
) -> Notice:
    """Publish a notice to everyone living in ``region_id``'s subtree, or to the people there
    holding ``tags``; they are told after the commit (urgent ones by SMS too)."""
    actor.require("notice:write")
    errors: list[FieldError] = []
    clean_title = check_title(title, errors)
    text = clean_text(body)
    if not text or len(text) > BODY_MAX:
        errors.append(FieldError("body", MSG_BODY, {"max_length": BODY_MAX}))
    if urgency not in URGENCIES:
        errors.append(FieldError("urgency", MSG_URGENCY, {"expected": ", ".join(URGENCIES)}))
    region, clean_tags = audience.check(
        session, actor, region_id=region_id, tags=tags, tag_match=tag_match, errors=errors
    )
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require("notice:write", region=region)
    notice = Notice(
        kind=NoticeKind.NOTICE,
        title=clean_title,
        body=text,
        urgency=urgency,
        region_id=region.id,
        region_path=region.path,
        tags=clean_tags,
        tag_match=tag_match,
        author_account_id=actor.account_id,
        author_label=actor.label[:128],
        published_at=now or utcnow(),
    )
    session.add(notice)
    session.flush()
    bus.publish(session, NoticePublished(notice_id=notice.id, urgency=notice.urgency))
    return notice


def publish_result(session: Session, vote: OwnersVote, *, title: str, body: str, now: datetime | None = None) -> Notice:
    """The notice that publishes an owners' vote's result to everyone in the vote's place."""
    notice = Notice(
        kind=NoticeKind.VOTE_RESULT,
        title=title[:TITLE_MAX],
        body=body,
        urgency=Urgency.IMPORTANT,
        region_id=vote.region_id,
        region_path=vote.region_path,
        tags=[],
        tag_match=TagMatch.ALL,
        vote_id=vote.id,
        author_label=vote.called_by_label,
        published_at=now or utcnow(),
    )
    session.add(notice)
    session.flush()
    bus.publish(session, NoticePublished(notice_id=notice.id, urgency=notice.urgency))
    return notice


# --- reading -----------------------------------------------------------------------------------------------


def _candidates(session: Session, reach: audience.Reach, *, limit: int) -> list[Notice]:
    if not reach.ancestors:
        return []
    rows = session.scalars(
        select(Notice)
        .where(Notice.region_path.in_(sorted(reach.ancestors)))
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .limit(max(limit * 4, 100))
    )
    return [n for n in rows if reach.reaches(n.region_path, n.tags, n.tag_match)][:limit]


def my_notices(session: Session, actor: Actor, *, limit: int = 5) -> list[Notice]:
    """The newest notices addressed to the actor (by where they live or their tags)."""
    if actor.person_id is None:
        return []
    return _candidates(session, audience.Reach(session, actor.person_id), limit=max(1, min(limit, 200)))


def read_ids(session: Session, person_id: int | None, notice_ids: list[int]) -> set[int]:
    if person_id is None or not notice_ids:
        return set()
    return set(
        session.scalars(
            select(NoticeRead.notice_id).where(NoticeRead.person_id == person_id, NoticeRead.notice_id.in_(notice_ids))
        )
    )


def unread_count(session: Session, actor: Actor, *, limit: int = 50) -> int:
    notices = my_notices(session, actor, limit=limit)
    return len(notices) - len(read_ids(session, actor.person_id, [n.id for n in notices]))


def staff_can_read(actor: Actor, region_path: str) -> bool:
    return any(actor.can(p, region=region_path) for p in STAFF_READ)


def sent(session: Session, actor: Actor, *, limit: int = 50) -> list[Notice]:
    """Notices published in the actor's area (staff and observers), newest first."""
    if not any(actor.can(p) for p in STAFF_READ):
        raise Forbidden(params={"permission": "notice:write"})
    return list(
        session.scalars(
            select(Notice)
            .where(actor.scope_clause(Notice.region_path))
            .order_by(Notice.published_at.desc(), Notice.id.desc())
            .limit(max(1, min(limit, 200)))
        )
    )


def get_notice(session: Session, actor: Actor, notice_id: int) -> Notice:
    """A notice the actor is reached by, or one in their area when they are staff."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound()
    if staff_can_read(actor, notice.region_path):
        return notice
    if actor.person_id is not None and audience.Reach(session, actor.person_id).reaches(
        notice.region_path, notice.tags, notice.tag_match
    ):
        return notice
    raise NotFound()


def addressed_to(session: Session, actor: Actor, notice: Notice) -> bool:
    return actor.person_id is not None and audience.Reach(session, actor.person_id).reaches(
        notice.region_path, notice.tags, notice.tag_match
    )


def open_notice(session: Session, actor: Actor, notice_id: int, *, now: datetime | None = None) -> Notice:
    """Read a notice; the first reading by a person it reaches is their read receipt."""
    notice = get_notice(session, actor, notice_id)
    if addressed_to(session, actor, notice):
        assert actor.person_id is not None
        mark_read(session, notice, actor.person_id, now=now)
    return notice


def mark_read(session: Session, notice: Notice, person_id: int, *, now: datetime | None = None) -> bool:
    """Record the receipt once; True when this was the first reading."""
    done = session.scalar(
        select(NoticeRead.id).where(NoticeRead.notice_id == notice.id, NoticeRead.person_id == person_id)
    )
    if done is not None:
        return False
    try:
        with session.begin_nested():
            session.add(NoticeRead(notice_id=notice.id, person_id=person_id, read_at=now or utcnow()))
            session.flush()
    except IntegrityError:  # read at the same moment in another tab
        return False
    return True


@dataclass(frozen=True)
class Receipts:
    """已读回执 of one notice: how many it reaches and how many have read it; the readers'
    names only for staff who may read residents (``person:read``)."""

    reached: int
    read: int
    readers: list[tuple[str, datetime]] | None

    @property
    def unread(self) -> int:
        return max(self.reached - self.read, 0)

    @property
    def rate(self) -> float:
        return round(self.read / self.reached, 4) if self.reached else 0.0


def receipts(session: Session, actor: Actor, notice_id: int) -> Receipts:
    notice = session.get(Notice, notice_id)
    if notice is None or not staff_can_read(actor, notice.region_path):
        raise NotFound()
    reached_ids = audience.people_in(notice.region_path, notice.tags, notice.tag_match)
    read = int(
        session.scalar(
            select(func.count())
            .select_from(NoticeRead)
            .where(NoticeRead.notice_id == notice.id, NoticeRead.person_id.in_(reached_ids))
        )
        or 0
    )
    readers = None
    if actor.can("person:read", region=notice.region_path):
        readers = [
            (str(name), at)
            for name, at in session.execute(
                select(Person.name, NoticeRead.read_at)
                .join(Person, Person.id == NoticeRead.person_id)
                .where(NoticeRead.notice_id == notice.id)
                .order_by(NoticeRead.read_at)
                .limit(500)
            )
        ]
    return Receipts(audience.count(session, notice.region_path, notice.tags, notice.tag_match), read, readers)


def region_name(session: Session, region_id: int) -> str:
    region = session.get(Region, region_id)
    return region.name if region is not None else ""
