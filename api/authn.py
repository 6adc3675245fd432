"""Who is calling: a Bearer JWT or an ``X-Api-Key``, resolved once per request.

The result is cached in the ASGI scope so that wrappers around the GraphQL
view (idempotency) and the view itself share one lookup.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from auth.api_keys import authenticate_api_key
from auth.tokens import InvalidToken, TokenKeys, verify_token
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.models import Agent

API_KEY_HEADER = "x-api-key"
_STATE_KEY = "guichet_principal"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("not a bearer token")
    return token.strip()


async def _current_agent(sessionmaker: Any, principal: Principal) -> Principal:
    """Agents' tokens are checked against the directory on every request: a deactivated
    agent loses access at once, and a removed role is not honoured until the token expires."""
    import dataclasses

    import sqlalchemy as sa

    async with sessionmaker() as session:
        row = (
            await session.execute(
                sa.select(Agent.active, Agent.roles).where(Agent.id == principal.subject_id, Agent.tenant_id == principal.tenant_id)
            )
        ).first()
    if row is None or not row.active:
        raise InvalidToken("agent unknown or deactivated")
    current = {Role(r) for r in row.roles}
    return dataclasses.replace(principal, roles=frozenset(principal.roles & current))


async def authenticate(request: Request, keys: TokenKeys, sessionmaker: Any) -> Principal | None:
    """The request's principal, ``None`` when anonymous; raises ``InvalidToken`` on bad credentials.

    A request must carry at most one credential: a Bearer token *or* an API key.
    """
    state = request.scope.setdefault("state", {})
    if _STATE_KEY in state:
        cached = state[_STATE_KEY]
        if isinstance(cached, InvalidToken):
            raise cached
        return cached
    try:
        api_key = request.headers.get(API_KEY_HEADER)
        token = bearer_token(request)
        if api_key is not None:
            if token:
                raise InvalidToken("send either a Bearer token or an API key, not both")
            principal = await authenticate_api_key(sessionmaker, api_key.strip())
            if principal is None:
                raise InvalidToken("unknown, revoked or expired API key")
        else:
            principal = verify_token(keys, token) if token else None
            if principal is not None and principal.kind is PrincipalKind.AGENT:
                principal = await _current_agent(sessionmaker, principal)
    except InvalidToken as exc:
        state[_STATE_KEY] = exc
        raise
    state[_STATE_KEY] = principal
    return principal
