"""JSON routes of emergency.addressbook: the address book's groups and members, building leads,
and broadcasts with read receipts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.emergency.addressbook import broadcasts, candidates, service, views
from cityos.emergency.addressbook.schemas import (
    BroadcastIn,
    BroadcastPage,
    BroadcastRead,
    GroupCreate,
    GroupPage,
    GroupRead,
    LeadIn,
    LeadRead,
    MemberIn,
    MemberPage,
    PersonRead,
    SyncIn,
    SyncRead,
    UnreadPage,
)
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["emergency"])


@router.get("/address-groups", response_model=GroupPage)
def list_groups(
    session: DbSession, actor: CurrentActor, region_id: Annotated[int, Query()], params: PageQuery
) -> GroupPage:
    """The groups of a region's subtree (per building, per grid, made by staff) and those above it
    in the caller's area, with their members counted by role."""
    page = service.list_groups(session, actor, region_id=region_id, params=params)
    return GroupPage(
        items=[GroupRead.of(g, page.counts.get(g.id, {})) for g in page.items],
        page=params.page,
        size=params.size,
        total=page.total,
    )


@router.post("/address-groups", response_model=GroupRead, status_code=201)
def create_group(body: GroupCreate, session: DbSession, actor: CurrentActor) -> GroupRead:
    """A group made by staff (campaign:manage) at a region of their area, with accounts of it."""
    group = service.create_group(
        session,
        actor,
        region_id=body.region_id,
        name=body.name,
        members=[m.model_dump() for m in body.members],
    )
    return GroupRead.of(group, service.role_counts(session, [group.id])[group.id])


@router.post("/address-groups/sync", response_model=SyncRead)
def sync_groups(body: SyncIn, session: DbSession, actor: CurrentActor) -> SyncRead:
    """Build or refresh the automatic groups of every building and grid of a region's subtree
    (campaign:manage); publishing a campaign does this too."""
    result = service.sync_region(session, actor, region_id=body.region_id)
    return SyncRead(
        groups=result.groups, created=result.created, added=result.added, removed=result.removed, updated=result.updated
    )


@router.get("/address-groups/{address_group_id}/members", response_model=MemberPage)
def list_members(
    address_group_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    role: Annotated[str | None, Query(max_length=16)] = None,
) -> MemberPage:
    """A group's members (leads first), one role or all. Residents' names and phones are masked
    unless the caller holds pii:read; an unmasked list is written to the audit log."""
    page = candidates.member_page(session, actor, group_id=address_group_id, role=role, params=params)
    return MemberPage(
        group=GroupRead.of(page.group, page.counts),
        items=[PersonRead.of(v) for v in page.items],
        page=params.page,
        size=params.size,
        total=page.total,
        unmasked=page.unmasked,
    )


@router.post("/address-groups/{address_group_id}/members", response_model=PersonRead, status_code=201)
def add_member(address_group_id: int, body: MemberIn, session: DbSession, actor: CurrentActor) -> PersonRead:
    """Add an account to a group made by staff, or link a volunteer to a building's or grid's group."""
    member = service.add_member(session, actor, group_id=address_group_id, account_id=body.account_id, role=body.role)
    group = service.get_group(session, actor, address_group_id)
    shown, _ = views.people(
        session,
        actor,
        [
            views.Entry(
                role=member.role,
                account_id=member.account_id,
                person_id=None,
                region_path=member.region_path,
                member_id=member.id,
                source=member.source,
            )
        ],
        region_path=group.region_path,
        subject=("address_group", group.id),
    )
    return PersonRead.of(shown[0])


@router.delete("/address-groups/{address_group_id}/members/{address_member_id}", status_code=204)
def remove_member(address_group_id: int, address_member_id: int, session: DbSession, actor: CurrentActor) -> Response:
    """Take a hand-added member out of a group (409 for members that come from the data)."""
    service.remove_member(session, actor, group_id=address_group_id, member_id=address_member_id)
    return Response(status_code=204)


@router.put("/buildings/{building_id}/lead", response_model=LeadRead)
def set_lead(building_id: int, body: LeadIn, session: DbSession, actor: CurrentActor) -> LeadRead:
    """Choose the building's 楼栋长 (campaign:manage): a volunteer, grid worker or community staff
    whose area includes the building; ``account_id`` null leaves the building without one."""
    account = service.set_lead(session, actor, building_id=building_id, account_id=body.account_id)
    return LeadRead(
        building_id=building_id,
        account_id=account.id if account else None,
        name=account.display_name if account else None,
    )


@router.post("/broadcasts", response_model=BroadcastRead, status_code=201)
def send_broadcast(body: BroadcastIn, session: DbSession, actor: CurrentActor) -> BroadcastRead:
    """通知群发 to a region subtree (``target_region_id``) or a group (``group_id``) of the caller's
    area (broadcast:send). Urgent ones also go out by SMS where a phone is known."""
    row = broadcasts.send(
        session,
        actor,
        target_region_id=body.target_region_id,
        group_id=body.group_id,
        title=body.title,
        body=body.body,
        urgency=body.urgency,
        campaign_id=body.campaign_id,
    )
    return BroadcastRead.of(row, read_count=0)


@router.get("/broadcasts", response_model=BroadcastPage)
def list_broadcasts(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    box: Annotated[str, Query(max_length=16)] = "received",
) -> BroadcastPage:
    """``received`` (default): what reached you, with when you read it; ``sent``: what you sent,
    with how many read it; ``area``: every broadcast to your area (campaign:read)."""
    listed = broadcasts.list_broadcasts(session, actor, box=box, params=params)
    staff_view = listed.box != "received"
    return BroadcastPage(
        box=listed.box,
        items=[
            BroadcastRead.of(
                b,
                read_count=listed.read_counts.get(b.id, 0) if staff_view else None,
                read_at=listed.my_reads.get(b.id),
            )
            for b in listed.items
        ],
        page=params.page,
        size=params.size,
        total=listed.total,
    )


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastRead)
def get_broadcast(broadcast_id: int, session: DbSession, actor: CurrentActor) -> BroadcastRead:
    """One broadcast. For a recipient, opening it is the read receipt; the sender and staff over
    the target get the read and unread counts per building."""
    opened = broadcasts.open_broadcast(session, actor, broadcast_id=broadcast_id)
    return BroadcastRead.of(
        opened.broadcast,
        read_count=opened.summary.read if opened.summary else None,
        read_at=opened.receipt.read_at if opened.receipt else None,
        receipts=opened.summary,
    )


@router.get("/broadcasts/{broadcast_id}/unread", response_model=UnreadPage)
def list_unread(
    broadcast_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    building_id: Annotated[int | None, Query()] = None,
) -> UnreadPage:
    """Who has not read it yet, by building and room (``building_id`` 0: staff and others), for
    the sender and staff over the target; names masked unless pii:read."""
    page = broadcasts.unread(session, actor, broadcast_id=broadcast_id, building_id=building_id, params=params)
    return UnreadPage(
        items=[PersonRead.of(v) for v in page.items],
        page=params.page,
        size=params.size,
        total=page.total,
        unmasked=page.unmasked,
    )
