"""What applications do when the bus says something happened (after the commit that caused it):
the applicant hears of every step (by SMS as well when a supplement is asked for and when it is
decided); departments hear of new work, of answered supplements and of 差评."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.i18n import translate
from cityos.identity.notify import notify, notify_department
from cityos.services.applications.events import (
    ApplicationBadlyRated,
    ApplicationDecided,
    ApplicationSubmitted,
    SupplementRequested,
)
from cityos.services.applications.models import Application
from cityos.services.catalogue.models import ServiceItem
from cityos.workflow.events import ProcessStateChanged
from cityos.workflow.models import ProcessInstance


def _app(session: Session, application_id: int) -> tuple[Application | None, str]:
    app = session.get(Application, application_id)
    if app is None:
        return None, ""
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == app.item_code))
    return app, item.name if item else app.item_code


def _link(app: Application) -> str:
    return f"/applications/{app.id}"


def _tell_applicant(session: Session, app: Application, title: str, body: str, *, sms: bool = False) -> None:
    if app.applicant_account_id is not None:
        notify(session, app.applicant_account_id, title=title, body=body, link=_link(app), sms=sms)
    if app.filed_by_account_id is not None and app.filed_by_account_id != app.applicant_account_id:
        notify(session, app.filed_by_account_id, title=title, body=body, link=_link(app))


def on_submitted(session: Session, evt: ApplicationSubmitted) -> None:
    app, name = _app(session, evt.application_id)
    if app is None:
        return
    if evt.resubmitted:
        title = translate("Supplement answered for application {no}", no=app.no)
    else:
        _tell_applicant(session, app, translate("Your application {no} has been submitted", no=app.no), name, sms=False)
        title = translate("New application for your department: {no}", no=app.no)
    for department_id in evt.department_ids:
        notify_department(session, department_id, title=title, body=name, link=_link(app))


def on_state_changed(session: Session, evt: ProcessStateChanged) -> None:
    """Steps other than the decision (which ``on_decided`` tells): 受理, 补正, back to 受理."""
    if evt.subject_type != "application" or evt.final:
        return
    app, name = _app(session, int(evt.subject_id))
    if app is None:
        return
    from cityos.workflow import service as workflow

    instance = session.get(ProcessInstance, evt.instance_id)
    spec = workflow.spec_of(session, instance) if instance is not None else None
    state = spec.states[evt.to_state].title if spec is not None and evt.to_state in spec.states else evt.to_state
    _tell_applicant(
        session,
        app,
        translate("Your application {no} has moved on: {state}", no=app.no, state=state),
        name,
        sms=False,
    )


def on_supplement(session: Session, evt: SupplementRequested) -> None:
    app, name = _app(session, evt.application_id)
    if app is None:
        return
    _tell_applicant(
        session,
        app,
        translate("Application {no}: please supply {count} items", no=app.no, count=evt.item_count),
        name,
        sms=True,
    )


def on_decided(session: Session, evt: ApplicationDecided) -> None:
    app, name = _app(session, evt.application_id)
    if app is None:
        return
    if evt.decision == "approved":
        title = translate("Your application {no} is approved", no=app.no)
    else:
        title = translate("Your application {no} is refused", no=app.no)
    _tell_applicant(session, app, title, name, sms=True)


def on_badly_rated(session: Session, evt: ApplicationBadlyRated) -> None:
    app, name = _app(session, evt.application_id)
    if app is None:
        return
    for department_id in evt.department_ids:
        notify_department(
            session,
            department_id,
            title=translate("Dissatisfied rating on application {no}", no=app.no),
            body=name,
            link=_link(app),
        )


def register(bus: Bus) -> None:
    bus.subscribe(ApplicationSubmitted, "applications.notify_submitted")(on_submitted)
    bus.subscribe(ProcessStateChanged, "applications.notify_step")(on_state_changed)
    bus.subscribe(SupplementRequested, "applications.notify_supplement")(on_supplement)
    bus.subscribe(ApplicationDecided, "applications.notify_decided")(on_decided)
    bus.subscribe(ApplicationBadlyRated, "applications.notify_badly_rated")(on_badly_rated)
