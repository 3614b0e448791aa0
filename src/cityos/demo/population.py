"""Synthetic residents: households in rooms, with plausible ages, relations and tags."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cityos.core.crypto import BlindIndex, FieldCipher
from cityos.demo.identifiers import IdNumbers, Phones
from cityos.demo.names import Namer
from cityos.demo.writer import BulkWriter
from cityos.people.models import Gender, Household, Person, PersonTag, Relation, Residence, Tag

# Ages and tags are taken at this date, not "today", so a seed always gives the same city.
REFERENCE_DATE = date(2026, 1, 1)

PiiSink = Callable[[str, str], None]
"""Receives ("id_number" | "phone", plaintext) for every generated value (tests only)."""

# (kind, weight): household compositions, roughly after the 2020 census shares.
_HOUSEHOLD_KINDS: tuple[tuple[str, float], ...] = (
    ("single", 12),
    ("elderly_alone", 8),
    ("couple", 14),
    ("elderly_couple", 9),
    ("couple_child", 22),
    ("couple_children", 12),
    ("three_generations", 13),
    ("single_parent", 5),
    ("shared", 5),
)
_KINDS = [k for k, _ in _HOUSEHOLD_KINDS]
_KIND_WEIGHTS = [w for _, w in _HOUSEHOLD_KINDS]


@dataclass
class Member:
    age: int
    male: bool
    relation: str
    surname: str | None = None


@dataclass
class RoomRef:
    id: int
    path: str
    area: str  # 6-digit county code embedded in identity numbers


@dataclass
class Population:
    """Issues persons, households, residences and tags into a ``BulkWriter``."""

    writer: BulkWriter
    rng: random.Random
    namer: Namer
    cipher: FieldCipher
    index: BlindIndex
    pii_sink: PiiSink | None = None
    ids: IdNumbers = field(init=False)
    phones: Phones = field(init=False)
    persons: int = 0
    households: int = 0
    reserved_phone: str | None = None  # the next household head gets this phone (the demo resident)
    reserved_person_id: int | None = None

    def __post_init__(self) -> None:
        self.ids = IdNumbers(self.rng)
        self.phones = Phones(self.rng)

    def fill_room(self, room: RoomRef) -> None:
        members = self._compose(self.rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0])
        household_id = self.writer.new_id(Household)
        low_income = self.rng.random() < 0.025
        living_alone = len(members) == 1
        surname = self.namer.surname()
        since = REFERENCE_DATE - timedelta(days=self.rng.randrange(30, 365 * 25))
        person_ids: list[int] = []
        for i, m in enumerate(members):
            person_id = self._person(room, m, surname=m.surname or surname, head=(i == 0))
            person_ids.append(person_id)
            self._tags(person_id, m, low_income=low_income, living_alone=living_alone)
        self.writer.add(
            Household,
            {
                "id": household_id,
                "room_id": room.id,
                "region_path": room.path,
                "head_person_id": person_ids[0],
                "created_at": _stamp(since),
            },
        )
        for pid, m in zip(person_ids, members, strict=True):
            birth_floor = REFERENCE_DATE - timedelta(days=365 * m.age)
            self.writer.add(
                Residence,
                {
                    "id": self.writer.new_id(Residence),
                    "person_id": pid,
                    "room_id": room.id,
                    "household_id": household_id,
                    "relation": m.relation,
                    "since": max(since, birth_floor),
                    "until": None,
                },
            )
        self.households += 1

    # composition -------------------------------------------------------------
    def _compose(self, kind: str) -> list[Member]:
        r = self.rng
        head_rel = Relation.OWNER if r.random() < 0.7 else Relation.TENANT
        fam = Relation.FAMILY
        male = r.random() < 0.5
        if kind == "single":
            return [Member(r.randint(20, 58), male, head_rel)]
        if kind == "elderly_alone":
            return [Member(r.randint(60, 94), r.random() < 0.4, Relation.OWNER)]
        if kind == "shared":
            return [
                Member(r.randint(19, 36), r.random() < 0.5, Relation.TENANT, self.namer.surname())
                for _ in range(r.randint(2, 3))
            ]
        if kind in ("couple", "elderly_couple"):
            age = r.randint(60, 88) if kind == "elderly_couple" else r.randint(24, 59)
            rel = Relation.OWNER if kind == "elderly_couple" else head_rel
            return [Member(age, male, rel), self._spouse(age, male)]
        if kind == "single_parent":
            age = r.randint(28, 52)
            return [Member(age, male, head_rel), self._child(age)]
        age = r.randint(27, 55)
        members = [Member(age, male, head_rel), self._spouse(age, male), self._child(age)]
        if kind == "couple_children" or (kind == "three_generations" and r.random() < 0.4):
            members.append(self._child(age))
        if kind == "three_generations":
            elder_age = min(age + r.randint(24, 32), 95)
            members.append(Member(elder_age, True, fam, None))  # head's father: same surname
            if r.random() < 0.6:
                members.append(Member(min(elder_age + r.randint(-4, 2), 95), False, fam, self.namer.surname()))
        return members

    def _spouse(self, age: int, male: bool) -> Member:
        return Member(max(20, age + self.rng.randint(-5, 4)), not male, Relation.FAMILY, self.namer.surname())

    def _child(self, parent_age: int) -> Member:
        return Member(max(0, parent_age - self.rng.randint(22, 38)), self.rng.random() < 0.52, Relation.FAMILY)

    # rows ----------------------------------------------------------------------
    def _person(self, room: RoomRef, m: Member, *, surname: str, head: bool) -> int:
        r = self.rng
        birth = REFERENCE_DATE - timedelta(days=365 * m.age + r.randrange(0, 365))
        if birth.month == 2 and birth.day == 29:
            birth = birth.replace(day=28)
        id_number = self.ids.issue(room.area, birth, male=m.male)
        person_id = self.writer.new_id(Person)
        phone: str | None = None
        if head and m.age >= 18 and self.reserved_phone is not None:
            phone, self.reserved_phone = self.reserved_phone, None
            self.reserved_person_id = person_id
        elif m.age >= 14 and (m.age < 80 or r.random() < 0.5):
            phone = self.phones.issue()
        if self.pii_sink is not None:
            self.pii_sink("id_number", id_number)
            if phone is not None:
                self.pii_sink("phone", phone)
        stamp = _stamp(REFERENCE_DATE)
        self.writer.add(
            Person,
            {
                "id": person_id,
                "name": self.namer.person(male=m.male, surname=surname),
                "gender": Gender.MALE.value if m.male else Gender.FEMALE.value,
                "birth_date": birth,
                "id_number_enc": self.cipher.encrypt(id_number, context="person.id_number"),
                "id_number_hash": self.index.digest(id_number, purpose="id_number"),
                "phone_enc": self.cipher.encrypt(phone, context="person.phone") if phone else None,
                "phone_hash": self.index.digest(phone, purpose="phone") if phone else None,
                "region_id": room.id,
                "region_path": room.path,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        self.persons += 1
        return person_id

    def _tags(self, person_id: int, m: Member, *, low_income: bool, living_alone: bool) -> None:
        r = self.rng
        tags: list[Tag] = []
        if m.age >= 60:
            tags.append(Tag.ELDERLY)
            if living_alone:
                tags.append(Tag.LIVING_ALONE)
        if m.age < 18:
            tags.append(Tag.CHILD)
        if r.random() < (0.14 if m.age >= 60 else 0.03):
            tags.append(Tag.DISABLED)
        if low_income:
            tags.append(Tag.LOW_INCOME)
        if 18 <= m.age < 60 and r.random() < 0.005:
            tags.append(Tag.KEY_GROUP)
        if m.male and m.age >= 30 and r.random() < 0.03:
            tags.append(Tag.VETERAN)
        if not m.male and 22 <= m.age <= 40 and r.random() < 0.03:
            tags.append(Tag.PREGNANT)
        if m.age >= 18 and r.random() < 0.08:
            tags.append(Tag.PARTY_MEMBER)
        if m.age >= 16 and r.random() < 0.04:
            tags.append(Tag.VOLUNTEER)
        for tag in tags:
            self.writer.add(
                PersonTag,
                {"id": self.writer.new_id(PersonTag), "person_id": person_id, "tag": tag.value},
            )


def _stamp(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)
