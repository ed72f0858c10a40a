"""Field encryption (AES-256-GCM with key ids) and keyed blind-index tokens.

Stored form of an encrypted value: ``enc1$<key id>$<urlsafe base64 of nonce || ciphertext>``.
The key id is the first 8 hex digits of SHA-256 of the key, so any key in the keyring can
decrypt what it wrote and the newest key (first in ``FIELD_ENCRYPTION_KEYS``) encrypts. The
associated data binds a ciphertext to its column ("participants.participant.email"), so a
value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any key in the keyring."""


def key_id(raw_key: bytes) -> str:
    return hashlib.sha256(raw_key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    primary: str
    keys: dict[str, bytes]

    @classmethod
    def from_encoded(cls, encoded_keys: list[str]) -> Keyring:
        if not encoded_keys:
            raise ValueError("at least one field encryption key is required")
        raw = [base64.urlsafe_b64decode(k) for k in encoded_keys]
        for r in raw:
            if len(r) != 32:
                raise ValueError("field encryption keys must be 32 bytes (AES-256), base64 encoded")
        return cls(primary=key_id(raw[0]), keys={key_id(r): r for r in raw})

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.primary]).encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}${self.primary}${body}"

    def decrypt(self, stored: str, context: str) -> str:
        try:
            prefix, kid, body = stored.split("$", 2)
        except ValueError as exc:
            raise DecryptionError("not an encrypted value") from exc
        if prefix != PREFIX or kid not in self.keys:
            raise DecryptionError(f"no key {kid!r} in the keyring")
        blob = base64.urlsafe_b64decode(body)
        try:
            plain = AESGCM(self.keys[kid]).decrypt(blob[:12], blob[12:], context.encode())
        except Exception as exc:  # InvalidTag: tampered, wrong column or wrong key
            raise DecryptionError("ciphertext failed authentication") from exc
        return plain.decode()

    def needs_rotation(self, stored: str) -> bool:
        return not stored.startswith(f"{PREFIX}${self.primary}$")


@lru_cache(maxsize=4)
def _keyring_for(keys: tuple[str, ...]) -> Keyring:
    return Keyring.from_encoded(list(keys))


def keyring() -> Keyring:
    from django.conf import settings

    return _keyring_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def normalize_term(text: str) -> str:
    """Case- and accent-insensitive form used for the blind index ("José" == "jose")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def blind_token(scope: str, term: str) -> str:
    """A keyed hash of a normalized search term; reveals nothing without the search key."""
    from django.conf import settings

    key = settings.SEARCH_INDEX_KEY.encode()
    message = f"{scope}\x00{normalize_term(term)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]
