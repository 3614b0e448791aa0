"""The population registry as the source of 居民身份证 and 居民户口簿: what a person's record
proves today, the card's validity by age, and the issuing public security department."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.runtime import field_cipher
from cityos.people import pii, validation
from cityos.people.models import Household, Person, Residence
from cityos.places.models import Region


def id_card_days(birth: date | None, today: date) -> int | None:
    """居民身份证法: under 16 five years, 16–25 ten, 26–45 twenty, from 46 long-term (None)."""
    if birth is None:
        return 20 * 365 + 5
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < 16:
        return 5 * 365 + 1
    if age <= 25:
        return 10 * 365 + 2
    if age <= 45:
        return 20 * 365 + 5
    return None


def full_address(session: Session, region_id: int | None) -> str:
    if region_id is None:
        return ""
    region = session.get(Region, region_id)
    if region is None:
        return ""
    ids = [int(p) for p in region.path.strip("/").split("/") if p]
    names = {int(i): str(n) for i, n in session.execute(select(Region.id, Region.name).where(Region.id.in_(ids)))}
    return "".join(names[i] for i in ids if i in names)


_RELATIONS = {"owner": "户主", "tenant": "租户", "family": "家庭成员", "collective": "集体户成员"}


def registry_data(session: Session, person: Person) -> dict[str, dict[str, str]]:
    """The data the registry proves today, per kind (a kind is absent when the registry lacks it)."""
    cipher = field_cipher()
    id_number = cipher.decrypt(person.id_number_enc, context=pii.ID_CONTEXT) if person.id_number_enc else None
    birth = person.birth_date
    if birth is None and id_number and validation.id_number_valid(id_number):
        birth = validation.id_number_info(id_number).birth
    address = full_address(session, person.region_id)
    out: dict[str, dict[str, str]] = {}
    base = {"name": person.name, "gender": person.gender or "unknown"}
    if id_number and birth:
        card = {**base, "birth_date": birth.isoformat(), "id_number": id_number}
        if address:
            card["address"] = address
        out["id_card"] = card
    residence = session.scalar(
        select(Residence)
        .where(Residence.person_id == person.id, Residence.until.is_(None), Residence.household_id.is_not(None))
        .order_by(Residence.since.desc(), Residence.id.desc())
        .limit(1)
    )
    if residence is not None and birth is not None:
        household = session.get(Household, residence.household_id)
        is_head = household is not None and household.head_person_id == person.id
        room_address = full_address(session, residence.room_id)
        entry = {
            **base,
            "household_no": f"{residence.household_id:09d}",
            "relation": "户主" if is_head else _RELATIONS.get(residence.relation, "家庭成员"),
            "birth_date": birth.isoformat(),
            "address": room_address or address,
        }
        if id_number:
            entry["id_number"] = id_number
        out["household_register"] = entry
    return out


def registry_issuer(session: Session, person: Person) -> int | None:
    """The public security department (公安局) of the person's district, else the city's."""
    if person.region_id is None:
        return None
    region = session.get(Region, person.region_id)
    if region is None:
        return None
    from cityos.services.catalogue import service as catalogue

    found = catalogue.department_for(session, kind="gaj", region=region)
    return found.id if found is not None else None
