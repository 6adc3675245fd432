"""The Starlette application: routes, middlewares, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api import db
from api.files import FileServices, download
from api.calendars import agenda_calendar, agent_calendar
from api.graphql import GuichetGraphQL, build_schema
from api.exports import appointments_csv, indicators_csv, reports_csv, requests_csv
from api.idempotency import IdempotentGraphQL
from api.oauth import token_endpoint
from api.open311 import ROUTES as OPEN311_ROUTES
from api.reports import reports_geojson
from api.metrics import POOLS, HttpMetricsMiddleware, metrics_endpoint
from api.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from api.settings import Settings, get_settings
from auth.tokens import TokenKeys

log = logging.getLogger("guichet.app")


async def refresh_rollups_forever(sessionmaker, interval: float) -> None:
    """Fold new request events into the dashboards' rollups every ``interval`` seconds.

    Replaces a cron line for most installations. Several workers or replicas may each run it: the
    refresh locks each tenant's cursor row, so a second run waits and then finds nothing new. A
    failure is logged and retried at the next tick; the outbox backlog on ``/metrics`` shows it.
    """
    from domain.dashboards.rollups import refresh_all

    while True:
        await asyncio.sleep(interval)
        try:
            async with sessionmaker() as session:
                results = await refresh_all(session)
            folded = sum(r.events for r in results)
            if folded:
                log.info("rollups refreshed", extra={"events": folded, "tenants": len(results)})
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive; retried at the next tick
            log.exception("rollups refresh failed")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        current = await db.current_revisions(engine)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        log.warning("database not reachable")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    heads = request.app.state.migration_heads
    if current != heads:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "migrations": {"current": sorted(current), "expected": sorted(heads)}},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "migrations": {"current": sorted(current)}})


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Starlette:
    settings = settings or get_settings()
    url = database_url or db.resolve_database_url(settings.database_url, settings.data_dir)
    engine = db.create_engine(url, settings.db_pool_size, settings.db_max_overflow)
    sessionmaker = db.sessionmaker(engine)
    keys = TokenKeys.from_settings(settings)
    graphql_app = GuichetGraphQL(build_schema(settings), settings, sessionmaker, keys)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        refresher = None
        if settings.rollups_refresh_seconds > 0:
            refresher = asyncio.create_task(refresh_rollups_forever(sessionmaker, settings.rollups_refresh_seconds))
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", IdempotentGraphQL(graphql_app, sessionmaker, keys), methods=["GET", "POST"]),
            Route("/auth/token", token_endpoint, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint(settings.metrics_token, sessionmaker)),
            Route("/exports/requests.csv", requests_csv),
            Route("/exports/indicators.csv", indicators_csv),
            Route("/exports/appointments.csv", appointments_csv),
            Route("/exports/reports.csv", reports_csv),
            Route("/files/{token}", download, methods=["GET"]),
            Route("/calendars/agendas/{agenda_id}.ics", agenda_calendar, methods=["GET"]),
            Route("/calendars/agents/{agent_id}.ics", agent_calendar, methods=["GET"]),
            Route("/public/{tenant}/reports.geojson", reports_geojson, methods=["GET"]),
            *OPEN311_ROUTES,
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(HttpMetricsMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_allowed_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "Accept-Language",
                    "Idempotency-Key",
                    "X-Request-ID",
                    # CSRF guard of multipart uploads (api/files.py)
                    "Apollo-Require-Preflight",
                    "GraphQL-Preflight",
                    "X-Requested-With",
                ],
                expose_headers=["X-Request-ID", "Content-Language"],
                allow_credentials=False,
                max_age=600,
            ),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                upload_max_bytes=settings.max_upload_request_bytes,
            ),
        ],
        lifespan=lifespan,
    )
    POOLS.track(engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.keys = keys
    app.state.files = FileServices.from_settings(settings, keys.signing_key)
    app.state.migration_heads = db.head_revisions()
    return app


def app_factory() -> Starlette:
    """Entry point for ``uvicorn --factory api.app:app_factory`` (used by ``guichet serve``)."""
    from api.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
