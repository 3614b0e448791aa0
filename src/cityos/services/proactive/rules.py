"""The shipped rules of 服务找人 and who each one finds.

A rule's trigger is code (who counts as a newborn's parent, when a resident turns 60); what it
offers, its numbers and whether it runs are rows of ``proactive_rule`` an operator edits.
Every function here reads only; ``service`` writes the offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.identity.models import Account
from cityos.people.models import Household, Organisation, OrganisationKind, Person, Residence

NEWBORN = "newborn"
ELDERLY = "elderly60"
BUSINESS = "business"

ADULT_AGE = 18
# Kinds of credential data that may name a newborn's guardians, when the household does not.
GUARDIAN_FIELDS = ("mother_id_number", "father_id_number", "guardian_id_number")
BUSINESS_KINDS = (OrganisationKind.ENTERPRISE.value, OrganisationKind.MERCHANT.value)


@dataclass(frozen=True)
class RuleSpec:
    key: str
    title: str
    description: str
    audience: str
    targets: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        NEWBORN,
        N_("A birth is registered: the newborn bundle"),
        N_(
            "When a birth medical certificate is issued or a newborn (under {within_days} days old) is registered, "
            "the adults of the newborn's household are offered 新生儿出生一件事."
        ),
        "person",
        ("bundle:newborn",),
        {"within_days": 60},
    ),
    RuleSpec(
        ELDERLY,
        N_("A resident turns 60: elderly card and care subsidy"),
        N_(
            "Each night, residents who turned {age} in the last {window_days} days (and residents of {age} or older "
            "when they are registered) are offered the elderly preferential card and the elderly care service subsidy."
        ),
        "person",
        ("item:mzj-002", "item:mzj-005"),
        {"age": 60, "window_days": 30},
    ),
    RuleSpec(
        BUSINESS,
        N_("A business is registered: tax and social insurance registration"),
        N_(
            "When a business licence is issued to an organisation, or an enterprise or shop is registered in the "
            "last {window_days} days, its accounts are offered tax registration and employer social insurance "
            "registration."
        ),
        "organisation",
        ("item:sj-001", "item:rsj-004"),
        {"window_days": 30},
    ),
)
SPECS = {r.key: r for r in RULES}

# Why the offer is made, per rule and target (English msgids; the params fill the blanks).
REASONS: dict[tuple[str, str], str] = {
    (NEWBORN, "bundle:newborn"): N_(
        "{child} was born on {date}: one application covers the birth registration, "
        "the newborn's medical insurance and the vaccination certificate."
    ),
    (ELDERLY, "item:mzj-002"): N_("You turned {age} on {date}, so you can apply for the elderly preferential card."),
    (ELDERLY, "item:mzj-005"): N_("You turned {age} on {date}, so you can apply for the elderly care service subsidy."),
    (BUSINESS, "item:sj-001"): N_("{org} was registered on {date}, so it can now complete its tax registration."),
    (BUSINESS, "item:rsj-004"): N_(
        "{org} was registered on {date}, so it can now register its employees for social insurance."
    ),
}
FALLBACK_REASON = N_("You may be eligible for {title}.")


def local_today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born on 29 February
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# --- newborns ------------------------------------------------------------------------------------------


def is_newborn(person: Person, today: date, within_days: int) -> bool:
    return person.birth_date is not None and today - timedelta(days=within_days) <= person.birth_date <= today


def household_adults(session: Session, child: Person, today: date) -> list[Person]:
    """The adults living in the newborn's household(s) now, oldest residence first."""
    households = select(Residence.household_id).where(
        Residence.person_id == child.id, Residence.until.is_(None), Residence.household_id.is_not(None)
    )
    people = session.scalars(
        select(Person)
        .join(Residence, Residence.person_id == Person.id)
        .join(Household, Household.id == Residence.household_id)
        .where(Household.id.in_(households), Residence.until.is_(None), Person.id != child.id)
        .order_by(Residence.since, Person.id)
    ).unique()
    seen: set[int] = set()
    out = []
    for person in people:
        if person.id in seen or person.birth_date is None or age_on(person.birth_date, today) < ADULT_AGE:
            continue
        seen.add(person.id)
        out.append(person)
    return out


def guardians_named(session: Session, data: dict[str, Any]) -> list[Person]:
    """The residents a certificate's data names as mother, father or guardian (by identity number)."""
    from cityos.people import pii

    out: list[Person] = []
    for key in GUARDIAN_FIELDS:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        person = session.scalar(select(Person).where(Person.id_number_hash == pii.id_number_digest(value.strip())))
        if person is not None and person not in out:
            out.append(person)
    return out


def recent_newborns(session: Session, today: date, within_days: int) -> list[Person]:
    since = today - timedelta(days=within_days)
    return list(
        session.scalars(
            select(Person).where(Person.birth_date >= since, Person.birth_date <= today).order_by(Person.id)
        )
    )


# --- turning 60 ----------------------------------------------------------------------------------------------


def turned_on(person: Person, age: int) -> date | None:
    return years_after(person.birth_date, age) if person.birth_date is not None else None


def recently_turned(session: Session, today: date, age: int, window_days: int) -> list[Person]:
    """Residents whose birthday of ``age`` fell in the last ``window_days`` days (today included)."""
    latest_birth = years_after(today, -age)
    earliest_birth = years_after(today - timedelta(days=window_days - 1), -age)
    return list(
        session.scalars(
            select(Person)
            .where(and_(Person.birth_date >= earliest_birth, Person.birth_date <= latest_birth))
            .order_by(Person.id)
        )
    )


# --- businesses --------------------------------------------------------------------------------------------


def recent_businesses(session: Session, today: date, window_days: int) -> list[Organisation]:
    tz = ZoneInfo(get_settings().timezone)
    since = datetime.combine(today - timedelta(days=window_days - 1), datetime.min.time(), tzinfo=tz)
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind.in_(BUSINESS_KINDS), Organisation.created_at >= since)
            .order_by(Organisation.id)
        )
    )


# --- who hears of an offer ---------------------------------------------------------------------------------


def accounts_of(session: Session, *, person_id: int | None = None, organisation_id: int | None = None) -> list[Account]:
    query = select(Account).where(Account.active.is_(True))
    if person_id is not None:
        query = query.where(Account.person_id == person_id)
    elif organisation_id is not None:
        query = query.where(Account.organisation_id == organisation_id)
    else:
        return []
    return list(session.scalars(query.order_by(Account.id)))
