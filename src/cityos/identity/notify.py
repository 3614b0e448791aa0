"""Notifications to accounts: always in the app, and by SMS where asked and a number is known.

Channels are the in-app list and the pluggable SMS sender (see ``identity.sms``); a module calls
``notify`` from its bus handlers, so a message is sent only for what has been committed.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.pagination import PageParams, fetch_page
from cityos.core.runtime import field_cipher
from cityos.core.settings import get_settings
from cityos.identity.models import Account, Notification
from cityos.identity.sms import get_sender
from cityos.people.models import Person


def _phone_of(session: Session, account: Account) -> str | None:
    if account.person_id is None:
        return None
    person = session.get(Person, account.person_id)
    if person is None or not person.phone_enc:
        return None
    return field_cipher().decrypt(person.phone_enc, context="person.phone")


def notify(
    session: Session, account_id: int, *, title: str, body: str = "", link: str | None = None, sms: bool = False
) -> Notification | None:
    account = session.get(Account, account_id)
    if account is None or not account.active:
        return None
    channels = ["app"]
    if sms:
        phone = _phone_of(session, account)
        if phone:
            get_sender(get_settings().sms_sender).send(session, phone, f"{title} {body}".strip())
            channels.append("sms")
    row = Notification(account_id=account.id, title=title[:128], body=body, link=link, channels=",".join(channels))
    session.add(row)
    session.flush()
    return row


def notify_department(
    session: Session, department_id: int, *, title: str, body: str = "", link: str | None = None
) -> int:
    """Tell every active account of a department; returns how many."""
    ids = list(
        session.scalars(select(Account.id).where(Account.department_id == department_id, Account.active.is_(True)))
    )
    for account_id in ids:
        notify(session, account_id, title=title, body=body, link=link)
    return len(ids)


def inbox(session: Session, actor: Actor, params: PageParams) -> tuple[list[Notification], int | None]:
    query = select(Notification).where(Notification.account_id == actor.account_id)
    return fetch_page(session, query.order_by(Notification.id.desc()), params)


def unread(session: Session, actor: Actor) -> int:
    if actor.account_id is None:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.account_id == actor.account_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, actor: Actor) -> None:
    session.execute(
        update(Notification)
        .where(Notification.account_id == actor.account_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.flush()
