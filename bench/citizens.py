"""Scenario ``citizens``: the agents' citizen search page and the citizen card, GraphQL over HTTP
next to the same reads in raw asyncpg SQL."""

from __future__ import annotations

import argparse
import random

from bench import generate, runner
from domain.citizens.services import citizen_tsquery
from schema.common import to_global_id

SEARCH_GQL = """
query Search($search: String, $first: Int) {
  citizens(search: $search, first: $first) {
    edges { cursor node { id displayName familyName givenNames email phone } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CITIZEN_GQL = "query One($id: ID!) { citizen(id: $id) { id displayName familyName givenNames email phone } }"
SEARCH_SQL = """
SELECT id, given_names, family_name, email, phone, sort_name FROM citizens
WHERE tenant_id = $1 AND search_vector @@ to_tsquery('simple'::regconfig, $2)
ORDER BY sort_name, id LIMIT 21
"""
CITIZEN_SQL = "SELECT id, given_names, family_name, email, phone FROM citizens WHERE id = $1 AND tenant_id = $2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--requests-per-client", type=int, default=100,
                        help="measured requests per concurrent client (c=1: 3x this, c=16: this; default 300 and 1600)")


async def run(args: argparse.Namespace) -> str:
    data = await generate.prepare(args.database_url, args.citizens, args.keep)
    print(f"data: {data.citizens} citizens ({'reused' if data.reused else f'generated in {data.seconds:.1f} s'})", flush=True)
    facts = await runner.machine_facts(data.url)
    rng = random.Random(1)
    rows = []
    async with runner.harness(data.url, data.tenant_id, data.agent_id) as h:
        # the most common family-name prefix (3 letters) of the data set
        prefix = await h.pool.fetchval(
            "SELECT left(family_name, 3) p FROM citizens WHERE tenant_id = $1 GROUP BY p ORDER BY count(*) DESC LIMIT 1", data.tenant_id)
        matches = await h.pool.fetchval(
            "SELECT count(*) FROM citizens WHERE tenant_id = $1 AND search_vector @@ to_tsquery('simple'::regconfig, $2)",
            data.tenant_id, citizen_tsquery(prefix))
        ids = [r["id"] for r in await h.pool.fetch("SELECT id FROM citizens WHERE tenant_id = $1", data.tenant_id)]
        tsq = citizen_tsquery(prefix)
        page = await h.gql(SEARCH_GQL, {"search": prefix, "first": 20})
        raw = await h.pool.fetch(SEARCH_SQL, data.tenant_id, tsq)
        assert [e["node"]["id"] for e in page["citizens"]["edges"]] == [str(to_global_id("Citizen", r["id"])) for r in raw[:20]], \
            "GraphQL and raw SQL disagree on the first page"

        async def search_gql(_: int) -> None:
            await h.gql(SEARCH_GQL, {"search": prefix, "first": 20})

        async def search_sql(_: int) -> None:
            await h.pool.fetch(SEARCH_SQL, data.tenant_id, tsq)

        async def one_gql(_: int) -> None:
            await h.gql(CITIZEN_GQL, {"id": str(to_global_id("Citizen", rng.choice(ids)))})

        async def one_sql(_: int) -> None:
            await h.pool.fetchrow(CITIZEN_SQL, rng.choice(ids), data.tenant_id)

        for name, g, s in ((f'citizens(search: "{prefix}", first: 20)', search_gql, search_sql), ("citizen(id)", one_gql, one_sql)):
            for c, total in ((1, 3 * args.requests_per_client), (16, 16 * args.requests_per_client)):
                print(f"  {name} c={c}", flush=True)
                rows.append({"name": name, "c": c, "gql": await runner.measure(g, total, c), "sql": await runner.measure(s, total, c)})
    text = (f"# Benchmark: citizens\n\n{data.citizens} citizens in one tenant; search prefix \"{prefix}\" matches {matches} rows.\n"
            f"c=1: {3 * args.requests_per_client} requests, c=16: {16 * args.requests_per_client} requests (after 50 warm-up each).\n\n"
            f"{runner.table(rows)}\n\nMachine:\n\n{runner.facts_markdown(facts)}\n")
    if not args.keep:
        await generate.drop(args.database_url)
    return text
