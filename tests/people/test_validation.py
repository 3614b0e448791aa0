"""Identity numbers (GB 11643), unified social credit codes (GB 32100), phones."""

from __future__ import annotations

from datetime import date

import pytest

from cityos.people import pii, validation
from cityos.people.validation import (
    MSG_ID_AREA,
    MSG_ID_CHECK,
    MSG_ID_DATE,
    MSG_ID_FUTURE,
    MSG_ID_SHAPE,
    MSG_USCC_CHECK,
    MSG_USCC_KIND,
    MSG_USCC_SHAPE,
    id_check_char,
    id_number_error,
    id_number_info,
    org_code_check_char,
    uscc_check_char,
    uscc_error,
)


def make_id(body17: str) -> str:
    return body17 + id_check_char(body17)


def make_uscc(head: str = "91", area: str = "510104", org: str = "MA6CXXXX") -> str:
    body = f"{head}{area}{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


def test_published_sample_number_passes() -> None:
    # The GB 11643 worked example: 11010519491231002X.
    assert id_number_error("11010519491231002X") is None
    info = id_number_info("11010519491231002X")
    assert info == validation.IdNumberInfo(area="110105", birth=date(1949, 12, 31), male=False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1101051949123100", MSG_ID_SHAPE),
        ("11010519491231002Y", MSG_ID_SHAPE),
        ("01010519491231002X", MSG_ID_SHAPE),  # leading zero
        ("99010519491231002X", MSG_ID_AREA),
        (make_id("11010519490230002"), MSG_ID_DATE),  # 30 February
        (make_id("11010517990101002"), MSG_ID_DATE),  # before 1800
        (make_id("11010520991231002"), MSG_ID_FUTURE),
        ("110105194912310021", MSG_ID_CHECK),
    ],
)
def test_bad_identity_numbers_say_why(value: str, message: str) -> None:
    assert id_number_error(value, today=date(2026, 11, 23)) == message


def test_demo_numbers_with_18xx_dates_are_valid() -> None:
    number = make_id("51010418800101001")
    assert id_number_error(number) is None
    assert id_number_info(number).male is True


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert validation.id_number_valid(" 110105 19491231002x ")


def test_uscc_checks() -> None:
    code = make_uscc()
    assert uscc_error(code) is None
    assert validation.uscc_valid(code.lower())
    # A real published code (国家电网有限公司).
    assert uscc_error("9111000071093123XX") is None
    assert uscc_error(code[:-1] + ("0" if code[-1] != "0" else "1")) == MSG_USCC_CHECK
    assert uscc_error(code[:16] + ("0" if code[16] != "0" else "1") + code[17]) == MSG_USCC_CHECK
    assert uscc_error("91510104MA6CXXXXI" + "1") == MSG_USCC_SHAPE  # I is not in the alphabet
    assert uscc_error("short") == MSG_USCC_SHAPE
    assert uscc_error(make_uscc(head="97")) == MSG_USCC_KIND


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("13812345678", True), ("+86 138-1234-5678", True), ("12812345678", False), ("1381234567", False)],
)
def test_phones(raw: str, ok: bool) -> None:
    assert (validation.phone_error(validation.normalise_phone(raw)) is None) is ok


def test_masks_keep_area_and_last_digits_only() -> None:
    assert pii.mask_id_number("11010519491231002X") == "110105********002X"
    assert pii.mask_phone("13812345678") == "138****5678"
