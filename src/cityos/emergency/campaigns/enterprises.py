"""Enterprises (企业): staff of an organisation in the campaign's area report on the public
page ``/e/{campaign_id}/org`` with their name, phone and the organisation's code (its unified
social credit code); the street sees the roll-up per organisation.

Staff are not residents of the area, so they do not sign in: the organisation's code and the
campaign say where the report belongs, the phone (sealed and indexed like a resident's) makes one
report per person and day, and the page is rate-limited per address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.emergency.campaigns import forms
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.events import OrgReportReceived
from cityos.emergency.campaigns.models import Campaign, CampaignStatus, OrgReport
from cityos.identity.ratelimit import limiter
from cityos.people import pii, validation
from cityos.people.models import Organisation

MSG_ORG_UNKNOWN = N_("No organisation with this code is registered inside the campaign's area.")
MSG_NAME = N_("Enter your name (1 to 64 characters).")
REPORTS_PER_MINUTE = 30


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise NotFound()
    return campaign


def public_campaign(session: Session, campaign_id: int) -> Campaign:
    """The campaign the public page is for (drafts do not exist for the public)."""
    return _campaign(session, campaign_id)


def organisation(session: Session, campaign: Campaign, code: str) -> Organisation:
    value = validation.normalise_uscc(code or "")
    error = validation.uscc_error(value)
    if error:
        raise Invalid(details=[FieldError("org_code", error)])
    org = session.scalar(select(Organisation).where(Organisation.uscc == value))
    if org is None or not org.region_path.startswith(campaign.scope_path):
        raise Invalid(details=[FieldError("org_code", MSG_ORG_UNKNOWN)])
    return org


def submit(
    session: Session,
    *,
    campaign_id: int,
    org_code: str,
    name: str,
    phone: str,
    answers: Any,
    ip: str | None = None,
    now: datetime | None = None,
) -> OrgReport:
    """One staff member's report for today; the same phone again today replaces it."""
    now = now or utcnow()
    limiter.hit(f"campaign-org:{ip or 'unknown'}", limit=REPORTS_PER_MINUTE, seconds=60)
    campaign = _campaign(session, campaign_id)
    campaigns.running(campaign)
    errors: list[FieldError] = []
    clean_name = " ".join((name or "").split())
    if not 1 <= len(clean_name) <= 64:
        errors.append(FieldError("name", MSG_NAME))
    number = validation.normalise_phone(phone or "")
    phone_error = validation.phone_error(number)
    if phone_error:
        errors.append(FieldError("phone", phone_error))
    org: Organisation | None = None
    try:
        org = organisation(session, campaign, org_code)
    except Invalid as exc:
        errors.extend(exc.details)
    schema = campaigns.form_of(session, campaign).schema
    errors.extend(forms.check_answers(schema, answers))
    if errors or org is None:
        raise Invalid(details=errors)
    values = dict(answers)
    abnormal = bool(forms.abnormal_fields(schema, values))
    day = campaigns.local_day(now)
    sealed = pii.seal_phone(number)
    row = session.scalar(
        select(OrgReport).where(
            OrgReport.campaign_id == campaign.id,
            OrgReport.organisation_id == org.id,
            OrgReport.phone_hash == sealed.digest,
            OrgReport.day == day,
        )
    )
    if row is None:
        row = OrgReport(
            campaign_id=campaign.id,
            organisation_id=org.id,
            region_path=org.region_path,
            day=day,
            phone_hash=sealed.digest,
            entries=0,
        )
        session.add(row)
    row.name = clean_name
    row.phone_enc = sealed.ciphertext
    row.form_version = campaign.form_version
    row.answers = values
    row.abnormal = abnormal
    row.entries = (row.entries or 0) + 1
    row.reported_at = now
    session.flush()
    bus.publish(
        session,
        OrgReportReceived(
            campaign_id=campaign.id, organisation_id=org.id, region_path=org.region_path, day=day, abnormal=abnormal
        ),
    )
    return row


@dataclass(frozen=True)
class OrgLine:
    organisation_id: int
    name: str
    uscc: str
    reported: int
    abnormal: int


def rollup(
    session: Session, actor: Actor, *, campaign_id: int, day: date, region_id: int | None = None
) -> list[OrgLine]:
    """Per organisation in the area: staff who reported on ``day`` and how many were abnormal
    (organisations with abnormal reports first). Organisations with no report yet are listed too."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    path = campaigns.area(session, actor, campaign, region_id)
    campaigns.require_any(actor, campaigns.READ_PERMS, region=path)
    counts = {
        int(org_id): (int(n), int(bad or 0))
        for org_id, n, bad in session.execute(
            select(OrgReport.organisation_id, func.count(), func.sum(cast(OrgReport.abnormal, Integer)))
            .where(
                OrgReport.campaign_id == campaign.id, OrgReport.day == day, subtree_clause(OrgReport.region_path, path)
            )
            .group_by(OrgReport.organisation_id)
        )
    }
    orgs = session.scalars(
        select(Organisation)
        .where(subtree_clause(Organisation.region_path, path), Organisation.kind.in_(("enterprise", "merchant", "ngo")))
        .order_by(Organisation.name)
        .limit(1000)
    ).all()
    extra = set(counts) - {o.id for o in orgs}
    if extra:
        orgs = [*orgs, *session.scalars(select(Organisation).where(Organisation.id.in_(extra)))]
    lines = [OrgLine(o.id, o.name, o.uscc, *counts.get(o.id, (0, 0))) for o in orgs]
    return sorted(lines, key=lambda x: (-x.abnormal, -x.reported, x.name))


@dataclass(frozen=True)
class StaffLine:
    name: str
    phone: str
    abnormal: bool
    reported_at: datetime
    answers: list[tuple[str, str, str]]


def staff_reports(
    session: Session, actor: Actor, *, campaign_id: int, organisation_id: int, day: date
) -> list[StaffLine]:
    """One organisation's staff reports of the day, names and phones masked (unless ``pii:read``)."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    org = session.get(Organisation, organisation_id)
    if org is None or not actor.covers(org.region_path) or not org.region_path.startswith(campaign.scope_path):
        raise NotFound()
    campaigns.require_any(actor, campaigns.READ_PERMS, region=org.region_path)
    rows = list(
        session.scalars(
            select(OrgReport)
            .where(OrgReport.campaign_id == campaign.id, OrgReport.organisation_id == org.id, OrgReport.day == day)
            .order_by(OrgReport.abnormal.desc(), OrgReport.reported_at.desc())
        )
    )
    schemas = {f.version: f.schema for f in campaigns.form_versions(session, campaign)}
    from cityos.core import audit
    from cityos.core.runtime import field_cipher

    cipher = field_cipher()
    unmasked = actor.can("pii:read")
    out = []
    for r in rows:
        phone = cipher.decrypt(r.phone_enc, context=pii.PHONE_CONTEXT)
        out.append(
            StaffLine(
                r.name if unmasked else pii.mask_name(r.name),
                phone if unmasked else pii.mask_phone(phone),
                r.abnormal,
                r.reported_at,
                forms.shown(schemas.get(r.form_version) or {}, r.answers or {}),
            )
        )
    if unmasked and out:
        audit.record(
            session, actor, "pii.read", subject_type="campaign_org_report", subject_id=org.id, fields=["name", "phone"]
        )
    return out
