"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cityos.core.i18n import N_

MIN_LENGTH = 10
MSG_SHORT = N_("A password has at least {min_length} characters.")
MSG_DIGITS = N_("A password may not be digits only.")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 verification
# and the response time does not tell whether an account exists.
_DUMMY = _hasher.hash("cityos-no-such-account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def policy_error(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return MSG_SHORT
    if password.isdigit():
        return MSG_DIGITS
    return None
