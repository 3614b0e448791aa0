"""Who the address book's pages and API list: one page of a group's members (masked by
``views``, which audits an unmasked read), a building's lead (楼栋长), and the accounts offered
as a building's lead or as members of a group. It builds on ``service``'s scope checks and role
tables; ``service`` does not import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import FieldError, Invalid
from cityos.core.pagination import PageParams
from cityos.emergency.addressbook import views
from cityos.emergency.addressbook.models import Group, Member, MemberRole
from cityos.emergency.addressbook.service import LEAD_ROLES, MSG_ROLE, ROLE_ORDER, ROLES, get_group, role_counts
from cityos.emergency.addressbook.sync import VOLUNTEER_ROLE, prefixes
from cityos.identity.models import Account, AccountRole
from cityos.places.models import Region


def lead_candidates(session: Session, actor: Actor, *, building: Region, limit: int = 200) -> list[Account]:
    """Accounts that could lead the building: active volunteers, grid workers and community
    staff whose area includes it, within the actor's area."""
    rows = session.scalars(
        select(Account)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(
            AccountRole.role.in_(sorted(LEAD_ROLES)),
            Account.active.is_(True),
            Account.scope_path.in_(prefixes(building.path)),
            subtree_clause(Account.scope_path, actor.scope_path),
        )
        .distinct()
        .order_by(Account.display_name, Account.id)
        .limit(limit)
    ).all()
    return list(rows)


def team_candidates(session: Session, actor: Actor, *, region: Region, limit: int = 200) -> list[Account]:
    """Staff, grid workers and volunteers of a place (scoped to it, inside it or above it, within
    the actor's area): whom a group made by staff is usually made of."""
    return list(
        session.scalars(
            select(Account)
            .join(AccountRole, AccountRole.account_id == Account.id)
            .where(
                AccountRole.role.in_(sorted(LEAD_ROLES)),
                Account.active.is_(True),
                subtree_clause(Account.scope_path, actor.scope_path),
                or_(Account.scope_path.in_(prefixes(region.path)), subtree_clause(Account.scope_path, region.path)),
            )
            .distinct()
            .order_by(Account.display_name, Account.id)
            .limit(limit)
        ).all()
    )


def volunteers_in(session: Session, actor: Actor, *, region: Region, limit: int = 200) -> list[Account]:
    """Active volunteer accounts of the actor's area (to link to a group by hand)."""
    return list(
        session.scalars(
            select(Account)
            .join(AccountRole, AccountRole.account_id == Account.id)
            .where(
                AccountRole.role == VOLUNTEER_ROLE,
                Account.active.is_(True),
                subtree_clause(Account.scope_path, actor.scope_path),
                or_(Account.scope_path.in_(prefixes(region.path)), subtree_clause(Account.scope_path, region.path)),
            )
            .order_by(Account.display_name, Account.id)
            .limit(limit)
        ).all()
    )


@dataclass
class MemberPage:
    group: Group
    items: list[views.PersonView]
    total: int
    unmasked: bool
    counts: dict[str, int]


def member_page(session: Session, actor: Actor, *, group_id: int, role: Any = None, params: PageParams) -> MemberPage:
    """One page of a group's members (each account or person once, in their first role)."""
    group = get_group(session, actor, group_id)
    if role is not None and role not in ROLES:
        raise Invalid(details=[FieldError("role", MSG_ROLE, {"expected": ", ".join(ROLES)})])
    order = ROLE_ORDER
    rows = session.execute(
        select(
            Member.id,
            Member.role,
            Member.member_key,
            Member.account_id,
            Member.person_id,
            Member.region_path,
            Member.source,
        ).where(Member.group_id == group.id, *([Member.role == role] if role is not None else []))
    ).all()
    seen: set[str] = set()
    unique = []
    for r in sorted(rows, key=lambda r: (order.get(r.role, 9), r.region_path or "", r.id)):
        if r.member_key in seen:
            continue
        seen.add(r.member_key)
        unique.append(r)
    page = unique[params.offset : params.offset + params.size]
    entries = [
        views.Entry(
            role=r.role,
            account_id=r.account_id,
            person_id=r.person_id,
            region_path=r.region_path,
            member_id=r.id,
            source=r.source,
        )
        for r in page
    ]
    shown, unmasked = views.people(
        session, actor, entries, region_path=group.region_path, subject=("address_group", group.id)
    )
    counts = role_counts(session, [group.id])[group.id]
    return MemberPage(group, shown, len(unique), unmasked, counts)


def lead_of(session: Session, group: Group) -> Member | None:
    return session.scalar(select(Member).where(Member.group_id == group.id, Member.role == MemberRole.LEAD).limit(1))
