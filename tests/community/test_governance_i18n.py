"""Every message of community.governance (Python and templates) has its zh_CN translation, and
every placeholder of a message survives in its translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_file

from cityos.core.i18n import catalogue

SRC = Path(__file__).resolve().parents[2] / "src" / "cityos"
KEYWORDS = {"_": None, "N_": None, "translate": None, "tr": None, "gettext": None}
PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)s")


def _messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((SRC / "community" / "governance").glob("*.py")):
        for lineno, msg, _c, _ctx in extract_from_file("python", str(path), keywords=KEYWORDS):
            if isinstance(msg, str) and msg:
                found.setdefault(msg, f"{path.name}:{lineno}")
    for path in sorted((SRC / "web" / "templates" / "community" / "governance").glob("*.html")):
        for lineno, msg, _c, _ctx in extract_from_file(
            "jinja2.ext:babel_extract", str(path), keywords=KEYWORDS, options={"extensions": "jinja2.ext.i18n"}
        ):
            if isinstance(msg, str) and msg:
                found.setdefault(msg, f"{path.name}:{lineno}")
    return found


def test_every_message_is_translated_with_its_placeholders() -> None:
    zh = catalogue("zh_CN")
    messages = _messages()
    assert len(messages) > 200
    missing = [f"{where}: {msgid}" for msgid, where in messages.items() if msgid not in zh]
    assert missing == []
    broken = [
        msgid
        for msgid in messages
        if {a or b for a, b in PLACEHOLDER.findall(msgid)} != {a or b for a, b in PLACEHOLDER.findall(zh[msgid])}
    ]
    assert broken == []
