"""Use cases of API clients: issue, list, revoke (tenant admins), and authenticate a key.

Managing credentials is reserved to ADMIN *agents* (people): an API client,
even one holding the ADMIN role, cannot mint or revoke keys, so a leaked key
cannot be used to create a fresh one that survives its own revocation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.base import utcnow
from domain.clients.keys import generate_key, hash_key, key_matches, parse_prefix
from domain.clients.models import ApiClient
from domain.errors import Collector, DomainValidationError, Forbidden
from domain.events.services import record_event
from domain.locking import check_version, lock_row
from domain.pagination import Page, paginate
from domain.security import Principal, PrincipalKind, Role, require_role
from domain.tenancy.services import load_departments

NAME_MAX = 100
# last_used_at is refreshed at most this often: one write a minute per busy client, not one per request
LAST_USED_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedClient:
    """A new client and its key: the only moment the key exists outside the caller's hands."""

    client: ApiClient
    key: str


def require_client_admin(principal: Principal | None) -> Principal:
    p = require_role(principal, Role.ADMIN)
    if p.kind is not PrincipalKind.AGENT:
        raise Forbidden()
    return p


def is_active(client: ApiClient, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return client.revoked_at is None and (client.expires_at is None or client.expires_at > now)


async def load_api_clients(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[ApiClient | None]:
    rows = (
        await session.execute(sa.select(ApiClient).where(ApiClient.tenant_id == tenant_id, ApiClient.id.in_(list(ids))))
    ).scalars()
    by_id = {c.id: c for c in rows}
    return [by_id.get(i) for i in ids]


async def get_api_client(session: AsyncSession, principal: Principal | None, client_id: uuid.UUID) -> ApiClient | None:
    p = require_client_admin(principal)
    (client,) = await load_api_clients(session, p.tenant_id, [client_id])
    return client


async def list_api_clients(
    session: AsyncSession, principal: Principal | None, first: int | None, after: str | None, include_revoked: bool = False
) -> Page[ApiClient]:
    p = require_client_admin(principal)
    stmt = sa.select(ApiClient).where(ApiClient.tenant_id == p.tenant_id)
    if not include_revoked:
        stmt = stmt.where(ApiClient.revoked_at.is_(None))
    return await paginate(session, stmt, [ApiClient.name, ApiClient.id], first, after)


async def _clean(
    session: AsyncSession, tenant_id: uuid.UUID, data: dict[str, Any], errors: Collector, now: datetime
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    name = " ".join((data.get("name") or "").split())
    if not name:
        errors.add(("name",), "REQUIRED")
    elif len(name) > NAME_MAX:
        errors.add(("name",), "TOO_LONG", max=NAME_MAX)
    elif (
        await session.execute(
            sa.select(ApiClient.id).where(
                ApiClient.tenant_id == tenant_id, ApiClient.name == name, ApiClient.revoked_at.is_(None)
            )
        )
    ).first():
        errors.add(("name",), "DUPLICATE")
    out["name"] = name
    roles: list[str] = []
    for index, role in enumerate(data.get("roles") or []):
        try:
            roles.append(Role(getattr(role, "value", role)).value)
        except ValueError:
            errors.add(("roles", str(index)), "INVALID")
    if not data.get("roles"):
        errors.add(("roles",), "CLIENT_ROLE_REQUIRED")
    out["roles"] = sorted(set(roles))
    department_ids = list(dict.fromkeys(data.get("department_ids") or []))
    if department_ids:
        found = await load_departments(session, tenant_id, department_ids)
        for index, dep in enumerate(found):
            if dep is None:
                errors.add(("department_ids", str(index)), "NOT_FOUND")
    out["department_ids"] = department_ids
    expires_at = data.get("expires_at")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            errors.add(("expires_at",), "INVALID")
        elif expires_at <= now:
            errors.add(("expires_at",), "EXPIRY_IN_PAST")
    out["expires_at"] = expires_at
    return out


async def issue_api_client(
    session: AsyncSession, tenant_id: uuid.UUID, data: dict[str, Any], actor: Principal | None
) -> IssuedClient:
    """Create a client and its key in ``tenant_id`` (no permission check: callers check).

    Used by :func:`create_api_client` and by the command line (platform operators).
    """
    now = utcnow()
    errors = Collector()
    values = await _clean(session, tenant_id, data, errors, now)
    errors.raise_if_any()
    for _ in range(5):  # a prefix collision (1 in 2.8e12 per pair) just draws again
        key, prefix = generate_key()
        taken = (await session.execute(sa.select(ApiClient.id).where(ApiClient.key_prefix == prefix))).first()
        if not taken:
            break
    client = ApiClient(
        tenant_id=tenant_id,
        key_prefix=prefix,
        key_hash=hash_key(key),
        created_by=actor.subject_id if actor else None,
        **values,
    )
    session.add(client)
    await session.flush()
    record_event(
        session,
        tenant_id=tenant_id,
        type="api_client.created",
        aggregate_type="ApiClient",
        aggregate_id=client.id,
        actor=actor,
        payload={
            "roles": client.roles,
            "department_ids": [str(d) for d in client.department_ids],
            "expires_at": client.expires_at.isoformat() if client.expires_at else None,
        },
    )
    return IssuedClient(client=client, key=key)


async def create_api_client(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> IssuedClient:
    p = require_client_admin(principal)
    return await issue_api_client(session, p.tenant_id, data, p)


async def revoke_api_client(
    session: AsyncSession, principal: Principal | None, client_id: uuid.UUID, expected_version: int
) -> ApiClient:
    p = require_client_admin(principal)
    client = await lock_row(session, ApiClient, p.tenant_id, client_id)
    if client is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    check_version(client.version, expected_version)
    if client.revoked_at is not None:
        raise DomainValidationError.single(("id",), "ALREADY_REVOKED")
    client.revoked_at = utcnow()
    client.version += 1
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="api_client.revoked",
        aggregate_type="ApiClient",
        aggregate_id=client.id,
        actor=p,
        payload={"version": client.version},
    )
    await session.flush()
    return client


def client_principal(client: ApiClient) -> Principal:
    return Principal(
        kind=PrincipalKind.CLIENT,
        subject_id=client.id,
        tenant_id=client.tenant_id,
        roles=frozenset(Role(r) for r in client.roles),
        departments=frozenset(client.department_ids),
        token_id=f"key:{client.key_prefix}",
    )


async def authenticate_key(session: AsyncSession, key: str | None) -> ApiClient | None:
    """The active client owning ``key``, or ``None`` (unknown, malformed, revoked or expired).

    Refreshes ``last_used_at`` when it is older than a minute (a conditional
    UPDATE, so concurrent requests write it once); the caller commits.
    Not recorded as a domain event: it is usage telemetry, not a state change.
    """
    prefix = parse_prefix(key)
    if prefix is None:
        return None
    client = (await session.execute(sa.select(ApiClient).where(ApiClient.key_prefix == prefix))).scalar_one_or_none()
    if client is None or not key_matches(key or "", client.key_hash):
        return None
    now = utcnow()
    if not is_active(client, now):
        return None
    if client.last_used_at is None or client.last_used_at < now - LAST_USED_GRANULARITY:
        await session.execute(
            sa.update(ApiClient)
            .where(
                ApiClient.id == client.id,
                sa.or_(ApiClient.last_used_at.is_(None), ApiClient.last_used_at < now - LAST_USED_GRANULARITY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return client


__all__ = [
    "IssuedClient",
    "authenticate_key",
    "client_principal",
    "create_api_client",
    "get_api_client",
    "is_active",
    "issue_api_client",
    "list_api_clients",
    "load_api_clients",
    "require_client_admin",
    "revoke_api_client",
]
