"""Orders: the whole life (placed → accepted → in service → done → rated, re-rated once) with
its timeline and a notification to the other side at every step; who may take which step
(another shop cannot even see the order); the cancel rules; the phone masked to the shop until
it accepts (and audited when shown); bad input refused with nothing written; orders nobody
answers cancelled after 24 hours; the shop's rating from its orders' latest ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases.models import Rating
from cityos.community.commerce import orders, service, tasks
from cityos.community.commerce.models import Order, OrderEvent
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.i18n import translate
from cityos.core.models import AuditRecord
from cityos.core.runtime import Runtime
from cityos.identity.models import Notification, SmsMessage
from tests.community.commerce_fixtures import Shops, actor, make_shops, offer_at

# 10:00 in Chengdu on a weekday: inside every shop's hours below.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def shops(session: Session) -> Shops:
    return make_shops(session)


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {d.field: translate(d.message, locale="en", **d.params) for d in exc.value.details}


def _order(session: Session, shops: Shops, **kwargs: object) -> Order:
    offer = offer_at(session, shops, north_m=500, opening_hours="08:00-20:00")
    return orders.place_order(session, actor(session, shops.resident), offer_id=offer.id, now=NOW, **kwargs)  # type: ignore[arg-type]


def _titles(session: Session, account_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Notification.title).where(Notification.account_id == account_id).order_by(Notification.id)
        )
    )


def test_an_order_from_placing_to_rating(session: Session, shops: Shops, runtime: Runtime) -> None:
    tasks.register(runtime.bus)
    order = _order(session, shops, preferred_at=NOW + timedelta(hours=3), note="下午三点前")
    assert order.no == f"SQ20261202{order.id:06d}"
    assert order.status == "placed"
    assert order.address == "阳光小区1栋1单元101"  # pre-filled from the residence
    assert order.room_id == shops.world.room.id
    assert (order.title, order.price_fen, order.unit) == ("上门维修", 8000, "次")
    session.commit()
    assert _titles(session, shops.merchant_a.id) == [f"新订单{order.no}：上门维修"]
    assert _titles(session, shops.merchant_b.id) == []
    merchant = actor(session, shops.merchant_a)
    me = actor(session, shops.resident)
    for action in ("accept", "start", "done"):
        orders.act(session, merchant, order_id=order.id, action=action, now=NOW + timedelta(hours=1))
        session.commit()
    assert order.status == "done"
    assert None not in (order.accepted_at, order.started_at, order.done_at)
    told = _titles(session, shops.resident.id)
    assert told == [
        f"商家已接单：{order.no} 上门维修",
        f"您的订单{order.no}已开始服务",
        f"您的订单{order.no}已完成，请评价服务",
    ]
    # 接单 is also sent by SMS to the number on the resident's record.
    assert session.scalar(select(func.count()).select_from(SmsMessage)) == 1
    assert orders.can_rate(session, me, order)
    orders.rate(session, me, order_id=order.id, level=3, comment="还行", now=NOW + timedelta(hours=2))
    session.commit()
    assert order.rating == 3
    orders.rate(session, me, order_id=order.id, level=5, comment="后来又修好了", now=NOW + timedelta(hours=3))
    session.commit()
    assert order.rating == 5
    assert not orders.can_rate(session, me, order)
    with pytest.raises(Conflict) as third:
        orders.rate(session, me, order_id=order.id, level=1)
    assert third.value.message == orders.MSG_RATE_TWICE
    levels = session.scalars(
        select(Rating.level).where(Rating.subject_type == "order", Rating.subject_id == str(order.id))
    ).all()
    assert sorted(levels) == [3, 5]
    steps = [(e.action, e.status, e.by_side) for e in orders.timeline(session, me, order.id)]
    assert steps == [
        ("placed", "placed", "resident"),
        ("accepted", "accepted", "merchant"),
        ("started", "in_service", "merchant"),
        ("done", "done", "merchant"),
        ("rated", "done", "resident"),
        ("rerated", "done", "resident"),
    ]
    assert _titles(session, shops.merchant_a.id)[1:] == [
        f"订单{order.no}获得评价：3分（满分5分）",
        f"订单{order.no}的评价已改为5分（满分5分）",
    ]
    # The shop's rating is the average of its orders' latest ratings (5, not (3+5)/2).
    assert service.merchant_ratings(session, {shops.shop_a.id}) == {shops.shop_a.id: service.ShopRating(5.0, 1)}


def test_the_recipients_language_is_used(session: Session, shops: Shops, runtime: Runtime) -> None:
    tasks.register(runtime.bus)
    shops.merchant_a.locale = "en"
    order = _order(session, shops)
    session.commit()
    assert _titles(session, shops.merchant_a.id) == [f"New order {order.no}: 上门维修"]


def test_a_declined_order_says_why(session: Session, shops: Shops, runtime: Runtime) -> None:
    tasks.register(runtime.bus)
    order = _order(session, shops)
    merchant = actor(session, shops.merchant_a)
    with pytest.raises(Invalid) as no_reason:
        orders.act(session, merchant, order_id=order.id, action="reject", note=" ")
    assert _fields(no_reason) == {"note": "Tell the resident why (2 to 500 characters)."}
    orders.act(session, merchant, order_id=order.id, action="reject", note="师傅今天都排满了")
    session.commit()
    assert (order.status, order.reason) == ("rejected", "师傅今天都排满了")
    note = session.scalars(select(Notification).where(Notification.account_id == shops.resident.id)).one()
    assert note.title == f"商家拒绝了您的订单{order.no}：上门维修"
    assert note.body == "师傅今天都排满了"
    assert note.link == f"/shop/orders/{order.id}"
    with pytest.raises(Conflict):
        orders.act(session, merchant, order_id=order.id, action="accept")
    with pytest.raises(Conflict) as early:
        orders.rate(session, actor(session, shops.resident), order_id=order.id, level=5)
    assert early.value.message == orders.MSG_RATE_EARLY


def test_who_may_take_which_step(session: Session, shops: Shops) -> None:
    from tests.factories import make_actor

    order = _order(session, shops)
    other_shop = actor(session, shops.merchant_b)
    # Another shop cannot see the order, so it cannot accept it either.
    with pytest.raises(NotFound):
        orders.act(session, other_shop, order_id=order.id, action="accept")
    with pytest.raises(NotFound):
        orders.get_order(session, other_shop, order.id)
    assert orders.list_orders(session, other_shop, side="shop") == ([], 0)
    # Another resident neither.
    neighbour = actor(session, shops.neighbour)
    with pytest.raises(NotFound):
        orders.act(session, neighbour, order_id=order.id, action="cancel")
    assert orders.list_orders(session, neighbour) == ([], 0)
    # The resident cannot take the shop's steps, nor the shop the resident's.
    me = actor(session, shops.resident)
    with pytest.raises(Forbidden):
        orders.act(session, me, order_id=order.id, action="accept")
    merchant = actor(session, shops.merchant_a)
    with pytest.raises(Forbidden):
        orders.act(session, merchant, order_id=order.id, action="cancel")
    with pytest.raises(Forbidden):
        orders.rate(session, merchant, order_id=order.id, level=5)
    # An operator reads the orders of its area but takes nobody's steps.
    admin = actor(session, shops.admin)
    assert orders.get_order(session, admin, order.id) is order
    with pytest.raises(Forbidden):
        orders.act(session, admin, order_id=order.id, action="accept")
    far_admin = make_actor(session, roles=["admin"], scope=shops.world.district_b)
    with pytest.raises(NotFound):
        orders.get_order(session, far_admin, order.id)
    with pytest.raises(Forbidden):
        orders.get_order(session, make_actor(session, roles=["grid_worker"], scope=shops.world.grid1), order.id)
    with pytest.raises(Invalid) as unknown:
        orders.act(session, merchant, order_id=order.id, action="teleport")
    assert _fields(unknown) == {"action": "Unknown step: teleport."}
    assert orders.available_actions(merchant, order) == ["accept", "reject"]
    assert orders.available_actions(me, order) == ["cancel"]
    assert orders.list_orders(session, merchant, side="shop") == ([order], 1)
    assert orders.list_orders(session, me) == ([order], 1)


def test_cancel_only_before_the_shop_accepts(session: Session, shops: Shops, runtime: Runtime) -> None:
    tasks.register(runtime.bus)
    me, merchant = actor(session, shops.resident), actor(session, shops.merchant_a)
    first = _order(session, shops)
    orders.act(session, me, order_id=first.id, action="cancel", note="不需要了")
    session.commit()
    assert (first.status, first.reason) == ("cancelled", "不需要了")
    assert _titles(session, shops.merchant_a.id)[-1] == f"订单{first.no}已被居民取消"
    with pytest.raises(Conflict):
        orders.act(session, me, order_id=first.id, action="cancel")
    with pytest.raises(Conflict):
        orders.act(session, merchant, order_id=first.id, action="accept")
    second = _order(session, shops)
    orders.act(session, merchant, order_id=second.id, action="accept")
    with pytest.raises(Conflict) as late:
        orders.act(session, me, order_id=second.id, action="cancel")
    assert late.value.message == orders.MSG_CANCEL_LATE
    orders.act(session, merchant, order_id=second.id, action="start")
    with pytest.raises(Conflict):
        orders.act(session, me, order_id=second.id, action="cancel")
    assert second.status == "in_service"
    assert orders.available_actions(me, second) == []
    assert orders.available_actions(merchant, second) == ["done"]


def test_the_phone_is_masked_to_the_shop_until_it_accepts(session: Session, shops: Shops) -> None:
    order = _order(session, shops, phone="139 0000 2222")
    merchant, me = actor(session, shops.merchant_a), actor(session, shops.resident)
    assert order.phone_enc is not None
    assert "13900002222" not in order.phone_enc
    assert orders.phone_for(session, merchant, order) == "139****2222"
    audits = select(func.count()).select_from(AuditRecord).where(AuditRecord.subject_type == "commerce_order")
    assert session.scalar(audits) == 0
    orders.act(session, merchant, order_id=order.id, action="accept")
    assert orders.phone_for(session, merchant, order) == "13900002222"
    row = session.scalars(select(AuditRecord).where(AuditRecord.subject_type == "commerce_order")).one()
    assert (row.action, row.subject_id, row.fields, row.account_id) == (
        "pii.read",
        str(order.id),
        "phone",
        shops.merchant_a.id,
    )
    # The resident, other readers and lists see it masked; so does the shop once it is done.
    assert orders.phone_for(session, me, order) == "139****2222"
    assert orders.phone_for(session, actor(session, shops.admin), order) == "139****2222"
    assert orders.masked_phone(order) == "139****2222"
    orders.act(session, merchant, order_id=order.id, action="done")
    assert orders.phone_for(session, merchant, order) == "139****2222"
    assert session.scalar(audits) == 1


def test_the_phone_on_record_is_used_when_none_is_given(session: Session, shops: Shops) -> None:
    order = _order(session, shops)
    assert orders.masked_phone(order) == "139****1111"
    assert orders.registered_phone_masked(session, actor(session, shops.resident)) == "139****1111"
    offer = offer_at(session, shops, north_m=100)
    with pytest.raises(Invalid) as none:
        orders.place_order(session, actor(session, shops.neighbour), offer_id=offer.id, now=NOW)
    assert _fields(none) == {"phone": "Enter a mobile number the shop can call."}


def test_bad_orders_are_refused_and_nothing_is_written(session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=500, opening_hours="08:00-20:00")
    me = actor(session, shops.resident)
    with pytest.raises(Invalid) as bad:
        orders.place_order(
            session,
            me,
            offer_id=offer.id,
            room_id=shops.world.other_room.id,
            address="x",
            phone="12345",
            preferred_at=NOW - timedelta(hours=1),
            note="长" * 501,
            now=NOW,
        )
    assert _fields(bad) == {
        "room_id": "Choose one of your homes.",
        "address": "Enter the address where the service is needed (4 to 255 characters).",
        "phone": "A mobile number has 11 digits and starts with 13 to 19.",
        "preferred_at": "Choose a time from now on.",
        "note": "The note can be at most 500 characters.",
    }
    # 23:00 in Chengdu is outside 08:00-20:00; 40 days ahead is too far.
    with pytest.raises(Invalid) as closed:
        orders.place_order(session, me, offer_id=offer.id, preferred_at=NOW + timedelta(hours=13), now=NOW)
    assert _fields(closed) == {"preferred_at": "The shop is open 08:00-20:00; choose a time when it is open."}
    with pytest.raises(Invalid) as far:
        orders.place_order(session, me, offer_id=offer.id, preferred_at=NOW + timedelta(days=40), now=NOW)
    assert _fields(far) == {"preferred_at": "Choose a time within the next 30 days."}
    with pytest.raises(Invalid) as naive:
        orders.place_order(session, me, offer_id=offer.id, preferred_at=datetime(2026, 12, 3, 10), now=NOW)  # noqa: DTZ001
    assert _fields(naive) == {"preferred_at": "Must be a date and time."}
    # A shop 2.5 km away with a 2 km radius does not serve this home.
    short = offer_at(session, shops, north_m=2500, radius_m=2000)
    with pytest.raises(Invalid) as reach:
        orders.place_order(session, me, offer_id=short.id, now=NOW)
    assert _fields(reach) == {"address": "This shop serves within 2.0 km; your address is 2.5 km away."}
    # Accounts without a resident record cannot order; unknown offers are not found.
    with pytest.raises(Invalid) as admin:
        orders.place_order(session, actor(session, shops.admin), offer_id=offer.id, now=NOW)
    assert _fields(admin) == {"account": "Only residents with a resident record can order services."}
    with pytest.raises(NotFound):
        orders.place_order(session, me, offer_id=999_999, now=NOW)
    with pytest.raises(Forbidden):
        orders.place_order(session, actor(session, shops.merchant_a), offer_id=offer.id, now=NOW)
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(OrderEvent)) == 0


def test_a_typed_address_and_a_switched_off_offer(session: Session, shops: Shops) -> None:
    offer = offer_at(session, shops, north_m=500)
    me = actor(session, shops.resident)
    order = orders.place_order(session, me, offer_id=offer.id, address="  阳光小区1栋1单元101 门口  ", now=NOW)
    assert order.address == "阳光小区1栋1单元101 门口"
    service.update_offer(session, actor(session, shops.merchant_a), offer_id=offer.id, active=False)
    with pytest.raises(NotFound):
        orders.place_order(session, me, offer_id=offer.id, now=NOW)
    # The order keeps what was ordered after the offer changes.
    service.update_offer(session, actor(session, shops.merchant_a), offer_id=offer.id, price_fen=1, title="改过的")
    assert (order.title, order.price_fen) == ("上门维修", 8000)


def test_unanswered_orders_are_cancelled_after_a_day(session: Session, shops: Shops, runtime: Runtime) -> None:
    tasks.register(runtime.bus)
    order = _order(session, shops)
    answered = _order(session, shops)
    orders.act(session, actor(session, shops.merchant_a), order_id=answered.id, action="accept", now=NOW)
    assert orders.expire_unanswered(session, now=NOW + timedelta(hours=23)) == 0
    assert orders.expire_unanswered(session, now=NOW + timedelta(hours=25)) == 1
    session.commit()
    assert (order.status, answered.status) == ("cancelled", "accepted")
    assert orders.events_of(session, order)[-1].action == "expired"
    assert _titles(session, shops.resident.id)[-1] == f"您的订单{order.no}已取消：商家未及时回复"
    assert _titles(session, shops.merchant_a.id)[-1] == f"订单{order.no}已取消：24小时内未回复"
    tasks.periodic(session)  # nothing left to do
    assert orders.expire_unanswered(session, now=NOW + timedelta(hours=50)) == 0


def test_stats_count_orders_by_the_address(session: Session, shops: Shops) -> None:
    merchant = actor(session, shops.merchant_a)
    done = _order(session, shops)
    _order(session, shops)
    for action in ("accept", "done"):
        orders.act(session, merchant, order_id=done.id, action=action, now=NOW)
    orders.rate(session, actor(session, shops.resident), order_id=done.id, level=4)
    figures = service.stats(session, region=shops.world.grid1, now=NOW)
    assert figures["orders_this_month"] == 2
    assert figures["orders_done_this_month"] == 1
    assert figures["orders_open"] == 1
    assert figures["average_rating"] == 4.0
    assert figures["ratings"] == 1
    next_month = service.stats(session, region=shops.world.grid1, now=NOW + timedelta(days=31))
    assert next_month["orders_this_month"] == 0
    assert service.stats(session, region=shops.world.grid2, now=NOW)["orders_open"] == 0
