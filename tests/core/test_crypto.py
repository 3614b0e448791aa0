from __future__ import annotations

import base64
import os

import pytest

from cityos.core.crypto import BlindIndex, DecryptionError, FieldCipher, SigningKeyPair, verify_signature


def _key() -> bytes:
    return os.urandom(32)


def test_field_cipher_round_trip_and_no_plaintext() -> None:
    cipher = FieldCipher({"k1": _key()})
    stored = cipher.encrypt("510104199001011234", context="person.id_number")
    assert stored.startswith("k1:")
    assert "510104199001011234" not in stored
    assert cipher.decrypt(stored, context="person.id_number") == "510104199001011234"
    # Same plaintext encrypts differently each time (random nonce).
    assert cipher.encrypt("x") != cipher.encrypt("x")


def test_field_cipher_context_is_bound() -> None:
    cipher = FieldCipher({"k1": _key()})
    stored = cipher.encrypt("13800001111", context="person.phone")
    with pytest.raises(DecryptionError):
        cipher.decrypt(stored, context="person.id_number")


def test_key_rotation_old_values_still_decrypt() -> None:
    old_key, new_key = _key(), _key()
    old = FieldCipher({"k1": old_key})
    stored_old = old.encrypt("secret")
    rotated = FieldCipher({"k2": new_key, "k1": old_key})
    assert rotated.decrypt(stored_old) == "secret"
    assert rotated.encrypt("secret").startswith("k2:")
    with pytest.raises(DecryptionError):
        FieldCipher({"k2": new_key}).decrypt(stored_old)


def test_rejects_bad_keys() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher({"k1": b"short"})
    with pytest.raises(ValueError, match="at least one"):
        FieldCipher({})


def test_blind_index_is_keyed_and_normalised() -> None:
    a, b = BlindIndex(b"key-a"), BlindIndex(b"key-b")
    assert a.digest("11010519491231002x", purpose="id_number") == a.digest("11010519491231002X ", purpose="id_number")
    assert a.digest("1", purpose="id_number") != a.digest("1", purpose="phone")
    assert a.digest("1", purpose="phone") != b.digest("1", purpose="phone")


def test_ed25519_sign_verify() -> None:
    pair = SigningKeyPair.generate("t1")
    sig = pair.sign(b"hello")
    assert verify_signature(pair.public_bytes(), b"hello", sig)
    assert not verify_signature(pair.public_bytes(), b"hell0", sig)
    restored = SigningKeyPair.from_private_bytes("t1", pair.private_bytes())
    assert restored.public_bytes() == pair.public_bytes()
    assert base64.b64encode(sig)
