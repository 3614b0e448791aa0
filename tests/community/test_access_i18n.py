"""Every message of community.access (its Python messages and its templates' strings) has a
Chinese translation in its own catalogue, with the same placeholders."""

from __future__ import annotations

from tests.i18n_part import PLACEHOLDER, catalogue, msgids


def test_every_message_is_translated() -> None:
    translated = catalogue("community_access")
    ids = msgids("community/access")
    assert len(ids) > 150
    missing = sorted(i for i in ids if not translated.get(i))
    assert missing == []
    for msgid in ids:
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(translated[msgid])), msgid
