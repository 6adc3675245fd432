"""Dashboards benchmark: indicators from rollups vs raw SQL, CSV export throughput and memory.

    python -m bench.dashboards [--requests 1000000] [--server postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
    python -m bench.dashboards --requests 5000000 --generate-only     # prints the database name, keeps it
    python -m bench.dashboards --requests 5000000 --reuse guichet_bench_dash_xxxxxx [--keep]

Self-contained: creates its own database on the server, migrates it, generates the history with
``seeds.dashboards.generate`` (3 years, COPY in chunks), builds the rollups with
``rebuild_rollups`` and times the incremental ``refresh_rollups`` on the last events, then measures:

* ``requestIndicators`` figures (TOTAL and MONTH x PROCEDURE) over the last month and the last
  three years, from rollups (``compute_indicators`` source ROLLUP: past days from rollups, today raw)
  and from the base tables (the same SQL with source RAW, limit lifted: what you would run
  without rollups);
* the requests CSV export over three years (the streaming generator of ``/exports/requests.csv``):
  rows/s, MB/s, peak Python memory (tracemalloc) and the process's max RSS.

Prints a Markdown report (paste it into docs/benchmarks-dashboards.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg

from api import db
from bench.runner import pct

SERVER = os.environ.get("GUICHET_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHUNK = 50_000
REPLAY = 20_000


async def _setup(url: str, n: int) -> tuple[uuid.UUID, float]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from domain.citizens.models import Citizen
    from domain.security import Principal, PrincipalKind, Role
    from domain.tenancy.services import create_agent, create_department, create_tenant
    from seeds.dashboards import bare_procedures, generate

    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    async with db.sessionmaker(engine)() as s:
        s: AsyncSession
        tenant = await create_tenant(s, {"name": "Bench", "slug": f"bench-{uuid.uuid4().hex[:6]}", "insee_code": "75056"})
        system = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
        deps = [(await create_department(s, system, {"name": f"Service {i}", "code": f"svc-{i}"})).id for i in range(8)]
        agent = await create_agent(s, system, {"email": "a@bench.example.org", "given_name": "A", "family_name": "B",
                                               "roles": ["AGENT"], "department_ids": [deps[0]]})
        refs = await bare_procedures(s, tenant.id, [(f"proc-{i}", f"cat-{i % 4}", random.choice((5, 10, 15, 30))) for i in range(12)])
        citizens = [Citizen(tenant_id=tenant.id, given_names="X", family_name=f"Y{i}") for i in range(2000)]
        s.add_all(citizens)
        await s.flush()
        citizen_ids = [c.id for c in citizens]
        await s.commit()
        tenant_id, agent_id = tenant.id, agent.id
    await engine.dispose()

    conn = await asyncpg.connect(db.to_plain_url(url))
    rng = random.Random(1)
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=3 * 365)
    began = time.perf_counter()
    req_cols = ev_cols = None
    # chunks cover consecutive time slices so that events stay roughly in time order
    slices = max(1, n // CHUNK)
    for i in range(slices):
        count = n // slices + (1 if i < n % slices else 0)
        s0 = start + (now - start) * i / slices
        s1 = start + (now - start) * (i + 1) / slices
        requests, events = generate(rng, tenant_id, refs, deps + [None], citizen_ids, agent_id, s0, s1, count, now)
        req_cols = req_cols or list(requests[0])
        ev_cols = ev_cols or list(events[0])
        for e in events:
            e["payload"] = json.dumps(e["payload"])
        for r in requests:
            r["answers"] = "{}"
        await conn.copy_records_to_table("requests", records=[tuple(r[c] for c in req_cols) for r in requests], columns=req_cols)
        await conn.copy_records_to_table("events", records=[tuple(e[c] for c in ev_cols) for e in events], columns=ev_cols)
    await conn.execute("ANALYZE")
    await conn.close()
    return tenant_id, time.perf_counter() - began


async def _measure(url: str, tenant_id: uuid.UUID, repeats: int, raw_repeats: int, rebuild: bool = True, export: bool = True) -> dict:
    from domain.dashboards.exports import CsvFormat, stream_requests_csv
    import sqlalchemy as sa

    from domain.dashboards.rollups import local_today, rebuild_rollups, refresh_rollups
    from domain.dashboards.services import Dimension, Granularity, IndicatorQuery, Limits, Source, compute_indicators
    from domain.security import Principal, PrincipalKind, Role

    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    maker = db.sessionmaker(engine)
    out: dict = {}
    async with maker() as s:
        if rebuild:
            t = time.perf_counter()
            r = await rebuild_rollups(s, tenant_id)
            out["rebuild"] = (time.perf_counter() - t, r.requests, r.days)
        out["histogram_rows"] = (await s.execute(sa.text(
            "SELECT string_agg(grain || ' ' || n, ', ' ORDER BY grain COLLATE \"C\") FROM "
            "(SELECT grain, count(*) AS n FROM request_daily_histograms WHERE tenant_id = :t GROUP BY grain) g"), {"t": tenant_id})).scalar_one()
        out["rollup_rows"] = (await s.execute(sa.text(
            "SELECT count(*) FILTER (WHERE grain = 'D') || ' day + ' || count(*) FILTER (WHERE grain = 'M') || ' month' FROM request_daily_rollups WHERE tenant_id = :t"), {"t": tenant_id})).scalar_one()
        if rebuild:
            top = (await s.execute(sa.text("SELECT max(sequence) FROM events"))).scalar_one()
            # the incremental job on a typical backlog: the last REPLAY events (about a week of activity)
            t = time.perf_counter()
            r = await refresh_rollups(s, tenant_id, since_sequence=top - REPLAY)
            out["refresh"] = (time.perf_counter() - t, r.events, r.requests, r.days)
    admin = Principal(PrincipalKind.AGENT, uuid.uuid4(), tenant_id, frozenset({Role.ADMIN}))
    today = local_today("Europe/Paris")
    limits = Limits(raw_max_days=4000, max_days=4000)
    cases = []
    for label, days in (("1 month", 30), ("3 years", 3 * 365)):
        for shape, g, d in (("TOTAL", Granularity.TOTAL, None), ("MONTH x PROCEDURE", Granularity.MONTH, Dimension.PROCEDURE)):
            row = {"period": label, "shape": shape}
            # "full": every figure (percentiles and backlog included); "counts": what a volume or
            # channel-mix chart selects (the resolver then skips histograms and backlog)
            variants = (
                ("ROLLUP", Source.ROLLUP, repeats, True),
                ("COUNTS", Source.ROLLUP, repeats, False),
                ("RAW", Source.RAW, raw_repeats if days > 31 or not raw_repeats else min(repeats, max(raw_repeats, 5)), True),
            )
            for name, source, reps, full in variants:
                times = []
                res = None
                for _ in range(reps):
                    async with maker() as s:
                        t = time.perf_counter()
                        res = await compute_indicators(
                            s, admin, IndicatorQuery(today - timedelta(days=days), today, g, d, source=source), limits,
                            percentiles=full, backlog=full,
                        )
                        times.append(time.perf_counter() - t)
                if not times:
                    continue
                row[name] = (statistics.median(times), pct(times, 0.95), len(times))
                row[f"{name}_submitted"] = sum(p.counters["submitted"] for p in res.points)
            cases.append(row)
            print(row, flush=True)
    out["cases"] = cases
    if not export:
        await engine.dispose()
        return out

    tracemalloc.start()
    rows = size = 0
    t = time.perf_counter()
    async with maker() as s:
        p = admin
        async for chunk in stream_requests_csv(s, p, today - timedelta(days=3 * 365 + 1), today, CsvFormat(";", True)):
            size += len(chunk)
            rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["export"] = (rows - 1, size, elapsed, peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    await engine.dispose()
    return out


def _report(n: int, gen_seconds: float, m: dict) -> str:
    lines = [
        "## Results",
        "",
        f"* machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
        f"* data: {n:,} requests over 3 years, 12 procedures, 8 departments, 6 channels; generated and COPYed in {gen_seconds:.0f} s",
        f"* rollup rows: {m['rollup_rows']} counters; histogram rows by grain: {m['histogram_rows']}",
    ]
    if "rebuild" in m:
        lines += [
            f"* `rebuild_rollups` (initial load, set-based): {m['rebuild'][0]:.1f} s for {m['rebuild'][1]:,} requests",
            f"* `refresh_rollups` (incremental job) replaying the last {m['refresh'][1]:,} events: {m['refresh'][0]:.1f} s "
            f"({m['refresh'][1] / m['refresh'][0]:,.0f} events/s; {m['refresh'][2]:,} requests, {m['refresh'][3]:,} days rebuilt)",
        ]
    lines += [
        "",
        "| period | shape | rollups, every figure: p50 / p95 (ms) | rollups, counts only | raw SQL, every figure | raw / rollups (p50) | submitted |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(v):
        return f"{v[0] * 1000:.0f} / {v[1] * 1000:.0f} (n={v[2]})" if v else "not run"

    for c in m["cases"]:
        ro, co, ra = c.get("ROLLUP"), c.get("COUNTS"), c.get("RAW")
        same = ("=" if c["ROLLUP_submitted"] == c["RAW_submitted"] else "≠") if ra else ""
        ratio = f"{ra[0] / ro[0]:.0f}x" if ra else "—"
        lines.append(
            f"| {c['period']} | {c['shape']} | {cell(ro)} | {cell(co)} | {cell(ra)} | {ratio} | {c['ROLLUP_submitted']:,} {same} |"
        )
    if "export" not in m:
        return "\n".join(lines)
    rows, size, elapsed, peak, rss = m["export"]
    lines += [
        "",
        f"* requests CSV export, 3 years: {rows:,} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s = "
        f"{rows / elapsed:,.0f} rows/s, {size / 1e6 / elapsed:.1f} MB/s; peak Python allocations {peak / 1e6:.1f} MB "
        f"(tracemalloc), process max RSS {rss / 1024:.0f} MB",
    ]
    return "\n".join(lines)


async def _reused(url: str) -> tuple[uuid.UUID, int, float]:
    conn = await asyncpg.connect(db.to_plain_url(url))
    try:
        tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug LIKE 'bench-%'")
        n = await conn.fetchval("SELECT count(*) FROM requests WHERE tenant_id = $1", tenant_id)
        # where the generation time was recorded by --generate-only
        gen = await conn.fetchval("SELECT coalesce(current_setting('guichet.bench_generation_seconds', true), '0')")
    finally:
        await conn.close()
    return tenant_id, n, float(gen or 0)


async def main_async(args) -> None:
    admin = await asyncpg.connect(db.to_plain_url(args.server))
    keep = args.keep or args.generate_only
    if args.reuse:
        # a database generated earlier (--generate-only or --keep): migrate it to head, measure again
        name = args.reuse
        keep = True if not args.drop else False
    else:
        name = f"guichet_bench_dash_{uuid.uuid4().hex[:6]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
    url = db.with_database(args.server, name)
    try:
        await asyncio.to_thread(db.migrate, url)
        if args.reuse:
            tenant_id, n, gen_seconds = await _reused(url)
        else:
            n = args.requests
            tenant_id, gen_seconds = await _setup(url, n)
            await admin.execute(f"ALTER DATABASE \"{name}\" SET guichet.bench_generation_seconds = '{gen_seconds:.0f}'")
        if args.generate_only:
            print(f"generated {n:,} requests in {gen_seconds:.0f} s into database {name}")
            return
        m = await _measure(url, tenant_id, args.repeats, args.raw_repeats, rebuild=not args.no_rebuild, export=not args.no_export)
        print(_report(n, gen_seconds, m))
    finally:
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--raw-repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--generate-only", action="store_true", help="Generate, keep the database, print its name, stop.")
    parser.add_argument("--reuse", metavar="DATABASE", help="Measure a database kept earlier (migrated to head first).")
    parser.add_argument("--drop", action="store_true", help="With --reuse: drop the database afterwards.")
    parser.add_argument("--no-rebuild", action="store_true", help="With --reuse: keep the rollups built by an earlier run.")
    parser.add_argument("--no-export", action="store_true", help="Skip the CSV export measurement.")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
