"""Domain errors. Services raise these; one handler in ``web`` maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


@dataclass
class FieldError:
    """One problem with one input field; ``message`` is an untranslated msgid."""

    field: str
    message: str
    params: dict[str, Any] = dc_field(default_factory=dict)


class DomainError(Exception):
    status_code = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[FieldError] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or []
        self.params = params or {}
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "You do not have permission to do this."


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"
    default_message = "Please sign in."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "This conflicts with existing data."


class Invalid(DomainError):
    status_code = 422
    code = "invalid"
    default_message = "Some fields are not valid."


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"
    default_message = "Too many attempts. Please try again later."
