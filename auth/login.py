"""Development password login for demo agents and citizens.

Identity providers (FranceConnect for citizens, OIDC SSO for agents) plug in
beside this module later: each turns an external identity into a
``Principal`` and a token through :func:`principal_token`.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.passwords import verify_password
from auth.tokens import TokenKeys, issue_token
from domain.citizens.models import Citizen
from domain.citizens.rules import normalise_email
from domain.errors import DomainValidationError
from domain.security import PrincipalKind, Role
from domain.tenancy.models import Agent
from domain.tenancy.services import get_tenant_by_slug, load_agent_department_ids


async def _verify(password_hash: str | None, password: str) -> bool:
    # argon2 is deliberately slow: keep it off the event loop
    return await asyncio.to_thread(verify_password, password_hash, password)


async def agent_token(session: AsyncSession, keys: TokenKeys, agent: Agent, ttl: int | None = None) -> str:
    (departments,) = await load_agent_department_ids(session, agent.tenant_id, [agent.id])
    return issue_token(
        keys,
        kind=PrincipalKind.AGENT,
        subject_id=agent.id,
        tenant_id=agent.tenant_id,
        roles=[Role(r) for r in agent.roles],
        departments=departments,
        ttl=ttl,
    )


def citizen_token(keys: TokenKeys, citizen: Citizen, ttl: int | None = None) -> str:
    return issue_token(keys, kind=PrincipalKind.CITIZEN, subject_id=citizen.id, tenant_id=citizen.tenant_id, ttl=ttl)


async def password_login(
    session: AsyncSession, keys: TokenKeys, tenant_slug: str, kind: PrincipalKind, email: str, password: str
) -> tuple[str, PrincipalKind]:
    tenant = await get_tenant_by_slug(session, tenant_slug.strip().lower())
    if tenant is None:
        raise DomainValidationError.single(("tenant",), "UNKNOWN_TENANT")
    address = normalise_email(email or "") or ""
    if kind is PrincipalKind.AGENT:
        agent = (
            await session.execute(
                sa.select(Agent).where(Agent.tenant_id == tenant.id, Agent.email == address, Agent.active.is_(True))
            )
        ).scalar_one_or_none()
        if not await _verify(agent.password_hash if agent else None, password):
            raise DomainValidationError.single(None, "INVALID_CREDENTIALS")
        return await agent_token(session, keys, agent), kind
    citizen = (
        await session.execute(sa.select(Citizen).where(Citizen.tenant_id == tenant.id, Citizen.email == address))
    ).scalar_one_or_none()
    if not await _verify(citizen.password_hash if citizen else None, password):
        raise DomainValidationError.single(None, "INVALID_CREDENTIALS")
    return citizen_token(keys, citizen), kind
