"""JSON routes of community.access.

``router`` (under /api/v1) serves residents (passes, tokens, visitors, goods slips) and the
property office (passes, rules, blocked rooms, gates, the access log). ``device_router`` serves
the gates themselves under /device-api/v1: they authenticate with their device key in the
``X-Device-Key`` header, not as a person, so those routes live outside /api/v1 (mounted by
``pages.router``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sqlalchemy.orm import Session

from cityos.community.access import gates, goods, residents, service, visitors
from cityos.community.access import rules as rules_
from cityos.community.access.models import AccessRules, EntryPass, GoodsSlip, PassKind
from cityos.community.access.schemas import (
    BlockedRoomRead,
    BlockIn,
    EventPage,
    EventRead,
    EventsIn,
    GateCreate,
    GateRead,
    GoodsCheckIn,
    GoodsCheckRead,
    JoinRead,
    JoinRoomRead,
    PassCreate,
    PassPage,
    PassRead,
    PublicKeyRead,
    RevokeIn,
    RulesRead,
    RulesUpdate,
    SlipCreate,
    SlipPage,
    SlipRead,
    SyncRead,
    TokenRead,
    VerifyIn,
    VerifyRead,
    VisitorCreate,
    VisitorRead,
)
from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.core.pagination import PageQuery
from cityos.identity.deps import CurrentActor
from cityos.people.pii import mask_name
from cityos.places.devices.models import Device

router = APIRouter(prefix="/api/v1", tags=["community"])
device_router = APIRouter(prefix="/device-api/v1", tags=["community-devices"])

DeviceKey = Annotated[str | None, Header(alias="X-Device-Key", max_length=200)]


# --- reading helpers -----------------------------------------------------------------------------


def pass_reads(
    session: Session, actor: Actor, rows: list[EntryPass], *, masked: bool, own: bool = False
) -> list[PassRead]:
    """Passes as the API shows them; an unmasked read of other people's passes is audited."""
    names = service.holder_names(session, {p.holder_person_id for p in rows})
    if not masked and not own and rows:
        audit.record(
            session,
            actor,
            "pii.read",
            subject_type="entry_pass",
            subject_id=",".join(str(p.id) for p in rows)[:64],
            fields=["name"],
        )
    out = []
    for p in rows:
        if p.kind == PassKind.VISITOR:
            holder = visitors.visitor_name(p, masked=masked)
        else:
            name = names.get(p.holder_person_id or 0, "")
            holder = mask_name(name) if masked else name
        out.append(
            PassRead(
                id=p.id,
                kind=p.kind,
                status=service.state_of(p),
                estate_id=p.estate_id,
                room_id=p.room_id,
                label=p.label,
                relation=p.relation,
                holder_name=holder,
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                entries_max=p.entries_max,
                entries_left=p.entries_left,
                revoked_at=p.revoked_at,
                revoked_reason=translate(p.revoked_reason) if p.revoked_reason else None,
                created_at=p.created_at,
            )
        )
    return out


def visitor_read(p: EntryPass) -> VisitorRead:
    code = visitors.link_of(p)
    return VisitorRead(
        id=p.id,
        status=service.state_of(p),
        room_id=p.room_id,
        label=p.label,
        visitor_name=visitors.visitor_name(p, masked=False),  # the host typed it
        visitor_phone=visitors.visitor_phone(p, masked=True),
        valid_from=p.valid_from,
        valid_until=p.valid_until,
        entries_max=p.entries_max,
        entries_left=p.entries_left,
        link=f"/community/visit/{code}" if code else None,
    )


def slip_read(slip: GoodsSlip, *, own: bool, person: str) -> SlipRead:
    return SlipRead(
        id=slip.id,
        status=goods.state_of(slip),
        estate_id=slip.estate_id,
        room_id=slip.room_id,
        label=slip.label,
        description=slip.description,
        code=slip.code if own else None,
        person_name=person,
        valid_from=slip.valid_from,
        valid_until=slip.valid_until,
        used_at=slip.used_at,
        created_at=slip.created_at,
    )


def rules_read(rules: AccessRules) -> RulesRead:
    return RulesRead(
        estate_id=rules.estate_id, updated_at=rules.updated_at if rules.id else None, **rules_.as_dict(rules)
    )


def gate_read(device: Device, key: str | None = None) -> GateRead:
    return GateRead(
        id=device.id,
        code=device.code,
        name=device.name,
        status=device.status,
        last_seen_at=device.last_seen_at,
        key=key,
    )


# --- the resident's passes -----------------------------------------------------------------------


@router.get("/passes", response_model=list[PassRead])
def my_passes(session: DbSession, actor: CurrentActor) -> list[PassRead]:
    """Your valid entry passes."""
    actor.require("pass:request")
    return pass_reads(session, actor, service.my_passes(session, actor), masked=False, own=True)


@router.post("/passes", response_model=PassRead, status_code=201)
def get_pass(body: PassCreate, session: DbSession, actor: CurrentActor) -> PassRead:
    """The one tap of the join page: a pass for your room in the estate (from your residence record)."""
    entry_pass = service.issue_pass(session, actor, estate_id=body.estate_id, room_id=body.room_id)
    return pass_reads(session, actor, [entry_pass], masked=False, own=True)[0]


@router.get("/estates/{estate_id}/join", response_model=JoinRead)
def join_choices(estate_id: int, session: DbSession, actor: CurrentActor) -> JoinRead:
    """What the join page pre-fills: your current rooms in the estate and the pass you hold for each."""
    choices = service.join_choices(session, actor, estate_id=estate_id)
    estate = rules_.estate_by_id(session, estate_id)
    return JoinRead(
        estate_id=estate.id,
        estate_name=estate.name,
        rooms=[
            JoinRoomRead(
                room_id=c.room.id,
                label=c.label,
                relation=c.relation,
                pass_id=c.current_pass.id if c.current_pass else None,
            )
            for c in choices
        ],
    )


@router.get("/passes/{pass_id}/token", response_model=TokenRead)
def pass_token(pass_id: int, session: DbSession, actor: CurrentActor) -> TokenRead:
    """The token to show as a QR now; it changes every rotation period (fetch it again then)."""
    token = service.current_token(session, actor, pass_id=pass_id)
    return TokenRead(
        token=token.token,
        step=token.step,
        rotation_seconds=token.rotation,
        refresh_in=round(token.refresh_in, 3),
        valid_until=token.valid_until,
    )


@router.post("/passes/{pass_id}/cancel", response_model=PassRead)
def cancel_pass(pass_id: int, session: DbSession, actor: CurrentActor) -> PassRead:
    """Give up your own pass."""
    return pass_reads(session, actor, [service.cancel_pass(session, actor, pass_id=pass_id)], masked=False, own=True)[0]


@router.post("/passes/{pass_id}/revoke", response_model=PassRead)
def revoke_pass(pass_id: int, body: RevokeIn, session: DbSession, actor: CurrentActor) -> PassRead:
    """Revoke a pass of an estate you manage, with the reason; gates refuse it from now on."""
    entry_pass = service.revoke_pass(session, actor, pass_id=pass_id, reason=body.reason)
    return pass_reads(session, actor, [entry_pass], masked=not actor.can("pii:read"))[0]


# --- visitors and goods slips --------------------------------------------------------------------


@router.get("/visitor-passes", response_model=list[VisitorRead])
def my_visitors(session: DbSession, actor: CurrentActor) -> list[VisitorRead]:
    """The visitor passes you issued, newest first."""
    actor.require("pass:request")
    return [visitor_read(p) for p in visitors.my_invitations(session, actor)]


@router.post("/visitor-passes", response_model=VisitorRead, status_code=201)
def invite(body: VisitorCreate, session: DbSession, actor: CurrentActor) -> VisitorRead:
    """Invite a visitor to one of your rooms; send them the link in the answer."""
    invitation = visitors.invite(
        session,
        actor,
        room_id=body.room_id,
        name=body.name,
        phone=body.phone,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        max_entries=body.max_entries,
    )
    return visitor_read(invitation.entry_pass)


@router.post("/visitor-passes/{pass_id}/cancel", response_model=VisitorRead)
def cancel_visitor(pass_id: int, session: DbSession, actor: CurrentActor) -> VisitorRead:
    """Call a visit off."""
    return visitor_read(visitors.cancel(session, actor, pass_id=pass_id))


@router.get("/goods-slips", response_model=list[SlipRead])
def my_slips(session: DbSession, actor: CurrentActor) -> list[SlipRead]:
    """Your goods-out slips, newest first."""
    actor.require("pass:request")
    return [slip_read(s, own=True, person="") for s in goods.my_slips(session, actor)]


@router.post("/goods-slips", response_model=SlipRead, status_code=201)
def register_slip(body: SlipCreate, session: DbSession, actor: CurrentActor) -> SlipRead:
    """Register goods leaving from one of your rooms (出门条); show its code to the guard."""
    slip = goods.register(
        session,
        actor,
        room_id=body.room_id,
        description=body.description,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return slip_read(slip, own=True, person="")


@router.post("/goods-slips/{slip_id}/cancel", response_model=SlipRead)
def cancel_slip(slip_id: int, session: DbSession, actor: CurrentActor) -> SlipRead:
    return slip_read(goods.cancel(session, actor, slip_id=slip_id), own=True, person="")


# --- the property office -------------------------------------------------------------------------


@router.get("/estates/{estate_id}/passes", response_model=PassPage)
def estate_passes(
    estate_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    kind: Annotated[str | None, Query(pattern="^(resident|visitor)$")] = None,
    status: Annotated[str | None, Query(pattern="^(active|expired|revoked|cancelled|used_up)$")] = None,
    room_id: int | None = None,
) -> PassPage:
    """An estate's passes, newest first; names masked unless you hold pii:read."""
    rows, total = service.list_passes(
        session, actor, estate_id=estate_id, params=params, kind=kind, status=status, room_id=room_id
    )
    masked = not actor.can("pii:read")
    return PassPage(
        items=pass_reads(session, actor, rows, masked=masked),
        page=params.page,
        size=params.size,
        total=total,
        masked=masked,
    )


@router.get("/estates/{estate_id}/access-rules", response_model=RulesRead)
def get_rules(estate_id: int, session: DbSession, actor: CurrentActor) -> RulesRead:
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    return rules_read(rules_.for_estate(session, estate))


@router.patch("/estates/{estate_id}/access-rules", response_model=RulesRead)
def change_rules(estate_id: int, body: RulesUpdate, session: DbSession, actor: CurrentActor) -> RulesRead:
    """Change the estate's rules; only the fields given change, and the change is audited."""
    changes = body.model_dump(include=body.model_fields_set)
    return rules_read(rules_.update(session, actor, estate_id=estate_id, changes=changes))


@router.get("/estates/{estate_id}/blocked-rooms", response_model=list[BlockedRoomRead])
def list_blocked(estate_id: int, session: DbSession, actor: CurrentActor) -> list[BlockedRoomRead]:
    return [BlockedRoomRead.model_validate(b) for b in service.blocked_rooms(session, actor, estate_id=estate_id)]


@router.post("/estates/{estate_id}/blocked-rooms", response_model=BlockedRoomRead, status_code=201)
def block_room(estate_id: int, body: BlockIn, session: DbSession, actor: CurrentActor) -> BlockedRoomRead:
    """Suspend a room's passes (and its visitors'), with the reason."""
    row = service.block_room(session, actor, estate_id=estate_id, room_id=body.room_id, reason=body.reason)
    return BlockedRoomRead.model_validate(row)


@router.delete("/estates/{estate_id}/blocked-rooms/{blocked_room_id}", status_code=204)
def unblock_room(estate_id: int, blocked_room_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Lift a room's block (the id is the room's)."""
    service.unblock_room(session, actor, estate_id=estate_id, room_id=blocked_room_id)


@router.get("/estates/{estate_id}/gates", response_model=list[GateRead])
def list_gates(estate_id: int, session: DbSession, actor: CurrentActor) -> list[GateRead]:
    """The estate's gates with their state and when they were last seen."""
    return [gate_read(d) for d in gates.gates(session, actor, estate_id=estate_id)]


@router.post("/estates/{estate_id}/gates", response_model=GateRead, status_code=201)
def register_gate(estate_id: int, body: GateCreate, session: DbSession, actor: CurrentActor) -> GateRead:
    """Register a gate; the answer holds its device key, shown this once."""
    made = gates.register_gate(
        session, actor, estate_id=estate_id, name=body.name, code=body.code, lon=body.lon, lat=body.lat
    )
    return gate_read(made.device, made.key)


@router.get("/estates/{estate_id}/access-events", response_model=EventPage)
def access_log(
    estate_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    gate_id: int | None = None,
    direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
    result: Annotated[str | None, Query(pattern="^(allowed|refused)$")] = None,
    kind: Annotated[str | None, Query(pattern="^(resident|visitor|goods|unknown)$")] = None,
    room_id: int | None = None,
    pass_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    offline_only: bool = False,
) -> EventPage:
    """The access log, newest first; names masked unless you hold pii:read."""
    filters = gates.LogFilter(
        gate_id=gate_id,
        direction=direction,
        result=result,
        kind=kind,
        room_id=room_id,
        pass_id=pass_id,
        date_from=date_from,
        date_to=date_to,
        offline_only=offline_only,
    )
    rows, total, masked = gates.access_log(session, actor, estate_id=estate_id, filters=filters, params=params)
    return EventPage(
        items=[
            EventRead(
                id=r.event.id,
                at=r.event.at,
                gate_id=r.event.gate_id,
                gate=r.gate,
                pass_id=r.event.pass_id,
                kind=r.event.kind,
                person=r.person,
                place=r.place,
                direction=r.event.direction,
                result=r.event.result,
                reason=r.event.reason,
                message=translate(gates.REASONS.get(r.event.reason, r.event.reason)),
                recorded_offline=r.event.recorded_offline,
                late=r.event.late,
            )
            for r in rows
        ],
        page=params.page,
        size=params.size,
        total=total,
        masked=masked,
    )


@router.get("/estates/{estate_id}/goods-slips", response_model=SlipPage)
def estate_slips(
    estate_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    status: Annotated[str | None, Query(pattern="^(active|used|cancelled|expired)$")] = None,
) -> SlipPage:
    """The estate's goods-out slips, newest first (residents' names masked)."""
    rows, total = goods.list_slips(session, actor, estate_id=estate_id, params=params, status=status)
    names = service.holder_names(session, {s.person_id for s in rows})
    return SlipPage(
        items=[slip_read(s, own=False, person=mask_name(names.get(s.person_id, ""))) for s in rows],
        page=params.page,
        size=params.size,
        total=total,
    )


@router.post("/estates/{estate_id}/goods-slips/check", response_model=GoodsCheckRead)
def guard_check(estate_id: int, body: GoodsCheckIn, session: DbSession, actor: CurrentActor) -> GoodsCheckRead:
    """The guard checks a slip's code and lets the goods out (once)."""
    estate = rules_.estate_of(session, actor, estate_id)
    return _goods_read(goods.let_out(session, estate, code=body.code, actor=actor))


@router.get("/estates/{estate_id}/access-stats", response_model=dict[str, int | float])
def access_stats(estate_id: int, session: DbSession, actor: CurrentActor) -> dict[str, int | float]:
    """Today's entry figures of the estate."""
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    return service.stats(session, region=estate)


def _goods_read(checked: goods.Checked) -> GoodsCheckRead:
    slip = checked.slip
    return GoodsCheckRead(
        allowed=checked.allowed,
        reason=checked.reason,
        message=translate(gates.REASONS[checked.reason]),
        description=slip.description if slip else None,
        place=slip.label if slip else None,
        valid_until=slip.valid_until if slip else None,
    )


# --- the gates' own API (device key) -------------------------------------------------------------


@device_router.get("/gates/config")
def gate_config(session: DbSession, x_device_key: DeviceKey = None) -> dict[str, object]:
    """Everything the gate needs to check passes offline: the estate's public key, the rotation
    period and skew, the rules and the revocation list."""
    gate = gates.gate_for_key(session, x_device_key)
    return gates.config(session, gate)


@device_router.get("/gates/revocations")
def gate_revocations(
    session: DbSession,
    x_device_key: DeviceKey = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, object]:
    """Passes stopped before their time (since ``since`` when given) and the blocked rooms."""
    gate = gates.gate_for_key(session, x_device_key)
    return service.revocation_json(service.revocation_list(session, gate.estate, since=service.parse_since(since)))


@device_router.post("/gates/verify", response_model=VerifyRead)
def gate_verify(body: VerifyIn, session: DbSession, x_device_key: DeviceKey = None) -> VerifyRead:
    """The online check of a scanned code; the access event is recorded either way."""
    gate = gates.gate_for_key(session, x_device_key)
    decision = gates.verify(session, gate, token=body.token, direction=body.direction)
    p = decision.entry_pass
    holder = None
    if p is not None:
        if p.kind == PassKind.VISITOR:
            holder = visitors.visitor_name(p, masked=True)
        else:
            holder = mask_name(service.holder_names(session, {p.holder_person_id}).get(p.holder_person_id or 0, ""))
    return VerifyRead(
        allowed=decision.allowed,
        reason=decision.reason,
        message=translate(gates.REASONS[decision.reason]),
        detail=decision.detail,
        pass_id=p.id if p else None,
        kind=p.kind if p else None,
        place=p.label if p else None,
        holder=holder,
        entries_left=p.entries_left if p else None,
        event_id=decision.event.id,
    )


@device_router.post("/gates/events", response_model=SyncRead)
def gate_events(body: EventsIn, session: DbSession, x_device_key: DeviceKey = None) -> SyncRead:
    """Upload the events recorded while offline; each event's ``id`` makes a resend harmless."""
    gate = gates.gate_for_key(session, x_device_key)
    result = gates.upload(
        session,
        gate,
        events=[
            gates.OfflineEvent(
                id=e.id,
                direction=e.direction,
                result=e.result,
                reason=e.reason,
                at=residents.as_utc(e.at),
                pass_id=e.pass_id,
            )
            for e in body.events
        ],
    )
    return SyncRead(accepted=result.accepted, duplicates=result.duplicates, late=result.late)


@device_router.post("/gates/goods", response_model=GoodsCheckRead)
def gate_goods(body: GoodsCheckIn, session: DbSession, x_device_key: DeviceKey = None) -> GoodsCheckRead:
    """A goods-out slip's code scanned at the gate: the goods go out once."""
    gate = gates.gate_for_key(session, x_device_key)
    return _goods_read(goods.let_out(session, gate.estate, code=body.code, gate=gate.device))


@device_router.get("/estates/{estate_id}/public-key", response_model=PublicKeyRead)
def estate_public_key(estate_id: int, session: DbSession) -> PublicKeyRead:
    """The estate's public key that verifies its passes (public: anyone may check a pass offline)."""
    estate = rules_.estate_by_id(session, estate_id)
    kid, public = service.public_key(session, estate.id)
    return PublicKeyRead(estate_id=estate.id, kid=kid, algorithm="Ed25519", public_key=public)
