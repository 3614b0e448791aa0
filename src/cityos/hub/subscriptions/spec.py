"""Reading a subscription body (ETSI GS CIM 009 §5.2.12) into its stored form, and back.

The stored form (``HubSubscription.spec``) keeps the members of the spec with entity types,
attribute names and the geoproperty **expanded**, and ``@context`` as given (so notifications
and reads are compacted with the subscriber's own terms). Every problem is a ``FieldError`` on
the member's path; ``parse`` raises one ``Invalid`` with all of them, nothing is half-read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.i18n import N_

Expand = Callable[[str], str]

FORMATS = ("normalized", "keyValues", "concise")
TRIGGERS = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS = ("entityCreated", "entityUpdated", "attributeCreated", "attributeUpdated")
ACCEPTS = ("application/json", "application/ld+json")
SCHEMES = ("http", "https", "mqtt", "mqtts")
KNOWN = {
    "id",
    "type",
    "subscriptionName",
    "description",
    "entities",
    "watchedAttributes",
    "notificationTrigger",
    "q",
    "geoQ",
    "lang",
    "timeInterval",
    "throttling",
    "expiresAt",
    "isActive",
    "notification",
    "@context",
    "jsonldContext",
    "status",
    "createdAt",
    "modifiedAt",
}
READ_ONLY = {"status", "createdAt", "modifiedAt"}
UNSUPPORTED = {"csf", "scopeQ", "temporalQ", "datasetId", "expires"}
MAX_PATTERN = 256
_NAME = re.compile(r"^[^\s<>\"{}|\\^`]+$")

E_REQUIRED = N_("This field is required.")
E_URI = N_("Give a URI, for example urn:ngsi-ld:Subscription:1.")
E_TYPE = N_("The type must be Subscription.")
E_OBJECT = N_("Give a JSON object.")
E_LIST = N_("Give a non-empty list.")
E_STRING = N_("Give a text.")
E_NAME = N_("Give an attribute or type name without spaces.")
E_ENTITY = N_("Give the entity type, and at most one of id and idPattern.")
E_PATTERN = N_("The pattern is not a valid regular expression.")
E_NUMBER = N_("Give a positive number of seconds.")
E_BOOL = N_("Give true or false.")
E_DATE = N_("Give a date and time in ISO 8601 with a time zone.")
E_PAST = N_("The expiry must lie in the future.")
E_FORMAT = N_("Give normalized, keyValues or concise.")
E_TRIGGER = N_("Unknown notification trigger.")
E_ENDPOINT = N_("Give an http(s):// or mqtt(s)://host:port/topic address.")
E_ACCEPT = N_("Give application/json or application/ld+json.")
E_KEYVALUES = N_("Give a list of {key, value} pairs.")
E_QOS = N_("MQTT-QoS must be 0, 1 or 2.")
E_INTERVAL_WATCH = N_("timeInterval cannot be combined with watchedAttributes or a notification trigger.")
E_WHAT = N_("Give entities or watchedAttributes.")
E_UNKNOWN = N_("Unknown member.")
E_UNSUPPORTED = N_("This member is not supported by this broker.")
E_READ_ONLY = N_("This member is set by the broker.")
E_ID_CHANGE = N_("The id of a subscription cannot be changed.")


def _is_uri(value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 256 or not _NAME.match(value):
        return False
    scheme, sep, rest = value.partition(":")
    return bool(sep and rest and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", scheme))


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 instant with a zone (``Z`` accepted), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def endpoint_error(uri: Any) -> bool:
    """True when ``uri`` is not an address notifications can go to."""
    if not isinstance(uri, str) or len(uri) > 1024:
        return True
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES or not parts.hostname:
        return True
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return True
    return parts.scheme.startswith("mqtt") and not parts.path.strip("/")


class _Reader:
    def __init__(self, expand: Expand) -> None:
        self.expand = expand
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def name(self, field: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value or len(value) > 256 or not _NAME.match(value):
            self.fail(field, E_NAME)
            return None
        return self.expand(value)

    def names(self, field: str, value: Any) -> list[str] | None:
        if not isinstance(value, list) or not value:
            self.fail(field, E_LIST)
            return None
        out = [self.name(f"{field}[{i}]", item) for i, item in enumerate(value)]
        return [n for n in out if n is not None]

    def seconds(self, field: str, value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or value > 10**8:
            self.fail(field, E_NUMBER)
            return None
        return float(value)

    def text(self, field: str, value: Any, limit: int = 1000) -> str | None:
        if not isinstance(value, str) or len(value) > limit:
            self.fail(field, E_STRING)
            return None
        return value

    def key_values(self, field: str, value: Any) -> list[dict[str, str]] | None:
        if not isinstance(value, list):
            self.fail(field, E_KEYVALUES)
            return None
        out: list[dict[str, str]] = []
        for i, item in enumerate(value):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("key"), str)
                or not re.match(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$", item["key"])
                or not isinstance(item.get("value"), str)
                or "\n" in item["value"]
                or "\r" in item["value"]
            ):
                self.fail(f"{field}[{i}]", E_KEYVALUES)
                continue
            out.append({"key": item["key"], "value": item["value"]})
        return out

    def entities(self, value: Any) -> list[dict[str, Any]] | None:
        if not isinstance(value, list) or not value:
            self.fail("entities", E_LIST)
            return None
        out: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            field = f"entities[{i}]"
            if not isinstance(item, dict) or "type" not in item or ("id" in item and "idPattern" in item):
                self.fail(field, E_ENTITY)
                continue
            if set(item) - {"id", "idPattern", "type"}:
                self.fail(field, E_UNKNOWN)
                continue
            selector: dict[str, Any] = {}
            type_iri = self.name(f"{field}.type", item["type"])
            if type_iri is None:
                continue
            selector["type"] = type_iri
            if "id" in item:
                if not _is_uri(item["id"]):
                    self.fail(f"{field}.id", E_URI)
                    continue
                selector["id"] = item["id"]
            if "idPattern" in item:
                pattern = item["idPattern"]
                try:
                    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
                        raise re.error("too long")
                    re.compile(pattern)
                except re.error:
                    self.fail(f"{field}.idPattern", E_PATTERN)
                    continue
                selector["idPattern"] = pattern
            out.append(selector)
        return out

    def notification(self, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail("notification", E_OBJECT)
            return None
        out: dict[str, Any] = {}
        if "attributes" in value:
            attrs = self.names("notification.attributes", value["attributes"])
            if attrs is not None:
                out["attributes"] = attrs
        fmt = value.get("format", "normalized")
        if fmt not in FORMATS:
            self.fail("notification.format", E_FORMAT)
        out["format"] = fmt
        for flag in ("sysAttrs", "showChanges"):
            if flag in value:
                if not isinstance(value[flag], bool):
                    self.fail(f"notification.{flag}", E_BOOL)
                else:
                    out[flag] = value[flag]
        endpoint = value.get("endpoint")
        if not isinstance(endpoint, dict):
            self.fail("notification.endpoint", E_OBJECT if endpoint is not None else E_REQUIRED)
            return out
        ep: dict[str, Any] = {}
        if endpoint_error(endpoint.get("uri")):
            self.fail("notification.endpoint.uri", E_ENDPOINT)
        else:
            ep["uri"] = endpoint["uri"]
        accept = endpoint.get("accept", "application/json")
        if accept not in ACCEPTS:
            self.fail("notification.endpoint.accept", E_ACCEPT)
        ep["accept"] = accept
        for member in ("receiverInfo", "notifierInfo"):
            if member in endpoint:
                pairs = self.key_values(f"notification.endpoint.{member}", endpoint[member])
                if pairs is not None:
                    ep[member] = pairs
        for pair in ep.get("notifierInfo", []):
            if pair["key"] == "MQTT-QoS" and pair["value"] not in ("0", "1", "2"):
                self.fail("notification.endpoint.notifierInfo", E_QOS)
        out["endpoint"] = ep
        return out


def _check_q_and_geo(reader: _Reader, spec: dict[str, Any]) -> None:
    """The query language and geo-query of part ``query`` decide what is valid."""
    from cityos.hub.ngsi.geo import parse_geoquery
    from cityos.hub.ngsi.query import parse_q

    if "q" in spec:
        try:
            parse_q(spec["q"], reader.expand)
        except DomainError as exc:
            reader.errors.extend(FieldError("q", d.message, d.params) for d in exc.details or [])
            if not exc.details:
                reader.fail("q", exc.message)
    if "geoQ" in spec:
        geo = spec["geoQ"]
        try:
            parse_geoquery(
                georel=geo.get("georel"),
                geometry=geo.get("geometry"),
                coordinates=geo.get("coordinates"),
                geoproperty=geo.get("geoproperty"),
                expand=reader.expand,
            )
        except DomainError as exc:
            details = exc.details or [FieldError("geoQ", exc.message)]
            reader.errors.extend(
                FieldError(d.field if d.field.startswith("geoQ") else f"geoQ.{d.field}", d.message, d.params)
                for d in details
            )


def parse(
    body: Any,
    expand: Expand,
    *,
    now: datetime,
    partial: bool = False,
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored form of a subscription body, or ``Invalid`` with every field problem.

    With ``partial`` (PATCH) only the members given are read and merged over ``current``;
    ``null`` removes an optional member."""
    reader = _Reader(expand)
    if not isinstance(body, dict):
        raise Invalid(details=[FieldError("body", E_OBJECT)])
    spec: dict[str, Any] = dict(current or {})
    for key in body:
        if key in UNSUPPORTED:
            reader.fail(key, E_UNSUPPORTED)
        elif key not in KNOWN:
            reader.fail(key, E_UNKNOWN)
        elif key in READ_ONLY:
            reader.fail(key, E_READ_ONLY)
    if not partial:
        if "id" in body:
            if not _is_uri(body["id"]):
                reader.fail("id", E_URI)
            else:
                spec["id"] = body["id"]
        if body.get("type") != "Subscription":
            reader.fail("type", E_TYPE)
    else:
        if "id" in body and body["id"] != spec.get("id"):
            reader.fail("id", E_ID_CHANGE)
        if "type" in body and body["type"] != "Subscription":
            reader.fail("type", E_TYPE)
    spec["type"] = "Subscription"

    def member(key: str, read: Callable[[Any], Any]) -> None:
        if key not in body:
            return
        if body[key] is None and partial:
            spec.pop(key, None)
            return
        value = read(body[key])
        if value is not None:
            spec[key] = value

    member("subscriptionName", lambda v: reader.text("subscriptionName", v, 256))
    member("description", lambda v: reader.text("description", v, 2000))
    member("entities", reader.entities)
    member("watchedAttributes", lambda v: reader.names("watchedAttributes", v))
    member("q", lambda v: reader.text("q", v, 2000))
    member("lang", lambda v: reader.text("lang", v, 64))
    member("timeInterval", lambda v: reader.seconds("timeInterval", v))
    member("throttling", lambda v: reader.seconds("throttling", v))

    def trigger(value: Any) -> list[str] | None:
        if not isinstance(value, list) or not value:
            reader.fail("notificationTrigger", E_LIST)
            return None
        if any(t not in TRIGGERS for t in value):
            reader.fail("notificationTrigger", E_TRIGGER)
            return None
        return list(dict.fromkeys(value))

    member("notificationTrigger", trigger)

    def geo(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict) or set(value) - {"geometry", "coordinates", "georel", "geoproperty"}:
            reader.fail("geoQ", E_OBJECT)
            return None
        out = {k: value[k] for k in ("geometry", "coordinates", "georel") if k in value}
        out["geoproperty"] = expand(value.get("geoproperty") or "location")
        return out

    member("geoQ", geo)

    def active(value: Any) -> bool | None:
        if not isinstance(value, bool):
            reader.fail("isActive", E_BOOL)
            return None
        return value

    member("isActive", active)

    def expires(value: Any) -> str | None:
        moment = parse_time(value)
        if moment is None:
            reader.fail("expiresAt", E_DATE)
            return None
        if moment <= now:
            reader.fail("expiresAt", E_PAST)
            return None
        return iso(moment)

    member("expiresAt", expires)
    if "notification" in body:
        if partial and isinstance(body["notification"], dict) and isinstance(spec.get("notification"), dict):
            merged = {**spec["notification"], **body["notification"]}
            if isinstance(body["notification"].get("endpoint"), dict):
                merged["endpoint"] = {**spec["notification"].get("endpoint", {}), **body["notification"]["endpoint"]}
            # stored attribute names are IRIs already; expanding an IRI leaves it as it is
            note = reader.notification(merged)
        else:
            note = reader.notification(body["notification"])
        if note is not None:
            spec["notification"] = note
    elif not partial:
        reader.fail("notification", E_REQUIRED)
    for key in ("@context", "jsonldContext"):
        if key in body and body[key] is not None:
            spec["@context"] = body[key]
    if not reader.errors:
        if spec.get("timeInterval") is not None and (
            spec.get("watchedAttributes") or spec.get("notificationTrigger") or spec.get("throttling")
        ):
            reader.fail("timeInterval", E_INTERVAL_WATCH)
        if not spec.get("entities") and not spec.get("watchedAttributes"):
            reader.fail("entities", E_WHAT)
    if not reader.errors:
        _check_q_and_geo(reader, spec)
    if reader.errors:
        raise Invalid(details=reader.errors)
    return spec


def render(
    spec: dict[str, Any],
    compact: Callable[[str], str],
    *,
    status: dict[str, Any],
    with_context: bool,
) -> dict[str, Any]:
    """The subscription as the API answers it (compacted names, the status members)."""
    out: dict[str, Any] = {"id": spec["id"], "type": "Subscription"}
    for key in ("subscriptionName", "description"):
        if key in spec:
            out[key] = spec[key]
    if "entities" in spec:
        out["entities"] = [{**sel, "type": compact(sel["type"])} for sel in spec["entities"]]
    if "watchedAttributes" in spec:
        out["watchedAttributes"] = [compact(a) for a in spec["watchedAttributes"]]
    for key in ("notificationTrigger", "q", "lang", "expiresAt"):
        if key in spec:
            out[key] = spec[key]
    for key in ("timeInterval", "throttling"):
        if key in spec:
            seconds = spec[key]
            out[key] = int(seconds) if float(seconds).is_integer() else seconds
    if "geoQ" in spec:
        out["geoQ"] = {**spec["geoQ"], "geoproperty": compact(spec["geoQ"]["geoproperty"])}
    note = dict(spec.get("notification", {}))
    if "attributes" in note:
        note["attributes"] = [compact(a) for a in note["attributes"]]
    note.update({k: status[k] for k in ("timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure")})
    if status.get("lastFailureReason"):
        note["lastFailureReason"] = status["lastFailureReason"]
    note["status"] = status["notificationStatus"]
    out["notification"] = note
    out["isActive"] = status["isActive"]
    out["status"] = status["status"]
    if with_context and "@context" in spec:
        out["@context"] = spec["@context"]
    return out
