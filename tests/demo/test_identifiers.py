"""Synthetic identifiers: checksums against published examples, uniqueness, 18xx dates."""

from __future__ import annotations

import random
from datetime import date

import pytest

from cityos.demo.identifiers import (
    IdNumbers,
    Phones,
    Usccs,
    demo_birth_segment,
    id_number_valid,
    uscc_valid,
)


def test_checksums_match_published_examples() -> None:
    assert id_number_valid("11010519491231002X")  # the GB 11643 example
    assert not id_number_valid("110105194912310021")
    assert uscc_valid("91350100M000100Y43")
    assert not uscc_valid("91350100M000100Y44")


def test_demo_identity_numbers_are_unique_valid_and_in_the_1800s() -> None:
    ids = IdNumbers(random.Random(1))
    issued = [ids.issue("510104", date(1990, 5, 17), male=i % 2 == 0) for i in range(400)]
    assert len(set(issued)) == 400
    assert all(id_number_valid(n) for n in issued)
    assert all(n[6:14] == "18900517" for n in issued)
    assert all(int(n[16]) % 2 == (1 if i % 2 == 0 else 0) for i, n in enumerate(issued))


def test_demo_birth_segment_refuses_29_february() -> None:
    assert demo_birth_segment(date(2001, 3, 1)) == "18010301"
    with pytest.raises(ValueError, match="29 February"):
        demo_birth_segment(date(2000, 2, 29))


def test_phones_and_usccs_are_unique_and_well_formed() -> None:
    rng = random.Random(3)
    phones = Phones(rng)
    numbers = [phones.issue() for _ in range(5000)]
    assert len(set(numbers)) == 5000
    assert all(len(n) == 11 and n[0] == "1" and n[1] in "3456789" and not n.startswith("199") for n in numbers)
    usccs = Usccs(rng)
    codes = [usccs.issue(registrar="9", kind="1", area="510104") for _ in range(2000)]
    assert len(set(codes)) == 2000
    assert all(uscc_valid(c) and c.startswith("91510104") for c in codes)
