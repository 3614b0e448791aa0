"""Translations (gettext catalogues read with Babel); zh_CN is the default language.

Catalogues live in ``cityos/web/locale/<locale>/LC_MESSAGES/*.po``, one file per module so
modules can be translated independently; all files of a locale are merged at load time.
Message ids are English.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "web" / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=8)
def catalogue(locale: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    if not folder.is_dir():
        return messages
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=locale)
        for msg in cat:
            if msg.id and msg.string and not msg.fuzzy and isinstance(msg.id, str):
                messages[msg.id] = str(msg.string)
    return messages


def translate(msgid: str, locale: str | None = None, **params: Any) -> str:
    loc = locale or current_locale.get()
    text = catalogue(loc).get(msgid, msgid) if loc != "en" else msgid
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def gettext(msgid: str, **params: Any) -> str:
    return translate(msgid, **params)


_ = gettext


def N_(msgid: str) -> str:
    """Marks a string for extraction; it is translated later, where it is shown."""
    return msgid


def normalise(value: str | None) -> str | None:
    """Map a tag like ``zh-CN``, ``zh``, ``en-US`` to a shipped locale, or None."""
    if not value:
        return None
    tag = value.strip().replace("-", "_")
    for loc in LOCALES:
        if tag.lower() == loc.lower():
            return loc
    lang = tag.split("_")[0].lower()
    for loc in LOCALES:
        if loc.split("_")[0].lower() == lang:
            return loc
    return None


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Choose a locale: an explicit choice first, then Accept-Language, then zh_CN."""
    chosen = normalise(preferred)
    if chosen:
        return chosen
    if accept_language:
        weighted: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            tag, _sep, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((weight, tag))
        for _w, tag in sorted(weighted, key=lambda x: -x[0]):
            loc = normalise(tag)
            if loc:
                return loc
    return DEFAULT_LOCALE
