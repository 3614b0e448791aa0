"""Bus handlers and periodic jobs of neighbourhood commerce: every step of an order tells the
other side (the shop's accounts of what residents do, the resident of what the shop does), in
the recipient's language; unanswered orders are cancelled after 24 hours."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.commerce import orders
from cityos.community.commerce.events import OrderStepped
from cityos.community.commerce.models import Order
from cityos.core.bus import Bus
from cityos.core.i18n import DEFAULT_LOCALE, N_, translate
from cityos.identity.models import Account
from cityos.identity.notify import notify

# action -> (to the shop, to the resident); None: that side is not told.
MESSAGES: dict[str, tuple[str | None, str | None]] = {
    "placed": (N_("New order {no}: {title}"), None),
    "cancelled": (N_("Order {no} was cancelled by the resident"), None),
    "rated": (N_("Order {no} was rated {level} of 5"), None),
    "rerated": (N_("The rating of order {no} was changed to {level} of 5"), None),
    "accepted": (None, N_("The shop accepted your order {no}: {title}")),
    "rejected": (None, N_("The shop declined your order {no}: {title}")),
    "started": (None, N_("The service of your order {no} has started")),
    "done": (None, N_("Your order {no} is done. Please rate the service")),
    "expired": (
        N_("Order {no} was cancelled: it was not answered within 24 hours"),
        N_("Your order {no} was cancelled: the shop did not answer in time"),
    ),
}
SMS_TO_RESIDENT = frozenset({"accepted", "rejected"})


def _locale(account: Account) -> str:
    return account.locale or DEFAULT_LOCALE


def _shop_accounts(session: Session, organisation_id: int) -> list[Account]:
    return list(
        session.scalars(select(Account).where(Account.organisation_id == organisation_id, Account.active.is_(True)))
    )


def on_stepped(session: Session, evt: OrderStepped) -> None:
    order = session.get(Order, evt.order_id)
    if order is None or evt.action not in MESSAGES:
        return
    to_shop, to_resident = MESSAGES[evt.action]
    params = {"no": order.no, "title": order.title, "level": order.rating or ""}
    if to_shop is not None:
        for account in _shop_accounts(session, order.organisation_id):
            notify(
                session,
                account.id,
                title=translate(to_shop, locale=_locale(account), **params),
                body=order.address if evt.action == "placed" else order.title,
                link=f"/merchant/orders/{order.id}",
            )
    if to_resident is not None and order.account_id is not None:
        resident = session.get(Account, order.account_id)
        if resident is not None:
            notify(
                session,
                resident.id,
                title=translate(to_resident, locale=_locale(resident), **params),
                body=order.reason if evt.action == "rejected" else "",
                link=f"/shop/orders/{order.id}",
                sms=evt.action in SMS_TO_RESIDENT,
            )


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(OrderStepped, "commerce.notify_step")(on_stepped)


def periodic(session: Session) -> None:
    """Every minute in the server: cancel orders no shop answered within 24 hours (one indexed
    range query when there are none)."""
    orders.expire_unanswered(session)
