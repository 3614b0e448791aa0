from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import signing
from cityos.core.actor import Actor, subtree_range
from cityos.core.errors import Forbidden
from cityos.core.models import SigningKey


def _actor(scope: str, perms: set[str]) -> Actor:
    return Actor(account_id=1, label="t", roles=frozenset(), permissions=frozenset(perms), scope_path=scope)


def test_actor_scope_and_permissions() -> None:
    actor = _actor("/1/7/", {"person:read"})
    assert actor.covers("/1/7/42/")
    assert actor.covers("/1/7/")
    assert not actor.covers("/1/70/")  # a sibling whose id starts with the same digits
    assert not actor.covers("/1/")
    assert actor.can("person:read", region="/1/7/9/")
    assert not actor.can("person:write", region="/1/7/9/")
    with pytest.raises(Forbidden):
        actor.require("person:read", region="/2/")


def test_subtree_range_bounds() -> None:
    low, high = subtree_range("/1/7/")
    inside = ["/1/7/", "/1/7/42/", "/1/7/9/1/"]
    outside = ["/1/70/", "/1/8/", "/1/6/99/", "/1/"]
    assert all(low <= p < high for p in inside)
    assert not any(low <= p < high for p in outside)
    with pytest.raises(ValueError, match="end with"):
        subtree_range("/1/7")


def test_signing_keys_persist_encrypted(session: Session) -> None:
    kid, sig = signing.sign(session, "credentials", b"doc")
    assert signing.verify(session, kid, b"doc", sig)
    assert not signing.verify(session, kid, b"doc2", sig)
    assert not signing.verify(session, "nope", b"doc", sig)
    assert not signing.verify(session, kid, b"doc", "not-base64!")
    kid2, _ = signing.sign(session, "credentials", b"other")
    assert kid2 == kid  # the active key is reused
    row = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    assert row is not None
    assert row.private_key_enc.startswith("k1:")
