"""Field encryption (AES-GCM with key ids), HMAC blind index, Ed25519 signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cityos.core.settings import Settings


class DecryptionError(Exception):
    pass


class FieldCipher:
    """Encrypts one field value. Stored form: ``<kid>:<base64(nonce + ciphertext)>``.

    The first key encrypts; every configured key decrypts, so keys can be rotated by
    putting the new key first and re-encrypting at leisure.
    """

    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise ValueError("at least one field key is required")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"field key {kid!r} must be 32 bytes")
            if ":" in kid:
                raise ValueError("key ids may not contain ':'")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current_kid = next(iter(keys))

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        return cls({kid: base64.b64decode(v) for kid, v in settings.field_keys.items()})

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(12)
        ct = self._keys[self.current_kid].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.current_kid}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, stored: str, *, context: str = "") -> str:
        kid, _, blob = stored.partition(":")
        aes = self._keys.get(kid)
        if aes is None:
            raise DecryptionError(f"unknown key id {kid!r}")
        raw = base64.b64decode(blob)
        try:
            return aes.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except Exception as exc:  # cryptography raises InvalidTag without a message
            raise DecryptionError("ciphertext does not verify") from exc

    def key_id(self, stored: str) -> str:
        return stored.partition(":")[0]


class BlindIndex:
    """Keyed hash for exact-match lookup of an encrypted field without decrypting."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> BlindIndex:
        return cls(settings.blind_index_key.encode())

    def digest(self, value: str, *, purpose: str) -> str:
        msg = f"{purpose}\x00{value.strip().upper()}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SigningKeyPair:
    """An Ed25519 key with its id, for documents other modules sign (credentials, federation)."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKeyPair:
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, kid: str, raw: bytes) -> SigningKeyPair:
        return cls(kid, Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
