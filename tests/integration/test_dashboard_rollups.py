"""Rollups equal the raw computation on the same generated data, also after late changes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import sqlalchemy as sa

from domain.base import utcnow
from domain.dashboards import buckets
from domain.dashboards.rollups import local_today, rebuild_rollups, refresh_rollups
from domain.dashboards.services import Dimension, Granularity, IndicatorQuery, Limits, Source, compute_indicators
from domain.events.services import record_event
from domain.requests.models import Request
from domain.security import Principal, PrincipalKind, Role
from tests.dashboard_fixtures import make_history

LIMITS = Limits(raw_max_days=400)


def admin(tenant) -> Principal:
    return Principal(PrincipalKind.AGENT, tenant.agents["ADMIN"], tenant.id, frozenset({Role.ADMIN}), frozenset({tenant.department_id}))


async def both(app, tenant, granularity, dimension, days=160):
    today = local_today("Europe/Paris")
    results = {}
    async with app.state.sessionmaker() as s:
        for source in (Source.ROLLUP, Source.RAW):
            q = IndicatorQuery(today - timedelta(days=days), today, granularity, dimension, source=source)
            results[source] = await compute_indicators(s, admin(tenant), q, LIMITS)
    return results[Source.ROLLUP], results[Source.RAW]


def assert_same(rollup, raw):
    assert [(p.period_start, p.dimension_key) for p in rollup.points] == [(p.period_start, p.dimension_key) for p in raw.points]
    for a, b in zip(rollup.points, raw.points):
        assert a.counters == b.counters, (a.period_start, a.dimension_key)
        assert a.processing["mean"] == b.processing["mean"]
        assert a.first_response["mean"] == b.first_response["mean"]
        for kind in ("processing", "first_response"):
            approx, exact = getattr(a, kind), getattr(b, kind)
            for name in ("median", "p90"):
                assert (approx[name] is None) == (exact[name] is None)
                if exact[name] is not None and approx["count"] >= 100:
                    # on a large group the bucketed percentile is within one bucket width of percentile_cont
                    # (on tiny groups percentile_cont interpolates between far-apart values: no such bound)
                    assert abs(approx[name] - exact[name]) <= (buckets.RATIO - 1) * exact[name] + buckets.BASE_SECONDS


async def assert_month_histograms_consistent(app, tenant) -> None:
    """Month histograms ('M') sum the day ones ('D'); the compact grains (channels combined: 'c' per
    day, 'C' per month; channels and departments combined: 'p', 'P') sum the full ones, bucket by
    bucket, exactly."""
    one = "SELECT day, procedure_id, department_id, channel, kind, bucket, count FROM request_daily_histograms WHERE tenant_id = :t AND grain = '{}'"
    sums = {g: one.format(g) for g in "DMCPcp"}
    sums["D by month"] = (
        "SELECT date_trunc('month', day)::date AS month, procedure_id, department_id, channel, kind, bucket, sum(count) "
        "FROM request_daily_histograms WHERE tenant_id = :t AND grain = 'D' GROUP BY 1, 2, 3, 4, 5, 6"
    )
    async with app.state.sessionmaker() as s:
        rows = {g: (await s.execute(sa.text(sql), {"t": tenant.id})).all() for g, sql in sums.items()}

    def fold(rs, department: bool, channel: bool) -> dict:
        out: dict = {}
        for day, proc, dep, chan, kind, bucket, n in rs:
            key = (day, proc, dep if department else None, chan if channel else "*", kind, bucket)
            out[key] = out.get(key, 0) + int(n)
        return out

    assert all(rows[g] for g in "DMCPcp")
    assert fold(rows["D by month"], True, True) == fold(rows["M"], True, True)
    for full, by_procedure_and_department, by_procedure in (("M", "C", "P"), ("D", "c", "p")):
        assert fold(rows[full], True, False) == fold(rows[by_procedure_and_department], True, True)
        assert fold(rows[full], False, False) == fold(rows[by_procedure], True, True)
        assert {r[3] for r in rows[by_procedure_and_department]} == {"*"} and {r[2] for r in rows[by_procedure]} == {None}


async def assert_compact_histograms_give_the_same_percentiles(app, tenant) -> None:
    """Without a channel filter, queries read the compact histograms; naming every channel forces
    the full rows: bucketed medians and p90 must then be identical, not just close. Both a period
    of whole months plus edges (month and day rows) and days only (DAY granularity)."""
    from domain.dashboards.services import _histogram_grains
    from domain.requests.models import Channel

    today = local_today("Europe/Paris")
    plain = IndicatorQuery(today - timedelta(days=160), today, Granularity.TOTAL, None)
    every_channel = IndicatorQuery(today - timedelta(days=160), today, Granularity.TOTAL, None, channels=[c.value for c in Channel])
    assert _histogram_grains(plain, None) == {"D": "p", "M": "P"}
    assert _histogram_grains(every_channel, None) == {"D": "D", "M": "M"}
    for granularity in (Granularity.TOTAL, Granularity.DAY):
        async with app.state.sessionmaker() as s:
            a = await compute_indicators(s, admin(tenant), dataclasses.replace(plain, granularity=granularity), LIMITS)
            b = await compute_indicators(s, admin(tenant), dataclasses.replace(every_channel, granularity=granularity), LIMITS)
        assert [p.counters for p in a.points] == [p.counters for p in b.points]
        assert [(p.processing, p.first_response) for p in a.points] == [(p.processing, p.first_response) for p in b.points]
        assert any(p.processing["median"] is not None for p in a.points)


async def test_rollups_equal_raw_computation_including_late_transitions(app, make_tenant):
    # given a tenant with five months of generated history, folded into the rollups
    tenant = await make_tenant("roll")
    history = await make_history(app, tenant, count=400)
    async with app.state.sessionmaker() as s:
        result = await refresh_rollups(s, tenant.id)
    assert result.requests == 400 and result.events == len(history.events)

    # then rollups and raw computation agree, per day and procedure, per month and channel
    for granularity, dimension in ((Granularity.DAY, Dimension.PROCEDURE), (Granularity.MONTH, Dimension.CHANNEL),
                                   (Granularity.WEEK, Dimension.DEPARTMENT), (Granularity.TOTAL, None)):
        rollup, raw = await both(app, tenant, granularity, dimension)
        assert_same(rollup, raw)
    total_rollup, _ = await both(app, tenant, Granularity.TOTAL, None)
    assert total_rollup.points[0].counters["submitted"] == 400
    await assert_month_histograms_consistent(app, tenant)
    await assert_compact_histograms_give_the_same_percentiles(app, tenant)

    # when old requests change late: one closed 100+ days ago is reopened, one old closed one is rated now
    now = utcnow()
    closed = sorted((r for r in history.requests if r["status"] in ("CLOSED", "ACCEPTED") and r["rating"] is None),
                    key=lambda r: r["closed_at"])
    reopened, rated = closed[0], closed[1]
    async with app.state.sessionmaker() as s:
        system = admin(tenant)
        await s.execute(sa.update(Request).where(Request.id == reopened["id"]).values(status="IN_PROGRESS", closed_at=None))
        record_event(s, tenant_id=tenant.id, type="request.transitioned", aggregate_type="Request",
                     aggregate_id=reopened["id"], actor=system, payload={"public": True, "status": "IN_PROGRESS"})
        await s.execute(sa.update(Request).where(Request.id == rated["id"]).values(rating=1, rated_at=now))
        record_event(s, tenant_id=tenant.id, type="request.rated", aggregate_type="Request",
                     aggregate_id=rated["id"], actor=None, payload={"public": False, "rating": 1})
        await s.commit()
    async with app.state.sessionmaker() as s:
        before = await compute_indicators(s, admin(tenant), IndicatorQuery(
            reopened["closed_at"].date() - timedelta(days=1), reopened["closed_at"].date() + timedelta(days=1),
            Granularity.TOTAL), LIMITS)
        second = await refresh_rollups(s, tenant.id)
    assert second.requests == 2

    # then the old days moved with them, and rollups still equal the raw computation
    async with app.state.sessionmaker() as s:
        after = await compute_indicators(s, admin(tenant), IndicatorQuery(
            reopened["closed_at"].date() - timedelta(days=1), reopened["closed_at"].date() + timedelta(days=1),
            Granularity.TOTAL), LIMITS)
    assert after.points[0].counters["closed"] == before.points[0].counters["closed"] - 1
    for granularity, dimension in ((Granularity.DAY, Dimension.CATEGORY), (Granularity.TOTAL, None)):
        rollup, raw = await both(app, tenant, granularity, dimension)
        assert_same(rollup, raw)
    rollup, _ = await both(app, tenant, Granularity.TOTAL, None)
    assert rollup.points[0].counters["rating_1"] == total_rollup.points[0].counters["rating_1"] + 1
    await assert_month_histograms_consistent(app, tenant)
    await assert_compact_histograms_give_the_same_percentiles(app, tenant)


async def test_refresh_is_idempotent_and_resumes_from_cursor(app, make_tenant):
    # given a refreshed tenant
    tenant = await make_tenant("idem")
    await make_history(app, tenant, count=50, seed=3)
    async with app.state.sessionmaker() as s:
        first = await refresh_rollups(s, tenant.id)
        rows = (await s.execute(sa.text("SELECT count(*), sum(submitted) FROM request_daily_rollups WHERE tenant_id = :t AND grain = 'D'"), {"t": tenant.id})).one()
    # when it runs again with nothing new, then nothing is read; when replayed from 0, same rollups
    async with app.state.sessionmaker() as s:
        again = await refresh_rollups(s, tenant.id)
        assert again.events == 0 and again.last_sequence == first.last_sequence
        replay = await refresh_rollups(s, tenant.id, since_sequence=0)
        assert replay.requests == 50
        rows_after = (await s.execute(sa.text("SELECT count(*), sum(submitted) FROM request_daily_rollups WHERE tenant_id = :t AND grain = 'D'"), {"t": tenant.id})).one()
    assert tuple(rows_after) == tuple(rows) and rows[1] == 50


async def test_cli_rollups_refresh(app, make_tenant, database_url, monkeypatch):
    """`guichet rollups refresh --tenant SLUG` folds the tenant's events; an unknown slug fails."""
    import asyncio

    from click.testing import CliRunner

    from api.cli import main
    from api.settings import get_settings

    tenant = await make_tenant("cli")
    await make_history(app, tenant, count=30, seed=9)
    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        done = await asyncio.to_thread(runner.invoke, main, ["rollups", "refresh", "--tenant", tenant.slug])
        assert done.exit_code == 0, done.output
        assert f"tenant {tenant.id}:" in done.output and "30 requests" in done.output
        unknown = await asyncio.to_thread(runner.invoke, main, ["rollups", "refresh", "--tenant", "nowhere"])
        assert unknown.exit_code == 1 and "unknown tenant" in unknown.output
    finally:
        get_settings.cache_clear()
    async with app.state.sessionmaker() as s:
        total = (await s.execute(sa.text("SELECT sum(submitted) FROM request_daily_rollups WHERE tenant_id = :t AND grain = 'D'"), {"t": tenant.id})).scalar_one()
    assert total == 30


ROLLUP_ROWS = f"""
SELECT grain, day, procedure_id, department_id, channel, {", ".join(c for c in ("submitted", "closed", "cancelled",
    "processing_seconds_sum", "with_due", "on_time", "first_responses", "first_response_seconds_sum", "rated", "rating_sum"))}
FROM request_daily_rollups WHERE tenant_id = :t ORDER BY 1, 2, 3, 4, 5
"""
HISTOGRAM_ROWS = (
    "SELECT grain, day, procedure_id, department_id, channel, kind, bucket, count FROM request_daily_histograms "
    "WHERE tenant_id = :t ORDER BY 1, 2, 3, 4, 5, 6, 7"
)


async def test_rebuild_equals_incremental_refresh_and_places_the_cursor(app, make_tenant):
    # given a history folded incrementally
    tenant = await make_tenant("rebuild")
    history = await make_history(app, tenant, count=150, seed=21)
    async with app.state.sessionmaker() as s:
        await refresh_rollups(s, tenant.id)
        incremental = [(await s.execute(sa.text(q), {"t": tenant.id})).all() for q in (ROLLUP_ROWS, HISTOGRAM_ROWS)]
    # when the tenant is rebuilt from scratch
    async with app.state.sessionmaker() as s:
        rebuilt = await rebuild_rollups(s, tenant.id)
        again = [(await s.execute(sa.text(q), {"t": tenant.id})).all() for q in (ROLLUP_ROWS, HISTOGRAM_ROWS)]
    # then the same rows, and the next refresh has nothing old to replay
    assert rebuilt.requests == 150 and incremental[0] and incremental[1]
    assert again == incremental
    async with app.state.sessionmaker() as s:
        after = await refresh_rollups(s, tenant.id)
    assert after.events == 0
    assert max(e["occurred_at"] for e in history.events) < utcnow() - timedelta(seconds=60)


async def test_rebuild_refreshes_the_planner_statistics_of_the_rollup_tables(app, make_tenant):
    # given rollups rebuilt in bulk (every row of the tenant replaced at once)
    tenant = await make_tenant("rebuild-stats")
    await make_history(app, tenant, count=60, seed=5)
    async with app.state.sessionmaker() as s:
        await rebuild_rollups(s, tenant.id)
    # then the planner already knows the new sizes (ANALYZE ran; small tables are sampled whole),
    # instead of waiting for autovacuum and planning 3-year queries as if the tables were empty
    async with app.state.sessionmaker() as s:
        for table in ("request_facts", "request_daily_rollups", "request_daily_histograms"):
            actual = (await s.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()
            estimated = (await s.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table})).scalar_one()
            assert actual > 0 and estimated == actual, table
