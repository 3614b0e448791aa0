"""Checks of the identifiers people and organisations carry: 居民身份证号码 (GB 11643),
统一社会信用代码 (GB 32100 with the GB 11714 organisation code inside), mobile numbers.

Each check returns ``None`` or an untranslated message id, so services can collect field errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cityos.core.i18n import N_

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
# First two digits: the province-level codes of GB/T 2260 (incl. 71 Taiwan, 81/82 HK/Macao).
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
# Demo numbers use 18xx birth dates (see cityos.demo.identifiers); anything older is a typo.
EARLIEST_BIRTH_YEAR = 1800

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Registration authority (first character) -> the organisation types (second character) it issues.
_USCC_KINDS: dict[str, str] = {
    "1": "1239",  # 机构编制
    "2": "19",  # 外交
    "3": "12345789",  # 司法行政
    "4": "19",  # 文化
    "5": "1239",  # 民政
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 / 市场监管
    "A": "19",  # 中央军委改革和编制办公室
    "N": "12345679",  # 农业
    "Y": "1",  # 其他
}

_PHONE = re.compile(r"^1[3-9]\d{9}$")

MSG_ID_SHAPE = N_("An identity number has 18 characters: 17 digits, then a digit or X.")
MSG_ID_AREA = N_("The first two digits are not a province code.")
MSG_ID_DATE = N_("The birth date inside the identity number is not a real date.")
MSG_ID_FUTURE = N_("The birth date inside the identity number is in the future.")
MSG_ID_CHECK = N_("The last character does not match the others; please check the number.")
MSG_USCC_SHAPE = N_("A unified social credit code has 18 characters (digits and capital letters, no I, O, S, V, Z).")
MSG_USCC_KIND = N_("The first two characters are not a known registration authority and type.")
MSG_USCC_CHECK = N_("The check characters do not match; please check the code.")
MSG_PHONE = N_("A mobile number has 11 digits and starts with 13 to 19.")


def normalise_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def id_check_char(body17: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


@dataclass(frozen=True)
class IdNumberInfo:
    area: str  # 6-digit administrative division code of the place of first registration
    birth: date
    male: bool


def id_number_error(value: str, *, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid identity number, or ``None`` when it is (normalise first)."""
    if not _ID_SHAPE.match(value):
        return MSG_ID_SHAPE
    if int(value[:2]) not in _PROVINCES:
        return MSG_ID_AREA
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return MSG_ID_DATE
    if birth.year < EARLIEST_BIRTH_YEAR:
        return MSG_ID_DATE
    if birth > (today or date.today()):
        return MSG_ID_FUTURE
    if id_check_char(value[:17]) != value[17]:
        return MSG_ID_CHECK
    return None


def id_number_valid(value: str) -> bool:
    return id_number_error(normalise_id_number(value)) is None


def id_number_info(value: str) -> IdNumberInfo:
    """Area, birth date and sex of a valid identity number (odd 17th digit: male)."""
    return IdNumberInfo(
        area=value[:6],
        birth=date(int(value[6:10]), int(value[10:12]), int(value[12:14])),
        male=int(value[16]) % 2 == 1,
    )


def uscc_check_char(body17: str) -> str:
    """GB 32100 check character of the first 17 characters of a USCC."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def normalise_uscc(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def uscc_error(value: str) -> str | None:
    """Why ``value`` is not a valid unified social credit code, or ``None`` (normalise first)."""
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        return MSG_USCC_SHAPE
    if value[1] not in _USCC_KINDS.get(value[0], ""):
        return MSG_USCC_KIND
    if not value[2:8].isdigit():
        return MSG_USCC_SHAPE
    # Position 17 is the organisation code's own check (X allowed there), 18 the whole code's.
    if org_code_check_char(value[8:16]) != value[16] or uscc_check_char(value[:17]) != value[17]:
        return MSG_USCC_CHECK
    return None


def uscc_valid(value: str) -> bool:
    return uscc_error(normalise_uscc(value)) is None


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s\-]", "", value.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def phone_error(value: str) -> str | None:
    return None if _PHONE.match(value) else MSG_PHONE
