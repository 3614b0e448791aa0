"""The governance demo seed: notices, a survey with answers, an open owners' vote with ballots
cast, a volunteer and help requests, a monthly visit plan with visits; guarded (once only)."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.governance import audience, demo, service
from cityos.community.governance.models import (
    GridTask,
    HelpPost,
    Notice,
    OwnersVote,
    SurveyAnswer,
    VisitLog,
    Volunteer,
    VolunteerHours,
    VoteBallot,
)
from tests.community.governance_fixtures import add_rooms, make_gov, resident


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_seed_makes_every_kind_of_record_once(session: Session) -> None:
    gov = make_gov(session)
    w = gov.world
    rooms = [w.room, w.room2, *add_rooms(session, w.unit, [f"{n}" for n in range(201, 221)])]
    for i, room in enumerate(rooms):
        tags = ["elderly", "living_alone"] if i % 4 == 0 else None
        resident(session, room, name=f"业主{i}", tags=tags, account=False)
        if i % 3 == 0:
            resident(session, room, name=f"家人{i}", relation="family", account=False)
    demo.seed(session, estate=w.estate, community=w.community, rng=random.Random(7))
    assert _count(session, Notice) == 3
    assert _count(session, SurveyAnswer) == 30
    vote = session.scalar(select(OwnersVote))
    assert vote is not None
    assert vote.status == "open"
    assert vote.matter == "major"
    assert vote.weighting == "rooms"  # the demo rooms have no recorded area
    cast = session.scalar(select(func.count()).select_from(VoteBallot).where(VoteBallot.choice.is_not(None)))
    assert 0 < int(cast or 0) < vote.total_rooms == len(rooms)
    assert _count(session, Volunteer) == 1
    assert _count(session, HelpPost) == 2
    assert _count(session, VolunteerHours) == 1
    assert _count(session, GridTask) == 6  # every fourth of 22 owners is elderly and living alone
    assert _count(session, VisitLog) == 3
    figures = service.stats(session, region=w.community)
    month_start = audience.local_month_start()
    this_month = session.scalar(select(func.count()).select_from(Notice).where(Notice.published_at >= month_start))
    assert figures["notices_this_month"] == this_month
    assert figures["open_votes"] == 1
    assert figures["open_surveys"] == 1
    assert figures["tasks_this_period"] == 6
    assert figures["volunteers"] == 1
    # Seeding again leaves the estate as it is.
    demo.seed(session, estate=w.estate, community=w.community, rng=random.Random(8))
    assert _count(session, Notice) == 3
    assert _count(session, OwnersVote) == 1


def test_seed_of_an_estate_without_residents(session: Session) -> None:
    gov = make_gov(session)
    demo.seed(session, estate=gov.world.estate, community=gov.world.community, rng=random.Random(1))
    assert _count(session, Notice) == 3
    assert _count(session, OwnersVote) == 0
    assert _count(session, HelpPost) == 0
