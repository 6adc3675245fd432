"""Test fixtures: a fresh PostgreSQL database per test session, the real ASGI app over HTTP.

``GUICHET_TEST_DATABASE_URL`` points at a server to create the session's
database in (CI uses the machine's PostgreSQL); unset, an embedded server
(pgserver) is started in a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from api import db
from api.app import create_app
from api.settings import Settings
from auth.tokens import issue_token
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.services import create_agent, create_department, create_tenant


@pytest.fixture(scope="session")
def server_url():
    url = os.environ.get("GUICHET_TEST_DATABASE_URL")
    if url:
        yield url
        return
    data_dir = tempfile.mkdtemp(prefix="guichet-pg-")
    yield db.start_embedded(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def _asyncpg_dsn(url: str) -> str:
    return db.to_plain_url(url)


@pytest.fixture(scope="session")
def database_url(server_url):
    name = f"guichet_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(server_url))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = db.with_database(server_url, name)
    db.migrate(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(environment="test", database_url=None, log_level="WARNING", rollups_refresh_seconds=0)


@pytest.fixture(scope="session")
async def app(settings, database_url):
    application = create_app(settings, database_url=database_url)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://guichet.test") as c:
        yield c


@dataclass
class GQLResult:
    status: int
    body: dict[str, Any]
    headers: Any

    @property
    def data(self) -> dict[str, Any] | None:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]


@pytest.fixture(scope="session")
def gql(client):
    async def call(query: str, variables: dict | None = None, token: str | None = None, lang: str | None = None) -> GQLResult:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        return GQLResult(response.status_code, response.json(), response.headers)

    return call


@dataclass
class TenantFixture:
    """A fresh tenant with one department and one agent per role, and tokens for each."""

    id: uuid.UUID
    slug: str
    department_id: uuid.UUID
    agents: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    keys: Any = None

    def citizen_token(self, citizen_id: uuid.UUID) -> str:
        return issue_token(self.keys, kind=PrincipalKind.CITIZEN, subject_id=citizen_id, tenant_id=self.id)


@pytest.fixture(scope="session")
def make_tenant(app):
    async def factory(prefix: str = "t") -> TenantFixture:
        slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
        async with app.state.sessionmaker() as session:
            tenant = await create_tenant(session, {"name": f"Commune {slug}", "slug": slug, "insee_code": "75056"})
            system = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
            dep = await create_department(session, system, {"name": "Accueil", "code": "accueil"})
            fx = TenantFixture(id=tenant.id, slug=slug, department_id=dep.id, keys=app.state.keys)
            for role in Role:
                agent = await create_agent(
                    session,
                    system,
                    {
                        "email": f"{role.value.lower()}@{slug}.example.org",
                        "given_name": role.value.title(),
                        "family_name": "Test",
                        "roles": [role.value],
                        "department_ids": [dep.id],
                    },
                )
                fx.agents[role.value] = agent.id
                fx.tokens[role.value] = issue_token(
                    app.state.keys,
                    kind=PrincipalKind.AGENT,
                    subject_id=agent.id,
                    tenant_id=tenant.id,
                    roles=[role],
                    departments=[dep.id],
                )
            await session.commit()
        return fx

    return factory


@pytest.fixture
async def tenant(make_tenant) -> TenantFixture:
    return await make_tenant()
