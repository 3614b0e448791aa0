"""Checking a credential's data against its kind's fields (``kinds.py`` explains the types)."""

from __future__ import annotations

from datetime import date
from typing import Any

from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.people import validation
from cityos.services.licences.models import CredentialKind

MAX_VALUE = 500
GENDERS = ("male", "female", "unknown")

MSG_REQUIRED = N_("This field is required.")
MSG_UNKNOWN_FIELD = N_("This credential kind has no field {key}.")
MSG_DATA = N_("Give the credential's data as an object of field names and values.")
MSG_TEXT = N_("Enter text of at most {max_length} characters.")
MSG_DATE = N_("Must be a date like 2024-05-01.")
MSG_GENDER = N_("Must be one of: {expected}.")


def check_data(kind: CredentialKind, data: Any) -> tuple[dict[str, str], list[FieldError]]:
    if not isinstance(data, dict):
        return {}, [FieldError("data", MSG_DATA)]
    errors: list[FieldError] = []
    known = {str(f["key"]): f for f in kind.fields}
    for key in data:
        if str(key) not in known:
            errors.append(FieldError(f"data.{key}", MSG_UNKNOWN_FIELD, {"key": key}))
    clean: dict[str, str] = {}
    for key, spec in known.items():
        raw = data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.get("required", True):
                errors.append(FieldError(f"data.{key}", MSG_REQUIRED))
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            errors.append(FieldError(f"data.{key}", MSG_TEXT, {"max_length": MAX_VALUE}))
            continue
        value = str(raw).strip()
        error = _value_error(str(spec.get("type", "text")), value)
        if error is not None:
            errors.append(FieldError(f"data.{key}", *error))
            continue
        clean[key] = _normalise(str(spec.get("type", "text")), value)
    return clean, errors


def _value_error(type_: str, value: str) -> tuple[str, dict[str, Any]] | None:
    if len(value) > MAX_VALUE:
        return MSG_TEXT, {"max_length": MAX_VALUE}
    if type_ == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return MSG_DATE, {}
        return None
    if type_ == "gender":
        return None if value in GENDERS else (MSG_GENDER, {"expected": ", ".join(GENDERS)})
    if type_ == "id_number":
        error = validation.id_number_error(validation.normalise_id_number(value))
        return (error, {}) if error else None
    if type_ == "phone":
        error = validation.phone_error(validation.normalise_phone(value))
        return (error, {}) if error else None
    if type_ == "uscc":
        error = validation.uscc_error(validation.normalise_uscc(value))
        return (error, {}) if error else None
    return None


def _normalise(type_: str, value: str) -> str:
    if type_ == "id_number":
        return validation.normalise_id_number(value)
    if type_ == "phone":
        return validation.normalise_phone(value)
    if type_ == "uscc":
        return validation.normalise_uscc(value)
    return value
