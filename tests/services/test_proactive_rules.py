"""服务找人 rules: each fires on its event and in the nightly pass, never twice, with a reason
that says why; switched-off rules make no offers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.runtime import Runtime
from cityos.identity.models import Notification
from cityos.people.events import PersonRegistered
from cityos.services.licences.events import CredentialIssued
from cityos.services.proactive import rules, service, tasks
from cityos.services.proactive.models import Offer, ProactiveRule
from tests.services.proactive_fixtures import TODAY, actor_of, business, household_of, id_number, make_town, resident


@pytest.fixture
def town(session: Session):  # type: ignore[no-untyped-def]
    return make_town(session)


def _offers(session: Session, **where: object) -> list[Offer]:
    query = select(Offer).order_by(Offer.id)
    for key, value in where.items():
        query = query.where(getattr(Offer, key) == value)
    return list(session.scalars(query))


def test_install_is_idempotent_and_keeps_the_operators_switch(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    service.set_rule_active(session, SYSTEM, key=rules.ELDERLY, active=False)
    service.install(session)
    service.install(session)
    rows = {r.key: r for r in session.scalars(select(ProactiveRule))}
    assert set(rows) == {rules.NEWBORN, rules.ELDERLY, rules.BUSINESS}
    assert rows[rules.ELDERLY].active is False
    assert rows[rules.ELDERLY].targets == ["item:mzj-002", "item:mzj-005"]


def test_turning_60_tonight_offers_the_card_and_the_subsidy_once(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    person, account = resident(session, town, name="王秀英", birth=date(1966, 12, 1))
    resident(session, town, name="李年轻", birth=date(1966, 12, 2), serial=125)  # 60 tomorrow
    assert service.evaluate_all(session, today=TODAY) == 2
    offers = _offers(session, person_id=person.id)
    assert [o.item_code for o in offers] == ["mzj-002", "mzj-005"]
    assert all(o.status == "offered" and o.rule_key == rules.ELDERLY for o in offers)
    assert service.reason_of(offers[0], "zh_CN") == "您于2026年12月1日年满60周岁，可申请老年人优待证。"
    assert service.reason_of(offers[0], "en") == (
        "You turned 60 on December 1, 2026, so you can apply for the elderly preferential card."
    )
    assert service.title_of(offers[0]) == "老年人优待证办理"
    told = list(session.scalars(select(Notification).where(Notification.account_id == account.id)))
    assert len(told) == 2
    assert told[0].link == "/offers"
    assert "老年人优待证办理" in told[0].title
    assert "年满60周岁" in told[0].body
    # Never offered twice: the next nights, or after a dismissal.
    service.dismiss(session, actor_of(session, account), offer_id=offers[0].id)
    assert service.evaluate_all(session, today=TODAY) == 0
    assert service.evaluate_all(session, today=TODAY + timedelta(days=1)) == 2  # the other resident's turn
    assert len(_offers(session, person_id=person.id)) == 2


def test_the_nightly_window_catches_missed_nights_but_not_old_birthdays(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    recent, _ = resident(session, town, name="近期", birth=date(1966, 11, 5))  # turned 60 26 days ago
    old, _ = resident(session, town, name="早年", birth=date(1950, 3, 1), serial=127)
    assert service.evaluate_all(session, today=TODAY) == 2
    assert _offers(session, person_id=old.id) == []
    # Registered now, an older resident is offered them too: the reason gives the day they turned 60.
    made = service.evaluate_person(session, person_id=old.id, today=TODAY)
    assert [o.item_code for o in made] == ["mzj-002", "mzj-005"]
    assert service.reason_of(made[0], "zh_CN").startswith("您于2010年3月1日年满60周岁")
    assert len(_offers(session, person_id=recent.id)) == 2


def test_a_switched_off_rule_offers_nothing_until_switched_on(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    person, _ = resident(session, town, name="王秀英", birth=date(1966, 12, 1))
    service.set_rule_active(session, SYSTEM, key=rules.ELDERLY, active=False)
    assert service.evaluate_all(session, today=TODAY) == 0
    service.set_rule_active(session, SYSTEM, key=rules.ELDERLY, active=True)
    assert service.evaluate_all(session, today=TODAY) == 2


def test_an_item_missing_from_the_catalogue_is_not_offered(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    from cityos.services.catalogue import service as catalogue

    catalogue.get_item(session, "mzj-005").active = False
    session.flush()
    person, _ = resident(session, town, name="王秀英", birth=date(1966, 12, 1))
    assert service.evaluate_all(session, today=TODAY) == 1
    catalogue.get_item(session, "mzj-005").active = True
    session.flush()
    assert service.evaluate_all(session, today=TODAY) == 1  # offered once it is back
    assert [o.item_code for o in _offers(session, person_id=person.id)] == ["mzj-002", "mzj-005"]


def _family(session: Session, town, born: date):  # type: ignore[no-untyped-def]
    mother, mother_account = resident(session, town, name="陈母", birth=date(1994, 5, 6), serial=128)
    home = household_of(session, mother)
    father, _ = resident(session, town, name="刘父", birth=date(1992, 1, 2), serial=131, household=home)
    sibling, _ = resident(session, town, name="刘大宝", birth=date(2018, 3, 3), serial=133, household=home)
    baby, _ = resident(session, town, name="刘小宝", birth=born, serial=135, household=home, account=False)
    return mother, mother_account, father, sibling, baby


def test_a_newborn_is_offered_to_the_adults_of_its_household(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    mother, mother_account, father, sibling, baby = _family(session, town, TODAY - timedelta(days=10))
    made = service.evaluate_person(session, person_id=baby.id, today=TODAY)
    assert sorted(o.person_id for o in made) == sorted([mother.id, father.id])
    assert all(o.bundle_code == "newborn" and o.occasion == f"birth:{baby.id}" for o in made)
    assert service.reason_of(made[0], "zh_CN") == (
        "刘小宝于2026年11月21日出生，一次申请即可办理出生登记、新生儿医保参保和预防接种证。"
    )
    assert service.title_of(made[0]) == "新生儿出生一件事"
    assert service.evaluate_all(session, today=TODAY) == 0  # never twice
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.account_id == mother_account.id)
        )
        == 1
    )


def test_an_older_child_is_not_a_newborn(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    *_, baby = _family(session, town, TODAY - timedelta(days=61))
    assert service.evaluate_person(session, person_id=baby.id, today=TODAY) == []
    assert service.evaluate_all(session, today=TODAY) == 0


def test_nightly_offers_newborns_of_the_last_60_days(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    *_, baby = _family(session, town, TODAY - timedelta(days=59))
    assert service.evaluate_all(session, today=TODAY) == 2


def _issue(session: Session, kind: str, data: dict, **holder: int):  # type: ignore[no-untyped-def]
    from cityos.services.licences import service as licences

    return licences.issue(session, SYSTEM, kind_code=kind, data=data, **holder)


def test_a_birth_certificate_offers_the_bundle_to_the_mother_it_names(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    today = rules.local_today()
    born = today - timedelta(days=3)
    mother, _ = resident(session, town, name="陈母", birth=date(1994, 5, 6), serial=128)
    baby, _ = resident(session, town, name="陈小宝", birth=born, serial=135, account=False)  # a household of its own
    credential = _issue(
        session,
        "birth_medical_certificate",
        {
            "name": "陈小宝",
            "gender": "male",
            "birth_date": born.isoformat(),
            "birth_place": "成都市锦江区",
            "mother_name": "陈母",
            "mother_id_number": id_number(date(1994, 5, 6), 128),
            "institution": "成都市妇女儿童中心医院",
        },
        holder_person_id=baby.id,
    )
    evt = CredentialIssued(
        credential_id=credential.id,
        kind_code="birth_medical_certificate",
        holder_person_id=baby.id,
        holder_organisation_id=None,
        issuer_department_id=None,
    )
    tasks.on_credential_issued(session, evt)
    tasks.on_credential_issued(session, evt)  # delivered twice: still one offer
    assert [(o.person_id, o.bundle_code) for o in _offers(session)] == [(mother.id, "newborn")]


def test_a_business_licence_offers_tax_and_social_insurance_registration(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    org, account = business(session, town)
    credential = _issue(
        session,
        "business_licence",
        {
            "org_name": org.name,
            "uscc": org.uscc,
            "org_type": "有限责任公司",
            "legal_representative": "张三",
            "established_on": "2026-11-30",
            "address": "成都市锦江区红星路一段1号",
            "business_scope": "软件开发",
        },
        holder_organisation_id=org.id,
    )
    evt = CredentialIssued(
        credential_id=credential.id,
        kind_code="business_licence",
        holder_person_id=None,
        holder_organisation_id=org.id,
        issuer_department_id=None,
    )
    tasks.on_credential_issued(session, evt)
    offers = _offers(session, organisation_id=org.id)
    assert [o.item_code for o in offers] == ["sj-001", "rsj-004"]
    assert service.reason_of(offers[0], "zh_CN") == f"{org.name}已于2026年11月30日完成设立登记，可办理税务登记。"
    assert (
        session.scalar(select(func.count()).select_from(Notification).where(Notification.account_id == account.id)) == 2
    )
    assert service.evaluate_all(session, today=rules.local_today()) == 0  # the nightly pass finds it offered


def test_nightly_offers_businesses_registered_lately(session: Session, town) -> None:  # type: ignore[no-untyped-def]
    org, _ = business(session, town, 2, kind="merchant")
    ngo, _ = business(session, town, 3, kind="ngo")
    assert service.evaluate_all(session, today=rules.local_today()) == 2
    assert _offers(session, organisation_id=ngo.id) == []
    assert len(_offers(session, organisation_id=org.id)) == 2


def test_bus_events_make_offers_after_commit(runtime: Runtime, session: Session, town) -> None:  # type: ignore[no-untyped-def]
    from cityos.core import bus

    tasks.register(runtime.bus)
    person, _ = resident(session, town, name="王秀英", birth=years_ago(rules.local_today(), 60))
    bus.publish(session, PersonRegistered(person_id=person.id, region_id=town.world.room.id))
    session.commit()
    assert len(_offers(session, person_id=person.id)) == 2


def years_ago(day: date, years: int) -> date:
    return rules.years_after(day, -years)
