"""The Strawberry schema object, its extensions, and the HTTP view."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from strawberry.asgi import GraphQL
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

try:  # where Strawberry's view raises its HTTP errors from (moved to cross_web in recent versions)
    from cross_web import HTTPException
except ImportError:  # pragma: no cover - older Strawberry
    from strawberry.http.exceptions import HTTPException  # type: ignore[no-redef]

from api.context import Context
from api.files import error_response, has_preflight_header, is_multipart
from api.metrics import MetricsExtension
from api.settings import Settings
from api.authn import authenticate
from auth.tokens import InvalidToken, TokenKeys
from domain.errors import DomainValidationError, Forbidden, NotAuthenticated
from domain.messages import negotiate_locale, translate
from resolvers.root import Mutation, Query
from schema.common import to_camel_case

log = logging.getLogger("guichet.graphql")


class ErrorFormatter(MaskErrors):
    """Give every top-level error a stable ``extensions.code`` and a translated message.

    * authentication / authorization -> ``UNAUTHENTICATED`` / ``FORBIDDEN``
    * a bad argument of a query field -> ``BAD_USER_INPUT`` (+ ``field``, ``reason``)
    * GraphQL syntax and validation (depth, aliases, tokens) -> ``GRAPHQL_VALIDATION_FAILED``
    * anything else -> ``INTERNAL``, message masked, no stack trace (logged server-side)
    """

    def __init__(self, locale_of: Any = None) -> None:
        super().__init__()

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        ctx = self.execution_context.context
        locale = getattr(ctx, "locale", "fr")
        out = []
        for error in errors:
            original = error.original_error
            extensions = dict(error.extensions or {})
            message = error.message
            if original is None:
                extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
            elif isinstance(original, (NotAuthenticated, Forbidden)):
                extensions["code"] = original.code
                message = translate(original.code, locale)
            elif isinstance(original, DomainValidationError):
                first = original.errors[0]
                extensions.update(
                    code="BAD_USER_INPUT",
                    reason=first.code,
                    field=[to_camel_case(p) for p in first.field] if first.field else None,
                )
                message = translate(first.code, locale, first.params)
            elif isinstance(original, GraphQLError) and original.original_error is None:
                extensions.setdefault("code", "BAD_USER_INPUT")  # e.g. variable coercion
            else:
                extensions = {"code": "INTERNAL", "requestId": getattr(ctx, "request_id", None)}
                message = translate("INTERNAL", locale)
            out.append(
                GraphQLError(
                    message=message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=None,
                    extensions=extensions,
                )
            )
        return out


class GuichetSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, (DomainValidationError, NotAuthenticated, Forbidden)):
                continue
            if isinstance(original, GraphQLError) and original.original_error is None:
                continue
            log.error("unexpected error in %s", ".".join(map(str, error.path or [])), exc_info=original)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Any] = [
        QueryDepthLimiter(max_depth=settings.max_query_depth),
        MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        MaxTokensLimiter(max_token_count=settings.max_tokens),
        ErrorFormatter(),
        MetricsExtension,
        # validated documents are cached (front-ends send the same few operations over
        # and over); a document's errors are the same every time, so the limits still hold.
        # (Strawberry's ParserCache is not used: it raises parse errors outside the error
        # formatting, so a syntax error would lose its extensions.code.)
        ValidationCache(maxsize=512),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection())
    return GuichetSchema(query=Query, mutation=Mutation, extensions=extensions)


# the contract as exported to schema.graphql (independent of runtime settings)
def export_sdl() -> str:
    return GuichetSchema(query=Query, mutation=Mutation).as_str() + "\n"


def _unauthenticated(locale: str, request_id: str | None) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": translate("UNAUTHENTICATED", locale), "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"', "Content-Language": locale},
    )


class GuichetGraphQL(GraphQL):
    """Strawberry's ASGI view with our context, HTTP status mapping and session cleanup."""

    def __init__(self, schema: strawberry.Schema, settings: Settings, sessionmaker: Any, keys: TokenKeys) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,  # guarded by the preflight-header rule in __call__
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.keys = keys

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        locale = negotiate_locale(request.headers.get("accept-language"))
        if is_multipart(request.headers.get("content-type")) and not has_preflight_header(request.headers):
            # CSRF: Strawberry does not check this itself (see docs/files.md)
            await error_response("CSRF_PREFLIGHT_REQUIRED", 400, request, graphql=True)(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        try:
            principal = await authenticate(request, self.keys, self.sessionmaker)
        except InvalidToken:
            await _unauthenticated(locale, request_id)(scope, receive, send)
            return
        ctx = Context(
            settings=self.settings,
            sessionmaker=self.sessionmaker,
            keys=self.keys,
            principal=principal,
            locale=locale,
            request=request,
            request_id=request_id,
        )
        request.state.guichet_context = ctx
        try:
            try:
                response = await self.run(request, context=ctx)
            except Exception as exc:  # noqa: BLE001 - strawberry raises HTTPException subclasses
                if isinstance(exc, (HTTPException, StarletteHTTPException)):  # the latter: malformed multipart
                    response = JSONResponse(
                        {"errors": [{"message": getattr(exc, "reason", None) or exc.detail, "extensions": {"code": "BAD_REQUEST"}}]},
                        status_code=exc.status_code,
                    )
                else:
                    raise
            if ctx.status_code and response.status_code == 200:
                response.status_code = ctx.status_code
            response.headers["Content-Language"] = locale
            await response(scope, receive, send)
        finally:
            await ctx.close()

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        # a "map" path that does not fit the operations (e.g. through null or a string) is the client's error
        try:
            return await super().parse_multipart(request)
        except (IndexError, TypeError, ValueError, AttributeError) as exc:
            raise HTTPException(400, "File(s) missing in form data") from exc

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = [e.formatted for e in result.errors]
            ctx: Context = request.state.guichet_context
            codes = {(e.extensions or {}).get("code") for e in result.errors}
            nothing = result.data is None or all(v is None for v in (result.data or {}).values())
            if nothing:
                if "UNAUTHENTICATED" in codes:
                    ctx.status_code = 401
                elif "FORBIDDEN" in codes:
                    ctx.status_code = 403
        if result.extensions:
            data["extensions"] = result.extensions
        return data
