"""API key format, generation and hashing (pure functions, no I/O).

A key reads ``gk_live_<prefix>_<secret>``:

* ``prefix``: 8 characters ``[a-z0-9]``, stored in clear and unique; it finds
  the row in one index lookup and lets an admin recognise a key in a list;
* ``secret``: 32 random bytes from :mod:`secrets` (256 bits), base64url.

Only ``sha256(key)`` is stored. A slow password hash (argon2, bcrypt) exists
to make guessing *low-entropy* human passwords expensive; a 256-bit random
secret cannot be guessed or brute-forced whatever the hash speed, so a fast
hash loses nothing and keeps the per-request check in microseconds. A
database leak gives digests from which no usable key can be recovered.
Digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

KEY_PREFIX = "gk_live_"
PREFIX_LENGTH = 8
SECRET_BYTES = 32
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_KEY_RE = re.compile(r"^gk_live_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$")


def generate_key() -> tuple[str, str]:
    """A new key and its prefix: ``(key, prefix)``."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return f"{KEY_PREFIX}{prefix}_{secret}", prefix


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_prefix(key: str | None) -> str | None:
    """The prefix of a well-formed key, or ``None`` (malformed keys never reach the database)."""
    if not key:
        return None
    match = _KEY_RE.match(key.strip())
    return match.group(1) if match else None


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key.strip()), stored_hash)
