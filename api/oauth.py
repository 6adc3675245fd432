"""``POST /auth/token``: exchange an API key for a short-lived access token (OAuth 2.0 client credentials).

RFC 6749 §4.4: ``grant_type=client_credentials`` in a form body; the client
authenticates with HTTP Basic (``client_id`` = the key prefix, ``client_secret``
= the whole key) or with a ``client_secret`` (or ``api_key``) form field.
Answers ``{"access_token", "token_type": "Bearer", "expires_in"}``; errors in
the RFC 6749 §5.2 format (``invalid_request``, ``invalid_client``,
``unsupported_grant_type``).
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import JSONResponse

from auth.api_keys import authenticate_api_key
from auth.tokens import issue_token

# short-lived: a revoked key's tokens stop working within this delay
MAX_CLIENT_TOKEN_TTL = 900
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="guichet"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise ValueError("not basic")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("bad basic") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("bad basic")
    return client_id, secret


async def token_endpoint(request: Request) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _oauth_error("invalid_request", "Send an application/x-www-form-urlencoded body.")
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    try:
        basic = _basic_credentials(request)
    except ValueError:
        return _oauth_error("invalid_client", "Malformed HTTP Basic credentials.", 401)
    form_secret = form.get("client_secret") or form.get("api_key")
    if basic and form_secret:
        return _oauth_error("invalid_request", "Authenticate with HTTP Basic or a form field, not both.")
    client_id, key = basic if basic else (form.get("client_id"), form_secret)
    if not key:
        return _oauth_error("invalid_client", "Client authentication is required.", 401)
    principal = await authenticate_api_key(request.app.state.sessionmaker, str(key).strip())
    if principal is None or (client_id and principal.token_id != f"key:{client_id}"):
        return _oauth_error("invalid_client", "Unknown, revoked or expired API key.", 401)
    keys = request.app.state.keys
    ttl = min(keys.ttl, MAX_CLIENT_TOKEN_TTL)
    token = issue_token(
        keys,
        kind=principal.kind,
        subject_id=principal.subject_id,
        tenant_id=principal.tenant_id,
        roles=principal.roles,
        departments=principal.departments,
        ttl=ttl,
    )
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl}, headers=_NO_STORE)
