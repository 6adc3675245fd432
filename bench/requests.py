"""Requests benchmark: generate citizens and requests (with timelines) by COPY, then measure the
agents' inbox, full-text search and requestSubmit over real HTTP, each next to raw SQL.

    python -m bench.requests --citizens 200000 --requests 1000000 --output docs/benchmarks-requests.md

Self-contained: it creates its own database on ``--server-url`` (default: the machine's
PostgreSQL, or ``GUICHET_BENCH_SERVER_URL``), migrates it, publishes the seeded procedure
catalogue, bulk-loads the data with COPY, starts ``uvicorn api.app:app_factory`` (1 worker) and
drives it with httpx. Raw SQL runs through asyncpg with the same concurrency. Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

import asyncpg
import httpx

from api import db
from api.settings import Settings
from bench.runner import pct
from auth.tokens import TokenKeys, issue_token
from domain.citizens.rules import search_fields
from domain.procedures.calendar import due_at
from domain.procedures.rules import route, sla_days, transition_sources
from domain.requests.models import PRIORITY_RANK, Priority
from domain.requests.rules import format_reference, search_document
from domain.security import Principal, PrincipalKind, Role

TZ = "Europe/Paris"
CHANNEL_WEIGHTS = {"WEB": 55, "APP": 10, "COUNTER": 15, "PHONE": 10, "EMAIL": 7, "POST": 3}
PROCEDURE_WEIGHTS = {
    "street-issue": 30,
    "contact": 20,
    "civil-status-certificate": 20,
    "passport-appointment": 12,
    "school-canteen-enrolment": 8,
    "electoral-roll-registration": 5,
    "public-highway-occupation": 3,
    "association-grant": 2,
}
WORDS = (
    "trottoir lampadaire poubelle graffiti benne chaussée nid poule éclairage panne arbre branche "
    "dépôt sauvage encombrants stationnement gênant bruit voisinage école cantine inscription acte "
    "naissance mariage décès copie intégrale extrait passeport carte identité rendez-vous urgent "
    "association subvention fête quartier terrasse café échafaudage travaux façade ravalement"
).split()

INBOX_GQL = """
query Inbox($filter: InboxFilter, $first: Int) {
  inbox(filter: $filter, first: $first) {
    edges { cursor node {
      id reference status priority channel dueAt overdue
      citizen { id displayName } procedure { code title { fr } } department { code name }
      assignee { id displayName } state { code label { fr } } lastTimelineEntry { kind occurredAt }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
INBOX_SQL = """
SELECT r.id, r.reference, r.status, r.priority, r.channel, r.due_at, c.id, c.given_names, c.family_name,
       p.code, p.title_fr, d.code, d.name, a.id, a.given_name, a.family_name, r.state,
       (SELECT s->'label'->>'fr' FROM jsonb_array_elements(v.definition->'workflow'->'states') s WHERE s->>'code' = r.state),
       e.type, e.occurred_at
FROM requests r
JOIN citizens c ON c.id = r.citizen_id
JOIN procedures p ON p.id = r.procedure_id
JOIN procedure_versions v ON v.id = r.procedure_version_id
LEFT JOIN departments d ON d.id = r.department_id
LEFT JOIN agents a ON a.id = r.assignee_id
LEFT JOIN LATERAL (
  SELECT ev.type, ev.occurred_at FROM events ev
  WHERE ev.tenant_id = r.tenant_id AND ev.aggregate_type = 'Request' AND ev.aggregate_id = r.id
  ORDER BY ev.sequence DESC LIMIT 1
) e ON true
WHERE r.tenant_id = $1 AND r.status <> 'DRAFT' AND r.status = ANY($2::varchar[]) {search}
ORDER BY r.due_at, r.id
LIMIT 51
"""
SUBMIT_GQL = """
mutation($input: RequestSubmitInput!) { requestSubmit(input: $input) { request { id reference } userErrors { code field } } }
"""
OPEN = ["SUBMITTED", "IN_PROGRESS", "WAITING_FOR_CITIZEN"]


# ---------------------------------------------------------------- data generation


class Pools:
    def __init__(self, rng: random.Random) -> None:
        from faker import Faker

        fake = Faker("fr_FR")
        fake.seed_instance(42)
        self.rng = rng
        self.given = [fake.first_name() for _ in range(1500)]
        self.family = [fake.last_name() for _ in range(3000)]
        self.streets = [fake.street_name() for _ in range(1500)]

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def address(self) -> dict[str, str]:
        return {"number": str(self.rng.randint(1, 150)), "street": self.rng.choice(self.streets), "postcode": "75011", "city": "Paris"}


def sample_answers(code: str, p: Pools, citizen: tuple[str, str]) -> dict[str, Any]:
    rng = p.rng
    given, family = citizen
    if code == "street-issue":
        return {
            "category": rng.choice(["pothole", "street-light", "fly-tipping", "graffiti", "litter", "street-furniture", "signage", "other"]),
            "description": p.words(rng.randint(4, 14)).capitalize(),
            "location": {"street": rng.choice(p.streets), "city": "Paris", "postcode": "75011"},
            "dangerous": rng.random() < 0.1,
        }
    if code == "contact":
        return {
            "name": f"{given} {family}",
            "topic": rng.choice(["civil-status", "elections", "childhood", "roads", "planning", "other"]),
            "subject": p.words(3).capitalize(),
            "message": "Bonjour, " + p.words(rng.randint(8, 30)),
        }
    if code == "civil-status-certificate":
        online = rng.random() < 0.6
        answers = {
            "certificateType": rng.choice(["birth", "marriage", "death"]),
            "documentType": rng.choice(["full-copy", "extract-with-parentage", "extract-without-parentage"]),
            "applicantGivenNames": given, "applicantFamilyName": family, "relationship": "self",
            "personFamilyName": family, "personGivenNames": given, "spouseFamilyName": rng.choice(p.family),
            "eventDate": (date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))).isoformat(),
            "deliveryMode": "online" if online else "post", "copies": rng.randint(1, 3),
        }
        if not online:
            answers["deliveryAddress"] = p.address()
        return answers
    if code == "passport-appointment":
        return {
            "givenNames": given, "familyName": family,
            "document": rng.choice(["passport", "id-card", "both"]),
            "reason": rng.choice(["first-issue", "renewal", "loss", "theft"]), "people": rng.randint(1, 4),
        }
    if code == "school-canteen-enrolment":
        return {
            "parentFamilyName": family, "parentGivenNames": given, "parentPhone": "0612345678",
            "childFamilyName": family, "childGivenNames": rng.choice(p.given),
            "childBirthDate": (date(2014, 1, 1) + timedelta(days=rng.randint(0, 3000))).isoformat(),
            "school": rng.choice(["ecole-jules-ferry", "ecole-victor-hugo", "ecole-des-tilleuls"]),
            "grade": rng.choice(["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]),
            "services": ["canteen"], "schoolYear": "2026-2027",
        }
    if code == "electoral-roll-registration":
        return {
            "givenNames": given, "familyName": family, "birthDate": "1990-01-01", "birthPlace": {"label": "Lyon"},
            "nationality": "french", "address": p.address(), "reason": "new-resident",
        }
    if code == "public-highway-occupation":
        return {
            "applicantName": f"{given} {family}", "applicantPhone": "0612345678", "occupationType": "skip", "skipVolume": 8,
            "location": p.address(), "startDate": "2026-06-01", "endDate": "2026-06-05", "surface": 6,
        }
    return {
        "associationName": "Association " + p.words(2), "rnaNumber": "W751234567", "contactName": f"{given} {family}",
        "contactEmail": "asso@example.org", "grantType": "operating", "amountRequested": rng.randint(100, 20000),
        "projectDescription": "Soutien au fonctionnement : " + p.words(12),
    }


def main_path(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The staff transitions from the initial state to the first non-cancelled outcome."""
    wf = definition["workflow"]
    states = {s["code"]: s for s in wf["states"]}
    start = wf.get("initial") or wf["states"][0]["code"]
    queue = deque([(start, [])])
    seen = {start}
    while queue:
        state, path = queue.popleft()
        if states[state].get("terminal") and states[state]["status"] != "CANCELLED":
            return path
        for t in wf["transitions"]:
            if state in transition_sources(t) and set(t.get("roles") or []) & {"AGENT", "SUPERVISOR"} and t["to"] not in seen:
                seen.add(t["to"])
                queue.append((t["to"], path + [t]))
    return []


async def setup_reference_data(url: str) -> dict[str, Any]:
    """Tenant, departments, agents and the procedure catalogue, through the domain services."""
    import sqlalchemy as sa

    from domain.procedures.models import Procedure, ProcedureVersion
    from domain.tenancy.services import create_agent, create_department, create_tenant
    from seeds.catalogue import seed_procedures
    from seeds.demo import DEPARTMENTS, PARENTS

    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    try:
        async with db.sessionmaker(engine)() as s:
            tenant = await create_tenant(s, {"name": "Ville de Banc d'Essai", "slug": "bench", "insee_code": "75056"})
            system = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
            deps: dict[str, uuid.UUID] = {}
            for code, name, parent in PARENTS + DEPARTMENTS:
                dep = await create_department(s, system, {"code": code, "name": name, "parent_id": deps.get(parent) if parent else None})
                deps[code] = dep.id
            agents = []
            for i in range(30):
                code = list(deps)[i % len(deps)]
                agent = await create_agent(
                    s,
                    system,
                    {"email": f"agent{i}@bench.example.org", "given_name": f"Agent{i}", "family_name": "Banc",
                     "roles": ["SUPERVISOR" if i % 5 == 0 else "AGENT"], "department_ids": [deps[code]]},
                )
                agents.append(agent.id)
            await seed_procedures(s, tenant)
            await s.commit()
            rows = (
                await s.execute(
                    sa.select(Procedure.code, Procedure.id, ProcedureVersion.id, ProcedureVersion.definition).join(
                        ProcedureVersion, ProcedureVersion.id == Procedure.current_version_id
                    ).where(Procedure.tenant_id == tenant.id)
                )
            ).all()
    finally:
        await engine.dispose()
    procedures = {code: {"id": pid, "version_id": vid, "definition": d, "path": main_path(d)} for code, pid, vid, d in rows}
    return {"tenant_id": tenant.id, "departments": deps, "agents": agents, "procedures": procedures}


CITIZEN_COLUMNS = [
    "id", "tenant_id", "given_names", "family_name", "email", "phone", "address_number", "address_street",
    "address_postcode", "address_city", "gender", "preferred_channel", "preferred_language", "assurance_level",
    "sort_name", "search_document", "version", "created_at", "updated_at",
]
REQUEST_COLUMNS = [
    "id", "tenant_id", "reference", "procedure_id", "procedure_version_id", "citizen_id", "channel", "status", "state",
    "priority", "department_id", "assignee_id", "answers", "created_by_type", "created_by_id", "submitted_at", "due_at",
    "closed_at", "rating", "rating_comment", "rated_at", "search_document", "version", "created_at", "updated_at",
]
EVENT_COLUMNS = ["id", "tenant_id", "type", "aggregate_type", "aggregate_id", "actor_type", "actor_id", "payload", "occurred_at"]


async def generate(conn: asyncpg.Connection, ref: dict[str, Any], citizens: int, requests: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    pools = Pools(rng)
    tenant_id = ref["tenant_id"]
    now = datetime.now(UTC)
    started = time.perf_counter()

    # citizens
    people: list[tuple[uuid.UUID, str, str]] = []
    batch = []
    for i in range(citizens):
        given, family = rng.choice(pools.given), rng.choice(pools.family)
        email = f"{given}.{family}.{i}@example.org".lower().replace(" ", "-")
        phone = f"+336{rng.randrange(10**8):08d}"
        sort_name, document = search_fields(given, family, None, email, phone)
        cid = uuid.uuid4()
        created = now - timedelta(days=rng.randint(0, 1500))
        people.append((cid, given, family))
        batch.append((cid, tenant_id, given, family, email, phone, str(rng.randint(1, 150)), rng.choice(pools.streets), "75011",
                      "Paris", "UNSPECIFIED", "EMAIL", "FR", "DECLARED", sort_name, document, 1, created, created))
        if len(batch) >= 50_000:
            await conn.copy_records_to_table("citizens", records=batch, columns=CITIZEN_COLUMNS)
            batch = []
    if batch:
        await conn.copy_records_to_table("citizens", records=batch, columns=CITIZEN_COLUMNS)
    citizens_seconds = time.perf_counter() - started

    # requests and their timelines
    codes = list(PROCEDURE_WEIGHTS)
    weights = list(PROCEDURE_WEIGHTS.values())
    counters: dict[int, int] = {}
    due_cache: dict[tuple[date, int], datetime] = {}
    agents = ref["agents"]
    req_batch: list[tuple] = []
    ev_batch: list[tuple] = []
    events = 0
    started = time.perf_counter()
    for _ in range(requests):
        code = rng.choices(codes, weights)[0]
        proc = ref["procedures"][code]
        definition = proc["definition"]
        cid, given, family = rng.choice(people)
        answers = sample_answers(code, pools, (given, family))
        accepted = definition.get("channels") or list(CHANNEL_WEIGHTS)
        channel = rng.choices(accepted, [CHANNEL_WEIGHTS[c] for c in accepted])[0]
        age_days = int(rng.random() ** 2 * 730)  # more recent requests than old ones
        created = now - timedelta(days=age_days, seconds=rng.randint(0, 86_399))
        local_day = created.date()
        days = sla_days(definition)
        due = due_cache.get((local_day, days))
        if due is None:
            due = due_cache[(local_day, days)] = due_at(created, days, TZ)
        path = proc["path"]
        if age_days > 90:
            steps = len(path) if rng.random() < 0.9 else rng.randint(0, len(path))
        else:
            steps = min(len(path), int(rng.random() * (len(path) + 1) * min(1.0, age_days / 30 + 0.2)))
        states = {s["code"]: s for s in definition["workflow"]["states"]}
        state = states[definition["workflow"].get("initial") or definition["workflow"]["states"][0]["code"]]
        year = created.year
        counters[year] = counters.get(year, 0) + 1
        reference = format_reference(year, counters[year])
        rid = uuid.uuid4()
        actor_citizen = channel in ("WEB", "APP")
        assignee = rng.choice(agents) if steps > 0 and rng.random() < 0.8 else None
        t = created
        ev_batch.append((uuid.uuid4(), tenant_id, "request.submitted", "Request", rid, "citizen" if actor_citizen else "agent",
                         cid if actor_citizen else rng.choice(agents),
                         json.dumps({"public": True, "reference": reference, "procedure": code, "procedure_version": 1,
                                     "channel": channel, "to_state": state["code"], "status": state["status"]}), t))
        if assignee:
            t = min(t + timedelta(minutes=rng.randint(5, 600)), now)
            ev_batch.append((uuid.uuid4(), tenant_id, "request.assigned", "Request", rid, "agent", rng.choice(agents),
                             json.dumps({"public": False, "fields": ["assignee_id"], "assignee_id": str(assignee)}), t))
        for step in path[:steps]:
            t = min(t + timedelta(hours=rng.randint(1, 72)), now)
            previous = state
            state = states[step["to"]]
            inputs = {k: "ok" for k in step.get("requiredInputs") or []}
            ev_batch.append((uuid.uuid4(), tenant_id, "request.transitioned", "Request", rid, "agent", assignee or rng.choice(agents),
                             json.dumps({"public": True, "transition": step["name"], "from_state": previous["code"],
                                         "to_state": state["code"], "status": state["status"], "inputs": inputs}), t))
        t = min(t, now)
        closed = t if state.get("terminal") else None
        rating = rng.randint(1, 5) if closed and rng.random() < 0.15 else None
        department = ref["departments"].get(route(definition, answers) or "accueil")
        priority = PRIORITY_RANK[Priority(rng.choices(["URGENT", "HIGH", "NORMAL", "LOW"], [2, 10, 80, 8])[0])]
        req_batch.append((
            rid, tenant_id, reference, proc["id"], proc["version_id"], cid, channel, state["status"], state["code"], priority,
            department, assignee, json.dumps(answers), "citizen" if actor_citizen else "agent", cid if actor_citizen else agents[0],
            created, due, closed, rating, None, closed if rating else None,
            search_document(reference, [given, family], answers), 1 + steps + (1 if assignee else 0), created, t,
        ))
        if len(req_batch) >= 20_000:
            await conn.copy_records_to_table("requests", records=req_batch, columns=REQUEST_COLUMNS)
            await conn.copy_records_to_table("events", records=ev_batch, columns=EVENT_COLUMNS)
            events += len(ev_batch)
            req_batch, ev_batch = [], []
    if req_batch:
        await conn.copy_records_to_table("requests", records=req_batch, columns=REQUEST_COLUMNS)
        await conn.copy_records_to_table("events", records=ev_batch, columns=EVENT_COLUMNS)
        events += len(ev_batch)
    for year, value in counters.items():
        await conn.execute(
            "INSERT INTO request_counters (tenant_id, year, last_value) VALUES ($1, $2, $3)", tenant_id, year, value
        )
    requests_seconds = time.perf_counter() - started
    started = time.perf_counter()
    await conn.execute("ANALYZE")
    return {
        "citizens": citizens, "requests": requests, "events": events, "citizen_ids": [p[0] for p in people[:5000]],
        "names": [p[2] for p in people[:2000]],
        "citizens_seconds": citizens_seconds, "requests_seconds": requests_seconds, "analyze_seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------- measurement


async def measure(fn: Callable[[int], Awaitable[None]], total: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await fn(i)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    wall = time.perf_counter() - t0
    return {"p50": pct(latencies, 0.5) * 1000, "p95": pct(latencies, 0.95) * 1000, "throughput": total / wall, "n": total}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_measurements(url: str, ref: dict[str, Any], data: dict[str, Any], scale: float) -> list[dict[str, Any]]:
    port = free_port()
    env = {
        **os.environ,
        "GUICHET_DATABASE_URL": url,
        "GUICHET_RUN_MIGRATIONS_ON_START": "false",
        "GUICHET_LOG_LEVEL": "WARNING",
        "GUICHET_DB_POOL_SIZE": "20",
        "GUICHET_ENVIRONMENT": "development",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app_factory", "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=env,
    )
    results: list[dict[str, Any]] = []
    keys = TokenKeys.from_settings(Settings(environment="development", database_url=url))
    tenant_id = ref["tenant_id"]
    agent_token = issue_token(keys, kind=PrincipalKind.AGENT, subject_id=ref["agents"][1], tenant_id=tenant_id, roles=[Role.AGENT])
    pool = await asyncpg.create_pool(db.to_plain_url(url), min_size=16, max_size=16)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=httpx.Limits(max_connections=32)) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            headers = {"Authorization": f"Bearer {agent_token}"}

            async def gql(query: str, variables: dict, token_headers: dict = headers) -> dict:
                response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=token_headers)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(body)
                return body["data"]

            inbox_vars = {"filter": {"status": OPEN}, "first": 50}
            page = await gql(INBOX_GQL, inbox_vars)
            assert len(page["inbox"]["edges"]) == 50, "not enough open requests for a page of 50"
            sql_inbox = INBOX_SQL.format(search="")

            async def inbox_gql(_: int) -> None:
                await gql(INBOX_GQL, inbox_vars)

            async def inbox_sql(_: int) -> None:
                async with pool.acquire() as conn:
                    rows = await conn.fetch(sql_inbox, tenant_id, OPEN)
                    assert len(rows) == 51

            n1, n16 = max(30, int(300 * scale)), max(64, int(800 * scale))
            for fn in (inbox_gql, inbox_sql):  # warm-up
                await measure(fn, 20, 4)
            for label, fn in (("GraphQL inbox (50, nested)", inbox_gql), ("raw SQL inbox (one joined statement)", inbox_sql)):
                for c, n in ((1, n1), (16, n16)):
                    results.append({"what": label, "clients": c, **await measure(fn, n, c)})

            # full-text search: citizen names, words of answers, references
            rng = random.Random(3)
            terms = [rng.choice(data["names"]) for _ in range(40)] + [" ".join(rng.sample(WORDS, 2)) for _ in range(40)]
            terms += [format_reference(datetime.now(UTC).year, rng.randint(1, 1000)) for _ in range(20)]
            rng.shuffle(terms)
            from domain.text import prefix_tsquery

            sql_search = INBOX_SQL.format(search="AND r.search_vector @@ to_tsquery('french'::regconfig, $3)")
            all_statuses = ["SUBMITTED", "IN_PROGRESS", "WAITING_FOR_CITIZEN", "ACCEPTED", "REJECTED", "CLOSED", "CANCELLED"]

            async def search_gql(i: int) -> None:
                await gql(INBOX_GQL, {"filter": {"search": terms[i % len(terms)]}, "first": 50})

            async def search_sql(i: int) -> None:
                async with pool.acquire() as conn:
                    await conn.fetch(sql_search, tenant_id, all_statuses, prefix_tsquery(terms[i % len(terms)]))

            n_search = max(50, int(200 * scale))
            for label, fn in (("GraphQL full-text search (inbox, 50)", search_gql), ("raw SQL full-text search", search_sql)):
                await measure(fn, 10, 1)
                results.append({"what": label, "clients": 1, **await measure(fn, n_search, 1)})

            # requestSubmit: citizens on the web, street-issue reports
            citizen_ids = data["citizen_ids"]
            tokens = [
                {"Authorization": "Bearer " + issue_token(keys, kind=PrincipalKind.CITIZEN, subject_id=c, tenant_id=tenant_id)}
                for c in citizen_ids[:200]
            ]
            pools = Pools(random.Random(5))

            async def submit_gql(i: int) -> None:
                answers = sample_answers("street-issue", pools, ("x", "y"))
                out = await gql(SUBMIT_GQL, {"input": {"procedureCode": "street-issue", "answers": answers}}, tokens[i % len(tokens)])
                assert out["requestSubmit"]["userErrors"] == [], out

            proc = ref["procedures"]["street-issue"]
            department = ref["departments"]["voirie"]

            async def submit_sql(i: int) -> None:
                answers = sample_answers("street-issue", pools, ("x", "y"))
                now = datetime.now(UTC)
                async with pool.acquire() as conn:
                    async with conn.transaction():
                        number = await conn.fetchval(
                            "INSERT INTO request_counters (tenant_id, year, last_value) VALUES ($1, $2, 1) "
                            "ON CONFLICT (tenant_id, year) DO UPDATE SET last_value = request_counters.last_value + 1 RETURNING last_value",
                            tenant_id, now.year,
                        )
                        reference = format_reference(now.year, number)
                        rid = uuid.uuid4()
                        cid = citizen_ids[i % 200]
                        await conn.execute(
                            "INSERT INTO requests (id, tenant_id, reference, procedure_id, procedure_version_id, citizen_id, channel, status, "
                            "state, priority, department_id, answers, created_by_type, created_by_id, submitted_at, due_at, search_document, "
                            "version, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,'WEB','SUBMITTED','submitted',2,$7,$8,'citizen',$6,$9,$10,$11,1,$9,$9)",
                            rid, tenant_id, reference, proc["id"], proc["version_id"], cid, department, json.dumps(answers), now,
                            due_at(now, 5, TZ), search_document(reference, ["x", "y"], answers),
                        )
                        await conn.execute(
                            "INSERT INTO events (id, tenant_id, type, aggregate_type, aggregate_id, actor_type, actor_id, payload, occurred_at) "
                            "VALUES ($1,$2,'request.submitted','Request',$3,'citizen',$4,$5,$6)",
                            uuid.uuid4(), tenant_id, rid, cid, json.dumps({"public": True, "reference": reference}), now,
                        )

            n_submit = max(64, int(1000 * scale))
            for label, fn in (("GraphQL requestSubmit", submit_gql), ("raw SQL submit (counter + insert + event)", submit_sql)):
                await measure(fn, 16, 4)
                results.append({"what": label, "clients": 16, **await measure(fn, n_submit, 16)})
    finally:
        await pool.close()
        server.terminate()
        server.wait(timeout=30)
    return results


# ---------------------------------------------------------------- report


def report(args: argparse.Namespace, data: dict[str, Any], sizes: list[tuple[str, str]], results: list[dict[str, Any]], pg: str) -> str:
    lines = [
        "# Benchmark: requests (inbox, search, submission)",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench.requests --citizens {args.citizens} --requests {args.requests}`.",
        "",
        f"* Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared with other jobs; "
        f"{pg}; Python {platform.python_version()}.",
        "* Server: `uvicorn api.app:app_factory` (1 worker, 1 process, pool of 20 connections) on the same machine as the "
        "client (httpx); raw SQL through asyncpg (pool of 16) with the same concurrency.",
        f"* Data (one tenant): {data['citizens']:,} citizens, {data['requests']:,} requests over 8 procedures, "
        f"{data['events']:,} timeline events. Generated by COPY in {data['citizens_seconds']:.0f} s (citizens) + "
        f"{data['requests_seconds']:.0f} s (requests and events, indexes maintained), ANALYZE {data['analyze_seconds']:.0f} s.",
        "* Table sizes (with indexes): " + ", ".join(f"{name} {size}" for name, size in sizes) + ".",
        "",
        "| measure | clients | n | p50 (ms) | p95 (ms) | throughput (/s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['what']} | {r['clients']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['throughput']:.1f} |")
    by = {(r["what"], r["clients"]): r for r in results}
    lines += ["", "Ratios GraphQL / raw SQL (p50):", ""]
    for gq, raw, c in (
        ("GraphQL inbox (50, nested)", "raw SQL inbox (one joined statement)", 1),
        ("GraphQL inbox (50, nested)", "raw SQL inbox (one joined statement)", 16),
        ("GraphQL full-text search (inbox, 50)", "raw SQL full-text search", 1),
        ("GraphQL requestSubmit", "raw SQL submit (counter + insert + event)", 16),
    ):
        if (gq, c) in by and (raw, c) in by:
            lines.append(f"* {gq} at {c} client(s): {by[(gq, c)]['p50'] / by[(raw, c)]['p50']:.1f}x the raw-SQL p50, "
                         f"{by[(raw, c)]['throughput'] / by[(gq, c)]['throughput']:.1f}x less throughput.")
    lines.append("")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    name = args.database or f"guichet_bench_requests_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(db.to_plain_url(args.server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        pg = (await admin.fetchval("SELECT version()")).split(" on ")[0]
    finally:
        await admin.close()
    url = db.with_database(args.server_url, name)
    try:
        print(f"database {name}: migrating", flush=True)
        db.migrate(url)
        ref = await setup_reference_data(url)
        print(f"generating {args.citizens} citizens and {args.requests} requests", flush=True)
        conn = await asyncpg.connect(db.to_plain_url(url))
        try:
            data = await generate(conn, ref, args.citizens, args.requests)
            sizes = [
                (t, await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size($1::regclass))", t))
                for t in ("citizens", "requests", "events")
            ]
        finally:
            await conn.close()
        print(f"generated in {data['citizens_seconds'] + data['requests_seconds']:.0f} s; measuring", flush=True)
        results = await run_measurements(url, ref, data, args.scale)
        text = report(args, data, sizes, results, pg)
        print(text)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
    finally:
        if not args.keep:
            admin = await asyncpg.connect(db.to_plain_url(args.server_url))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--server-url", default=os.environ.get("GUICHET_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--database", help="database name to (re)create (default: a fresh random name)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier of the number of measured operations")
    parser.add_argument("--output", help="write the markdown report there (e.g. docs/benchmarks-requests.md)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
