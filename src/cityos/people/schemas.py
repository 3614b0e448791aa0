"""API schemas of people. Identity numbers and phones leave the service only masked, except in
``PersonPii`` (the audited reveal)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from cityos.people import pii
from cityos.people.models import Gender, Person, Relation, Tag


class PersonCreate(BaseModel):
    """A resident to register. ``region_id`` is a room (a residence starts there) or a coarser region."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    region_id: int
    id_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    gender: Gender | None = None
    birth_date: date | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    relation: Relation | None = None
    since: date | None = None
    household_id: int | None = None


class PersonUpdate(BaseModel):
    """Fields to change; a missing field is left alone, ``phone: null`` removes the phone."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    id_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    gender: Gender | None = None
    birth_date: date | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)


class PersonRead(BaseModel):
    id: int
    name: str
    gender: str
    birth_date: date | None
    age: int | None
    id_number: str | None = Field(description="Masked (510104********123X) unless the reveal endpoint is used")
    phone: str | None = Field(description="Masked (138****5678)")
    region_id: int | None
    region_name: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, person: Person, *, tags: list[str], region_name: str | None, today: date) -> PersonRead:
        """The masked read of a person (the only form lists and details return)."""
        shown = pii.masked(person)
        birth = person.birth_date
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day)) if birth else None
        return cls(
            id=person.id,
            name=person.name,
            gender=person.gender,
            birth_date=birth,
            age=age,
            id_number=shown.id_number,
            phone=shown.phone,
            region_id=person.region_id,
            region_name=region_name,
            tags=tags,
            created_at=person.created_at,
            updated_at=person.updated_at,
        )


class PersonPage(BaseModel):
    items: list[PersonRead]
    page: int
    size: int
    total: int | None = None


class PersonLookup(BaseModel):
    """Exact search by identity number or phone; sent in a body so numbers stay out of URLs and logs."""

    model_config = ConfigDict(extra="forbid")

    id_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=200)


class PersonPii(BaseModel):
    person_id: int
    id_number: str | None
    phone: str | None


class ResidenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    room_id: int
    relation: Relation
    since: date | None = None
    household_id: int | None = None


class ResidenceEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: date | None = None


class ResidenceRead(BaseModel):
    id: int
    person_id: int
    room_id: int
    household_id: int | None
    relation: str
    since: date
    until: date | None
    address: str | None = None


class MemberRead(BaseModel):
    person_id: int
    name: str
    relation: str
    since: date
    head: bool


class HouseholdRead(BaseModel):
    id: int
    room_id: int
    address: str
    head_person_id: int | None
    members: list[MemberRead]


class HouseholdRow(BaseModel):
    id: int
    room_id: int
    address: str
    head_person_id: int | None
    members: int


class HouseholdPage(BaseModel):
    items: list[HouseholdRow]
    page: int
    size: int
    total: int | None = None
