"""Logic of emergency.addressbook (云上通讯录): groups and their members, and building leads.
Broadcasts are in ``broadcasts.py``; the member pages and the accounts offered as a lead or a
member are in ``candidates.py``. The contract functions other parts call are all importable
from here: ``groups_for``, ``members``, ``building_lead``, ``broadcast``, ``sync_groups``.

Plain functions taking a session; they flush, never commit.

Who sees what: a group is visible to an actor whose region subtree holds the group's region and
who holds ``campaign:read`` (staff, observers, grid workers, commanders) or ``campaign:task``
(volunteers, grid workers). Residents' names are masked and everyone's phone is masked unless
the actor holds ``pii:read`` over the group; such an unmasked read is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.emergency.addressbook.models import Broadcast, Group, GroupKind, Member, MemberRole, MemberSource
from cityos.emergency.addressbook.sync import (
    STAFF_ROLES,
    VOLUNTEER_ROLE,
    SyncResult,
    auto_key,
    homes,
    local_today,
    local_zone,
    path_ids,
    prefixes,
    sync_groups,
)
from cityos.identity.models import Account, AccountRole
from cityos.places.models import Region, RegionLevel

__all__ = [
    "SyncResult",
    "local_zone",
    "broadcast",
    "building_lead",
    "groups_for",
    "members",
    "set_lead",
    "sync_groups",
]

READ_PERMISSIONS = ("campaign:read", "campaign:task")
MANAGE = "campaign:manage"
ROLES: tuple[str, ...] = tuple(r.value for r in MemberRole)
# Roles listed first are shown first (楼栋长 at the top of a building's list).
ROLE_ORDER = {
    MemberRole.LEAD: 0,
    MemberRole.STAFF: 1,
    MemberRole.GRID_WORKER: 2,
    MemberRole.VOLUNTEER: 3,
    MemberRole.RESIDENT: 4,
}
ROLE_TITLES = {
    MemberRole.STAFF: N_("Community staff"),
    MemberRole.GRID_WORKER: N_("Grid worker"),
    MemberRole.LEAD: N_("Building lead"),
    MemberRole.VOLUNTEER: N_("Volunteer"),
    MemberRole.RESIDENT: N_("Resident"),
}
KIND_TITLES = {
    GroupKind.BUILDING: N_("Building group"),
    GroupKind.GRID: N_("Grid group"),
    GroupKind.MANUAL: N_("Group made by staff"),
}
LEAD_ROLES = frozenset({VOLUNTEER_ROLE, *STAFF_ROLES})
NAME_MAX = 64
MAX_MEMBERS = 500

MSG_NOT_BUILDING = N_("Choose a building.")
MSG_NO_ACCOUNT = N_("No such account in your area.")
MSG_LEAD_ROLE = N_("A building lead must be a volunteer, a grid worker or community staff.")
MSG_LEAD_SCOPE = N_("This account's area does not include the building, so it could not act there.")
MSG_GROUP_NAME = N_("Give the group a name of 1 to {max_length} characters.")
MSG_GROUP_NAME_TAKEN = N_("There is already a group with this name here.")
MSG_REGION = N_("Choose a place in your area.")
MSG_ROLE = N_("Must be one of: {expected}.")
MSG_MEMBERS = N_("Give a list of at most {max} members.")
MSG_MEMBER_ROLE_AUTO = N_("Only volunteers can be added to a building's or grid's group by hand.")
MSG_NEEDS_VOLUNTEER = N_("Give this account the volunteer role first.")
MSG_ALREADY_MEMBER = N_("This account is already a member with this role.")
MSG_AUTO_MEMBER = N_("This member comes from roles, areas and residences; change those instead.")


def install(session: Session) -> None:
    """Nothing ships with the address book: its groups are built from the region tree by
    ``sync_groups`` (when a campaign is published, from the address book page, or by
    ``cityos emergency sync-groups``)."""


# --- who may read -------------------------------------------------------------------------------------


def can_read(actor: Actor, region_path: str) -> bool:
    return any(actor.can(p, region=region_path) for p in READ_PERMISSIONS)


def require_read(actor: Actor, region_path: str) -> None:
    if not can_read(actor, region_path):
        raise Forbidden(params={"permission": READ_PERMISSIONS[0]})


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def visible_region(session: Session, actor: Actor, region_id: Any) -> Region:
    """The region if it lies in the actor's subtree, else ``NotFound`` (existence is not leaked)."""
    rid = as_int(region_id)
    region = session.get(Region, rid) if rid is not None else None
    if region is None or not actor.covers(region):
        raise NotFound()
    return region


def get_group(session: Session, actor: Actor, group_id: int) -> Group:
    group = session.get(Group, group_id)
    if group is None or not actor.covers(group.region_path):
        raise NotFound()
    require_read(actor, group.region_path)
    return group


# --- contract functions --------------------------------------------------------------------------------


def groups_for(session: Session, *, region: Region) -> list[Group]:
    """The groups a region belongs to: the automatic groups of its building and grid (and of the
    region itself when it is one), and the manual groups made at it or above it; nearest first."""
    rows = session.scalars(select(Group).where(Group.region_path.in_(prefixes(region.path)))).all()
    return sorted(rows, key=lambda g: (-len(g.region_path), g.kind != GroupKind.BUILDING, g.name, g.id))


def members(session: Session, *, group_id: int) -> list[Member]:
    """Every member row of a group, leads first, then staff, grid workers, volunteers, residents."""
    rows = session.scalars(select(Member).where(Member.group_id == group_id)).all()
    return sorted(rows, key=lambda m: (ROLE_ORDER.get(m.role, 9), m.id))  # type: ignore[call-overload]


def _building_id(building: Region | int) -> int:
    return building if isinstance(building, int) else building.id


def building_lead(session: Session, *, building: Region | int) -> Account | None:
    """The 楼栋长 of a building (who its help requests go to), or None when none is set."""
    return session.scalar(
        select(Account)
        .join(Member, Member.account_id == Account.id)
        .join(Group, Group.id == Member.group_id)
        .where(
            Group.auto_key == auto_key(RegionLevel.BUILDING, _building_id(building)),
            Member.role == MemberRole.LEAD,
            Account.active.is_(True),
        )
        .limit(1)
    )


def broadcast(
    session: Session,
    actor: Actor,
    *,
    target_region_id: Any = None,
    group_id: Any = None,
    title: Any,
    body: Any,
    campaign_id: int | None = None,
    urgency: Any = "normal",
) -> Broadcast:
    """Send a broadcast (通知群发) to a region subtree or a group; see ``broadcasts.send``."""
    from cityos.emergency.addressbook import broadcasts

    return broadcasts.send(
        session,
        actor,
        target_region_id=target_region_id,
        group_id=group_id,
        title=title,
        body=body,
        campaign_id=campaign_id,
        urgency=urgency,
    )


# --- groups ----------------------------------------------------------------------------------------------


@dataclass
class GroupPage:
    region: Region
    items: list[Group]
    total: int | None
    counts: dict[int, dict[str, int]]  # group id -> role -> members


def role_counts(session: Session, group_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {gid: {} for gid in group_ids}
    if not group_ids:
        return out
    for gid, role, n in session.execute(
        select(Member.group_id, Member.role, func.count())
        .where(Member.group_id.in_(list(group_ids)))
        .group_by(Member.group_id, Member.role)
    ):
        out[int(gid)][str(role)] = int(n)
    return out


def list_groups(session: Session, actor: Actor, *, region_id: Any, params: PageParams) -> GroupPage:
    """The groups of a region's subtree and those above it that the actor's area holds."""
    region = visible_region(session, actor, region_id)
    require_read(actor, region.path)
    above = [p for p in prefixes(region.path)[:-1] if p.startswith(actor.scope_path)]
    query = (
        select(Group)
        .where(or_(subtree_clause(Group.region_path, region.path), Group.region_path.in_(above)))
        .order_by(Group.region_path, Group.kind, Group.name, Group.id)
    )
    rows, total = fetch_page(session, query, params)
    return GroupPage(region, rows, total, role_counts(session, [g.id for g in rows]))


def sync_region(session: Session, actor: Actor, *, region_id: Any) -> SyncResult:
    """Build or refresh the automatic groups of a region's subtree (campaign:manage)."""
    region = visible_region(session, actor, region_id)
    actor.require(MANAGE, region=region)
    return sync_groups(session, region=region)


def _clean_name(value: Any, errors: list[FieldError]) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name or len(name) > NAME_MAX:
        errors.append(FieldError("name", MSG_GROUP_NAME, {"max_length": NAME_MAX}))
    return name


def _role_from_account(roles: Iterable[str]) -> str:
    held = set(roles)
    if "community_staff" in held:
        return MemberRole.STAFF
    if "grid_worker" in held:
        return MemberRole.GRID_WORKER
    if VOLUNTEER_ROLE in held:
        return MemberRole.VOLUNTEER
    return MemberRole.RESIDENT


def _account_roles(session: Session, account_ids: Sequence[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {aid: set() for aid in account_ids}
    if account_ids:
        for aid, role in session.execute(
            select(AccountRole.account_id, AccountRole.role).where(AccountRole.account_id.in_(list(account_ids)))
        ):
            out[int(aid)].add(str(role))
    return out


def accounts_in_scope(session: Session, actor: Actor, account_ids: Sequence[int]) -> dict[int, Account]:
    """The active accounts among ``account_ids`` that belong to the actor's area: scoped inside
    it, or the account of someone living in it."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    found = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids), Account.active.is_(True)))}
    out = {aid: a for aid, a in found.items() if a.scope_path.startswith(actor.scope_path)}
    people = {a.person_id: aid for aid, a in found.items() if aid not in out and a.person_id is not None}
    if people:
        home = homes(actor.scope_path, local_today())
        for person_id in session.scalars(select(home.c.pid).where(home.c.pid.in_(list(people)))):
            out[people[person_id]] = found[people[person_id]]
    return out


def _parse_members(value: Any, errors: list[FieldError]) -> list[tuple[int | None, Any, str]]:
    """[(account id, role or None, field)] from ``[{"account_id": 1, "role": "volunteer"}, …]``."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or len(value) > MAX_MEMBERS:
        errors.append(FieldError("members", MSG_MEMBERS, {"max": MAX_MEMBERS}))
        return []
    out: list[tuple[int | None, Any, str]] = []
    for i, item in enumerate(value):
        field = f"members.{i}"
        if isinstance(item, dict):
            out.append((as_int(item.get("account_id")), item.get("role"), field))
        else:
            out.append((as_int(item), None, field))
    return out


def create_group(session: Session, actor: Actor, *, region_id: Any, name: Any, members: Any = None) -> Group:
    """A manual group (e.g. 党员志愿者突击队) at a region of the actor's area, with accounts of that
    area as members; each member's role is given or taken from the account's roles."""
    actor.require(MANAGE)
    errors: list[FieldError] = []
    rid = as_int(region_id)
    region = session.get(Region, rid) if rid is not None else None
    if region is None or not actor.covers(region):
        errors.append(FieldError("region_id", MSG_REGION))
        region = None
    clean = _clean_name(name, errors)
    wanted = _parse_members(members, errors)
    if region is not None and clean:
        taken = session.scalar(
            select(Group.id).where(Group.kind == GroupKind.MANUAL, Group.region_id == region.id, Group.name == clean)
        )
        if taken is not None:
            errors.append(FieldError("name", MSG_GROUP_NAME_TAKEN))
    accounts = accounts_in_scope(session, actor, [a for a, _, _ in wanted if a is not None])
    roles = _account_roles(session, list(accounts))
    rows: dict[tuple[str, int], tuple[int, str]] = {}
    for account_id, role, field in wanted:
        if account_id is None or account_id not in accounts:
            errors.append(FieldError(f"{field}.account_id", MSG_NO_ACCOUNT))
            continue
        if role is not None and role not in ROLES:
            errors.append(FieldError(f"{field}.role", MSG_ROLE, {"expected": ", ".join(ROLES)}))
            continue
        chosen = str(role) if role is not None else _role_from_account(roles[account_id])
        rows[(chosen, account_id)] = (account_id, chosen)
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require(MANAGE, region=region)
    group = Group(
        kind=GroupKind.MANUAL,
        auto_key=None,
        region_id=region.id,
        region_path=region.path,
        name=clean,
        created_by_account_id=actor.account_id,
    )
    session.add(group)
    session.flush()
    for account_id, role in rows.values():
        session.add(
            Member(
                group_id=group.id,
                role=role,
                member_key=f"a{account_id}",
                account_id=account_id,
                person_id=accounts[account_id].person_id,
                region_path=accounts[account_id].scope_path,
                source=MemberSource.MANUAL,
            )
        )
    session.flush()
    return group


def _manage_group(session: Session, actor: Actor, group_id: int) -> Group:
    group = session.get(Group, group_id)
    if group is None or not actor.covers(group.region_path):
        raise NotFound()
    actor.require(MANAGE, region=group.region_path)
    return group


def _grid_of(session: Session, group: Group) -> Region | None:
    ids = path_ids(group.region_path)
    return session.scalar(select(Region).where(Region.id.in_(ids), Region.level == RegionLevel.GRID))


def _resync_around(session: Session, group: Group) -> None:
    """After a building's lead or linked volunteers changed: its grid's group lists them too."""
    if group.kind != GroupKind.BUILDING:
        return
    grid = _grid_of(session, group)
    region = grid or session.get(Region, group.region_id)
    if region is not None:
        sync_groups(session, region=region)


def add_member(session: Session, actor: Actor, *, group_id: int, account_id: Any, role: Any = None) -> Member:
    """Add an account to a manual group (any role), or link a volunteer to a building's or a
    grid's group by hand (role volunteer; the account must hold the volunteer role)."""
    group = _manage_group(session, actor, group_id)
    errors: list[FieldError] = []
    aid = as_int(account_id)
    account = accounts_in_scope(session, actor, [aid]).get(aid) if aid is not None else None
    if account is None:
        errors.append(FieldError("account_id", MSG_NO_ACCOUNT))
    if role is not None and role not in ROLES:
        errors.append(FieldError("role", MSG_ROLE, {"expected": ", ".join(ROLES)}))
    held = _account_roles(session, [account.id])[account.id] if account is not None else set()
    if group.kind == GroupKind.MANUAL:
        chosen = str(role) if role in ROLES else _role_from_account(held)
    else:
        chosen = MemberRole.VOLUNTEER
        if role not in (None, MemberRole.VOLUNTEER):
            errors.append(FieldError("role", MSG_MEMBER_ROLE_AUTO))
        elif account is not None and VOLUNTEER_ROLE not in held:
            errors.append(FieldError("account_id", MSG_NEEDS_VOLUNTEER))
    if account is not None and not errors:
        existing = session.scalar(
            select(Member).where(
                Member.group_id == group.id, Member.role == chosen, Member.member_key == f"a{account.id}"
            )
        )
        if existing is not None and existing.source == MemberSource.MANUAL:
            errors.append(FieldError("account_id", MSG_ALREADY_MEMBER))
        elif existing is not None:
            session.delete(existing)  # the hand-made link outlives the automatic one
            session.flush()
    if errors or account is None:
        raise Invalid(details=errors)
    member = Member(
        group_id=group.id,
        role=chosen,
        member_key=f"a{account.id}",
        account_id=account.id,
        person_id=account.person_id,
        building_id=group.region_id if group.kind == GroupKind.BUILDING else None,
        region_path=account.scope_path,
        source=MemberSource.MANUAL,
    )
    session.add(member)
    session.flush()
    _resync_around(session, group)
    return member


def remove_member(session: Session, actor: Actor, *, group_id: int, member_id: int) -> None:
    """Take a hand-added member out of a group; automatic members follow the data instead."""
    group = _manage_group(session, actor, group_id)
    member = session.get(Member, member_id)
    if member is None or member.group_id != group.id:
        raise NotFound()
    if member.source != MemberSource.MANUAL:
        raise Conflict(MSG_AUTO_MEMBER)
    session.delete(member)
    session.flush()
    _resync_around(session, group)


# --- building leads ---------------------------------------------------------------------------------------


def building_group(session: Session, building: Region) -> Group:
    """The automatic group of a building, built (with its members) when it does not exist yet."""
    group = session.scalar(select(Group).where(Group.auto_key == auto_key(RegionLevel.BUILDING, building.id)))
    if group is None:
        sync_groups(session, region=building)
        group = session.scalar(select(Group).where(Group.auto_key == auto_key(RegionLevel.BUILDING, building.id)))
    assert group is not None
    return group


def set_lead(session: Session, actor: Actor, *, building_id: int, account_id: Any) -> Account | None:
    """Make an account the 楼栋长 of a building (or, with ``account_id`` None, leave it without
    one). Needs campaign:manage over the building (community staff, commanders). The lead must
    be a volunteer, grid worker or community staff whose area includes the building."""
    building = session.get(Region, building_id)
    if building is None or not actor.covers(building):
        raise NotFound()
    actor.require(MANAGE, region=building)
    errors: list[FieldError] = []
    if building.level != RegionLevel.BUILDING:
        errors.append(FieldError("building_id", MSG_NOT_BUILDING))
    account: Account | None = None
    if account_id is not None:
        aid = as_int(account_id)
        account = accounts_in_scope(session, actor, [aid]).get(aid) if aid is not None else None
        if account is None:
            errors.append(FieldError("account_id", MSG_NO_ACCOUNT))
        elif not _account_roles(session, [account.id])[account.id] & LEAD_ROLES:
            errors.append(FieldError("account_id", MSG_LEAD_ROLE))
        elif not building.path.startswith(account.scope_path):
            errors.append(FieldError("account_id", MSG_LEAD_SCOPE))
    if errors:
        raise Invalid(details=errors)
    group = building_group(session, building)
    session.execute(delete(Member).where(Member.group_id == group.id, Member.role == MemberRole.LEAD))
    if account is not None:
        session.add(
            Member(
                group_id=group.id,
                role=MemberRole.LEAD,
                member_key=f"a{account.id}",
                account_id=account.id,
                person_id=account.person_id,
                building_id=building.id,
                region_path=account.scope_path,
                source=MemberSource.MANUAL,
            )
        )
    session.flush()
    _resync_around(session, group)
    return account
