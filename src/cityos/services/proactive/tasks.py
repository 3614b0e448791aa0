"""What 服务找人 does when the bus says something happened (after the commit that caused it),
and its nightly pass."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.people.events import PersonRegistered, ResidenceChanged
from cityos.services.applications.events import ApplicationSubmitted
from cityos.services.licences.events import CredentialIssued
from cityos.services.proactive import rules, service
from cityos.services.proactive.models import Offer, OfferStatus

BIRTH_CERTIFICATE = "birth_medical_certificate"
BUSINESS_LICENCE = "business_licence"


def on_person_registered(session: Session, evt: PersonRegistered) -> None:
    """人口登记: a newborn's parents hear of the newborn bundle; a resident of 60 or more of the
    elderly services."""
    service.evaluate_person(session, person_id=evt.person_id)


def on_residence_changed(session: Session, evt: ResidenceChanged) -> None:
    """A newborn moved into a household: its adults hear of the newborn bundle."""
    if evt.change == "moved_in":
        service.offer_newborn(session, child_id=evt.person_id)


def on_credential_issued(session: Session, evt: CredentialIssued) -> None:
    """出生医学证明 issued: the newborn bundle to the parents; 营业执照 issued: tax and social
    insurance registration to the business."""
    from cityos.services.licences import service as licences
    from cityos.services.licences.models import Credential

    if evt.kind_code == BIRTH_CERTIFICATE and evt.holder_person_id is not None:
        credential = session.get(Credential, evt.credential_id)
        data = licences.data_of(credential) if credential is not None else {}
        service.offer_newborn(session, child_id=evt.holder_person_id, guardian_data=data)
    elif evt.kind_code == BUSINESS_LICENCE and evt.holder_organisation_id is not None:
        credential = session.get(Credential, evt.credential_id)
        registered = None
        if credential is not None:
            established = licences.data_of(credential).get("established_on")
            try:
                registered = date.fromisoformat(established) if established else rules.local_date(credential.issued_at)
            except ValueError:
                registered = rules.local_date(credential.issued_at)
        service.offer_business(session, organisation_id=evt.holder_organisation_id, registered_on=registered)


def on_application_submitted(session: Session, evt: ApplicationSubmitted) -> None:
    """The resident finished, on the apply page, the draft a tap on an offer started."""
    for offer in session.scalars(
        select(Offer).where(Offer.application_id == evt.application_id, Offer.status == OfferStatus.OFFERED)
    ):
        offer.status = OfferStatus.APPLIED
        offer.decided_at = utcnow()
    session.flush()


def nightly(session: Session, *, today: date | None = None) -> int:
    """The nightly evaluation (``cityos services offers-run``); returns how many offers were made."""
    return service.evaluate_all(session, today=today)


def register(bus: Bus) -> None:
    bus.subscribe(PersonRegistered, "proactive.person_registered")(on_person_registered)
    bus.subscribe(ResidenceChanged, "proactive.residence_changed")(on_residence_changed)
    bus.subscribe(CredentialIssued, "proactive.credential_issued")(on_credential_issued)
    bus.subscribe(ApplicationSubmitted, "proactive.application_submitted")(on_application_submitted)
