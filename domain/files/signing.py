"""Short-lived signed download links.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(key, payload))`` where the
payload binds a version byte, the variant (original or thumbnail), the tenant id,
the file id and the expiry (Unix seconds). Whoever holds a valid, unexpired token
may download that one file: tokens are only minted for principals allowed to read it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
import uuid
from dataclasses import dataclass

VERSION = 1
ORIGINAL = "o"
THUMBNAIL = "t"
_PAYLOAD = struct.Struct(">Bc16s16sQ")


class BadSignature(Exception):
    pass


class ExpiredSignature(Exception):
    pass


@dataclass(frozen=True)
class FileRef:
    tenant_id: uuid.UUID
    file_id: uuid.UUID
    variant: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str | bytes) -> bytes:
    """A key used only for file links, derived from a master secret (domain separation)."""
    material = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(material, b"guichet/files/download-url/v1", hashlib.sha256).digest()


class UrlSigner:
    def __init__(self, key: bytes, ttl_seconds: int = 300) -> None:
        self._key = key
        self.ttl_seconds = ttl_seconds

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def sign(self, tenant_id: uuid.UUID, file_id: uuid.UUID, variant: str = ORIGINAL, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + self.ttl_seconds
        payload = _PAYLOAD.pack(VERSION, variant.encode(), tenant_id.bytes, file_id.bytes, expires)
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str, now: float | None = None) -> FileRef:
        """The reference in a token; ``BadSignature`` if forged or malformed, ``ExpiredSignature`` if too old."""
        head, dot, sig = token.partition(".")
        if not dot or len(token) > 200:
            raise BadSignature()
        try:
            payload, mac = _unb64(head), _unb64(sig)
        except (binascii.Error, ValueError) as exc:
            raise BadSignature() from exc
        if not hmac.compare_digest(mac, self._mac(payload)) or len(payload) != _PAYLOAD.size:
            raise BadSignature()
        version, variant, tenant, file_id, expires = _PAYLOAD.unpack(payload)
        if version != VERSION or variant.decode() not in (ORIGINAL, THUMBNAIL):
            raise BadSignature()
        if expires < int(now if now is not None else time.time()):
            raise ExpiredSignature()
        return FileRef(uuid.UUID(bytes=tenant), uuid.UUID(bytes=file_id), variant.decode(), expires)
