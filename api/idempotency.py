"""``Idempotency-Key`` on GraphQL mutations: a wrapper around the GraphQL view.

An integrator that sends ``Idempotency-Key: <opaque>`` with a mutation
(``POST /graphql``) can retry it safely:

* first request: the key is reserved in PostgreSQL (atomically) *before* the
  mutation runs; the response (status and body) is stored, then sent;
* same key, same principal, same request: the stored response, replayed
  without running anything (header ``Idempotent-Replayed: true``);
* same key, different request: ``422`` ``IDEMPOTENCY_KEY_REUSED``;
* same key while the first is still running: ``409`` ``IDEMPOTENCY_IN_PROGRESS``.

Keys are scoped to (tenant, principal): two clients never collide. Queries,
``GET`` requests and anonymous requests ignore the header. A response that
reports a fault on our side (HTTP 5xx or an ``INTERNAL`` error) is not
stored: the reservation is released so that a retry runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from graphql import GraphQLError, OperationType, parse
from graphql.language import OperationDefinitionNode
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.authn import authenticate
from auth.tokens import InvalidToken, TokenKeys
from domain.idempotency import store
from domain.messages import negotiate_locale, translate

log = logging.getLogger("guichet.idempotency")

HEADER = "idempotency-key"


def _error(code: str, locale: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": translate(code, locale), "extensions": {"code": code}}]},
        status_code=status,
        headers={"Content-Language": locale, **(headers or {})},
    )


def mutation_payload(body: bytes) -> dict[str, Any] | None:
    """The GraphQL request if it is a mutation (what idempotency applies to), else ``None``."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    try:
        document = parse(payload["query"])
    except GraphQLError:
        return None  # the view answers the syntax error; nothing runs
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = payload.get("operationName")
    if name:
        operations = [o for o in operations if o.name and o.name.value == name]
    if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
        return None
    return {"query": payload["query"], "variables": payload.get("variables") or {}, "operationName": name or None}


def _is_server_fault(status: int, body: bytes) -> bool:
    if status >= 500:
        return True
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return True
    return any((e.get("extensions") or {}).get("code") == "INTERNAL" for e in errors if isinstance(e, dict))


class IdempotentGraphQL:
    def __init__(self, app: Any, sessionmaker: Any, keys: TokenKeys) -> None:
        self.app = app
        self.sessionmaker = sessionmaker
        self.keys = keys

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        locale = negotiate_locale(request.headers.get("accept-language"))
        body = await request.body()
        replay = _replaying_receive(body, receive)
        try:
            principal = await authenticate(request, self.keys, self.sessionmaker)
        except InvalidToken:
            principal = None  # the view answers 401
        payload = mutation_payload(body)
        if principal is None or payload is None:
            await self.app(scope, replay, send)
            return
        if not store.valid_key(key):
            await _error("IDEMPOTENCY_KEY_INVALID", locale, 400)(scope, replay, send)
            return
        reservation = await store.reserve(self.sessionmaker, principal, key, store.request_hash(payload))
        if reservation.outcome is store.Outcome.MISMATCH:
            await _error("IDEMPOTENCY_KEY_REUSED", locale, 422)(scope, replay, send)
            return
        if reservation.outcome is store.Outcome.IN_PROGRESS:
            await _error("IDEMPOTENCY_IN_PROGRESS", locale, 409, {"Retry-After": "1"})(scope, replay, send)
            return
        if reservation.outcome is store.Outcome.REPLAY:
            headers = {"Idempotent-Replayed": "true"}
            if reservation.language:
                headers["Content-Language"] = reservation.language
            response = Response(
                reservation.body or "", status_code=reservation.status or 200, media_type="application/json", headers=headers
            )
            await response(scope, replay, send)
            return
        await self._run_and_store(scope, replay, send, reservation.record_id)

    async def _run_and_store(self, scope, receive, send, record_id) -> None:
        messages: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(store.release(self.sessionmaker, record_id))
            raise
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        if start is None or _is_server_fault(start["status"], body):
            await store.release(self.sessionmaker, record_id)
        else:
            language = Headers(raw=start.get("headers") or []).get("content-language")
            await store.complete(self.sessionmaker, record_id, start["status"], body.decode("utf-8"), language)
        # the response leaves only once it is stored: a retry after it never runs the mutation again
        for message in messages:
            await send(message)


def _replaying_receive(body: bytes, receive):
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
