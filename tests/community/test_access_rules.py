"""An estate's entry rules: defaults until saved, every bad value refused with a field-level
message (nothing saved), changes audited with old and new values, only pass:manage may change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.access import rules
from cityos.community.access.models import AccessRules
from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.core.models import AuditRecord
from tests.community.access_fixtures import AccessWorld, make_access_world
from tests.factories import make_actor


@pytest.fixture
def aw(session: Session) -> AccessWorld:
    return make_access_world(session)


def _saved(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AccessRules)) or 0)


def test_defaults_until_saved(session: Session, aw: AccessWorld) -> None:
    current = rules.for_estate(session, aw.estate)
    assert current.id is None
    assert rules.as_dict(current) == rules.DEFAULTS
    assert _saved(session) == 0


def test_a_change_is_saved_and_audited(session: Session, aw: AccessWorld) -> None:
    saved = rules.update(
        session,
        aw.manager,
        estate_id=aw.estate.id,
        changes={"exit_limit": 1, "exit_period_hours": "48", "windows": {"tenant": ["06:00", "23:00"]}},
    )
    assert saved.id is not None
    assert (saved.exit_limit, saved.exit_period_hours) == (1, 48)
    assert saved.windows == {"tenant": ["06:00", "23:00"]}
    assert saved.rotation_seconds == 10  # untouched fields keep their values
    row = session.scalars(select(AuditRecord).where(AuditRecord.action == "access.rules_changed")).one()
    assert row.subject_id == str(aw.estate.id)
    assert row.fields == "exit_limit,exit_period_hours,windows"
    assert json.loads(row.detail or "{}")["exit_limit"] == [None, 1]
    # The same values again change nothing and write no audit row.
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"exit_limit": 1})
    assert session.scalar(select(func.count()).where(AuditRecord.action == "access.rules_changed")) == 1
    # Clearing the exit limit and the windows.
    cleared = rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"exit_limit": None, "windows": {}})
    assert cleared.exit_limit is None
    assert cleared.windows == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"max_passes_per_person": 0}, "max_passes_per_person", rules.MSG_RANGE),
        ({"max_passes_per_household": 51}, "max_passes_per_household", rules.MSG_RANGE),
        ({"exit_limit": -1}, "exit_limit", rules.MSG_RANGE),
        ({"exit_period_hours": "two days"}, "exit_period_hours", rules.MSG_RANGE),
        ({"visitor_max_hours": 1.5}, "visitor_max_hours", rules.MSG_RANGE),
        ({"visitor_max_entries": True}, "visitor_max_entries", rules.MSG_RANGE),
        ({"rotation_seconds": 1}, "rotation_seconds", rules.MSG_RANGE),
        ({"validity_days": 400}, "validity_days", rules.MSG_RANGE),
        ({"windows": {"tenant": ["6am", "11pm"]}}, "windows.tenant", rules.MSG_TIME),
        ({"windows": {"tenant": ["23:00", "06:00"]}}, "windows.tenant", rules.MSG_WINDOW_ORDER),
        ({"windows": {"tenant": ["06:00", ""]}}, "windows.tenant", rules.MSG_WINDOW_BOTH),
        ({"windows": {"tenant": ["06:00"]}}, "windows.tenant", rules.MSG_WINDOW_BOTH),
        ({"windows": {"landlord": ["06:00", "07:00"]}}, "windows.landlord", rules.MSG_UNKNOWN_FIELD),
        ({"windows": "always"}, "windows", rules.MSG_TIME),
        ({"colour": "blue"}, "colour", rules.MSG_UNKNOWN_FIELD),
    ],
)
def test_bad_input_is_refused_field_by_field(
    session: Session, aw: AccessWorld, changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(Invalid) as bad:
        rules.update(session, aw.manager, estate_id=aw.estate.id, changes=changes)
    assert [(d.field, d.message) for d in bad.value.details] == [(field, message)]
    assert _saved(session) == 0


def test_every_problem_at_once(session: Session, aw: AccessWorld) -> None:
    with pytest.raises(Invalid) as bad:
        rules.update(
            session,
            aw.manager,
            estate_id=aw.estate.id,
            changes={"rotation_seconds": 0, "validity_days": 0, "windows": {"owner": ["xx", "yy"]}},
        )
    assert {d.field for d in bad.value.details} == {"rotation_seconds", "validity_days", "windows.owner"}
    assert bad.value.details[0].params == {"low": 5, "high": 300}


def test_observer_and_outsiders_cannot_change(session: Session, aw: AccessWorld) -> None:
    with pytest.raises(Forbidden):
        rules.update(session, aw.observer, estate_id=aw.estate.id, changes={"validity_days": 7})
    staff = make_actor(session, roles=["community_staff"], scope=aw.world.community)
    with pytest.raises(Forbidden):
        rules.update(session, staff, estate_id=aw.estate.id, changes={"validity_days": 7})
    elsewhere = make_actor(session, roles=["property_manager"], scope=aw.other_estate)
    with pytest.raises(NotFound):
        rules.update(session, elsewhere, estate_id=aw.estate.id, changes={"validity_days": 7})
    assert _saved(session) == 0
