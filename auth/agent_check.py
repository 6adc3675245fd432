"""Agents' tokens follow the agent directory (deactivation, role removal), cheaply."""

from __future__ import annotations

from typing import Any

from auth.tokens import InvalidToken
from domain.security import Principal, Role
from domain.tenancy.models import Agent


# (tenant, agent) -> (checked at, active, roles): the directory is read at most once
# every AGENT_CHECK_SECONDS per agent and process, instead of once per request.
AGENT_CHECK_SECONDS = 5.0
_agent_cache: dict[tuple[Any, Any], tuple[float, bool, frozenset[Role]]] = {}
_AGENT_CACHE_MAX = 10_000


async def current_agent(sessionmaker: Any, principal: Principal) -> Principal:
    """Agents' tokens are checked against the directory: a deactivated agent loses access,
    and a removed role stops being honoured, within AGENT_CHECK_SECONDS (not at token expiry)."""
    import dataclasses
    import time

    import sqlalchemy as sa

    key = (principal.tenant_id, principal.subject_id)
    now = time.monotonic()
    cached = _agent_cache.get(key)
    if cached is None or now - cached[0] > AGENT_CHECK_SECONDS:
        async with sessionmaker() as session:
            row = (
                await session.execute(
                    sa.select(Agent.active, Agent.roles).where(
                        Agent.id == principal.subject_id, Agent.tenant_id == principal.tenant_id
                    )
                )
            ).first()
        if len(_agent_cache) >= _AGENT_CACHE_MAX:
            _agent_cache.clear()
        cached = (now, bool(row and row.active), frozenset(Role(r) for r in row.roles) if row else frozenset())
        _agent_cache[key] = cached
    _, active, current = cached
    if not active:
        raise InvalidToken("agent unknown or deactivated")
    return dataclasses.replace(principal, roles=frozenset(principal.roles & current))


def forget_agent(tenant_id: Any, agent_id: Any) -> None:
    """Drop the cached directory entry (this process sees a change at once)."""
    _agent_cache.pop((tenant_id, agent_id), None)
