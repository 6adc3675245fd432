"""Cost of API-key authentication and of Idempotency-Key, against a running server.

    GUICHET_DATABASE_URL=... guichet serve --demo --port 8765 &
    KEY=$(guichet api-client create --tenant demo --name bench --role AGENT)
    TOKEN=$(guichet token --tenant demo --role AGENT)
    python -m bench.integrations --url http://127.0.0.1:8765 --key "$KEY" --token "$TOKEN"

Sequential requests (one client), p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx

VIEWER = {"query": "{ viewer { kind roles } }"}
CREATE = "mutation($in: CitizenCreateInput!) { citizenCreate(input: $in) { citizen { id } userErrors { code } } }"


def _create() -> dict:
    return {"query": CREATE, "variables": {"in": {"givenNames": "Bench", "familyName": f"Idem{uuid.uuid4().hex[:8]}"}}}


async def measure(client: httpx.AsyncClient, n: int, make) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        headers, body = make()
        started = time.perf_counter()
        response = await client.post("/graphql", json=body, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def main(url: str, key: str, token: str, n: int) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    api_key = {"X-Api-Key": key}
    fixed_idem = str(uuid.uuid4())
    fixed_body = _create()
    cases = {
        "viewer, Bearer JWT": lambda: (bearer, VIEWER),
        "viewer, X-Api-Key": lambda: (api_key, VIEWER),
        "citizenCreate, no Idempotency-Key": lambda: (api_key, _create()),
        "citizenCreate, new Idempotency-Key": lambda: ({**api_key, "Idempotency-Key": str(uuid.uuid4())}, _create()),
        "citizenCreate, replayed Idempotency-Key": lambda: ({**api_key, "Idempotency-Key": fixed_idem}, fixed_body),
    }
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await measure(client, 20, lambda: (bearer, VIEWER))  # warm-up
        print(f"| case | p50 ms | p95 ms |  (n={n} sequential)\n|---|---|---|")
        for name, make in cases.items():
            p50, p95 = await measure(client, n, make)
            print(f"| {name} | {p50:.2f} | {p95:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.key, args.token, args.n))
