"""Who is calling: a Bearer JWT or an ``X-Api-Key``, resolved once per request.

The result is cached in the ASGI scope so that wrappers around the GraphQL
view (idempotency) and the view itself share one lookup.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from auth.api_keys import authenticate_api_key
from auth.tokens import InvalidToken, TokenKeys, verify_token
from domain.security import Principal, PrincipalKind
from auth.agent_check import current_agent as _current_agent

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
