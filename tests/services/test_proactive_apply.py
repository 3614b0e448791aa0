"""One-tap apply and 不需要: a complete pre-filled form is submitted at once; an incomplete one
becomes a draft to finish; someone else's offer is not found; an offer is used once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, NotFound
from cityos.services.applications.events import ApplicationSubmitted
from cityos.services.applications.models import Application
from cityos.services.licences import service as licences
from cityos.services.proactive import service, tasks
from cityos.services.proactive.models import Offer
from tests.services.proactive_fixtures import TODAY, actor_of, household_of, make_town, resident


@pytest.fixture
def town(session: Session):  # type: ignore[no-untyped-def]
    return make_town(session)


@pytest.fixture
def elder(session: Session, town):  # type: ignore[no-untyped-def]
    person, account = resident(session, town, name="王秀英", birth=date(1966, 12, 1))
    licences.registry_credentials(session, person.id)
    service.evaluate_all(session, today=TODAY)
    offers = {o.item_code: o for o in session.scalars(select(Offer).where(Offer.person_id == person.id))}
    return person, actor_of(session, account), offers


def _applications(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Application)) or 0)


def test_one_tap_submits_the_elderly_card_with_nothing_to_upload(session: Session, elder) -> None:  # type: ignore[no-untyped-def]
    person, actor, offers = elder
    result = service.apply(session, actor, offer_id=offers["mzj-002"].id)
    assert result.complete
    app = result.application
    assert app is not None
    assert app.status != "draft"
    assert app.channel == "proactive"
    assert app.applicant_person_id == person.id
    assert app.zero_material
    assert len(app.department_ids) == 2  # 民政局 and 交通运输局 in parallel
    offer = session.get(Offer, offers["mzj-002"].id)
    assert offer.status == "applied"
    assert offer.application_id == app.id
    assert result.next_url == f"/applications/{app.id}"
    with pytest.raises(Conflict):
        service.apply(session, actor, offer_id=offer.id)
    with pytest.raises(Conflict):
        service.dismiss(session, actor, offer_id=offer.id)


def test_an_incomplete_form_becomes_a_draft_to_finish(session: Session, elder) -> None:  # type: ignore[no-untyped-def]
    _, actor, offers = elder
    offer = offers["mzj-005"]  # the subsidy asks for the care level and the kind of service
    result = service.apply(session, actor, offer_id=offer.id)
    assert not result.complete
    draft = result.application
    assert draft is not None
    assert draft.status == "draft"
    assert result.next_url == f"/services/items/mzj-005/apply?draft={draft.id}&offer={offer.id}"
    assert {e.field for e in result.errors} >= {"care_level", "service_mode"}
    assert offer.status == "offered"
    assert offer.application_id == draft.id
    from cityos.services.applications import service as applications

    assert applications.form_of(draft)["name"] == "王秀英"  # pre-filled
    # A second tap continues the same draft instead of starting another.
    before = _applications(session)
    again = service.apply(session, actor, offer_id=offer.id)
    assert again.application.id == draft.id
    assert _applications(session) == before
    # Finished on the apply page: the submission marks the offer applied.
    tasks.on_application_submitted(
        session, ApplicationSubmitted(application_id=draft.id, item_code="mzj-005", department_ids=[])
    )
    assert offer.status == "applied"


def test_dismissed_offers_stay_put_away(session: Session, elder) -> None:  # type: ignore[no-untyped-def]
    _, actor, offers = elder
    offer = service.dismiss(session, actor, offer_id=offers["mzj-005"].id)
    assert offer.status == "dismissed"
    assert [o.item_code for o in service.my_offers(session, actor)] == ["mzj-002"]
    assert [o.item_code for o in service.my_offers(session, actor, status="dismissed")] == ["mzj-005"]
    with pytest.raises(Conflict):
        service.dismiss(session, actor, offer_id=offer.id)
    with pytest.raises(Conflict):
        service.apply(session, actor, offer_id=offer.id)
    assert service.evaluate_all(session, today=TODAY) == 0


def test_someone_elses_offer_or_an_unknown_one_is_not_found(session: Session, town, elder) -> None:  # type: ignore[no-untyped-def]
    _, _, offers = elder
    _, other_account = resident(session, town, name="李四", birth=date(1980, 1, 1), serial=141)
    other = actor_of(session, other_account)
    before = _applications(session)
    for call in (service.apply, service.dismiss):
        with pytest.raises(NotFound):
            call(session, other, offer_id=offers["mzj-002"].id)
        with pytest.raises(NotFound):
            call(session, other, offer_id=999_999)
    assert _applications(session) == before
    assert service.my_offers(session, other) == []
    assert offers["mzj-002"].status == "offered"


def test_a_bundle_with_missing_fields_goes_to_the_bundle_form_and_files_nothing(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    mother, mother_account = resident(session, town, name="陈母", birth=date(1994, 5, 6), serial=128)
    licences.registry_credentials(session, mother.id)
    baby, _ = resident(
        session,
        town,
        name="陈小宝",
        birth=TODAY - timedelta(days=5),
        serial=135,
        household=household_of(session, mother),
        account=False,
    )
    [offer] = service.evaluate_person(session, person_id=baby.id, today=TODAY)
    before = _applications(session)
    result = service.apply(session, actor_of(session, mother_account), offer_id=offer.id)
    assert not result.complete
    assert result.next_url == f"/services/bundles/newborn/apply?offer={offer.id}"
    assert result.errors
    assert _applications(session) == before
    assert offer.status == "offered"
