"""Prometheus metrics: GraphQL operations, HTTP latency, database pool, outbox backlog.

Exposed at ``GET /metrics`` (text format). Protect it with
``GUICHET_METRICS_TOKEN`` (Bearer) or keep it on an internal network. With
several uvicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client
multiprocess mode) so that every worker's samples are aggregated.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import weakref
from typing import Any, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry.extensions import SchemaExtension

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

GRAPHQL_OPERATIONS = Counter(
    "guichet_graphql_operations_total",
    "GraphQL operations by name, type and outcome (ok, user_error, error).",
    ["operation", "type", "outcome"],
    registry=REGISTRY,
)
GRAPHQL_DURATION = Histogram(
    "guichet_graphql_operation_duration_seconds",
    "GraphQL operation latency.",
    ["operation", "type"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_DURATION = Histogram(
    "guichet_http_request_duration_seconds",
    "HTTP request latency by route and status class.",
    ["route", "method", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_NAMES = 500
_seen_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """Client-chosen names are labels: keep them sane and bounded in number."""
    if not name or not _NAME_RE.match(name):
        return "anonymous"
    if name not in _seen_names:
        if len(_seen_names) >= _MAX_NAMES:
            return "other"
        _seen_names.add(name)
    return name


class MetricsExtension(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        try:
            op_type = ctx.operation_type.value
        except Exception:  # noqa: BLE001 - unparsable document
            op_type = "unknown"
        name = operation_label(ctx.operation_name)
        result = ctx.result
        outcome = "ok"
        if result is not None and getattr(result, "errors", None):
            outcome = "error"
        elif result is not None and _has_user_errors(getattr(result, "data", None)):
            outcome = "user_error"
        GRAPHQL_OPERATIONS.labels(name, op_type, outcome).inc()
        GRAPHQL_DURATION.labels(name, op_type).observe(time.perf_counter() - started)


def _has_user_errors(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    return any(isinstance(v, dict) and v.get("userErrors") for v in data.values())


class PoolCollector:
    """Database pool usage of every live engine of the process, read when Prometheus scrapes."""

    def __init__(self) -> None:
        self.engines: weakref.WeakSet = weakref.WeakSet()

    def track(self, engine: Any) -> None:
        self.engines.add(engine)

    def describe(self):
        # no name reservation: a second app in the same process (tests with other
        # settings) must not fail with DuplicateTimeseries; a server runs one app
        return []

    def collect(self):
        gauge = GaugeMetricFamily("guichet_db_pool_connections", "Database pool connections by state.", labels=["state"])
        totals = {"size": 0.0, "checked_out": 0.0, "overflow": 0.0, "idle": 0.0}
        getters = {"size": "size", "checked_out": "checkedout", "overflow": "overflow", "idle": "checkedin"}
        for engine in list(self.engines):
            pool = engine.sync_engine.pool
            for state, getter in getters.items():
                fn = getattr(pool, getter, None)
                if fn is not None:
                    totals[state] += float(fn())
        for state, value in totals.items():
            gauge.add_metric([state], value)
        yield gauge


POOLS = PoolCollector()
REGISTRY.register(POOLS)


class HttpMetricsMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            HTTP_DURATION.labels(path, scope.get("method", ""), f"{status['code'] // 100}xx").observe(
                time.perf_counter() - started
            )


# A consumer further behind than this is reported as BACKLOG_CAP + 1 events: counting millions
# of rows on every scrape would make /metrics itself a load (the age of the oldest one is exact).
BACKLOG_CAP = 100_000
OUTBOX_TIMEOUT_MS = 2_000

# Per tenant, the rollups consumer's position (rollup_cursors; a tenant never refreshed is at 0)
# and the Request events after it: how many (capped) and how old the oldest is. Reads the
# (tenant_id, aggregate_type, sequence) index, one range per tenant.
OUTBOX_BACKLOG_SQL = f"""
SELECT t.slug, b.events, coalesce(extract(epoch FROM now() - b.oldest), 0) AS oldest_seconds
FROM tenants t
LEFT JOIN rollup_cursors c ON c.tenant_id = t.id
CROSS JOIN LATERAL (
    SELECT count(*) AS events, min(x.occurred_at) AS oldest FROM (
        SELECT e.occurred_at FROM events e
        WHERE e.tenant_id = t.id AND e.aggregate_type = 'Request' AND e.sequence > coalesce(c.last_sequence, 0)
        ORDER BY e.sequence LIMIT {BACKLOG_CAP + 1}
    ) x
) b
ORDER BY t.slug
"""


async def outbox_families(sessionmaker: Any) -> list[GaugeMetricFamily]:
    """The outbox backlog of each consumer, read from the database when Prometheus scrapes.

    Only consumer so far: ``rollups`` (``guichet rollups refresh`` or the in-process refresher).
    Its cursor stays up to ``SAFETY_SECONDS`` (60 s) behind the newest events on purpose (a
    transaction with a lower sequence may still commit), so a healthy backlog is "the last minute
    of events", and the oldest-event age stays under the refresh interval + 60 s.
    """
    import sqlalchemy as sa

    events = GaugeMetricFamily(
        "guichet_outbox_backlog_events",
        f"Outbox events not yet consumed, by consumer and tenant (capped at {BACKLOG_CAP + 1}).",
        labels=["consumer", "tenant"],
    )
    oldest = GaugeMetricFamily(
        "guichet_outbox_backlog_oldest_seconds",
        "Age of the oldest outbox event not yet consumed (0 when none), by consumer and tenant.",
        labels=["consumer", "tenant"],
    )
    up = GaugeMetricFamily("guichet_outbox_backlog_up", "1 if the outbox backlog could be read at this scrape, else 0.")
    try:
        async with sessionmaker() as session:
            await session.execute(sa.text(f"SET LOCAL statement_timeout = {OUTBOX_TIMEOUT_MS}"))
            rows = (await session.execute(sa.text(OUTBOX_BACKLOG_SQL))).all()
    except Exception:  # noqa: BLE001 - a scrape must still answer when the database is down or slow
        logger.warning("outbox backlog not available", exc_info=True)
        up.add_metric([], 0.0)
        return [up]
    for slug, count, age in rows:
        events.add_metric(["rollups", slug], float(count))
        oldest.add_metric(["rollups", slug], float(age))
    up.add_metric([], 1.0)
    return [events, oldest, up]


class _Families:
    def __init__(self, families: list) -> None:
        self.families = families

    def collect(self):
        return self.families


def metrics_endpoint(token: str | None, sessionmaker: Any = None):
    async def metrics(request: Request) -> Response:
        if token:
            supplied = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not secrets.compare_digest(supplied, token):
                return PlainTextResponse("unauthorized", status_code=401)
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
        if sessionmaker is not None:
            # database-wide figures: the same whichever worker answers, so not in multiprocess files
            extra = CollectorRegistry(auto_describe=False)
            extra.register(_Families(await outbox_families(sessionmaker)))
            body += generate_latest(extra)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
