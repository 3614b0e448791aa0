"""Opening hours of a shop (营业时间): ``HH:MM-HH:MM`` ranges separated by commas, in the
city's time; a range whose end is before its start runs past midnight (``22:00-02:00``)."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from cityos.core.settings import get_settings

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
MAX_RANGES = 4


def parse(text: str) -> list[tuple[time, time]] | None:
    """The ranges of ``text``, [] for an empty text, None when it is not well formed."""
    cleaned = text.replace("，", ",").replace("–", "-").replace(" ", "")
    if not cleaned:
        return []
    parts = cleaned.split(",")
    if len(parts) > MAX_RANGES:
        return None
    out: list[tuple[time, time]] = []
    for part in parts:
        m = _RANGE.match(part)
        if m is None:
            return None
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h2 == 24 and m2 != 0:
            return None
        start = time(h1, m1)
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if start == end:
            return None
        out.append((start, end))
    return out


def normalise(text: str) -> str:
    """The canonical spelling (``08:00-12:00,14:00-20:00``) of a well-formed text."""
    return text.replace("，", ",").replace("–", "-").replace(" ", "")


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def is_open(text: str, moment: datetime) -> bool:
    """True when ``moment`` falls in one of the ranges (always true when no hours are stated)."""
    ranges = parse(text)
    if not ranges:
        return True
    clock = moment.astimezone(zone()).time()
    for start, end in ranges:
        if start < end:
            if start <= clock <= end:
                return True
        elif clock >= start or clock <= end:  # past midnight
            return True
    return False
