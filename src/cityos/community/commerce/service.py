"""邻里商业: merchants publish service offers reaching at most 3 km; residents find them by
distance, order, follow and rate; merchants accept, reject and carry out the orders.

Who does what: a merchant (``commerce:sell`` and an ``organisation_id`` of kind merchant) runs
its own shop's offers and orders; an operator with every permission may publish for a shop in
its area; a resident (``commerce:order`` and a ``person_id``) orders and follows their own
orders. A record the actor may not see is ``NotFound``, never ``Forbidden``, so nobody learns
that another shop's order exists. Services flush, never commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.commerce import hours
from cityos.community.commerce.models import OPEN_STATUSES, Offer, Order, OrderStatus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.people.models import Organisation, OrganisationKind
from cityos.places.models import Region

# --- what there is ----------------------------------------------------------------------------------------------

CATEGORIES: dict[str, str] = {
    "housekeeping": N_("Housekeeping"),  # 家政
    "repair": N_("Home repairs"),  # 维修
    "electronics": N_("Phone and computer repair"),  # 3C快修
    "fresh": N_("Fresh food"),  # 生鲜
    "laundry": N_("Laundry"),  # 洗衣
    "locksmith": N_("Locksmith"),  # 开锁
    "elderly_meals": N_("Meals for the elderly"),  # 养老助餐
    "moving": N_("Moving"),  # 搬家
    "other": N_("Other services"),  # 其他
}


MAX_RADIUS_M = 3000  # 3 km: the reach of neighbourhood commerce
MIN_RADIUS_M = 100
EARTH_RADIUS_M = 6_371_008.8
MAX_PRICE_FEN = 10_000_000  # ¥100,000
MAX_RESULTS = 100
DISTANCE_STEP_M = 100  # distances are shown (and ranked) to the 100 m; rating breaks the tie

MSG_CATEGORY = N_("Choose a category.")
MSG_TITLE = N_("Enter a title of 2 to 64 characters.")
MSG_DESCRIPTION = N_("The description can be at most 2000 characters.")
MSG_PRICE = N_("Enter a price from 0 to 100,000 yuan, or choose 'price on request'.")
MSG_UNIT = N_("The unit can be at most 16 characters (for example 次 or 小时).")
MSG_RADIUS = N_("The service radius must be between 100 m and 3 km.")
MSG_SEARCH_RADIUS = N_("The search radius must be between 100 m and 3 km.")
MSG_LON = N_("The longitude must be between -180 and 180.")
MSG_LAT = N_("The latitude must be between -90 and 90.")
MSG_BOTH_COORDS = N_("Give both the longitude and the latitude, or neither.")
MSG_NO_LOCATION = N_("The shop's place has no location on the map; give its longitude and latitude.")
MSG_HOURS = N_("Write the hours as 08:00-20:00; several ranges separated by commas.")
MSG_ACTIVE = N_("Must be true or false.")
MSG_NO_SHOP = N_("Your account does not belong to a shop.")
MSG_CHOOSE_SHOP = N_("Choose the shop this offer belongs to.")
MSG_NOT_MERCHANT = N_("Only merchants can offer neighbourhood services.")

UNSET: Any = object()  # "not given" in partial updates


def category_title(key: str) -> str:
    return CATEGORIES.get(key, key)


# --- geometry ---------------------------------------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat rectangle that contains the circle (a little larger, never smaller)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.01
    cos = max(math.cos(math.radians(min(89.0, abs(lat) + dlat))), 1e-6)
    dlon = dlat / cos
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def point_of(session: Session, region: Region) -> tuple[float, float] | None:
    """The region's representative point, else its nearest ancestor's (a room has none)."""
    if region.lon is not None and region.lat is not None:
        return region.lon, region.lat
    ids = [int(p) for p in region.path.strip("/").split("/") if p][:-1]
    if not ids:
        return None
    rows = session.execute(
        select(Region.depth, Region.lon, Region.lat).where(
            Region.id.in_(ids), Region.lon.is_not(None), Region.lat.is_not(None)
        )
    ).all()
    if not rows:
        return None
    _depth, lon, lat = max(rows, key=lambda r: r[0])
    return float(lon or 0.0), float(lat or 0.0)


# --- the shop ---------------------------------------------------------------------------------------------------


def _shop(session: Session, actor: Actor, organisation_id: int | None) -> Organisation:
    """The organisation the actor sells for: its own; or, for an operator, the one named
    (inside its area)."""
    actor.require("commerce:sell")
    if actor.organisation_id is not None:
        if organisation_id is not None and organisation_id != actor.organisation_id:
            raise Forbidden(params={"permission": "commerce:sell"})
        org = session.get(Organisation, actor.organisation_id)
    elif is_operator(actor):
        if organisation_id is None:
            raise Invalid(details=[FieldError("organisation_id", MSG_CHOOSE_SHOP)])
        org = session.get(Organisation, organisation_id)
        if org is None or not actor.covers(org.region_path):
            raise NotFound()
    else:
        raise Invalid(details=[FieldError("organisation_id", MSG_NO_SHOP)])
    if org is None:
        raise NotFound()
    if org.kind != OrganisationKind.MERCHANT:
        raise Invalid(details=[FieldError("organisation_id", MSG_NOT_MERCHANT)])
    return org


def is_operator(actor: Actor) -> bool:
    """The platform's operators (admin, or the system): they publish for any shop of their
    area and read its orders, but take no shop's or resident's steps."""
    return "*" in actor.permissions or "admin" in actor.roles


def sells_for(actor: Actor, organisation_id: int) -> bool:
    """True when the actor is one of this shop's own accounts."""
    return actor.can("commerce:sell") and actor.organisation_id == organisation_id


def _operates(actor: Actor, path: str | None) -> bool:
    """True for an operator whose area holds ``path``."""
    return is_operator(actor) and actor.covers(path)


# --- offers -----------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _offer_errors(values: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if "category" in values and values["category"] not in CATEGORIES:
        errors.append(FieldError("category", MSG_CATEGORY))
    if "title" in values and not 2 <= len(values["title"]) <= 64:
        errors.append(FieldError("title", MSG_TITLE))
    if "description" in values and len(values["description"]) > 2000:
        errors.append(FieldError("description", MSG_DESCRIPTION))
    if "price_fen" in values:
        price = values["price_fen"]
        if price is not None and (
            isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE_FEN
        ):
            errors.append(FieldError("price_fen", MSG_PRICE))
    if "unit" in values and len(values["unit"]) > 16:
        errors.append(FieldError("unit", MSG_UNIT))
    if "radius_m" in values:
        radius = values["radius_m"]
        if isinstance(radius, bool) or not isinstance(radius, int) or not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
            errors.append(FieldError("radius_m", MSG_RADIUS))
    if "opening_hours" in values and hours.parse(values["opening_hours"]) is None:
        errors.append(FieldError("opening_hours", MSG_HOURS))
    if "active" in values and not isinstance(values["active"], bool):
        errors.append(FieldError("active", MSG_ACTIVE))
    if "lon" in values or "lat" in values:
        errors.extend(_coordinate_errors(values.get("lon"), values.get("lat")))
    return errors


def _coordinate_errors(lon: Any, lat: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    if (lon is None) != (lat is None):
        errors.append(FieldError("lon" if lon is None else "lat", MSG_BOTH_COORDS))
        return errors
    if lon is not None and (isinstance(lon, bool) or not isinstance(lon, int | float) or not -180 <= lon <= 180):
        errors.append(FieldError("lon", MSG_LON))
    if lat is not None and (isinstance(lat, bool) or not isinstance(lat, int | float) or not -90 <= lat <= 90):
        errors.append(FieldError("lat", MSG_LAT))
    return errors


def _clean_offer(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for key in ("title", "description", "unit", "opening_hours"):
        if key in out:
            out[key] = _text(out[key])
    if "category" in out:
        out["category"] = _text(out["category"])
    return out


def create_offer(
    session: Session,
    actor: Actor,
    *,
    organisation_id: int | None = None,
    category: str,
    title: str,
    description: str = "",
    price_fen: int | None = None,
    unit: str = "",
    radius_m: int = MAX_RADIUS_M,
    lon: float | None = None,
    lat: float | None = None,
    opening_hours: str = "",
    active: bool = True,
) -> Offer:
    """Publish an offer of the actor's shop. Without ``lon``/``lat`` the shop's place on the map
    is its organisation's region's point."""
    org = _shop(session, actor, organisation_id)
    values = _clean_offer(
        {
            "category": category,
            "title": title,
            "description": description,
            "price_fen": price_fen,
            "unit": unit,
            "radius_m": radius_m,
            "lon": lon,
            "lat": lat,
            "opening_hours": opening_hours,
            "active": active,
        }
    )
    errors = _offer_errors(values)
    if values["lon"] is None and values["lat"] is None and not errors:
        region = session.get(Region, org.region_id)
        point = point_of(session, region) if region is not None else None
        if point is None:
            errors.append(FieldError("lon", MSG_NO_LOCATION))
        else:
            values["lon"], values["lat"] = point
    if errors:
        raise Invalid(details=errors)
    offer = Offer(
        organisation_id=org.id,
        category=values["category"],
        title=values["title"],
        description=values["description"],
        price_fen=values["price_fen"],
        unit=values["unit"],
        radius_m=values["radius_m"],
        lon=float(values["lon"]),
        lat=float(values["lat"]),
        region_path=org.region_path,
        opening_hours=hours.normalise(values["opening_hours"]),
        active=values["active"],
    )
    session.add(offer)
    session.flush()
    return offer


def update_offer(
    session: Session,
    actor: Actor,
    *,
    offer_id: int,
    category: str = UNSET,
    title: str = UNSET,
    description: str = UNSET,
    price_fen: int | None = UNSET,
    unit: str = UNSET,
    radius_m: int = UNSET,
    lon: float | None = UNSET,
    lat: float | None = UNSET,
    opening_hours: str = UNSET,
    active: bool = UNSET,
) -> Offer:
    """Change what is given (the rest stays). Orders already placed keep what they ordered."""
    offer = get_own_offer(session, actor, offer_id)
    given = {
        k: v
        for k, v in {
            "category": category,
            "title": title,
            "description": description,
            "price_fen": price_fen,
            "unit": unit,
            "radius_m": radius_m,
            "opening_hours": opening_hours,
            "active": active,
        }.items()
        if v is not UNSET
    }
    values = _clean_offer(given)
    errors = _offer_errors(values)
    if lon is not UNSET or lat is not UNSET:
        # A shop keeps a place on the map: a new point is given whole, never taken away.
        values["lon"] = offer.lon if lon is UNSET else lon
        values["lat"] = offer.lat if lat is UNSET else lat
        if values["lon"] is None or values["lat"] is None:
            errors.append(FieldError("lon" if values["lon"] is None else "lat", MSG_BOTH_COORDS))
        else:
            errors.extend(_coordinate_errors(values["lon"], values["lat"]))
    if errors:
        raise Invalid(details=errors)
    if "opening_hours" in values:
        values["opening_hours"] = hours.normalise(values["opening_hours"])
    for key, value in values.items():
        setattr(offer, key, float(value) if key in ("lon", "lat") else value)
    offer.updated_at = utcnow()
    session.flush()
    return offer


def get_own_offer(session: Session, actor: Actor, offer_id: int) -> Offer:
    """An offer its shop (or an operator of its area) manages; NotFound for anyone else."""
    offer = session.get(Offer, offer_id)
    if offer is None or not (sells_for(actor, offer.organisation_id) or _operates(actor, offer.region_path)):
        raise NotFound()
    return offer


def get_offer(session: Session, actor: Actor, offer_id: int) -> Offer:
    """An offer as residents see it: active ones to anyone who orders or sells; a switched-off
    one only to its shop and operators."""
    if not (actor.can("commerce:order") or actor.can("commerce:sell")):
        raise Forbidden(params={"permission": "commerce:order"})
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound()
    if not offer.active and not (sells_for(actor, offer.organisation_id) or _operates(actor, offer.region_path)):
        raise NotFound()
    return offer


def shop_offers(session: Session, actor: Actor, *, include_inactive: bool = True) -> list[Offer]:
    """The actor's shop's offers (an operator: those of its area), newest first."""
    actor.require("commerce:sell")
    query = select(Offer)
    if actor.organisation_id is not None:
        query = query.where(Offer.organisation_id == actor.organisation_id)
    elif is_operator(actor):
        query = query.where(actor.scope_clause(Offer.region_path))
    else:
        return []
    if not include_inactive:
        query = query.where(Offer.active.is_(True))
    return list(session.scalars(query.order_by(Offer.active.desc(), Offer.id.desc())))


def shop_names(session: Session, organisation_ids: set[int]) -> dict[int, str]:
    if not organisation_ids:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(organisation_ids)))
    return {int(i): str(n) for i, n in rows}


@dataclass(frozen=True)
class ShopRating:
    average: float
    count: int


def merchant_ratings(session: Session, organisation_ids: set[int]) -> dict[int, ShopRating]:
    """Each shop's rating: the average of its orders' latest ratings."""
    if not organisation_ids:
        return {}
    rows = session.execute(
        select(Order.organisation_id, func.avg(Order.rating), func.count(Order.rating))
        .where(Order.organisation_id.in_(organisation_ids), Order.rating.is_not(None))
        .group_by(Order.organisation_id)
    ).all()
    return {int(org): ShopRating(round(float(avg), 2), int(n)) for org, avg, n in rows}


# --- nearby -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nearby:
    """An offer found near a point: how far, its shop and the shop's rating."""

    offer: Offer
    distance_m: float
    shop_name: str
    rating: ShopRating | None

    @property
    def shown_distance_m(self) -> int:
        return shown_metres(self.distance_m)


def nearby(
    session: Session,
    actor: Actor,
    *,
    lon: float,
    lat: float,
    radius_m: int = MAX_RADIUS_M,
    category: str | None = None,
    limit: int = MAX_RESULTS,
) -> list[Nearby]:
    """Active offers within ``radius_m`` of the point whose own service radius also reaches it,
    nearest first (to the 100 m that is shown), better rated first at the same distance.

    A latitude band and a longitude window narrow the rows the index returns; the exact
    haversine distance decides."""
    if not (actor.can("commerce:order") or actor.can("commerce:sell")):
        raise Forbidden(params={"permission": "commerce:order"})
    if lon is None or lat is None:
        errors = [FieldError(k, m) for k, v, m in (("lon", lon, MSG_LON), ("lat", lat, MSG_LAT)) if v is None]
    else:
        errors = _coordinate_errors(lon, lat)
    if isinstance(radius_m, bool) or not isinstance(radius_m, int) or not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        errors.append(FieldError("radius_m", MSG_SEARCH_RADIUS))
    if category is not None and category not in CATEGORIES:
        errors.append(FieldError("category", MSG_CATEGORY))
    if errors:
        raise Invalid(details=errors)
    west, south, east, north = _box(lon, lat, radius_m)
    query = select(Offer).where(
        Offer.lat >= south, Offer.lat <= north, Offer.lon >= west, Offer.lon <= east, Offer.active.is_(True)
    )
    if category is not None:
        query = query.where(Offer.category == category)
    found: list[tuple[Offer, float]] = []
    for offer in session.scalars(query):
        d = distance_m(lon, lat, offer.lon, offer.lat)
        if d <= radius_m and d <= offer.radius_m:
            found.append((offer, d))
    orgs = {o.organisation_id for o, _ in found}
    names, shop_rating = shop_names(session, orgs), merchant_ratings(session, orgs)
    out = [Nearby(o, d, names.get(o.organisation_id, ""), shop_rating.get(o.organisation_id)) for o, d in found]
    out.sort(key=lambda n: (n.shown_distance_m, -(n.rating.average if n.rating else 0.0), n.distance_m, n.offer.id))
    return out[:limit]


def nearby_offers(
    session: Session,
    actor: Actor,
    *,
    lon: float,
    lat: float,
    radius_m: int = MAX_RADIUS_M,
    category: str | None = None,
) -> list[Offer]:
    """The contract for the home page and the dashboard: the offers of ``nearby``, in its order."""
    return [n.offer for n in nearby(session, actor, lon=lon, lat=lat, radius_m=radius_m, category=category)]


def shown_metres(metres: float) -> int:
    """A distance as people are told it: to 10 m under 100 m, else to 100 m."""
    step = 10 if metres < 100 else DISTANCE_STEP_M
    return int(round(metres / step) * step)


def distance_label(metres: float) -> tuple[str, dict[str, Any]]:
    """A msgid and its parameters: 60 m, 400 m, 1.2 km."""
    shown = shown_metres(metres)
    if shown < 1000:
        return N_("{m} m"), {"m": shown}
    return N_("{km} km"), {"km": f"{shown / 1000:.1f}"}


# --- figures ----------------------------------------------------------------------------------------------------


def _month_start(now: datetime) -> datetime:
    local = now.astimezone(hours.zone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def stats(session: Session, *, region: Region, now: datetime | None = None) -> dict[str, int | float]:
    """邻里商业 in a region's subtree: active offers and shops (by the shop's place), orders this
    month, open and done (by the address's place), and the average of their latest ratings."""
    moment = now or utcnow()
    since = _month_start(moment)
    in_offers = subtree_clause(Offer.region_path, region.path)
    in_orders = subtree_clause(Order.region_path, region.path)
    offers_active, shops = session.execute(
        select(func.count(), func.count(func.distinct(Offer.organisation_id))).where(in_offers, Offer.active.is_(True))
    ).one()
    this_month = session.execute(
        select(Order.status, func.count()).where(in_orders, Order.created_at >= since).group_by(Order.status)
    ).all()
    by_status = {str(s): int(n) for s, n in this_month}
    open_now = session.scalar(select(func.count()).where(in_orders, Order.status.in_(OPEN_STATUSES))) or 0
    avg, rated = session.execute(
        select(func.avg(Order.rating), func.count(Order.rating)).where(in_orders, Order.rating.is_not(None))
    ).one()
    return {
        "offers_active": int(offers_active or 0),
        "shops": int(shops or 0),
        "orders_this_month": sum(by_status.values()),
        "orders_done_this_month": by_status.get(OrderStatus.DONE, 0),
        "orders_open": int(open_now),
        "average_rating": round(float(avg), 2) if avg is not None else 0.0,
        "ratings": int(rated or 0),
    }


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``.
    Neighbourhood commerce ships no reference data: categories are code, offers are merchants'."""
