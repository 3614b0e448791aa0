"""The complaint classifier: accuracy on held-out and hand-written complaints, free-text intake,
the dispatcher's queue below the threshold, and corrections that feed the next training."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from cityos.cases import classifier, processes
from cityos.cases import service as cases
from cityos.core.errors import Conflict, Forbidden
from cityos.people.models import Department
from cityos.places import index
from tests.factories import World, make_actor, make_world


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    yield w
    index.invalidate()


def test_accuracy_on_held_out_and_hand_written_complaints() -> None:
    result = classifier.evaluate()
    assert result.categories >= 15
    assert result.trained_on + result.tested_on >= 600
    assert result.held_out_accuracy >= 0.9
    assert result.freeform_accuracy >= 0.6  # phrasings it has never seen


def test_free_text_is_categorised_or_queued(session: Session, world: World) -> None:
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    clear = cases.report(
        session,
        dispatcher,
        category_code="",
        title="小区门口路灯坏了好几天，晚上一片漆黑",
        channel="hotline",
        address="一街道",
    )
    assert clear.category_code == "component.01.01"
    assert clear.routing["suggested_category"] == "component.01.01"
    assert clear.routing["queue"] is False
    vague = cases.report(
        session, dispatcher, category_code="", title="你好我想反映一下情况", channel="hotline", address="一街道"
    )
    assert vague.category_code == cases.FALLBACK_CATEGORY
    assert vague.routing["queue"] is True


def test_corrections_feed_the_next_training(session: Session, world: World) -> None:
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    case = cases.report(
        session, dispatcher, category_code="", title="你好我想反映一下情况", channel="hotline", address="一街道"
    )
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Forbidden):
        cases.recategorize(session, worker, case_id=case.id, category_code="event.01.01")
    cases.recategorize(session, dispatcher, case_id=case.id, category_code="event.01.01")
    assert case.category_code == "event.01.01"
    assert case.routing["recategorized_from"] == cases.FALLBACK_CATEGORY
    assert (f"{case.title} {case.description}".strip(), "event.01.01") in classifier.feedback_examples(session)
    assert classifier.retrain(session) == len(classifier.shipped_examples()) + 1
    dept = Department(
        code="a-cg", name="甲区城市管理局", region_id=world.district_a.id, region_path=world.district_a.path
    )
    session.add(dept)
    session.flush()
    cases.act(session, dispatcher, case_id=case.id, action="dispatch", department_id=dept.id)  # fixed from then on
    with pytest.raises(Conflict):
        cases.recategorize(session, dispatcher, case_id=case.id, category_code="event.01.02")
