"""Building the automatic groups of the address book (one per building, one per grid) for a
region subtree, and reconciling their members with the live data, with bulk queries only.

Who is in an automatic group:

- **staff / grid_worker**: active accounts holding ``community_staff`` or ``grid_worker`` whose
  scope is the group's region or one above it (the grid's workers, the community's staff …);
- **lead** (楼栋长): the account ``service.set_lead`` chose for a building (a manual row of the
  building's group), also listed in the group of the building's grid;
- **volunteer**: active accounts holding ``volunteer`` whose scope lies inside the building
  (or, for a grid group, inside the grid), and the volunteers linked to a building by hand;
- **resident** (building groups only): everyone living in the building now (a current
  residence in one of its rooms, or registered there), with their account when they have one.

Automatic rows are replaced by each sync; manual rows (leads, linked volunteers) are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import subtree_clause
from cityos.core.db import utcnow
from cityos.core.settings import get_settings
from cityos.emergency.addressbook.models import Group, GroupKind, Member, MemberRole, MemberSource
from cityos.identity.models import Account, AccountRole
from cityos.people.models import Person, Residence
from cityos.places.models import Region, RegionLevel

STAFF_ROLES: dict[str, str] = {"community_staff": MemberRole.STAFF, "grid_worker": MemberRole.GRID_WORKER}
VOLUNTEER_ROLE = "volunteer"
AUTO_LEVELS = (RegionLevel.GRID.value, RegionLevel.BUILDING.value)
_CHUNK = 500


@dataclass(frozen=True)
class SyncResult:
    groups: int  # automatic groups in the subtree after the sync
    created: int  # of which new
    added: int  # member rows added
    removed: int  # member rows removed
    updated: int  # member rows changed (a resident who got an account, moved within the building …)


def auto_key(level: str, region_id: int) -> str:
    return f"{level}:{region_id}"


def local_zone() -> ZoneInfo:
    """The city's time zone (dates and times are shown and counted in it)."""
    return ZoneInfo(get_settings().timezone)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(local_zone()).date()


def current_residence(today: date) -> Any:
    return and_(Residence.since <= today, or_(Residence.until.is_(None), Residence.until >= today))


def prefixes(path: str) -> list[str]:
    """Every ancestor path of ``path`` and itself, root first: ``/1/5/`` → ``/``, ``/1/``, ``/1/5/``."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/"] + ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _group_names(session: Session, places: Sequence[Any]) -> dict[int, str]:
    """A building's group is named after its estate too (阳光小区 1栋); a grid's after the grid."""
    parent_ids = sorted({p.parent_id for p in places if p.level == RegionLevel.BUILDING and p.parent_id})
    parents: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(parent_ids):
        for pid, name, level in session.execute(
            select(Region.id, Region.name, Region.level).where(Region.id.in_(chunk))
        ):
            parents[int(pid)] = (name, level)
    names = {}
    for p in places:
        parent = parents.get(p.parent_id) if p.parent_id else None
        if p.level == RegionLevel.BUILDING and parent and parent[1] == RegionLevel.ESTATE:
            names[p.id] = f"{parent[0]} {p.name}"[:128]
        else:
            names[p.id] = p.name[:128]
    return names


def _ensure_groups(session: Session, region: Region, now: datetime) -> tuple[dict[str, Group], int]:
    places = session.execute(
        select(Region.id, Region.level, Region.path, Region.name, Region.parent_id).where(
            subtree_clause(Region.path, region.path), Region.level.in_(AUTO_LEVELS)
        )
    ).all()
    names = _group_names(session, places)
    existing = {
        g.auto_key: g
        for g in session.scalars(
            select(Group).where(Group.kind.in_(AUTO_LEVELS), subtree_clause(Group.region_path, region.path))
        )
        if g.auto_key
    }
    created = 0
    groups: dict[str, Group] = {}
    for p in places:
        key = auto_key(p.level, p.id)
        group = existing.get(key)
        if group is None:
            # A region moved here from elsewhere keeps its group (its path is updated below).
            group = session.scalar(select(Group).where(Group.auto_key == key))
        if group is None:
            group = Group(
                kind=p.level, auto_key=key, region_id=p.id, region_path=p.path, name=names[p.id], created_at=now
            )
            session.add(group)
            created += 1
        else:
            if group.region_path != p.path:
                group.region_path = p.path
            if group.name != names[p.id]:
                group.name = names[p.id]
        groups[key] = group
    session.flush()
    return groups, created


def homes(path: str, today: date) -> Any:
    """Subquery (pid, rid, path) of the people living in the subtree of ``path`` now: a current
    residence in one of its rooms, or — for people with no residence on record at all — their
    registered region. (Someone who moved out keeps their last room as registered region, so
    the registered region alone does not say they live there.)"""
    in_rooms = (
        select(Residence.person_id.label("pid"), Region.id.label("rid"), Region.path.label("path"))
        .join(Region, Region.id == Residence.room_id)
        .where(subtree_clause(Region.path, path), current_residence(today))
    )
    any_residence = select(Residence.id).where(Residence.person_id == Person.id).exists()
    registered = select(Person.id.label("pid"), Person.region_id.label("rid"), Person.region_path.label("path")).where(
        subtree_clause(Person.region_path, path), Person.region_id.is_not(None), ~any_residence
    )
    return in_rooms.union_all(registered).subquery()


def _residents(session: Session, region: Region, today: date) -> list[tuple[int, int | None, str]]:
    """(person, account or None, home path) of everyone living in the subtree now."""
    home = homes(region.path, today)
    rows = session.execute(
        select(home.c.pid, Account.id, home.c.path)
        .outerjoin(Account, and_(Account.person_id == home.c.pid, Account.active.is_(True)))
        .order_by(home.c.pid, Account.id)
    ).all()
    return [(int(pid), int(aid) if aid is not None else None, str(path)) for pid, aid, path in rows]


def _accounts_with_roles(session: Session, roles: Iterable[str], where: Any) -> list[tuple[int, str, str, int]]:
    """(account, role, scope path, scope region) of the active accounts with one of ``roles``."""
    rows = session.execute(
        select(Account.id, AccountRole.role, Account.scope_path, Account.scope_region_id)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(AccountRole.role.in_(list(roles)), Account.active.is_(True), where)
        .order_by(Account.id)
    ).all()
    return [(int(a), str(r), str(p), int(s)) for a, r, p, s in rows]


Row = dict[str, Any]


def _desired(
    session: Session, region: Region, groups: dict[str, Group], today: date
) -> dict[tuple[int, str, str], Row]:
    """The automatic member rows every group should have, keyed by (group, role, member key)."""
    by_region = {g.region_id: g for g in groups.values()}
    building_ids = {g.region_id for g in groups.values() if g.kind == GroupKind.BUILDING}
    grid_ids = {g.region_id for g in groups.values() if g.kind == GroupKind.GRID}
    want: dict[tuple[int, str, str], Row] = {}

    def add(group: Group, role: str, key: str, **values: Any) -> None:
        want.setdefault(
            (group.id, role, key),
            {"group_id": group.id, "role": role, "member_key": key, "source": MemberSource.AUTO, **values},
        )

    def containing(path: str, ids: set[int]) -> Group | None:
        for rid in reversed(path_ids(path)):
            if rid in ids:
                return by_region[rid]
        return None

    # Staff scoped to a group's region or above it.
    staff = _accounts_with_roles(
        session,
        STAFF_ROLES,
        or_(Account.scope_path.in_(prefixes(region.path)), subtree_clause(Account.scope_path, region.path)),
    )
    staff_at: dict[str, list[tuple[int, str, str]]] = {}
    for account_id, role, scope_path, _ in staff:
        staff_at.setdefault(scope_path, []).append((account_id, STAFF_ROLES[role], scope_path))
    for group in groups.values():
        for path in prefixes(group.region_path):
            for account_id, role, scope_path in staff_at.get(path, ()):
                add(group, role, f"a{account_id}", account_id=account_id, region_path=scope_path)

    # Volunteers scoped inside a building (also in its grid's group) or inside a grid.
    for account_id, _, scope_path, _ in _accounts_with_roles(
        session, [VOLUNTEER_ROLE], subtree_clause(Account.scope_path, region.path)
    ):
        building = containing(scope_path, building_ids)
        grid = containing(scope_path, grid_ids)
        for home in (building, grid):
            if home is not None:
                add(
                    home,
                    MemberRole.VOLUNTEER,
                    f"a{account_id}",
                    account_id=account_id,
                    building_id=building.region_id if building else None,
                    region_path=scope_path,
                )

    # Leads and hand-linked volunteers of the buildings, in the groups of their grids.
    if grid_ids:
        linked = session.execute(
            select(
                Member.account_id,
                Member.role,
                Member.member_key,
                Member.region_path,
                Group.region_id,
                Group.region_path,
            )
            .join(Group, Group.id == Member.group_id)
            .where(
                Group.kind == GroupKind.BUILDING,
                subtree_clause(Group.region_path, region.path),
                Member.source == MemberSource.MANUAL,
                Member.role.in_((MemberRole.LEAD, MemberRole.VOLUNTEER)),
            )
        ).all()
        for linked_id, role, key, member_path, building_id, building_path in linked:
            grid = containing(building_path, grid_ids)
            if grid is not None:
                add(grid, role, key, account_id=linked_id, building_id=building_id, region_path=member_path)

    # Residents of the buildings.
    for person_id, resident_account, path in _residents(session, region, today):
        building = containing(path, building_ids)
        if building is not None:
            add(
                building,
                MemberRole.RESIDENT,
                f"p{person_id}",
                account_id=resident_account,
                person_id=person_id,
                building_id=building.region_id,
                region_path=path,
            )
    return want


def sync_groups(session: Session, *, region: Region) -> SyncResult:
    """Create the automatic groups of every building and grid in ``region``'s subtree and bring
    their members up to date (idempotent: a second run changes nothing). Flushes, never commits."""
    now = utcnow()
    groups, created = _ensure_groups(session, region, now)
    want = _desired(session, region, groups, local_today(now))
    have = session.execute(
        select(
            Member.id,
            Member.group_id,
            Member.role,
            Member.member_key,
            Member.source,
            Member.account_id,
            Member.person_id,
            Member.building_id,
            Member.region_path,
        )
        .join(Group, Group.id == Member.group_id)
        .where(Group.kind.in_(AUTO_LEVELS), subtree_clause(Group.region_path, region.path))
    ).all()
    stale: list[int] = []
    changes: list[Row] = []
    for row in have:
        key = (row.group_id, row.role, row.member_key)
        wanted = want.pop(key, None)
        if row.source != MemberSource.AUTO:
            continue  # a manual row stands for itself (and takes the place of an automatic one)
        if wanted is None:
            stale.append(row.id)
            continue
        fields = ("account_id", "person_id", "building_id", "region_path")
        if any(getattr(row, f) != wanted.get(f) for f in fields):
            changes.append({"id": row.id, **{f: wanted.get(f) for f in fields}})
    for chunk in _chunks(stale):
        session.execute(delete(Member).where(Member.id.in_(list(chunk))))
    if changes:
        session.execute(update(Member), changes)
    fresh = [
        {
            "account_id": None,
            "person_id": None,
            "building_id": None,
            "region_path": None,
            "created_at": now,
            **values,
        }
        for values in want.values()
    ]
    for chunk in _chunks(fresh, 1000):
        session.execute(insert(Member), list(chunk))
    session.execute(
        update(Group)
        .where(Group.kind.in_(AUTO_LEVELS), subtree_clause(Group.region_path, region.path))
        .values(synced_at=now)
    )
    session.flush()
    return SyncResult(groups=len(groups), created=created, added=len(fresh), removed=len(stale), updated=len(changes))
