"""Access tokens: JWTs signed and verified with python-jose.

The accepted algorithm list is fixed by configuration (exactly one
algorithm), so a token signed with ``none`` or with another algorithm (for
instance HS256 with the RSA public key as secret: algorithm confusion) is
rejected. ``exp``, ``iat``, ``iss`` and ``jti`` are required.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Iterable

from jose import JWTError, jwt

from api.settings import Settings
from domain.security import Principal, PrincipalKind, Role

REQUIRED_CLAIMS = ("sub", "tenant", "kind", "exp", "iat", "jti")


class InvalidToken(Exception):
    """The token is missing a claim, badly signed, expired or otherwise unusable."""


@dataclass(frozen=True)
class TokenKeys:
    algorithm: str
    signing_key: str
    verifying_key: str
    key_id: str | None
    issuer: str
    ttl: int

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenKeys:
        if settings.jwt_algorithm == "HS256":
            signing = verifying = settings.jwt_secret
        else:
            signing, verifying = settings.jwt_private_key or "", settings.jwt_public_key or ""
        return cls(
            algorithm=settings.jwt_algorithm,
            signing_key=signing,
            verifying_key=verifying,
            key_id=settings.jwt_key_id,
            issuer=settings.jwt_issuer,
            ttl=settings.access_token_ttl_seconds,
        )


def issue_token(
    keys: TokenKeys,
    *,
    kind: PrincipalKind,
    subject_id: uuid.UUID,
    tenant_id: uuid.UUID,
    roles: Iterable[Role | str] = (),
    departments: Iterable[uuid.UUID] = (),
    ttl: int | None = None,
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    claims = {
        "iss": keys.issuer,
        "sub": str(subject_id),
        "tenant": str(tenant_id),
        "kind": kind.value,
        "roles": sorted(getattr(r, "value", r) for r in roles),
        "departments": sorted(str(d) for d in departments),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl if ttl is not None else keys.ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    headers = {"kid": keys.key_id} if keys.key_id else None
    return jwt.encode(claims, keys.signing_key, algorithm=keys.algorithm, headers=headers)


def verify_token(keys: TokenKeys, token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except JWTError as exc:
        raise InvalidToken("malformed token") from exc
    if header.get("alg") != keys.algorithm:
        raise InvalidToken("unexpected algorithm")
    if keys.key_id and header.get("kid") != keys.key_id:
        raise InvalidToken("unknown key id")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            keys.verifying_key,
            algorithms=[keys.algorithm],
            issuer=keys.issuer,
            options={"require_exp": True, "require_iat": True, "require_sub": True, "require_jti": True, "verify_aud": False},
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    missing = [c for c in REQUIRED_CLAIMS if c not in claims]
    if missing:
        raise InvalidToken(f"missing claims: {missing}")
    try:
        kind = PrincipalKind(claims["kind"])
        roles = frozenset(Role(r) for r in claims.get("roles") or [])
        departments = frozenset(uuid.UUID(d) for d in claims.get("departments") or [])
        return Principal(
            kind=kind,
            subject_id=uuid.UUID(claims["sub"]),
            tenant_id=uuid.UUID(claims["tenant"]),
            roles=frozenset() if kind is PrincipalKind.CITIZEN else roles,
            departments=departments,
            token_id=claims["jti"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (ValueError, TypeError) as exc:
        raise InvalidToken("invalid claim value") from exc
