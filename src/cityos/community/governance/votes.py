"""业主表决: owners' votes in an estate (or a building) under 《民法典》第278条.

- One ballot per owned room (专有部分), fixed when the vote is called: an owner of two rooms has
  two votes; co-owners of one room share its ballot and the first to vote decides (the others
  see that it was cast, and how).
- Participation quorum: owners holding at least 2/3 of the floor area *and* at least 2/3 of the
  owners (rooms) take part (弃权 counts as taking part).
- An ordinary matter passes with more than half of the participating area and of the
  participating owners; a major matter (筹集使用维修资金, 改建重建, 改变共有部分用途 …) with at
  least three quarters of both. With ``weighting="rooms"`` only the owner (room) conditions apply.
- Every comparison is an exact ``fractions.Fraction`` of whole numbers: areas are kept in
  hundredths of a square metre, so a boundary case is decided without any rounding.
- Ballots are secret: a ballot row says what the room chose, not who; the audit log keeps who
  voted (and for which room), not how. Option tallies are shown once the vote is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from cityos.core import audit, bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import DEFAULT_LOCALE, N_, translate
from cityos.core.models import AuditRecord
from cityos.people.models import Relation, Residence
from cityos.places.models import Region

from . import audience, notices
from .events import VoteCalled
from .models import ABSTAIN, Matter, Notice, NoticeKind, OwnersVote, VoteBallot, VoteStatus, Weighting

QUORUM = Fraction(2, 3)
ORDINARY_SHARE = Fraction(1, 2)  # strictly more than
MAJOR_SHARE = Fraction(3, 4)  # at least
MATTERS: tuple[str, ...] = tuple(m.value for m in Matter)
WEIGHTINGS: tuple[str, ...] = tuple(w.value for w in Weighting)
VOTE_LEVELS = ("estate", "building")
DEFAULT_OPTIONS = (N_("Agree"), N_("Disagree"))
MANAGE_READ = ("vote:manage", "community:read")

MSG_REGION = N_("Choose an estate or a building in your area.")
MSG_MATTER = N_("Must be one of: {expected}.")
MSG_WEIGHTING = N_("Must be one of: {expected}.")
MSG_OPTIONS = N_("Give 2 to {max} different options of 1 to {max_length} characters.")
MSG_NO_OWNERS = N_("No room here has an owner on record, so there is nobody to vote.")
MSG_NO_AREA = N_("{count} rooms have no recorded floor area (e.g. {example}); record their area or count rooms only.")
MSG_DESCRIPTION = N_("At most {max_length} characters.")
MSG_ROOM = N_("You can vote only for a room you own.")
MSG_CHOICE = N_("Choose one of the options, or abstain.")
MSG_CLOSED = N_("This vote is closed.")
MSG_ALREADY = N_("This room has already voted; the first vote of its owners counts.")


# --- counting ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Rooms (owners) and floor area (0.01 m²) behind a choice, or behind all ballots."""

    rooms: int = 0
    area: int = 0

    def __add__(self, other: Share) -> Share:
        return Share(self.rooms + other.rooms, self.area + other.area)


def ratio(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


@dataclass
class Tally:
    matter: str
    weighting: str
    total: Share
    voted: Share = field(default_factory=Share)
    abstained: Share = field(default_factory=Share)
    options: list[Share] = field(default_factory=list)

    @property
    def by_area(self) -> bool:
        return self.weighting == Weighting.AREA

    @property
    def rooms_share(self) -> Fraction:
        return ratio(self.voted.rooms, self.total.rooms)

    @property
    def area_share(self) -> Fraction:
        return ratio(self.voted.area, self.total.area)

    @property
    def quorum_met(self) -> bool:
        """At least 2/3 of the owners (rooms) and, by area, at least 2/3 of the floor area."""
        if self.total.rooms == 0:
            return False
        return self.rooms_share >= QUORUM and (not self.by_area or self.area_share >= QUORUM)

    def _enough(self, share: Fraction) -> bool:
        return share >= MAJOR_SHARE if self.matter == Matter.MAJOR else share > ORDINARY_SHARE

    def passes(self, option: Share) -> bool:
        """Whether this option has the participating owners (and area) the matter needs."""
        if self.voted.rooms == 0:
            return False
        if not self._enough(ratio(option.rooms, self.voted.rooms)):
            return False
        return not self.by_area or self._enough(ratio(option.area, self.voted.area))

    @property
    def adopted(self) -> int | None:
        """The index of the option decided, or None (no quorum, or no option had enough)."""
        if not self.quorum_met:
            return None
        for i, share in enumerate(self.options):
            if self.passes(share):
                return i
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "matter": self.matter,
            "weighting": self.weighting,
            "total": [self.total.rooms, self.total.area],
            "voted": [self.voted.rooms, self.voted.area],
            "abstained": [self.abstained.rooms, self.abstained.area],
            "options": [[s.rooms, s.area] for s in self.options],
            "quorum_met": self.quorum_met,
            "adopted": self.adopted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        return cls(
            matter=data["matter"],
            weighting=data["weighting"],
            total=Share(*data["total"]),
            voted=Share(*data["voted"]),
            abstained=Share(*data["abstained"]),
            options=[Share(*o) for o in data["options"]],
        )


def count(matter: str, weighting: str, ballots: list[tuple[int, int | None]], n_options: int) -> Tally:
    """The tally of ``(area, choice)`` ballots: pure arithmetic, so it is tested on its own."""
    total, voted, abstained = Share(), Share(), Share()
    options = [Share() for _ in range(n_options)]
    for area, choice in ballots:
        one = Share(1, area)
        total += one
        if choice is None:
            continue
        voted += one
        if choice == ABSTAIN:
            abstained += one
        elif 0 <= choice < n_options:
            options[choice] += one
    return Tally(matter, weighting, total, voted, abstained, options)


def tally(session: Session, vote: OwnersVote) -> Tally:
    rows = [
        (int(a), c)
        for a, c in session.execute(select(VoteBallot.area, VoteBallot.choice).where(VoteBallot.vote_id == vote.id))
    ]
    return count(vote.matter, vote.weighting, rows, len(vote.options))


def percent(value: Fraction) -> str:
    """A share written for people (two decimals); never used to decide anything."""
    return f"{float(value * 100):.2f}%"


def area_m2(hundredths: int) -> str:
    return f"{Decimal(hundredths) / 100:.2f}"


# --- room areas -----------------------------------------------------------------------------------------------


def room_area(region: Region) -> int | None:
    """专有部分面积 from ``attrs["area"]`` (m²) in hundredths, or None when missing or not valid."""
    raw = (region.attrs or {}).get("area")
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value <= 0 or value >= 100_000:
        return None
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _current_owner(today: Any) -> Any:
    return and_(
        Residence.relation == Relation.OWNER,
        Residence.since <= today,
        or_(Residence.until.is_(None), Residence.until >= today),
    )


def owned_rooms(session: Session, person_id: int | None) -> set[int]:
    """The rooms the person owns now (业主, by a current residence with relation owner)."""
    if person_id is None:
        return set()
    today = audience.local_today()
    return set(
        session.scalars(select(Residence.room_id).where(Residence.person_id == person_id, _current_owner(today)))
    )


# --- calling a vote -----------------------------------------------------------------------------------------


def check_options(raw: Any, errors: list[FieldError]) -> list[str]:
    if raw is None or raw == []:
        return list(DEFAULT_OPTIONS)
    options = [notices.clean_line(o) for o in raw] if isinstance(raw, list) else []
    if not 2 <= len(options) <= 10 or any(not o or len(o) > 64 for o in options) or len(set(options)) != len(options):
        errors.append(FieldError("options", MSG_OPTIONS, {"max": 10, "max_length": 64}))
    return options


def call(
    session: Session,
    actor: Actor,
    *,
    title: Any,
    region_id: Any,
    closes_at: Any,
    matter: Any = Matter.ORDINARY,
    weighting: Any = Weighting.AREA,
    options: Any = None,
    description: Any = "",
    now: datetime | None = None,
) -> OwnersVote:
    """Call an owners' vote in an estate or a building (vote:manage there). The electorate is
    every room that has an owner now; by area, every such room must have its area recorded."""
    actor.require("vote:manage")
    now = now or utcnow()
    errors: list[FieldError] = []
    clean_title = notices.check_title(title, errors)
    text = notices.clean_text(description)
    if len(text) > 4000:
        errors.append(FieldError("description", MSG_DESCRIPTION, {"max_length": 4000}))
    region = session.get(Region, region_id) if isinstance(region_id, int) and not isinstance(region_id, bool) else None
    if region is None or region.level not in VOTE_LEVELS or not actor.covers(region):
        errors.append(FieldError("region_id", MSG_REGION))
        region = None
    if matter not in MATTERS:
        errors.append(FieldError("matter", MSG_MATTER, {"expected": ", ".join(MATTERS)}))
    if weighting not in WEIGHTINGS:
        errors.append(FieldError("weighting", MSG_WEIGHTING, {"expected": ", ".join(WEIGHTINGS)}))
    clean_options = check_options(options, errors)
    deadline = audience.check_deadline(closes_at, errors, now=now)
    rooms: list[Region] = []
    if region is not None:
        today = audience.local_today(now)
        rooms = list(
            session.scalars(
                select(Region)
                .where(
                    subtree_clause(Region.path, region.path),
                    Region.level == "room",
                    exists().where(Residence.room_id == Region.id, _current_owner(today)),
                )
                .order_by(Region.path)
            )
        )
        if not rooms:
            errors.append(FieldError("region_id", MSG_NO_OWNERS))
        elif weighting == Weighting.AREA:
            missing = [r for r in rooms if room_area(r) is None]
            if missing:
                example = _address(session, missing[0])
                errors.append(FieldError("weighting", MSG_NO_AREA, {"count": len(missing), "example": example}))
    if errors or region is None or deadline is None:
        raise Invalid(details=errors)
    actor.require("vote:manage", region=region)
    vote = OwnersVote(
        title=clean_title,
        description=text,
        region_id=region.id,
        region_path=region.path,
        matter=matter,
        weighting=weighting,
        options=clean_options,
        status=VoteStatus.OPEN,
        closes_at=deadline,
        called_by_account_id=actor.account_id,
        called_by_label=actor.label[:128],
        created_at=now,
    )
    session.add(vote)
    session.flush()
    total = 0
    for room in rooms:
        area = room_area(room) or 0
        total += area
        session.add(VoteBallot(vote_id=vote.id, room_id=room.id, area=area))
    vote.total_rooms, vote.total_area = len(rooms), total
    session.flush()
    bus.publish(session, VoteCalled(vote_id=vote.id))
    return vote


def _address(session: Session, room: Region) -> str:
    from cityos.people import residences

    return residences.address(session, room)


# --- reading ------------------------------------------------------------------------------------------------


def manager_can_read(actor: Actor, region_path: str) -> bool:
    return any(actor.can(p, region=region_path) for p in MANAGE_READ)


def get_vote(session: Session, actor: Actor, vote_id: int) -> OwnersVote:
    """A vote the actor may see: one in their area for its managers and observers, or one in
    which they own a room."""
    vote = session.get(OwnersVote, vote_id)
    if vote is None:
        raise NotFound()
    if manager_can_read(actor, vote.region_path):
        return vote
    rooms = owned_rooms(session, actor.person_id)
    if rooms and session.scalar(
        select(VoteBallot.id).where(VoteBallot.vote_id == vote.id, VoteBallot.room_id.in_(rooms)).limit(1)
    ):
        return vote
    raise NotFound()


def is_open(vote: OwnersVote, now: datetime | None = None) -> bool:
    return vote.status == VoteStatus.OPEN and vote.closes_at > (now or utcnow())


def my_votes(session: Session, actor: Actor, *, open_only: bool = False) -> list[OwnersVote]:
    """The votes in which the actor owns a room, newest first."""
    rooms = owned_rooms(session, actor.person_id)
    if not rooms:
        return []
    query = select(OwnersVote).where(OwnersVote.id.in_(select(VoteBallot.vote_id).where(VoteBallot.room_id.in_(rooms))))
    if open_only:
        query = query.where(OwnersVote.status == VoteStatus.OPEN, OwnersVote.closes_at > utcnow())
    return list(session.scalars(query.order_by(OwnersVote.created_at.desc(), OwnersVote.id.desc()).limit(100)))


def in_area(session: Session, actor: Actor, *, limit: int = 50) -> list[OwnersVote]:
    if not any(actor.can(p) for p in MANAGE_READ):
        raise Forbidden(params={"permission": "vote:manage"})
    return list(
        session.scalars(
            select(OwnersVote)
            .where(actor.scope_clause(OwnersVote.region_path))
            .order_by(OwnersVote.created_at.desc(), OwnersVote.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class MyBallot:
    """One of the actor's rooms in a vote: its ballot, its address, and who cast it."""

    ballot: VoteBallot
    address: str
    cast_by_me: bool


def my_ballots(session: Session, actor: Actor, vote: OwnersVote) -> list[MyBallot]:
    rooms = owned_rooms(session, actor.person_id)
    if not rooms:
        return []
    ballots = list(
        session.scalars(
            select(VoteBallot)
            .where(VoteBallot.vote_id == vote.id, VoteBallot.room_id.in_(rooms))
            .order_by(VoteBallot.id)
        )
    )
    from cityos.people import residences

    regions = list(session.scalars(select(Region).where(Region.id.in_([b.room_id for b in ballots]))))
    names = residences.addresses(session, regions)
    mine: set[str] = set()
    if actor.account_id is not None and any(b.choice is not None for b in ballots):
        mine = set(
            session.scalars(
                select(AuditRecord.detail).where(
                    AuditRecord.action == "vote.cast",
                    AuditRecord.subject_type == "owners_vote",
                    AuditRecord.subject_id == str(vote.id),
                    AuditRecord.account_id == actor.account_id,
                )
            )
        )
    return [MyBallot(b, names.get(b.room_id, ""), f"room:{b.room_id}" in mine) for b in ballots]


@dataclass(frozen=True)
class VoteDetails:
    vote: OwnersVote
    tally: Tally
    mine: list[MyBallot]


def details(session: Session, actor: Actor, vote_id: int) -> VoteDetails:
    """A vote with its live participation and the actor's own ballots."""
    vote = get_vote(session, actor, vote_id)
    return VoteDetails(vote, tally(session, vote), my_ballots(session, actor, vote))


# --- voting -------------------------------------------------------------------------------------------------


def check_choice(vote: OwnersVote, choice: Any) -> int:
    if choice == "abstain" or choice == ABSTAIN:
        return ABSTAIN
    if isinstance(choice, int) and not isinstance(choice, bool) and 0 <= choice < len(vote.options):
        return choice
    raise Invalid(details=[FieldError("choice", MSG_CHOICE)])


def cast(
    session: Session, actor: Actor, *, vote_id: int, room_id: Any, choice: Any, now: datetime | None = None
) -> VoteBallot:
    """Vote for one owned room: an option's index, or ``"abstain"``. The room's first vote
    counts; a co-owner who comes later is told it has been cast."""
    actor.require("vote:cast")
    vote = get_vote(session, actor, vote_id)
    rooms = owned_rooms(session, actor.person_id)
    ballot = (
        session.scalar(select(VoteBallot).where(VoteBallot.vote_id == vote.id, VoteBallot.room_id == room_id))
        if isinstance(room_id, int) and not isinstance(room_id, bool) and room_id in rooms
        else None
    )
    if ballot is None:
        if not rooms or not session.scalar(
            select(VoteBallot.id).where(VoteBallot.vote_id == vote.id, VoteBallot.room_id.in_(rooms)).limit(1)
        ):
            raise NotFound()
        raise Invalid(details=[FieldError("room_id", MSG_ROOM)])
    now = now or utcnow()
    if not is_open(vote, now):
        raise Conflict(MSG_CLOSED)
    value = check_choice(vote, choice)
    done = session.execute(
        update(VoteBallot)
        .where(VoteBallot.id == ballot.id, VoteBallot.choice.is_(None))
        .values(choice=value, cast_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(MSG_ALREADY)
    session.refresh(ballot)
    audit.record(
        session, actor, "vote.cast", subject_type="owners_vote", subject_id=vote.id, detail=f"room:{ballot.room_id}"
    )
    return ballot


# --- closing -------------------------------------------------------------------------------------------------


def result_text(vote: OwnersVote, locale: str | None = None) -> tuple[str, str]:
    """The result notice's title and body, in ``locale``."""
    t = Tally.from_dict(vote.result) if vote.result else Tally(vote.matter, vote.weighting, Share())
    loc = locale

    def tr(msgid: str, **params: Any) -> str:
        return translate(msgid, loc, **params)

    lines = [
        tr(
            "Taking part: {rooms} of {total} owners ({share}).",
            rooms=t.voted.rooms,
            total=t.total.rooms,
            share=percent(t.rooms_share),
        )
    ]
    if t.by_area:
        lines.append(
            tr(
                "Floor area taking part: {area} of {total} m² ({share}).",
                area=area_m2(t.voted.area),
                total=area_m2(t.total.area),
                share=percent(t.area_share),
            )
        )
    if not t.quorum_met:
        lines.append(tr("The quorum of two thirds was not reached, so nothing was decided."))
    else:
        for i, share in enumerate(t.options):
            name = tr(vote.options[i]) if i < len(vote.options) else str(i)
            if t.by_area:
                lines.append(
                    tr(
                        "{option}: {rooms} owners ({rooms_share}), {area} m² ({area_share}).",
                        option=name,
                        rooms=share.rooms,
                        rooms_share=percent(ratio(share.rooms, t.voted.rooms)),
                        area=area_m2(share.area),
                        area_share=percent(ratio(share.area, t.voted.area)),
                    )
                )
            else:
                lines.append(
                    tr(
                        "{option}: {rooms} owners ({rooms_share}).",
                        option=name,
                        rooms=share.rooms,
                        rooms_share=percent(ratio(share.rooms, t.voted.rooms)),
                    )
                )
        lines.append(tr("Abstained: {rooms} owners.", rooms=t.abstained.rooms))
        if t.adopted is None:
            lines.append(tr("No option reached the share this matter needs, so nothing was decided."))
        else:
            lines.append(tr("Decided: {option}.", option=tr(vote.options[t.adopted])))
    title = tr("Result of the owners' vote: {title}", title=vote.title)
    return title, "\n".join(lines)


def notice_text(session: Session, notice: Notice, locale: str | None = None) -> tuple[str, str]:
    """A notice's title and body for the reader: a vote's result notice is written again in the
    reader's language from the vote's figures; any other notice is shown as written."""
    if notice.kind == NoticeKind.VOTE_RESULT and notice.vote_id is not None:
        vote = session.get(OwnersVote, notice.vote_id)
        if vote is not None and vote.result is not None:
            return result_text(vote, locale)
    return notice.title, notice.body


def _finish(session: Session, vote: OwnersVote, *, now: datetime, by: str) -> OwnersVote:
    vote.result = tally(session, vote).as_dict()
    vote.status = VoteStatus.CLOSED
    vote.closed_at = now
    vote.closed_by = by
    session.flush()
    title, body = result_text(vote, DEFAULT_LOCALE)
    notices.publish_result(session, vote, title=title, body=body, now=now)
    return vote


def close(session: Session, actor: Actor, *, vote_id: int, now: datetime | None = None) -> OwnersVote:
    """Close a vote before its deadline (vote:manage): count it and publish the result."""
    vote = get_vote(session, actor, vote_id)
    actor.require("vote:manage", region=vote.region_path)
    if vote.status != VoteStatus.OPEN:
        raise Conflict(MSG_CLOSED)
    return _finish(session, vote, now=now or utcnow(), by="manager")


def close_due(session: Session, *, now: datetime | None = None) -> int:
    """Close the votes whose deadline has passed (the per-minute job)."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(OwnersVote).where(OwnersVote.status == VoteStatus.OPEN, OwnersVote.closes_at <= now).limit(50)
        )
    )
    for vote in due:
        _finish(session, vote, now=now, by="deadline")
    return len(due)


def open_count(session: Session, region_path: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(OwnersVote)
            .where(OwnersVote.status == VoteStatus.OPEN, subtree_clause(OwnersVote.region_path, region_path))
        )
        or 0
    )
