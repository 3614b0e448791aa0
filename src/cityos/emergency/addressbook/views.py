"""People as the address book's pages and API show them: members and recipients with their
place (``1栋 1单元 101``), residents' names and everyone's phone masked unless the viewer holds
``pii:read`` over the region, in which case the read is written to the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.runtime import field_cipher
from cityos.emergency.addressbook.models import MemberRole
from cityos.emergency.addressbook.sync import path_ids
from cityos.identity.models import Account
from cityos.people import pii
from cityos.people.models import Person
from cityos.people.pii import mask_name
from cityos.places.models import Region, RegionLevel


@dataclass(frozen=True)
class PersonView:
    """One member or recipient as shown: names of residents masked and phones masked unless
    the viewer holds pii:read."""

    role: str
    name: str
    phone: str | None
    place: str
    account_id: int | None
    person_id: int | None
    member_id: int | None = None
    source: str | None = None
    read_at: datetime | None = None


@dataclass(frozen=True)
class Entry:
    """What ``people`` needs of one row (a member or a receipt)."""

    role: str
    account_id: int | None
    person_id: int | None
    region_path: str | None
    member_id: int | None = None
    source: str | None = None
    read_at: datetime | None = None


def place_labels(session: Session, paths: Iterable[str | None]) -> dict[str, str]:
    """``1栋 1单元 101`` for a room's path; the region's name for an account's area."""
    clean = sorted({p for p in paths if p})
    ids = sorted({i for p in clean for i in path_ids(p)})
    regions: dict[int, tuple[str, str]] = {}
    for i in range(0, len(ids), 500):
        for rid, name, level in session.execute(
            select(Region.id, Region.name, Region.level).where(Region.id.in_(ids[i : i + 500]))
        ):
            regions[int(rid)] = (str(name), str(level))
    out = {}
    house = (RegionLevel.BUILDING, RegionLevel.UNIT, RegionLevel.ROOM)
    for path in clean:
        chain = [regions[i] for i in path_ids(path) if i in regions]
        parts = [name for name, level in chain if level in house]
        out[path] = " ".join(parts) if parts else (chain[-1][0] if chain else "")
    return out


def people(
    session: Session, actor: Actor, entries: Sequence[Entry], *, region_path: str, subject: tuple[str, int]
) -> tuple[list[PersonView], bool]:
    """Views of ``entries`` and whether they are unmasked (pii:read over ``region_path``; the
    unmasked read is audited against ``subject``)."""
    unmasked = actor.can("pii:read", region=region_path)
    account_ids = sorted({e.account_id for e in entries if e.account_id is not None})
    accounts = (
        {
            int(a): (str(n), p)
            for a, n, p in session.execute(
                select(Account.id, Account.display_name, Account.person_id).where(Account.id.in_(account_ids))
            )
        }
        if account_ids
        else {}
    )
    person_ids = sorted(
        {e.person_id for e in entries if e.person_id is not None} | {p for _, p in accounts.values() if p is not None}
    )
    persons = (
        {
            int(pid): (str(n), enc)
            for pid, n, enc in session.execute(
                select(Person.id, Person.name, Person.phone_enc).where(Person.id.in_(person_ids))
            )
        }
        if person_ids
        else {}
    )
    places = place_labels(session, (e.region_path for e in entries))
    cipher = field_cipher()
    out: list[PersonView] = []
    for e in entries:
        account = accounts.get(e.account_id) if e.account_id is not None else None
        person_id = e.person_id if e.person_id is not None else (account[1] if account else None)
        person = persons.get(person_id) if person_id is not None else None
        if e.role == MemberRole.RESIDENT and person is not None:
            name = person[0] if unmasked else mask_name(person[0])
        elif account is not None:
            name = account[0]
        else:
            name = mask_name(person[0]) if person and not unmasked else (person[0] if person else "")
        phone = None
        if person is not None and person[1]:
            plain = cipher.decrypt(person[1], context=pii.PHONE_CONTEXT)
            phone = plain if unmasked else pii.mask_phone(plain)
        out.append(
            PersonView(
                role=e.role,
                name=name,
                phone=phone,
                place=places.get(e.region_path or "", ""),
                account_id=e.account_id,
                person_id=person_id,
                member_id=e.member_id,
                source=e.source,
                read_at=e.read_at,
            )
        )
    if unmasked and out:
        audit.record(
            session,
            actor,
            "pii.read",
            subject_type=subject[0],
            subject_id=subject[1],
            fields=["name", "phone"],
            detail=f"{len(out)} people",
        )
    return out, unmasked
