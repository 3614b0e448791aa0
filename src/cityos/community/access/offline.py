"""The entry-pass token and its offline check, with no database and no cityos import: what a
gate's firmware runs with the estate's public key, its rotation period and the last revocation
list it synchronised.

A token is ``base64url(payload) + "." + base64url(signature)`` without padding. The payload is
compact JSON ``{"p": pass id, "e": estate id, "k": "r"|"v" (resident|visitor), "u": valid until
(unix seconds), "t": time step, "r": room code}`` where the time step is
``floor(unix time / rotation)``; the Ed25519 signature covers the ASCII bytes of the first part.
The phone shows a fresh token every step, so a screenshot is refused once its step is more than
``skew_steps`` away from the gate's clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KINDS = {"r": "resident", "v": "visitor"}
KIND_CODES = {v: k for k, v in KINDS.items()}
MAX_TOKEN = 1024

# Why a token was refused (or "ok"). The online check adds its own (see service.REASONS).
OK = "ok"
MALFORMED = "malformed"
WRONG_ESTATE = "wrong_estate"
BAD_SIGNATURE = "bad_signature"
STALE = "stale"  # the time step is too far from the gate's clock: a screenshot or a replay
EXPIRED = "expired"
REVOKED = "revoked"
BLOCKED_ROOM = "blocked_room"


@dataclass(frozen=True)
class RevocationList:
    """What a gate holds between synchronisations: revoked pass ids and blocked room codes
    (code → reason) of its estate."""

    estate_id: int
    passes: Collection[int] = frozenset()
    rooms: Mapping[str, str] = field(default_factory=dict)
    as_of: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RevocationList:
        """From the body of ``GET /device-api/v1/gates/revocations`` (or the config's part)."""
        return cls(
            estate_id=int(data["estate_id"]),
            passes=frozenset(int(p) for p in data.get("passes", [])),
            rooms={str(r["code"]): str(r.get("reason", "")) for r in data.get("rooms", [])},
            as_of=data.get("as_of"),
        )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    pass_id: int | None = None
    estate_id: int | None = None
    kind: str | None = None  # resident | visitor
    room: str | None = None
    valid_until: int | None = None  # unix seconds
    step: int | None = None
    detail: str = ""  # e.g. why the room is blocked


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def step_of(unix: float, rotation: int) -> int:
    return math.floor(unix / rotation)


def encode(
    private_key: Ed25519PrivateKey,
    *,
    pass_id: int,
    estate_id: int,
    kind: str,
    valid_until: int,
    step: int,
    room: str,
) -> str:
    """Sign one token (the server does this for the phone every rotation period)."""
    payload = {"p": pass_id, "e": estate_id, "k": KIND_CODES[kind], "u": valid_until, "t": step, "r": room}
    head = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return head + "." + _b64(private_key.sign(head.encode("ascii")))


@lru_cache(maxsize=64)
def _load_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_of(key: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    return key if isinstance(key, Ed25519PublicKey) else _load_key(bytes(key))


def decode(token: str) -> dict[str, Any] | None:
    """The payload of a well-formed token, unchecked (None when it is not one)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return None
    head, dot, _sig = token.partition(".")
    if not dot:
        return None
    try:
        payload = json.loads(_unb64(head))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict):
        return None
    p, e, k, u, t, r = (payload.get(x) for x in ("p", "e", "k", "u", "t", "r"))
    if type(p) is not int or type(e) is not int or type(u) is not int or type(t) is not int:
        return None
    if k not in KINDS or not isinstance(r, str):
        return None
    return payload


def verify_offline(
    token: str,
    *,
    public_key: Ed25519PublicKey | bytes,
    revocation: RevocationList,
    now: datetime | float,
    rotation: int,
    skew_steps: int = 1,
) -> Verdict:
    """Check a token the way a gate does when it cannot reach the platform: form, estate,
    Ed25519 signature, time step within ``skew_steps`` of ``now``, the pass's validity, the
    revocation list and the blocked rooms. Counts (exits per period, a visitor's entries left)
    and time windows need the platform: the online check (``POST /device-api/v1/gates/verify``)
    enforces them."""
    payload = decode(token)
    if payload is None:
        return Verdict(False, MALFORMED)
    head, _, sig = token.partition(".")
    pass_id: int = payload["p"]
    estate_id: int = payload["e"]
    kind = KINDS[payload["k"]]
    room: str = payload["r"]
    until: int = payload["u"]
    step: int = payload["t"]

    def verdict(ok: bool, reason: str, detail: str = "") -> Verdict:
        return Verdict(ok, reason, pass_id, estate_id, kind, room, until, step, detail)

    if estate_id != revocation.estate_id:
        return verdict(False, WRONG_ESTATE)
    try:
        signature = _unb64(sig)
        if len(signature) != 64:
            return verdict(False, BAD_SIGNATURE)
        public_key_of(public_key).verify(signature, head.encode("ascii"))
    except (InvalidSignature, ValueError, binascii.Error):
        return verdict(False, BAD_SIGNATURE)
    unix = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(math.floor(unix / rotation) - step) > skew_steps:
        return verdict(False, STALE)
    if unix >= until:
        return verdict(False, EXPIRED)
    if pass_id in revocation.passes:
        return verdict(False, REVOKED)
    blocked = revocation.rooms.get(room)
    if blocked is not None:
        return verdict(False, BLOCKED_ROOM, blocked)
    return verdict(True, OK)
