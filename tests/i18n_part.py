"""Shared by the per-part translation tests: the message ids a part's code and templates use, and
its zh_CN catalogue (msgid → msgstr)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import cityos

ROOT = Path(cityos.__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def msgids(part: str) -> set[str]:
    """The messages of ``cityos/<part>`` (Python) and ``web/templates/<part>`` (Jinja2); part is a path
    such as ``mobility/ingest``."""
    found: set[str] = set()
    keywords = {"_": None, "N_": None, "gettext": None}
    for folder, method in (
        (ROOT / part, [("**.py", "python")]),
        (ROOT / "web" / "templates" / part, [("**.html", "jinja2")]),
    ):
        options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=method, options_map=options, keywords=keywords
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def catalogue(name: str) -> dict[str, str]:
    with (ROOT / "web" / "locale" / "zh_CN" / "LC_MESSAGES" / f"{name}.po").open("rb") as fh:
        return {m.id: str(m.string) for m in read_po(fh) if m.id}
