from __future__ import annotations

import pytest
from pydantic import ValidationError

from cityos.core.i18n import negotiate, translate
from cityos.core.logging import scrub
from cityos.core.settings import Settings


def test_default_secrets_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="CITYOS_SECRET_KEY"):
        Settings(env="production")
    ok = Settings(
        env="production",
        secret_key="s" * 40,
        blind_index_key="b" * 40,
        field_keys={"k9": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="},
    )
    assert ok.env == "production"
    assert Settings(env="development").secret_key


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYOS_TIMEZONE", "Asia/Urumqi")
    assert Settings().timezone == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("header", "cookie", "expected"),
    [
        (None, None, "zh_CN"),
        ("en-US,en;q=0.9", None, "en"),
        ("fr-FR, en;q=0.5", None, "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh_CN"),
        ("en", "zh_CN", "zh_CN"),
        ("de", None, "zh_CN"),
    ],
)
def test_negotiate(header: str | None, cookie: str | None, expected: str) -> None:
    assert negotiate(header, cookie) == expected


def test_translate_with_params() -> None:
    assert translate("Must be at least {ge}.", "zh_CN", ge=3) == "不能小于 3。"
    assert translate("Must be at least {ge}.", "en", ge=3) == "Must be at least 3."
    assert translate("no such message", "zh_CN") == "no such message"


def test_scrub_removes_identity_numbers_and_phones() -> None:
    line = "user 11010519491231002X called from 13912345678 about order 12345"
    cleaned = scrub(line)
    assert "11010519491231002X" not in cleaned
    assert "13912345678" not in cleaned
    assert "order 12345" in cleaned


def test_catalogues_agree_on_every_shared_message() -> None:
    """All zh_CN catalogues are merged into one table, so a message translated twice must read
    the same in both files (otherwise whichever file sorts last silently wins)."""
    from babel.messages.pofile import read_po

    from cityos.core.i18n import LOCALE_DIR

    first: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((LOCALE_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for msg in read_po(fh, locale="zh_CN"):
                if not msg.id or not msg.string or not isinstance(msg.id, str):
                    continue
                where, text = first.setdefault(msg.id, (po.name, str(msg.string)))
                if text != msg.string:
                    clashes.append(f"{msg.id!r}: {where} {text!r} vs {po.name} {msg.string!r}")
    assert clashes == []
