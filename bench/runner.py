"""Reusable benchmark runner: the real server as a subprocess, an HTTP client and an asyncpg pool,
latency/throughput measurement, machine facts and a Markdown report."""

from __future__ import annotations

import asyncio
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import asyncpg
import httpx

from api import db
from api.settings import Settings
from auth.tokens import TokenKeys, issue_token
from domain.security import PrincipalKind, Role

RESULTS = Path(__file__).parent / "results"
Op = Callable[[int], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(op: Op, total: int, concurrency: int, warmup: int = 50) -> dict[str, float]:
    """Run ``op(i)`` ``total`` times from ``concurrency`` workers after ``warmup`` calls; ms and req/s."""
    for i in range(warmup):
        await op(-1 - i)
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    wall = time.perf_counter() - t0
    return {"p50": pct(latencies, 0.50) * 1000, "p95": pct(latencies, 0.95) * 1000, "p99": pct(latencies, 0.99) * 1000,
            "rps": total / wall, "n": total}


@dataclass
class Harness:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    headers: dict[str, str]

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(body)
        return body["data"]


@asynccontextmanager
async def harness(url: str, tenant_id: uuid.UUID, agent_id: uuid.UUID, connections: int = 16) -> AsyncIterator[Harness]:
    """Start ``uvicorn api.app:app_factory`` (1 worker) on a free port, wait for /readyz, yield a harness."""
    port = free_port()
    env = {**os.environ, "GUICHET_DATABASE_URL": url, "GUICHET_ENVIRONMENT": "development", "GUICHET_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app_factory", "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        env=env,
    )
    keys = TokenKeys.from_settings(Settings(environment="development", database_url=url))
    token = issue_token(keys, kind=PrincipalKind.AGENT, subject_id=agent_id, tenant_id=tenant_id, roles=[Role.AGENT])
    pool = await asyncpg.create_pool(db.to_plain_url(url), min_size=connections, max_size=connections)
    try:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
            for _ in range(300):
                if server.poll() is not None:
                    raise RuntimeError(f"server exited with {server.returncode}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise RuntimeError("server not ready")
            yield Harness(client, pool, {"Authorization": f"Bearer {token}"})
    finally:
        await pool.close()
        server.terminate()
        server.wait(10)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


async def machine_facts(url: str) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), 0)
    conn = await asyncpg.connect(db.to_plain_url(url))
    try:
        pg = (await conn.fetchval("SELECT version()")).split(" on ")[0]
    finally:
        await conn.close()
    return {"nproc": str(os.cpu_count()), "CPU": cpu, "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB", "PostgreSQL": pg,
            "Python": platform.python_version()}


def table(rows: list[dict[str, Any]]) -> str:
    """rows: {name, c, gql: measure(), sql: measure()} -> Markdown table with GraphQL/raw ratios."""
    out = ["| Read | c | GraphQL p50 | p95 | p99 | req/s | raw SQL p50 | p95 | p99 | req/s | p50 ratio | req/s ratio |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        g, s = r["gql"], r["sql"]
        out.append(f"| {r['name']} | {r['c']} | {g['p50']:.1f} ms | {g['p95']:.1f} | {g['p99']:.1f} | {g['rps']:.0f} | "
                   f"{s['p50']:.2f} ms | {s['p95']:.2f} | {s['p99']:.2f} | {s['rps']:.0f} | "
                   f"{g['p50'] / s['p50']:.1f}x | {s['rps'] / g['rps']:.1f}x slower |")
    return "\n".join(out)


def write_report(scenario: str, text: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{scenario}-{datetime.now(UTC):%Y%m%dT%H%M%S}.md"
    path.write_text(text, encoding="utf-8")
    return path


def facts_markdown(facts: dict[str, str]) -> str:
    return "\n".join(f"- {k}: {v}" for k, v in facts.items())
