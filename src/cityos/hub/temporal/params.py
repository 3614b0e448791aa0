"""The temporal query's parameters, checked: timerel/timeAt/endTimeAt, timeproperty, lastN,
paging, aggregation methods and ISO 8601 period durations. Every problem is a field error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_

TIMERELS = ("before", "after", "between")
TIME_PROPERTIES = {"observedAt": "observed_at", "createdAt": "created_at", "modifiedAt": "created_at"}
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
OPTIONS = frozenset({"temporalValues", "normalized", "aggregatedValues", "sysAttrs", "count"})
MAX_LAST_N = 10_000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20

MSG_TIMEREL_MISSING = N_("Give timerel (before, after or between) and timeAt.")
MSG_TIMEREL = N_("timerel must be before, after or between.")
MSG_TIME_AT = N_("timeAt is required with timerel.")
MSG_END_MISSING = N_("endTimeAt is required when timerel is between.")
MSG_END_ORDER = N_("endTimeAt must be later than timeAt.")
MSG_DATETIME = N_("Not a valid date-time (ISO 8601, for example 2026-11-30T08:00:00Z).")
MSG_TIMEPROPERTY = N_("timeproperty must be observedAt, createdAt or modifiedAt.")
MSG_WHOLE = N_("Give a whole number from {low} to {high}.")
MSG_DURATION = N_("Not a valid ISO 8601 duration (for example PT1H or P1D).")
MSG_METHOD = N_("Unknown aggregation method: {method}.")
MSG_METHODS_MISSING = N_("aggrMethods is required with options=aggregatedValues.")
MSG_OPTION = N_("Unknown option: {option}.")
MSG_SELECTOR = N_("Give at least one of type, id, idPattern, attrs or q.")

_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration: calendar months plus a fixed part."""

    months: int
    fixed: timedelta

    @property
    def zero(self) -> bool:
        return self.months == 0 and self.fixed == timedelta(0)

    def add_to(self, moment: datetime, times: int = 1) -> datetime:
        """``moment`` plus ``times`` durations (months counted from ``moment``, so a period
        starting on the 31st ends on the last day of shorter months without drifting)."""
        if self.months:
            month = moment.month - 1 + self.months * times
            year = moment.year + month // 12
            month = month % 12 + 1
            days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30]
            days += [31, 31, 30, 31, 30, 31]
            moment = moment.replace(year=year, month=month, day=min(moment.day, days[month - 1]))
        return moment + self.fixed * times


def parse_duration(text: str, field: str = "aggrPeriodDuration") -> Duration:
    match = _DURATION.match(text.strip()) if text else None
    if match is None or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise Invalid(details=[FieldError(field, MSG_DURATION)])
    g = match.groupdict()
    months = int(g["y"] or 0) * 12 + int(g["mo"] or 0)
    fixed = timedelta(
        weeks=int(g["w"] or 0),
        days=int(g["d"] or 0),
        hours=int(g["h"] or 0),
        minutes=int(g["mi"] or 0),
        seconds=float(g["s"] or 0),
    )
    return Duration(months, fixed)


_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_datetime(text: str, field: str) -> datetime:
    """An ISO 8601 date-time; a ``+hh:mm`` offset whose ``+`` an unencoded URL turned into a
    space is read as meant."""
    try:
        moment = datetime.fromisoformat(_SPACED_OFFSET.sub(r"\1+\2", text.strip()))
    except (ValueError, AttributeError) as exc:
        raise Invalid(details=[FieldError(field, MSG_DATETIME)]) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def whole(text: str | None, field: str, low: int, high: int, default: int | None = None) -> int | None:
    if text is None or text == "":
        return default
    try:
        number = int(text)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise Invalid(details=[FieldError(field, MSG_WHOLE, {"low": low, "high": high})])
    return number


def split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@dataclass(frozen=True)
class TimeWindow:
    timerel: str
    time_at: datetime
    end_time_at: datetime | None
    column: str  # observed_at | created_at

    @property
    def start(self) -> datetime | None:
        return None if self.timerel == "before" else self.time_at

    @property
    def end(self) -> datetime | None:
        if self.timerel == "before":
            return self.time_at
        return self.end_time_at if self.timerel == "between" else None


def parse_window(
    timerel: str | None, time_at: str | None, end_time_at: str | None, timeproperty: str | None
) -> TimeWindow:
    errors: list[FieldError] = []
    if not timerel:
        raise Invalid(details=[FieldError("timerel", MSG_TIMEREL_MISSING)])
    if timerel not in TIMERELS:
        errors.append(FieldError("timerel", MSG_TIMEREL))
    column = TIME_PROPERTIES.get(timeproperty or "observedAt")
    if column is None:
        errors.append(FieldError("timeproperty", MSG_TIMEPROPERTY))
    at: datetime | None = None
    end: datetime | None = None
    if not time_at:
        errors.append(FieldError("timeAt", MSG_TIME_AT))
    else:
        try:
            at = parse_datetime(time_at, "timeAt")
        except Invalid as exc:
            errors.extend(exc.details)
    if timerel == "between":
        if not end_time_at:
            errors.append(FieldError("endTimeAt", MSG_END_MISSING))
        else:
            try:
                end = parse_datetime(end_time_at, "endTimeAt")
            except Invalid as exc:
                errors.extend(exc.details)
            if at is not None and end is not None and end <= at:
                errors.append(FieldError("endTimeAt", MSG_END_ORDER))
    if errors or at is None or column is None:
        raise Invalid(details=errors)
    return TimeWindow(timerel, at, end, column)


def parse_options(text: str | None) -> frozenset[str]:
    options = frozenset(split_list(text))
    for option in sorted(options - OPTIONS):
        raise Invalid(details=[FieldError("options", MSG_OPTION, {"option": option})])
    return options


def parse_methods(text: str | None, needed: bool) -> tuple[str, ...]:
    methods = split_list(text)
    for method in methods:
        if method not in AGGR_METHODS:
            raise Invalid(details=[FieldError("aggrMethods", MSG_METHOD, {"method": method})])
    if needed and not methods:
        raise Invalid(details=[FieldError("aggrMethods", MSG_METHODS_MISSING)])
    return tuple(dict.fromkeys(methods))
