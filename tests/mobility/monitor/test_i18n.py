"""Every message of mobility.monitor (Python and templates) has a Chinese translation in its own
catalogue, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import cityos

ROOT = Path(cityos.__file__).resolve().parent
CATALOGUE = ROOT / "web" / "locale" / "zh_CN" / "LC_MESSAGES" / "mobility_monitor.po"
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def _msgids() -> set[str]:
    found: set[str] = set()
    keywords = {"_": None, "N_": None, "gettext": None}
    for folder, method in (
        (ROOT / "mobility" / "monitor", [("**.py", "python")]),
        (ROOT / "web" / "templates" / "mobility" / "monitor", [("**.html", "jinja2")]),
    ):
        options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=method, options_map=options, keywords=keywords
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def test_every_message_is_translated() -> None:
    with CATALOGUE.open("rb") as fh:
        catalogue = {m.id: str(m.string) for m in read_po(fh) if m.id}
    ids = _msgids()
    assert len(ids) > 30
    missing = sorted(i for i in ids if not catalogue.get(i))
    assert missing == []
    for msgid in ids:
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(catalogue[msgid])), msgid
