"""Personal information at rest: AES-256-GCM with a key id, and an HMAC blind index.

A stored value is `<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id lets keys rotate:
new values use the newest key, old ones stay readable while their key is listed. The blind
index is a keyed HMAC of the normalised value, so lookups and uniqueness work without ever
storing or comparing plaintext; it uses its own key, which never rotates with the PII keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from qingyuan.platform.settings import PlatformSettings

_NONCE_BYTES = 12


class PIIDecryptionError(Exception):
    """A stored value whose key is unknown or whose ciphertext was tampered with."""


class PIICipher:
    def __init__(self, keys: tuple[tuple[str, bytes], ...], index_key: bytes) -> None:
        if not keys:
            raise ValueError("at least one PII key is required")
        self._keys = dict(keys)
        self._current_id = keys[0][0]
        self._index_key = index_key

    @property
    def current_key_id(self) -> str:
        """The id of the newest key, the one new values are encrypted with."""
        return self._current_id

    def encrypt(self, plaintext: str, *, purpose: str) -> str:
        """Encrypt; `purpose` is bound as associated data so values can't swap: a purpose name
        ("phone"), or one that also names the row (see `platform.encryption`)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self._keys[self._current_id]).encrypt(
            nonce, plaintext.encode(), purpose.encode()
        )
        return f"{self._current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, purpose: str) -> str:
        key_id, _, encoded = stored.partition(":")
        key = self._keys.get(key_id)
        if key is None:
            raise PIIDecryptionError(f"unknown PII key id {key_id!r}")
        blob = base64.b64decode(encoded)
        try:
            plain = AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], purpose.encode())
        except Exception as exc:
            raise PIIDecryptionError("PII ciphertext failed authentication") from exc
        return plain.decode()

    def needs_rotation(self, stored: str) -> bool:
        return not stored.startswith(f"{self._current_id}:")

    def blind_index(self, value: str, *, purpose: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`."""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "***"


def mask_name(name: str) -> str:
    """`张三` → `张*`, `欧阳娜娜` → `欧***`."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_id_number(id_number: str) -> str:
    """`330106199001011234` → `330106********1234`."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def cipher_for(settings: PlatformSettings) -> PIICipher:
    """The cipher of `settings`' PII keys and blind index key."""
    return PIICipher(
        settings.pii_keys.get_secret_value(), settings.blind_index_key.get_secret_value()
    )
