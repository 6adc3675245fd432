"""The HTTP surface: health, readiness, body limit, CORS, request ids, JSON logs, production switches."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import asyncpg
import httpx
import pytest

from api import db
from api.app import create_app
from api.logs import JsonFormatter
from api.settings import Settings

INTROSPECTION = "{ __schema { queryType { name } } }"


async def serve(app):
    """An HTTP client on a freshly created app, its lifespan running."""
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://guichet.test") as c:
            yield c


@pytest.fixture
async def empty_database(server_url):
    name = f"guichet_empty_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(db.to_plain_url(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield db.with_database(server_url, name)
    conn = await asyncpg.connect(db.to_plain_url(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def production_client(database_url):
    settings = Settings(environment="production", jwt_secret="p" * 48, log_level="WARNING")
    async for c in serve(create_app(settings, database_url=database_url)):
        yield c


# ---------------------------------------------------------------- health


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["migrations"]["current"] == sorted(db.head_revisions())


async def test_readyz_503_when_the_database_is_behind(settings, empty_database):
    async for c in serve(create_app(settings, database_url=empty_database)):
        response = await c.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "database": "ok",
            "migrations": {"current": [], "expected": sorted(db.head_revisions())},
        }
        # the process itself is up
        assert (await c.get("/healthz")).status_code == 200
    # once migrated, ready
    await asyncio.to_thread(db.migrate, empty_database)
    async for c in serve(create_app(settings, database_url=empty_database)):
        assert (await c.get("/readyz")).status_code == 200


async def test_readyz_503_when_the_database_is_unreachable(settings, server_url):
    missing = db.with_database(server_url, f"no_such_db_{uuid.uuid4().hex[:8]}")
    async for c in serve(create_app(settings, database_url=missing)):
        response = await c.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "unreachable"}


# ---------------------------------------------------------------- body size


def big_query() -> bytes:
    padding = "#" + "x" * (1024 * 1024) + "\n"
    return json.dumps({"query": padding + "{ viewer { kind } }"}).encode()


async def test_body_over_one_mebibyte_is_refused_by_content_length(client):
    response = await client.post("/graphql", content=big_query(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_streamed_body_over_one_mebibyte_is_refused(client):
    body = big_query()

    async def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_body_just_under_the_limit_is_served(client):
    padding = "#" + "x" * (1024 * 1024 - 100) + "\n"
    body = json.dumps({"query": padding + "{ viewer { kind } }"}).encode()
    assert len(body) <= 1024 * 1024
    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json() == {"data": {"viewer": None}}


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b'{"query": ', "application/json", "Unable to parse request body as JSON"),
        (b'[{"query": "{ viewer { kind } }"}]', "application/json", "Batching is not enabled"),
        (b"{ viewer { kind } }", "text/plain", "Unsupported content type"),
        (b'{"query": "{ viewer { kind } }", "variables": [1]}', "application/json", "variables"),
        (b'{"query": 42}', "application/json", "query"),
        (b"{}", "application/json", "No GraphQL query found"),
        (b'{"query": "{ viewer { kind } }", "operationName": "Nope"}', "application/json", "Unknown operation"),
    ],
)
async def test_bad_requests_are_400_not_a_crash(client, body, content_type, reason):
    response = await client.post("/graphql", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_REQUEST"} and reason in error["message"]


# ---------------------------------------------------------------- CORS


async def test_cors_preflight_from_an_allowed_origin(client):
    response = await client.options(
        "/graphql",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, accept-language",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers  # bearer tokens, no cookies
    simple = await client.post("/graphql", json={"query": "{ viewer { kind } }"}, headers={"Origin": "http://localhost:5173"})
    assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_cors_preflight_from_a_disallowed_origin(client):
    response = await client.options(
        "/graphql", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    simple = await client.post("/graphql", json={"query": "{ viewer { kind } }"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


# ---------------------------------------------------------------- request id and logs


async def test_request_id_is_echoed_or_made(client):
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    for unsafe in ("has spaces in it", "x" * 65, "semi;colon"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": unsafe})
        assert replaced.headers["x-request-id"] != unsafe


async def test_json_access_log_has_request_id_and_no_personal_data(client, tenant, caplog):
    caplog.set_level(logging.INFO, logger="guichet.access")
    caplog.handler.setFormatter(JsonFormatter())
    token = tenant.tokens["AGENT"]
    create = 'mutation { citizenCreate(input: {givenNames: "Hortense", familyName: "Zyzzyva", email: "hortense@example.org"}) { citizen { id } } }'
    response = await client.post(
        "/graphql", json={"query": create}, headers={"Authorization": f"Bearer {token}", "X-Request-ID": "log-test-1"}
    )
    assert response.status_code == 200
    await client.get(
        "/graphql", params={"query": '{ citizens(search: "Zyzzyva") { edges { node { id } } } }'},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "log-test-2"},
    )
    lines = [json.loads(line) for line in caplog.text.splitlines() if line.strip()]
    access = [e for e in lines if e["logger"] == "guichet.access"]
    assert [(e["request_id"], e["method"], e["path"], e["status"]) for e in access] == [
        ("log-test-1", "POST", "/graphql", 200),
        ("log-test-2", "GET", "/graphql", 200),
    ]
    assert all(isinstance(e["duration_ms"], float) for e in access)
    text = caplog.text.lower()
    assert "zyzzyva" not in text and "hortense" not in text and token.lower() not in text


# ---------------------------------------------------------------- production switches


async def test_introspection_and_graphiql_on_in_development(client):
    assert (await client.post("/graphql", json={"query": INTROSPECTION})).json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()


async def test_introspection_and_graphiql_off_in_production(production_client):
    result = (await production_client.post("/graphql", json={"query": INTROSPECTION})).json()
    assert result.get("data") is None
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in result["errors"][0]["message"].lower()
    page = await production_client.get("/graphql", headers={"Accept": "text/html"})
    assert "text/html" not in page.headers.get("content-type", "")
    assert "graphiql" not in page.text.lower()
    # ordinary queries still work
    ok = await production_client.post("/graphql", json={"query": "{ viewer { kind } }"})
    assert ok.status_code == 200 and ok.json() == {"data": {"viewer": None}}


async def test_development_tokens_are_useless_in_production(production_client, tenant):
    # a token signed with the development secret does not open a production server
    response = await production_client.post("/graphql", json={"query": "{ tenant { id } }"}, headers={"Authorization": f"Bearer {tenant.tokens['ADMIN']}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
