"""Synthetic identifiers for demo records: identity numbers, phone numbers, USCCs.

Demo identity numbers pass the GB 11643 checksum but embed a birth date in 1800-1899
(year = 1800 + birth year % 100), so none of them can be the number of a living person.
"""

from __future__ import annotations

import random
from datetime import date

from cityos.people.validation import id_check_char, id_number_valid, org_code_check_char, uscc_check_char, uscc_valid

# Mobile prefixes used for generated numbers. 199 is left out: the demo resident's fixed
# number uses it, so it can never collide with a generated one.
_PHONE_PREFIXES = tuple(
    str(p) for p in (130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 157, 158, 159, 177, 180, 186, 189)
)


def demo_birth_segment(birth: date) -> str:
    """The 8-digit date segment a demo identity number carries: the same day in 18yy."""
    if birth.month == 2 and birth.day == 29:
        raise ValueError("demo birth dates avoid 29 February")
    return f"{1800 + birth.year % 100:04d}{birth.month:02d}{birth.day:02d}"


class IdNumbers:
    """Issues unique demo identity numbers (18xx birth dates, valid checksum)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[int] = set()

    def issue(self, area: str, birth: date, *, male: bool) -> str:
        prefix = area + demo_birth_segment(birth)
        for _ in range(2000):
            seq = self._rng.randrange(0, 500) * 2 + (1 if male else 0)  # odd: male, even: female
            body = f"{prefix}{seq:03d}"
            key = int(body)
            if key not in self._issued:
                self._issued.add(key)
                return body + id_check_char(body)
        raise RuntimeError("no free sequence number left for this area and birth date")


class Phones:
    """Unique synthetic mobile numbers: a prefix and an 8-digit permutation of a counter."""

    _MOD = 10**8

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._mul = rng.choice((37_139_213, 48_271_013, 69_069_001, 22_695_477))  # coprime with 10
        self._add = rng.randrange(self._MOD)
        self._count = 0

    def issue(self) -> str:
        suffix = (self._mul * self._count + self._add) % self._MOD
        self._count += 1
        return f"{self._rng.choice(_PHONE_PREFIXES)}{suffix:08d}"


__all__ = [
    "IdNumbers",
    "Phones",
    "Usccs",
    "demo_birth_segment",
    "id_check_char",
    "id_number_valid",
    "org_code_check_char",
    "uscc_check_char",
    "uscc_valid",
]


class Usccs:
    """Unique valid 统一社会信用代码 (GB 32100) for demo organisations."""

    _MOD = 10**8

    def __init__(self, rng: random.Random) -> None:
        self._mul = rng.choice((48_271_013, 69_069_001, 37_139_213))
        self._add = rng.randrange(self._MOD)
        self._count = 0

    def issue(self, *, registrar: str, kind: str, area: str) -> str:
        """``registrar``/``kind``: '9'/'1' enterprise, '9'/'2' sole trader, '5'/'1' social organisation."""
        org = f"{(self._mul * self._count + self._add) % self._MOD:08d}"
        self._count += 1
        body = f"{registrar}{kind}{area}{org}{org_code_check_char(org)}"
        return body + uscc_check_char(body)
