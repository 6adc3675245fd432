"""iCalendar feeds for agents' calendar applications.

Calendar applications cannot send an ``Authorization`` header, so the token
may also be given as ``?token=`` (use a dedicated long-lived agent token and
treat the URL as a secret). Only staff (agents, supervisors, admins) may read
a feed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.tokens import InvalidToken, verify_token
from domain.appointments.calendar import feed_ics
from domain.appointments.services import calendar_feed
from domain.errors import DomainValidationError, Forbidden, NotAuthenticated
from domain.messages import negotiate_locale, translate
from schema.common import parse_global_id


def _error(code: str, locale: str, status: int) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": translate(code, locale)}}, status_code=status, headers=headers)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return request.query_params.get("token") or None


async def _feed(request: Request, type_name: str, param: str) -> Response:
    locale = negotiate_locale(request.headers.get("accept-language"))
    token = _token(request)
    if not token:
        return _error("UNAUTHENTICATED", locale, 401)
    try:
        principal = verify_token(request.app.state.keys, token)
    except InvalidToken:
        return _error("UNAUTHENTICATED", locale, 401)
    parsed = parse_global_id(request.path_params[param])
    if parsed is None or parsed[0] != type_name:
        return _error("NOT_FOUND", locale, 404)
    scope = {"agenda_id": parsed[1]} if type_name == "Agenda" else {"agent_id": parsed[1]}
    try:
        async with request.app.state.sessionmaker() as session:
            name, rows = await calendar_feed(session, principal, **scope)
    except (Forbidden, NotAuthenticated):
        return _error("FORBIDDEN", locale, 403)
    except DomainValidationError:
        return _error("NOT_FOUND", locale, 404)
    body = feed_ics(name, rows, locale)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="guichet.ics"'},
    )


async def agenda_calendar(request: Request) -> Response:
    """``GET /calendars/agendas/{agendaGlobalId}.ics``"""
    return await _feed(request, "Agenda", "agenda_id")


async def agent_calendar(request: Request) -> Response:
    """``GET /calendars/agents/{agentGlobalId}.ics``: every agenda held by the agent."""
    return await _feed(request, "Agent", "agent_id")
