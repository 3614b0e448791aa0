"""Every message of mobility.monitor (Python and templates) has a Chinese translation in its own
catalogue, with the same placeholders."""

from __future__ import annotations

from tests.i18n_part import PLACEHOLDER, catalogue, msgids


def test_every_message_is_translated() -> None:
    translated = catalogue("mobility_monitor")
    ids = msgids("mobility/monitor")
    assert len(ids) > 30
    missing = sorted(i for i in ids if not translated.get(i))
    assert missing == []
    for msgid in ids:
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(translated[msgid])), msgid
