"""Benchmark data generator: a dedicated database with one tenant, one agent and N citizens.

Citizens are bulk-loaded with asyncpg COPY. Names and streets come from Faker (fr_FR) pools
combined with a seeded random, so 100 000 rows take seconds; ``sort_name`` and
``search_document`` are computed by ``domain.citizens.rules.search_fields`` itself, the
function the services use, so generated rows are found by exactly the same queries.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

from api import db
from domain.citizens.rules import search_fields
from domain.security import Principal, PrincipalKind, Role

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TENANT_SLUG = "bench"
CITIZEN_COLUMNS = [
    "id", "tenant_id", "given_names", "family_name", "birth_date", "email", "phone", "address_number",
    "address_street", "address_postcode", "address_city", "gender", "preferred_channel", "preferred_language",
    "assurance_level", "sort_name", "search_document", "version", "created_at", "updated_at",
]
CITIES = [("75011", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("31000", "Toulouse"), ("44000", "Nantes"),
          ("67000", "Strasbourg"), ("33000", "Bordeaux"), ("59000", "Lille"), ("35000", "Rennes"), ("06000", "Nice")]


@dataclass
class Dataset:
    url: str
    tenant_id: uuid.UUID
    agent_id: uuid.UUID
    citizens: int
    seconds: float
    reused: bool


class Pools:
    """Pre-generated French names and streets, combined with a seeded random."""

    def __init__(self, seed: int = 42) -> None:
        from faker import Faker

        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        self.given = [fake.first_name() for _ in range(1500)]
        self.family = [fake.last_name() for _ in range(3000)]
        self.streets = [fake.street_name() for _ in range(2000)]


def citizen_rows(tenant_id: uuid.UUID, count: int, seed: int = 7):
    """Yield COPY records for ``count`` citizens (deterministic for a given seed, except ids)."""
    rng = random.Random(seed)
    pools = Pools()
    now = datetime.now(UTC)
    for i in range(count):
        given, family = rng.choice(pools.given), rng.choice(pools.family)
        if rng.random() < 0.15:
            given = f"{given} {rng.choice(pools.given)}"
        email = f"{given}.{family}.{i}@example.org".lower().replace(" ", "-").replace("'", "") if rng.random() < 0.8 else None
        phone = f"+33{rng.choice('67')}{rng.randrange(10**8):08d}" if rng.random() < 0.7 else None
        sort_name, document = search_fields(given, family, None, email, phone)
        postcode, city = rng.choice(CITIES)
        created = now - timedelta(days=rng.randint(0, 1500), seconds=rng.randint(0, 86_399))
        birth = date(1930, 1, 1) + timedelta(days=rng.randint(0, 365 * 76))
        yield (uuid.uuid4(), tenant_id, given, family, birth, email, phone, str(rng.randint(1, 150)),
               rng.choice(pools.streets), postcode, city, rng.choice(("FEMALE", "MALE", "UNSPECIFIED")),
               "EMAIL", "FR", "DECLARED", sort_name, document, 1, created, created)


async def copy_citizens(conn: asyncpg.Connection, tenant_id: uuid.UUID, count: int, seed: int = 7, batch: int = 50_000) -> None:
    rows: list[tuple] = []
    for row in citizen_rows(tenant_id, count, seed):
        rows.append(row)
        if len(rows) >= batch:
            await conn.copy_records_to_table("citizens", records=rows, columns=CITIZEN_COLUMNS)
            rows = []
    if rows:
        await conn.copy_records_to_table("citizens", records=rows, columns=CITIZEN_COLUMNS)


async def create_tenant_and_agent(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Through the domain services, so the reference data is valid and has its events."""
    from domain.tenancy.services import create_agent, create_department, create_tenant

    engine = db.create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with db.sessionmaker(engine)() as s:
            tenant = await create_tenant(s, {"name": "Ville de Banc d'Essai", "slug": TENANT_SLUG, "insee_code": "75056"})
            system = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
            dep = await create_department(s, system, {"code": "ETAT-CIVIL", "name": "État civil"})
            agent = await create_agent(s, system, {"email": "agent@bench.example.org", "given_name": "Alice",
                                                   "family_name": "Banc", "roles": ["AGENT"], "department_ids": [dep.id]})
            await s.commit()
            return tenant.id, agent.id
    finally:
        await engine.dispose()


def server_url(database_url: str | None) -> str:
    """The server to use: the given URL, else the embedded PostgreSQL (api.db.start_embedded)."""
    if database_url:
        return database_url
    return db.start_embedded(Path(".guichet/bench-pg"))


async def prepare(database_url: str | None, citizens: int, keep: bool, name: str = "guichet_bench") -> Dataset:
    """(Re)create database ``name`` and load it; with ``keep``, reuse it when it already holds the data."""
    server = server_url(database_url)
    url = db.with_database(server, name)
    admin = await asyncpg.connect(db.to_plain_url(server))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and keep:
            conn = await asyncpg.connect(db.to_plain_url(url))
            try:
                row = await conn.fetchrow(
                    "SELECT t.id AS tenant_id, (SELECT a.id FROM agents a WHERE a.tenant_id = t.id LIMIT 1) AS agent_id, "
                    "(SELECT count(*) FROM citizens c WHERE c.tenant_id = t.id) AS n FROM tenants t WHERE t.slug = $1",
                    TENANT_SLUG,
                )
            except asyncpg.UndefinedTableError:
                row = None
            finally:
                await conn.close()
            if row and row["n"] == citizens:
                return Dataset(url, row["tenant_id"], row["agent_id"], citizens, 0.0, True)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    started = time.perf_counter()
    db.migrate(url)
    tenant_id, agent_id = await create_tenant_and_agent(url)
    conn = await asyncpg.connect(db.to_plain_url(url))
    try:
        await copy_citizens(conn, tenant_id, citizens)
        await conn.execute("ANALYZE citizens")
    finally:
        await conn.close()
    return Dataset(url, tenant_id, agent_id, citizens, time.perf_counter() - started, False)


async def drop(database_url: str | None, name: str = "guichet_bench") -> None:
    admin = await asyncpg.connect(db.to_plain_url(server_url(database_url)))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
