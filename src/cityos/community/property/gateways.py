"""Payment gateways. Pluggable: a gateway is a class with ``create_payment`` and
``verify_callback``, registered under the entry-point group ``cityos.payment_gateways`` and chosen
per estate in its tariff (``payment_gateway``).

The built-in ``sandbox`` gateway moves no money: its pay page (``/pay/sandbox/{id}``) lets the
payer confirm or decline, and it then sends the same HMAC-signed notice a real gateway would
send to ``/pay/callback/sandbox``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol

from cityos.core.settings import get_settings

from .models import Bill

ENTRY_POINT_GROUP = "cityos.payment_gateways"
SANDBOX = "sandbox"


@dataclass(frozen=True)
class Payment:
    """What a gateway answers when asked to take a payment: its own id and where to send the payer."""

    id: str
    pay_url: str


@dataclass(frozen=True)
class PaymentResult:
    """A verified notice from a gateway: ``paid`` or ``declined``, for how much."""

    payment_id: str
    status: str  # paid | declined
    amount_fen: int
    reference: str | None = None


class BadNotice(Exception):
    """The notice's signature does not verify, or it is not a notice at all."""


class PaymentGateway(Protocol):
    name: str

    def create_payment(self, bill: Bill, amount: int, return_url: str) -> Payment: ...

    def verify_callback(self, payload: bytes, signature: str) -> PaymentResult: ...


def _sandbox_key() -> bytes:
    return hmac.new(get_settings().secret_key.encode(), b"cityos-payment-sandbox", hashlib.sha256).digest()


class SandboxGateway:
    """A local stand-in for a real gateway, for demos, tests and estates that collect offline."""

    name = SANDBOX

    def create_payment(self, bill: Bill, amount: int, return_url: str) -> Payment:
        payment_id = f"sbx_{secrets.token_urlsafe(12)}"
        return Payment(id=payment_id, pay_url=f"/pay/sandbox/{payment_id}")

    @staticmethod
    def notice(payment_id: str, *, status: str, amount_fen: int) -> tuple[bytes, str]:
        """The signed notice the sandbox sends when the payer confirms or declines."""
        body: dict[str, Any] = {
            "payment_id": payment_id,
            "status": status,
            "amount_fen": amount_fen,
            "reference": f"SBX{secrets.token_hex(6).upper()}",
        }
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return payload, SandboxGateway.sign(payload)

    @staticmethod
    def sign(payload: bytes) -> str:
        return hmac.new(_sandbox_key(), payload, hashlib.sha256).hexdigest()

    def verify_callback(self, payload: bytes, signature: str) -> PaymentResult:
        if not signature or not hmac.compare_digest(self.sign(payload), signature.strip().lower()):
            raise BadNotice("signature")
        try:
            body = json.loads(payload)
        except ValueError as exc:
            raise BadNotice("payload") from exc
        if not isinstance(body, dict):
            raise BadNotice("payload")
        payment_id, status, amount = body.get("payment_id"), body.get("status"), body.get("amount_fen")
        reference = body.get("reference")
        if (
            not isinstance(payment_id, str)
            or status not in ("paid", "declined")
            or not isinstance(amount, int)
            or isinstance(amount, bool)
            or (reference is not None and not isinstance(reference, str))
        ):
            raise BadNotice("payload")
        return PaymentResult(payment_id=payment_id, status=status, amount_fen=amount, reference=reference)


class UnknownGateway(LookupError):
    pass


def available_gateways() -> list[str]:
    return [SANDBOX, *sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} - {SANDBOX})]


def get_gateway(name: str) -> PaymentGateway:
    """The gateway called ``name``; an unknown name or a plugin that fails to load is an error."""
    if name == SANDBOX:
        return SandboxGateway()
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise UnknownGateway(f"no payment gateway named {name!r} (entry point group {ENTRY_POINT_GROUP})")
    gateway: PaymentGateway = found[0].load()()
    return gateway
