"""Sending text messages. Pluggable: a sender is a class with ``send(session, phone, body)``,
registered under the entry-point group ``cityos.sms_senders`` and chosen by ``CITYOS_SMS_SENDER``.

The built-in ``outbox`` sender sends nothing: it stores the message (phone encrypted, masked copy
for display) for the SMS outbox page, which is what a demo or a test system needs.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Protocol

from sqlalchemy.orm import Session

from cityos.core.runtime import field_cipher
from cityos.identity.models import SmsMessage

ENTRY_POINT_GROUP = "cityos.sms_senders"


class SmsSender(Protocol):
    def send(self, session: Session, phone: str, body: str) -> None: ...


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


class OutboxSmsSender:
    """Writes the message to the local outbox table instead of a gateway."""

    def send(self, session: Session, phone: str, body: str) -> None:
        session.add(
            SmsMessage(
                phone_masked=mask_phone(phone),
                phone_enc=field_cipher().encrypt(phone, context="sms.phone"),
                body=body,
            )
        )
        session.flush()


class UnknownSender(LookupError):
    pass


def get_sender(name: str) -> SmsSender:
    """The sender called ``name``; an unknown name or a plugin that fails to load is an error."""
    if name == "outbox":
        return OutboxSmsSender()
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise UnknownSender(f"no SMS sender named {name!r} (entry point group {ENTRY_POINT_GROUP})")
    sender: SmsSender = found[0].load()()
    return sender
