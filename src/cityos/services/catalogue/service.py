"""政务服务事项 (service items), 一件事一次办 bundles and per-district local sites (地方站点).

The shipped catalogue is ``data/items.json``; ``install`` brings the database up to it. Items are
edited through ``create_item``/``update_item`` (API, admin page) or imported in bulk (``transfer``);
every record is checked against ``ItemData`` and then for meaning: the form must be a valid JSON
Schema, a material's field must be in the form, credential kinds must exist.

Departments are found by kind: the department coded ``<region code>-<kind>`` nearest to the
applicant's region (the district's, else the city's).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.people.models import Department
from cityos.places.models import Region, RegionLevel
from cityos.services.catalogue.models import LocalSite, ServiceBundle, ServiceItem
from cityos.services.catalogue.schemas import BundleData, ItemData, LocalSiteIn

DATA_FILE = Path(__file__).resolve().parent / "data" / "items.json"

# Names of the department kinds (the part after the region code in a department code).
DEPARTMENT_KINDS: dict[str, str] = {
    "gaj": N_("Public Security Bureau"),
    "ybj": N_("Healthcare Security Bureau"),
    "wjw": N_("Health Commission"),
    "mzj": N_("Civil Affairs Bureau"),
    "jtj": N_("Transport Bureau"),
    "rsj": N_("Human Resources and Social Security Bureau"),
    "jyj": N_("Education Bureau"),
    "zjj": N_("Housing and Construction Bureau"),
    "ghzyj": N_("Planning and Natural Resources Bureau"),
    "scjgj": N_("Market Regulation Administration"),
    "sj": N_("Taxation Bureau"),
    "cgj": N_("Urban Management Bureau"),
    "sthjj": N_("Ecology and Environment Bureau"),
    "swj": N_("Water Affairs Bureau"),
    "yjj": N_("Emergency Management Bureau"),
    "gyj": N_("Park City Bureau"),
    "zwfw": N_("Government Service Centre"),
    "wlzz": N_("Online Governance Office"),
}

MSG_SCHEMA = N_("Not a valid JSON Schema: {problem}")
MSG_SCHEMA_OBJECT = N_('The form must be a JSON Schema of "type": "object" with "properties".')
MSG_MATERIAL_FIELD = N_('The form has no field "{field}".')
MSG_MATERIAL_KEY = N_('Material key "{key}" appears twice.')
MSG_CREDENTIAL_KIND = N_('There is no credential kind "{kind}".')
MSG_PROMISED = N_("The promised time limit cannot be longer than the legal one.")
MSG_INSTANT = N_('An instant item (即办件) uses the process "service_instant".')
MSG_CODE_TAKEN = N_('The code "{code}" is already used.')
MSG_CODE_CHANGE = N_("The code of an item cannot be changed.")
MSG_ITEM_MISSING = N_('There is no service item "{code}".')
MSG_SITE_LEVEL = N_("A local site belongs to a district or to the city.")

_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Must be at least {min_length} characters."),
    "string_too_long": N_("Must be at most {max_length} characters."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "string_type": N_("Must be text."),
    "int_parsing": N_("Must be a whole number."),
    "int_type": N_("Must be a whole number."),
    "int_from_float": N_("Must be a whole number."),
    "bool_parsing": N_("Must be true or false."),
    "bool_type": N_("Must be true or false."),
    "greater_than_equal": N_("Must be at least {ge}."),
    "less_than_equal": N_("Must be at most {le}."),
    "enum": N_("Must be one of: {expected}."),
    "dict_type": N_("Must be an object."),
    "model_type": N_("Must be an object."),
    "list_type": N_("Must be a list."),
    "too_short": N_("Must have at least {min_length} items."),
    "too_long": N_("Must have at most {max_length} items."),
    "extra_forbidden": N_("This field is not allowed."),
}

ITEM_FIELDS = tuple(ItemData.model_fields)
BUNDLE_FIELDS = tuple(BundleData.model_fields)


# --- shipped data and install ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def shipped() -> dict[str, list[dict[str, Any]]]:
    """The shipped catalogue: ``{"items": [...], "bundles": [...]}``."""
    with DATA_FILE.open(encoding="utf-8") as fh:
        data: dict[str, list[dict[str, Any]]] = json.load(fh)
    return data


def install(session: Session) -> None:
    """Installs the shipped items and bundles (idempotent): inserts the missing, updates the changed,
    never deletes; called by ``cityos db upgrade``."""
    data = shipped()
    write_items(session, [ItemData.model_validate(raw) for raw in data["items"]])
    write_bundles(session, [BundleData.model_validate(raw) for raw in data["bundles"]])


def _item_values(data: ItemData) -> dict[str, Any]:
    values = data.model_dump(mode="json")
    values["materials"] = [m.model_dump(mode="json", exclude_none=True) for m in data.materials]
    return values


def write_items(session: Session, rows: list[ItemData]) -> int:
    existing = {
        i.code: i for i in session.scalars(select(ServiceItem).where(ServiceItem.code.in_([r.code for r in rows])))
    }
    written = 0
    for data in rows:
        values = _item_values(data)
        item = existing.get(data.code)
        if item is None:
            session.add(ServiceItem(**values))
            written += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(item, k) != v}
        for key, value in changed.items():
            setattr(item, key, value)
        written += bool(changed)
    session.flush()
    return written


def write_bundles(session: Session, rows: list[BundleData]) -> int:
    codes = [r.code for r in rows]
    existing = {b.code: b for b in session.scalars(select(ServiceBundle).where(ServiceBundle.code.in_(codes)))}
    written = 0
    for data in rows:
        values = data.model_dump(mode="json")
        bundle = existing.get(data.code)
        if bundle is None:
            session.add(ServiceBundle(**values))
            written += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(bundle, k) != v}
        for key, value in changed.items():
            setattr(bundle, key, value)
        written += bool(changed)
    session.flush()
    return written


# --- reading -----------------------------------------------------------------------------------------


def get_item(session: Session, code: str) -> ServiceItem:
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None:
        raise NotFound()
    return item


def get_bundle(session: Session, code: str) -> ServiceBundle:
    bundle = session.scalar(select(ServiceBundle).where(ServiceBundle.code == code))
    if bundle is None:
        raise NotFound()
    return bundle


def bundle_items(session: Session, bundle: ServiceBundle) -> list[ServiceItem]:
    """The bundle's items in the bundle's order (inactive ones left out)."""
    rows = {
        i.code: i
        for i in session.scalars(
            select(ServiceItem).where(ServiceItem.code.in_(bundle.item_codes), ServiceItem.active.is_(True))
        )
    }
    return [rows[c] for c in bundle.item_codes if c in rows]


def list_bundles(session: Session, actor: Actor) -> list[ServiceBundle]:
    actor.require("service:read")
    return list(session.scalars(select(ServiceBundle).where(ServiceBundle.active.is_(True)).order_by(ServiceBundle.id)))


def list_items(
    session: Session,
    actor: Actor,
    *,
    region: Region | None = None,
    q: str | None = None,
    department_kind: str | None = None,
    audience: str | None = None,
    kind: str | None = None,
) -> list[ServiceItem]:
    """Active items in code order, minus those the local site of ``region`` hides; ``q`` matches the
    code, the name or the conditions."""
    actor.require("service:read")
    query = select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.code)
    if audience:
        query = query.where(ServiceItem.audience == audience)
    if kind:
        query = query.where(ServiceItem.kind == kind)
    rows = list(session.scalars(query))
    if department_kind:
        rows = [i for i in rows if department_kind in (i.department_kinds or [])]
    if q and q.strip():
        needle = q.strip().lower()
        rows = [i for i in rows if needle in i.code.lower() or needle in i.name.lower() or needle in i.conditions]
    site = local_site_for(session, region) if region is not None else None
    if site is not None and site.hidden_item_codes:
        hidden = set(site.hidden_item_codes)
        rows = [i for i in rows if i.code not in hidden]
    return rows


def _ancestor_ids(region: Region) -> list[int]:
    return [int(p) for p in region.path.strip("/").split("/") if p]


def department_for(session: Session, *, kind: str, region: Region) -> Department | None:
    """The department of ``kind`` nearest to ``region``: the one coded ``<ancestor code>-<kind>``
    of the deepest ancestor (the region itself included) that has one, up to the city."""
    ids = _ancestor_ids(region)
    codes = {r.id: r.code for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    wanted = {f"{code}-{kind}": rid for rid, code in codes.items()}
    found = {d.code: d for d in session.scalars(select(Department).where(Department.code.in_(list(wanted))))}
    for rid in reversed(ids):
        department = found.get(f"{codes.get(rid)}-{kind}")
        if department is not None:
            return department
    return None


def local_site_for(session: Session, region: Region) -> LocalSite | None:
    """The local site of the region's district, else the city's (the nearest ancestor with one)."""
    ids = _ancestor_ids(region)
    sites = {s.region_id: s for s in session.scalars(select(LocalSite).where(LocalSite.region_id.in_(ids)))}
    for rid in reversed(ids):
        if rid in sites:
            return sites[rid]
    return None


# --- checking ----------------------------------------------------------------------------------------


def pydantic_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        ctx = err.get("ctx") or {}
        kind = err.get("type", "")
        if kind == "value_error" and "error" in ctx:
            message, params = str(ctx["error"]), {}
        else:
            message = _PYDANTIC_MESSAGES.get(kind, N_("This value is not valid."))
            params = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
        out.append(FieldError(f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body", message, params))
    return out


def credential_kinds(session: Session) -> set[str] | None:
    """The credential kind codes, or None while that table is empty (nothing to check against)."""
    from cityos.services.licences.models import CredentialKind

    codes = set(session.scalars(select(CredentialKind.code)))
    return codes or None


def item_meaning_errors(data: ItemData, kinds: set[str] | None, prefix: str) -> list[FieldError]:
    """What a well-typed item can still get wrong."""
    errors: list[FieldError] = []
    schema = data.form_schema
    properties: dict[str, Any] | None = None  # None: the form is broken, its fields unknown
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = ".".join(str(p) for p in exc.path)
        problem = f"{where}: {exc.message}" if where else exc.message
        errors.append(FieldError(f"{prefix}form_schema", MSG_SCHEMA, {"problem": problem[:200]}))
    else:
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
            errors.append(FieldError(f"{prefix}form_schema", MSG_SCHEMA_OBJECT))
        else:
            properties = schema["properties"]
    seen: set[str] = set()
    for n, material in enumerate(data.materials):
        where = f"{prefix}materials.{n}"
        if material.key in seen:
            errors.append(FieldError(f"{where}.key", MSG_MATERIAL_KEY, {"key": material.key}))
        seen.add(material.key)
        if material.field is not None and properties is not None and material.field not in properties:
            errors.append(FieldError(f"{where}.field", MSG_MATERIAL_FIELD, {"field": material.field}))
        if material.credential_kind is not None and kinds is not None and material.credential_kind not in kinds:
            errors.append(
                FieldError(f"{where}.credential_kind", MSG_CREDENTIAL_KIND, {"kind": material.credential_kind})
            )
    if data.result_credential_kind and kinds is not None and data.result_credential_kind not in kinds:
        errors.append(
            FieldError(f"{prefix}result_credential_kind", MSG_CREDENTIAL_KIND, {"kind": data.result_credential_kind})
        )
    if data.promised_days is not None and data.promised_days > data.time_limit_days:
        errors.append(FieldError(f"{prefix}promised_days", MSG_PROMISED))
    if data.instant and data.process_key != "service_instant":
        errors.append(FieldError(f"{prefix}process_key", MSG_INSTANT))
    return errors


def parse_into(model: type[BaseModel], raw: Any, prefix: str, errors: list[FieldError]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors.extend(pydantic_errors(exc, prefix))
        return None


def check_item(session: Session, raw: Any, *, prefix: str = "") -> ItemData:
    """``raw`` as a checked item, or ``Invalid`` with every problem."""
    errors: list[FieldError] = []
    data = parse_into(ItemData, raw, prefix, errors)
    if data is not None:
        errors += item_meaning_errors(data, credential_kinds(session), prefix)
    if errors:
        raise Invalid(details=errors)
    assert isinstance(data, ItemData)
    return data


def bundle_item_errors(session: Session, data: BundleData, prefix: str, extra_codes: set[str]) -> list[FieldError]:
    known = set(session.scalars(select(ServiceItem.code).where(ServiceItem.code.in_(data.item_codes)))) | extra_codes
    return [
        FieldError(f"{prefix}item_codes.{n}", MSG_ITEM_MISSING, {"code": code})
        for n, code in enumerate(data.item_codes)
        if code not in known
    ]


# --- writing -----------------------------------------------------------------------------------------


def _code_taken(code: str) -> Conflict:
    return Conflict(MSG_CODE_TAKEN, params={"code": code}, details=[FieldError("code", MSG_CODE_TAKEN, {"code": code})])


def create_item(session: Session, actor: Actor, raw: Any) -> ServiceItem:
    actor.require("service:write")
    data = check_item(session, raw)
    if session.scalar(select(ServiceItem.id).where(ServiceItem.code == data.code)) is not None:
        raise _code_taken(data.code)
    write_items(session, [data])
    return get_item(session, data.code)


def update_item(session: Session, actor: Actor, code: str, raw: Any) -> ServiceItem:
    """Replaces the item's record (the code stays)."""
    actor.require("service:write")
    item = get_item(session, code)
    data = check_item(session, raw)
    if data.code != item.code:
        raise Invalid(details=[FieldError("code", MSG_CODE_CHANGE)])
    write_items(session, [data])
    return item


def save_item(session: Session, actor: Actor, raw: Any) -> ServiceItem:
    """Creates the item or replaces the one with its code (the admin page's paste box)."""
    actor.require("service:write")
    data = check_item(session, raw)
    write_items(session, [data])
    return get_item(session, data.code)


def check_bundle(session: Session, raw: Any, *, prefix: str = "", extra_codes: set[str] | None = None) -> BundleData:
    errors: list[FieldError] = []
    data = parse_into(BundleData, raw, prefix, errors)
    if data is not None:
        errors += bundle_item_errors(session, data, prefix, extra_codes or set())
    if errors:
        raise Invalid(details=errors)
    assert isinstance(data, BundleData)
    return data


def create_bundle(session: Session, actor: Actor, raw: Any) -> ServiceBundle:
    actor.require("service:write")
    data = check_bundle(session, raw)
    if session.scalar(select(ServiceBundle.id).where(ServiceBundle.code == data.code)) is not None:
        raise _code_taken(data.code)
    write_bundles(session, [data])
    return get_bundle(session, data.code)


def update_bundle(session: Session, actor: Actor, code: str, raw: Any) -> ServiceBundle:
    actor.require("service:write")
    bundle = get_bundle(session, code)
    data = check_bundle(session, raw)
    if data.code != bundle.code:
        raise Invalid(details=[FieldError("code", MSG_CODE_CHANGE)])
    write_bundles(session, [data])
    return bundle


def save_bundle(session: Session, actor: Actor, raw: Any) -> ServiceBundle:
    actor.require("service:write")
    data = check_bundle(session, raw)
    write_bundles(session, [data])
    return get_bundle(session, data.code)


# --- local sites -------------------------------------------------------------------------------------


def _site_region(session: Session, region_id: int) -> Region:
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound()
    return region


def get_local_site(session: Session, actor: Actor, region_id: int) -> LocalSite:
    """The local site that serves ``region_id`` (its district's, else the city's)."""
    actor.require("service:read")
    site = local_site_for(session, _site_region(session, region_id))
    if site is None:
        raise NotFound()
    return site


def save_local_site(session: Session, actor: Actor, *, region_id: int, data: LocalSiteIn) -> LocalSite:
    """Creates or replaces the local site of a district (or of the city): service:write there."""
    region = _site_region(session, region_id)
    actor.require("service:write", region=region)
    errors: list[FieldError] = []
    if region.level not in (RegionLevel.DISTRICT, RegionLevel.CITY):
        errors.append(FieldError("region_id", MSG_SITE_LEVEL))
    codes = list(dict.fromkeys(data.hidden_item_codes))
    known = set(session.scalars(select(ServiceItem.code).where(ServiceItem.code.in_(codes))))
    errors += [
        FieldError(f"hidden_item_codes.{n}", MSG_ITEM_MISSING, {"code": c})
        for n, c in enumerate(codes)
        if c not in known
    ]
    if errors:
        raise Invalid(details=errors)
    site = session.scalar(select(LocalSite).where(LocalSite.region_id == region.id))
    if site is None:
        site = LocalSite(region_id=region.id, site_name=data.site_name)
        session.add(site)
    site.site_name = data.site_name.strip()
    site.theme_color = data.theme_color.lower()
    site.banner = data.banner.strip()
    site.hidden_item_codes = codes
    session.flush()
    return site


def list_local_sites(session: Session, actor: Actor) -> list[tuple[Region, LocalSite | None]]:
    """The city and districts the actor may configure, each with its site (or None)."""
    actor.require("service:write")
    regions = session.scalars(
        select(Region)
        .where(Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT]), actor.scope_clause(Region.path))
        .order_by(Region.depth, Region.code)
        .limit(500)
    ).all()
    sites = {
        s.region_id: s
        for s in session.scalars(select(LocalSite).where(LocalSite.region_id.in_([r.id for r in regions])))
    }
    return [(r, sites.get(r.id)) for r in regions]


def count_items(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ServiceItem)) or 0)
