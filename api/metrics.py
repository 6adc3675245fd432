"""Prometheus metrics: GraphQL operations, HTTP latency, database pool.

Exposed at ``GET /metrics`` (text format). Protect it with
``GUICHET_METRICS_TOKEN`` (Bearer) or keep it on an internal network. With
several uvicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client
multiprocess mode) so that every worker's samples are aggregated.
"""

from __future__ import annotations

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


def metrics_endpoint(token: str | None):
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
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
