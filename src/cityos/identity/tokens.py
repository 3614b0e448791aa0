"""JWT access, refresh and page-session tokens (HS256 with the platform secret)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from cityos.core.db import utcnow
from cityos.core.errors import Unauthorized
from cityos.core.settings import get_settings

TokenKind = Literal["access", "refresh", "session", "client"]
_ISSUER = "cityos"


@dataclass(frozen=True)
class TokenClaims:
    kind: TokenKind
    subject: str
    jti: str
    expires_at: datetime
    extra: dict[str, Any]


def issue(kind: TokenKind, subject: str, ttl: timedelta, **extra: Any) -> tuple[str, TokenClaims]:
    now = utcnow()
    jti = uuid.uuid4().hex
    exp = now + ttl
    payload = {"iss": _ISSUER, "typ": kind, "sub": subject, "jti": jti, "iat": now, "exp": exp, **extra}
    token = jwt.encode(payload, get_settings().secret_key, algorithm="HS256")
    return token, TokenClaims(kind, subject, jti, exp, extra)


def decode(token: str, *, expect: TokenKind | tuple[TokenKind, ...]) -> TokenClaims:
    kinds = (expect,) if isinstance(expect, str) else expect
    try:
        data = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=["HS256"],
            issuer=_ISSUER,
            options={"require": ["exp", "sub", "typ", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Your sign-in has expired. Please sign in again.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The sign-in token is not valid.") from exc
    if data["typ"] not in kinds:
        raise Unauthorized("The sign-in token is not valid.")
    extra = {k: v for k, v in data.items() if k not in {"iss", "typ", "sub", "jti", "iat", "exp"}}
    return TokenClaims(data["typ"], data["sub"], data["jti"], datetime.fromtimestamp(data["exp"]).astimezone(), extra)
