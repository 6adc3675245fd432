"""API keys as credentials: turn a key into a ``Principal`` (any HTTP endpoint may use this).

The GraphQL view reads ``X-Api-Key``; Open311 reads the ``api_key`` form or
query parameter; ``POST /auth/token`` exchanges a key for a short-lived JWT.
All go through :func:`principal_from_api_key`, so a revoked, expired, unknown
or malformed key is refused the same way everywhere.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clients.services import authenticate_key, client_principal
from domain.security import Principal


async def principal_from_api_key(session: AsyncSession, key: str | None) -> Principal | None:
    """The API client's principal, or ``None`` when the key is not (or no longer) valid.

    May refresh the client's ``last_used_at`` in ``session`` (at most once a
    minute): the caller commits (or use :func:`authenticate_api_key`).
    """
    client = await authenticate_key(session, key)
    return client_principal(client) if client else None


async def authenticate_api_key(sessionmaker: async_sessionmaker, key: str | None) -> Principal | None:
    """:func:`principal_from_api_key` in its own short transaction (for request authentication)."""
    if not key:
        return None
    async with sessionmaker() as session:
        principal = await principal_from_api_key(session, key)
        await session.commit()
    return principal
