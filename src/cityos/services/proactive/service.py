"""服务找人: rules over life events and person data offer services to those eligible; the offer
says why, applies in one tap with the form pre-filled, and is never made twice.

Offers are made by the bus handlers in ``tasks`` and by the nightly ``evaluate_all``; both run
as the system. A resident sees and acts on their own offers only (an organisation's accounts on
the organisation's). Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, DomainError, FieldError, Invalid, NotFound
from cityos.core.i18n import DEFAULT_LOCALE, N_, current_locale, translate
from cityos.identity.notify import notify
from cityos.people.models import Organisation, Person
from cityos.services.proactive import rules
from cityos.services.proactive.models import Offer, OfferStatus, ProactiveRule

MSG_APPLIED = N_("You have already applied for this offer.")
MSG_DISMISSED = N_("You have said you do not need this offer.")
MSG_RULE_ACTIVE = N_("Must be true or false.")
MSG_STATUS = N_("Must be one of: {expected}.")
MSG_OFFER_TITLE = N_("A service for you: {title}")
STATUSES = tuple(s.value for s in OfferStatus)


# --- rules ---------------------------------------------------------------------------------------------------


def install(session: Session) -> None:
    """Installs the shipped rules (idempotent); an operator's on/off choice and edited targets
    and numbers are kept."""
    existing = {r.key: r for r in session.scalars(select(ProactiveRule))}
    for spec in rules.RULES:
        row = existing.get(spec.key)
        if row is None:
            session.add(
                ProactiveRule(
                    key=spec.key,
                    title=spec.title,
                    description=spec.description,
                    audience=spec.audience,
                    targets=list(spec.targets),
                    params=dict(spec.params),
                    active=True,
                )
            )
        else:
            row.title, row.description, row.audience = spec.title, spec.description, spec.audience
    session.flush()


def list_rules(session: Session, actor: Actor) -> list[ProactiveRule]:
    actor.require("service:read")
    return list(session.scalars(select(ProactiveRule).order_by(ProactiveRule.key)))


def get_rule(session: Session, actor: Actor, key: str) -> ProactiveRule:
    actor.require("service:read")
    rule = session.get(ProactiveRule, key)
    if rule is None:
        raise NotFound()
    return rule


def set_rule_active(session: Session, actor: Actor, *, key: str, active: Any) -> ProactiveRule:
    """Switch a rule on or off (service:write). Offers already made stay."""
    actor.require("service:write")
    rule = session.get(ProactiveRule, key)
    if rule is None:
        raise NotFound()
    if not isinstance(active, bool):
        raise Invalid(details=[FieldError("active", MSG_RULE_ACTIVE)])
    rule.active = active
    rule.updated_by_account_id = actor.account_id
    rule.updated_at = utcnow()
    session.flush()
    return rule


def rule_counts(session: Session, actor: Actor) -> dict[str, dict[str, int]]:
    """Offers per rule and status (take-up: how many were applied for, how many declined)."""
    actor.require("service:read")
    out: dict[str, dict[str, int]] = {}
    for key, status, n in session.execute(
        select(Offer.rule_key, Offer.status, func.count()).group_by(Offer.rule_key, Offer.status)
    ).all():
        out.setdefault(key, dict.fromkeys(STATUSES, 0))[status] = int(n)
    return out


def _active_rule(session: Session, key: str) -> ProactiveRule | None:
    rule = session.get(ProactiveRule, key)
    return rule if rule is not None and rule.active else None


# --- what a target is ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    ref: str  # item:<code> | bundle:<code>
    kind: str  # item | bundle
    code: str
    title: str


def _target(session: Session, ref: str) -> Target | None:
    """The catalogue entry a rule offers, or None when it is missing or switched off (then
    nothing is offered, and the nightly pass offers it once it is back)."""
    from cityos.services.catalogue import service as catalogue

    kind, _sep, code = ref.partition(":")
    try:
        if kind == "item":
            item = catalogue.get_item(session, code)
            return Target(ref, kind, code, item.name) if item.active else None
        if kind == "bundle":
            bundle = catalogue.get_bundle(session, code)
            return Target(ref, kind, code, bundle.name) if bundle.active else None
    except NotFound:
        return None
    return None


# --- making offers ------------------------------------------------------------------------------------------


@dataclass
class _Subject:
    key: str
    person: Person | None = None
    organisation: Organisation | None = None

    @property
    def region_path(self) -> str | None:
        if self.person is not None:
            return self.person.region_path
        return self.organisation.region_path if self.organisation is not None else None


def _of_person(person: Person) -> _Subject:
    return _Subject(f"person:{person.id}", person=person)


def _of_organisation(org: Organisation) -> _Subject:
    return _Subject(f"organisation:{org.id}", organisation=org)


def _offer(
    session: Session,
    rule: ProactiveRule,
    subject: _Subject,
    params: dict[str, Any],
    *,
    occasion: str = "",
    targets: dict[str, Target | None],
) -> list[Offer]:
    """Offer each of the rule's targets to the subject, unless it was offered before."""
    made: list[Offer] = []
    done = set(
        session.scalars(
            select(Offer.target).where(
                Offer.subject_key == subject.key, Offer.rule_key == rule.key, Offer.occasion == occasion
            )
        )
    )
    for ref in rule.targets:
        target = targets.get(ref)
        if target is None or ref in done:
            continue
        offer = Offer(
            rule_key=rule.key,
            subject_key=subject.key,
            person_id=subject.person.id if subject.person is not None else None,
            organisation_id=subject.organisation.id if subject.organisation is not None else None,
            target=ref,
            item_code=target.code if target.kind == "item" else None,
            bundle_code=target.code if target.kind == "bundle" else None,
            occasion=occasion,
            reason_msgid=rules.REASONS.get((rule.key, ref), rules.FALLBACK_REASON),
            reason_params={**params, "title": target.title},
            region_path=subject.region_path,
            status=OfferStatus.OFFERED,
        )
        session.add(offer)
        session.flush()
        made.append(offer)
        _tell(session, offer)
    return made


def _targets(session: Session, rule: ProactiveRule) -> dict[str, Target | None]:
    return {ref: _target(session, ref) for ref in rule.targets}


def _tell(session: Session, offer: Offer) -> None:
    for account in rules.accounts_of(session, person_id=offer.person_id, organisation_id=offer.organisation_id):
        locale = account.locale or DEFAULT_LOCALE
        notify(
            session,
            account.id,
            title=translate(MSG_OFFER_TITLE, locale, title=offer.reason_params.get("title", "")),
            body=reason_of(offer, locale),
            link="/offers",
        )


def offer_newborn(
    session: Session, *, child_id: int, today: date | None = None, guardian_data: dict[str, Any] | None = None
) -> list[Offer]:
    """A birth is registered: offer the newborn bundle to the adults of the child's household,
    else to the guardians the birth certificate names (``guardian_data``)."""
    rule = _active_rule(session, rules.NEWBORN)
    child = session.get(Person, child_id)
    if rule is None or child is None or child.birth_date is None:
        return []
    today = today or rules.local_today()
    if not rules.is_newborn(child, today, int(rule.params.get("within_days", 60))):
        return []
    parents = rules.household_adults(session, child, today) or rules.guardians_named(session, guardian_data or {})
    targets = _targets(session, rule)
    made: list[Offer] = []
    params = {"child": child.name, "date": child.birth_date.isoformat()}
    for parent in parents:
        made += _offer(session, rule, _of_person(parent), params, occasion=f"birth:{child.id}", targets=targets)
    return made


def offer_elderly(
    session: Session, *, person_id: int, today: date | None = None, targets: dict[str, Target | None] | None = None
) -> list[Offer]:
    """A resident is 60 or older: offer the elderly card and the care subsidy."""
    rule = _active_rule(session, rules.ELDERLY)
    person = session.get(Person, person_id)
    if rule is None or person is None or person.birth_date is None:
        return []
    today = today or rules.local_today()
    age = int(rule.params.get("age", 60))
    turned = rules.turned_on(person, age)
    if turned is None or turned > today:
        return []
    params = {"age": age, "date": turned.isoformat()}
    return _offer(session, rule, _of_person(person), params, targets=targets or _targets(session, rule))


def offer_business(
    session: Session,
    *,
    organisation_id: int,
    registered_on: date | None = None,
    targets: dict[str, Target | None] | None = None,
) -> list[Offer]:
    """A business is registered: offer tax and social insurance registration to its accounts."""
    rule = _active_rule(session, rules.BUSINESS)
    org = session.get(Organisation, organisation_id)
    if rule is None or org is None:
        return []
    registered_on = registered_on or rules.local_date(org.created_at)
    params = {"org": org.name, "date": registered_on.isoformat()}
    return _offer(session, rule, _of_organisation(org), params, targets=targets or _targets(session, rule))


def evaluate_person(session: Session, *, person_id: int, today: date | None = None) -> list[Offer]:
    """A resident was registered: a newborn's parents hear of the newborn bundle, a resident of
    60 or more of the elderly services."""
    return offer_newborn(session, child_id=person_id, today=today) + offer_elderly(
        session, person_id=person_id, today=today
    )


def evaluate_all(session: Session, today: date | None = None) -> int:
    """The nightly pass: newborns of the last days, residents who turned 60 in the last days,
    businesses registered in the last days. Returns how many offers were made."""
    today = today or rules.local_today()
    made = 0
    rule = _active_rule(session, rules.NEWBORN)
    if rule is not None:
        for child in rules.recent_newborns(session, today, int(rule.params.get("within_days", 60))):
            made += len(offer_newborn(session, child_id=child.id, today=today))
    rule = _active_rule(session, rules.ELDERLY)
    if rule is not None:
        targets = _targets(session, rule)
        age, window = int(rule.params.get("age", 60)), int(rule.params.get("window_days", 30))
        for person in rules.recently_turned(session, today, age, window):
            made += len(offer_elderly(session, person_id=person.id, today=today, targets=targets))
    rule = _active_rule(session, rules.BUSINESS)
    if rule is not None:
        targets = _targets(session, rule)
        for org in rules.recent_businesses(session, today, int(rule.params.get("window_days", 30))):
            made += len(offer_business(session, organisation_id=org.id, targets=targets))
    return made


# --- reading offers -------------------------------------------------------------------------------------


def format_day(iso: str, locale: str) -> str:
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return format_date(day, format="long", locale="zh_CN" if locale == "zh_CN" else "en")


def reason_of(offer: Offer, locale: str | None = None) -> str:
    """Why the offer is made, in the reader's language (dates written the local way)."""
    loc = locale or current_locale.get()
    params = dict(offer.reason_params)
    if isinstance(params.get("date"), str):
        params["date"] = format_day(params["date"], loc)
    return translate(offer.reason_msgid, loc, **params)


def title_of(offer: Offer) -> str:
    return str(offer.reason_params.get("title") or offer.item_code or offer.bundle_code or "")


def _own(actor: Actor) -> Any:
    if actor.person_id is not None and actor.organisation_id is not None:
        return (Offer.person_id == actor.person_id) | (Offer.organisation_id == actor.organisation_id)
    if actor.person_id is not None:
        return Offer.person_id == actor.person_id
    if actor.organisation_id is not None:
        return Offer.organisation_id == actor.organisation_id
    return None


def my_offers(session: Session, actor: Actor, *, status: str = OfferStatus.OFFERED) -> list[Offer]:
    """The actor's own offers (``status`` one of offered, applied, dismissed, or ``all``), newest first."""
    if status != "all" and status not in STATUSES:
        raise Invalid(details=[FieldError("status", MSG_STATUS, {"expected": ", ".join((*STATUSES, "all"))})])
    mine = _own(actor)
    if mine is None:
        return []
    query = select(Offer).where(mine)
    if status != "all":
        query = query.where(Offer.status == status)
    return list(session.scalars(query.order_by(Offer.id.desc()).limit(200)))


def get_own(session: Session, actor: Actor, offer_id: int) -> Offer:
    """One of the actor's own offers; someone else's is not found."""
    mine = _own(actor)
    offer = session.scalar(select(Offer).where(Offer.id == offer_id, mine)) if mine is not None else None
    if offer is None:
        raise NotFound()
    return offer


def _open(offer: Offer) -> None:
    if offer.status == OfferStatus.APPLIED:
        raise Conflict(MSG_APPLIED)
    if offer.status == OfferStatus.DISMISSED:
        raise Conflict(MSG_DISMISSED)


def dismiss(session: Session, actor: Actor, *, offer_id: int) -> Offer:
    """不需要: the offer is put away; it is never made again."""
    offer = get_own(session, actor, offer_id)
    _open(offer)
    offer.status = OfferStatus.DISMISSED
    offer.decided_at = utcnow()
    session.flush()
    return offer


# --- one-tap apply ---------------------------------------------------------------------------------------


@dataclass
class OfferApplication:
    """What one tap gave: ``complete`` when the pre-filled form was enough and the applications
    are submitted; otherwise ``next_url`` is the apply page with the form pre-filled (a draft,
    for an item) where the resident adds what is missing."""

    offer: Offer
    complete: bool
    applications: list[Any] = field(default_factory=list)
    next_url: str = ""
    errors: list[FieldError] = field(default_factory=list)

    @property
    def application(self) -> Any | None:
        return self.applications[0] if self.applications else None


def apply(session: Session, actor: Actor, *, offer_id: int) -> OfferApplication:
    """一键申请: submit the offered item (or bundle) with the form pre-filled from the resident's
    data and e-licences, consent given by the tap. When the form is incomplete, nothing is
    submitted: an item's draft keeps the pre-filled values and the resident is sent to finish it."""
    from cityos.services.applications import service as applications
    from cityos.services.applications import submission

    offer = get_own(session, actor, offer_id)
    actor.require("application:submit")
    _open(offer)
    if offer.bundle_code is not None:
        form = dict(submission.bundle_prefill(session, actor, bundle_code=offer.bundle_code).values)
        try:
            with session.begin_nested():
                filed = submission.submit_bundle(
                    session, actor, bundle_code=offer.bundle_code, form=form, consent=True, channel="proactive"
                )
        except Invalid as exc:
            return OfferApplication(
                offer,
                False,
                next_url=f"/services/bundles/{offer.bundle_code}/apply?offer={offer.id}",
                errors=exc.details,
            )
        return _applied(session, offer, list(filed))
    assert offer.item_code is not None
    draft = _reusable_draft(session, actor, offer)
    if draft is None:
        values = dict(applications.prefill(session, actor, item_code=offer.item_code).values)
        draft = applications.start_draft(session, actor, item_code=offer.item_code, channel="proactive")
        draft = applications.save_draft(session, actor, application_id=draft.id, form=values)
        offer.application_id = draft.id
        session.flush()
    elif draft.status != "draft":  # the resident finished it on the apply page already
        return _applied(session, offer, [draft])
    try:
        with session.begin_nested():
            submitted = submission.submit(session, actor, application_id=draft.id, form=None, consent=True)
    except Invalid as exc:
        return OfferApplication(
            offer,
            False,
            applications=[draft],
            next_url=f"/services/items/{offer.item_code}/apply?draft={draft.id}&offer={offer.id}",
            errors=exc.details,
        )
    return _applied(session, offer, [submitted])


def _reusable_draft(session: Session, actor: Actor, offer: Offer) -> Any | None:
    """The application a previous tap started, if the resident can still see it."""
    from cityos.services.applications import service as applications

    if offer.application_id is None:
        return None
    try:
        return applications.get_visible(session, actor, offer.application_id)
    except DomainError:
        return None


def _applied(session: Session, offer: Offer, filed: list[Any]) -> OfferApplication:
    offer.status = OfferStatus.APPLIED
    offer.application_id = filed[0].id if filed else offer.application_id
    offer.decided_at = utcnow()
    session.flush()
    return OfferApplication(offer, True, applications=filed, next_url=f"/applications/{offer.application_id}")
