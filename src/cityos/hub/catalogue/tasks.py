"""Bus handlers, periodic jobs and install steps of the data catalogue: the owner department
hears of a new request, the requester of the decision, both departments of a grant that ended."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.i18n import translate
from cityos.core.runtime import Runtime
from cityos.hub.catalogue import grants
from cityos.hub.catalogue.events import DataGrantEnded, DataRequestDecided, DataRequestFiled
from cityos.hub.catalogue.models import DataRequest, Dataset, RequestStatus
from cityos.identity.notify import notify_department
from cityos.workflow.events import ProcessEscalated


def on_request_filed(session: Session, evt: DataRequestFiled) -> None:
    if evt.second:
        title = translate("A data request needs the second approval: {code}", code=evt.dataset_code)
    else:
        title = translate("New data request for your dataset {code}", code=evt.dataset_code)
    notify_department(session, evt.owner_department_id, title=title, link="/data/requests?box=todo")


def on_request_decided(session: Session, evt: DataRequestDecided) -> None:
    if evt.decision == "granted":
        title = translate("Your data request for {code} was approved", code=evt.dataset_code)
        link = "/data/grants?box=held"
    else:
        title = translate("Your data request for {code} was refused", code=evt.dataset_code)
        link = "/data/requests?box=mine"
    notify_department(session, evt.department_id, title=title, link=link)


def on_grant_ended(session: Session, evt: DataGrantEnded) -> None:
    if evt.reason == "expired":
        title = translate("The grant for {code} has expired", code=evt.dataset_code)
    else:
        title = translate("The grant for {code} was revoked", code=evt.dataset_code)
    notify_department(session, evt.department_id, title=title, link=f"/data/{evt.dataset_code}")
    if evt.reason == "expired":
        notify_department(session, evt.owner_department_id, title=title, link="/data/grants?box=given")


def on_escalated(session: Session, evt: ProcessEscalated) -> None:
    """A request's approval step is past its working-day limit: the owner department is reminded."""
    if evt.subject_type != grants.SUBJECT:
        return
    row = session.get(DataRequest, int(evt.subject_id))
    dataset = session.get(Dataset, row.dataset_id) if row is not None else None
    if row is None or dataset is None or row.status not in (RequestStatus.PENDING, RequestStatus.SECOND):
        return
    title = translate("A data request for {code} is overdue", code=dataset.code)
    notify_department(session, dataset.department_id, title=title, link="/data/requests?box=todo")


def register(bus: Bus) -> None:
    """Subscribes this part's bus handlers (once per runtime)."""
    bus.subscribe(DataRequestFiled, "catalogue.notify_request_filed")(on_request_filed)
    bus.subscribe(DataRequestDecided, "catalogue.notify_request_decided")(on_request_decided)
    bus.subscribe(DataGrantEnded, "catalogue.notify_grant_ended")(on_grant_ended)
    bus.subscribe(ProcessEscalated, "catalogue.request_overdue")(on_escalated)


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent): the request process."""
    grants.install(session)


def periodic(session: Session) -> None:
    """Run by the server every minute: grants past their end are marked expired (and told)."""
    grants.expire_grants(session)


def start(runtime: Runtime) -> Callable[[], None] | None:
    """The catalogue has no background worker."""
    return None
