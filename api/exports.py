"""CSV export routes for data teams (Bearer token: ANALYST, SUPERVISOR or ADMIN).

    GET /exports/requests.csv?from=2026-01-01&to=2026-03-31[&sep=;][&bom=1]
    GET /exports/appointments.csv?from=...&to=...[&sep=;][&bom=1]   (appointments starting in the period)
    GET /exports/reports.csv?from=...&to=...[&sep=;][&bom=1]   (reports submitted in the period)
    GET /exports/indicators.csv?from=...&to=...[&granularity=MONTH][&dimension=CHANNEL][&source=ROLLUP]
        [&procedure=CODE]...[&department=CODE]...[&category=C]...[&channel=WEB]...[&sep=;][&bom=1]

Errors are JSON ``{"errors": [{"code", "field", "message"}]}`` with 400 / 401 / 403, decided
before the first byte is streamed.
"""

from __future__ import annotations

from typing import Any, AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from auth.tokens import InvalidToken, verify_token
from domain.dashboards import exports, services
from domain.errors import Collector, DomainValidationError, Forbidden, NotAuthenticated
from domain.messages import negotiate_locale, translate


def _limits(settings) -> services.Limits:
    return services.Limits(settings.indicators_raw_max_days, settings.indicators_max_days, settings.export_min_group_size)


def _error(status: int, locale: str, items: list[tuple[str | None, str, dict[str, Any]]]) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "field": field, "message": translate(code, locale, params)} for field, code, params in items]},
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


def _principal(request: Request):
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    try:
        return verify_token(request.app.state.keys, token.strip())
    except InvalidToken as exc:
        raise NotAuthenticated() from exc


def _filename(name: str, q) -> str:
    return f'attachment; filename="{name}-{q.get("from")}-{q.get("to")}.csv"'


async def _guarded(request: Request, build) -> Response:
    """Run ``build(session, principal)``; map domain errors to JSON; close the session after streaming."""
    locale = negotiate_locale(request.headers.get("accept-language"))
    session = request.app.state.sessionmaker()
    try:
        principal = _principal(request)
        body, filename = await build(session, principal)
    except NotAuthenticated:
        await session.close()
        return _error(401, locale, [(None, "UNAUTHENTICATED", {})])
    except Forbidden:
        await session.close()
        return _error(403, locale, [(None, "FORBIDDEN", {})])
    except DomainValidationError as exc:
        await session.close()
        return _error(400, locale, [(".".join(e.field) if e.field else None, e.code, e.params) for e in exc.errors])
    except BaseException:
        await session.close()
        raise
    headers = {"Content-Disposition": filename, "Cache-Control": "no-store"}
    if isinstance(body, str):
        await session.close()
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in body:
                yield chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
        finally:
            # client gone or done: stop the COPY and release the connection, even while cancelled
            with anyio.CancelScope(shield=True):
                await body.aclose()
                await session.close()

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8", headers=headers)


def _period(q) -> tuple:
    errors = Collector()
    date_from = exports.parse_date(q.get("from"), "from", errors)
    date_to = exports.parse_date(q.get("to"), "to", errors)
    errors.raise_if_any()
    return date_from, date_to


def _rows_export(name: str, stream):
    async def endpoint(request: Request) -> Response:
        q = request.query_params

        async def build(session, principal):
            services.require_indicator_reader(principal)
            fmt = exports.parse_format(q.get("sep"), q.get("bom"))
            date_from, date_to = _period(q)
            p = await exports.check_export(session, principal, date_from, date_to, _limits(request.app.state.settings))
            return stream(session, p, date_from, date_to, fmt), _filename(name, q)

        return await _guarded(request, build)

    return endpoint


requests_csv = _rows_export("requests", exports.stream_requests_csv)
appointments_csv = _rows_export("appointments", exports.stream_appointments_csv)
reports_csv = _rows_export("reports", exports.stream_reports_csv)


def _enum(enum_cls, value: str | None, field: str, default=None):
    if value in (None, ""):
        return default
    try:
        return enum_cls(value.upper())
    except ValueError:
        raise DomainValidationError.single((field,), "INVALID") from None


async def indicators_csv(request: Request) -> Response:
    q = request.query_params

    async def build(session, principal):
        services.require_indicator_reader(principal)
        fmt = exports.parse_format(q.get("sep"), q.get("bom"))
        date_from, date_to = _period(q)
        channels = q.getlist("channel")
        errors = Collector()
        for i, c in enumerate(channels):
            if c not in services.Channel.__members__:
                errors.add(("channel", str(i)), "UNKNOWN_CHANNEL", value=c)
        errors.raise_if_any()
        query = services.IndicatorQuery(
            date_from=date_from,
            date_to=date_to,
            granularity=_enum(services.Granularity, q.get("granularity"), "granularity", services.Granularity.MONTH),
            dimension=_enum(services.Dimension, q.get("dimension"), "dimension"),
            procedure_codes=q.getlist("procedure"),
            department_codes=q.getlist("department"),
            categories=q.getlist("category"),
            channels=channels,
            source=_enum(services.Source, q.get("source"), "source", services.Source.ROLLUP),
        )
        limits = _limits(request.app.state.settings)
        result = await services.compute_indicators(session, principal, query, limits)
        return exports.indicators_csv(result, fmt, limits.min_group_size), _filename("indicators", q)

    return await _guarded(request, build)
