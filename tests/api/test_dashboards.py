"""Request indicators over GraphQL: who sees what, bad input, figures on generated history."""

from __future__ import annotations

import pytest

from tests.dashboard_fixtures import period as fixture_period
from tests.dashboard_fixtures import refreshed_world

INDICATORS = """
query Indicators($filter: IndicatorFilter!, $granularity: Granularity! = TOTAL, $dimension: IndicatorDimension, $source: IndicatorSource! = ROLLUP) {
  requestIndicators(filter: $filter, granularity: $granularity, dimension: $dimension, source: $source) {
    granularity dimension source exactPercentiles rollupsRefreshedAt
    points {
      periodStart dimensionKey dimensionLabel suppressed submitted closed cancelled selfServiceShare
      processingTime { count meanSeconds medianSeconds p90Seconds }
      firstResponseTime { count meanSeconds medianSeconds p90Seconds }
      slaOnTimeRate closedWithDueDate rated ratingAverage ratingResponseRate
      ratingDistribution { rating count }
    }
    backlog { open overdue aging { label count } }
  }
}
"""


@pytest.fixture(scope="module")
async def world(app, make_tenant):
    return await refreshed_world(app, make_tenant, "dash", count=300, days=150, seed=11)


def period(days_back=160):
    return fixture_period(days_back)


async def test_admin_gets_tenant_totals_matching_the_data(gql, world):
    tenant, history = world
    # when
    r = await gql(INDICATORS, {"filter": period()}, token=tenant.tokens["ADMIN"])
    # then
    assert r.errors == []
    point = r.data["requestIndicators"]["points"][0]
    reqs = history.requests
    assert point["submitted"] == len(reqs)
    assert point["closed"] == sum(1 for x in reqs if x["closed_at"] and x["status"] != "CANCELLED")
    assert point["cancelled"] == sum(1 for x in reqs if x["status"] == "CANCELLED")
    online = sum(1 for x in reqs if x["channel"] in ("WEB", "APP"))
    assert point["selfServiceShare"] == pytest.approx(online / len(reqs))
    rated = [x["rating"] for x in reqs if x["rating"] is not None]
    assert point["rated"] == len(rated)
    assert point["ratingAverage"] == pytest.approx(sum(rated) / len(rated))
    assert [d["count"] for d in point["ratingDistribution"]] == [rated.count(i) for i in range(1, 6)]
    on_time = [x for x in reqs if x["closed_at"] and x["status"] != "CANCELLED"]
    assert point["slaOnTimeRate"] == pytest.approx(sum(1 for x in on_time if x["closed_at"] <= x["due_at"]) / len(on_time))
    backlog = r.data["requestIndicators"]["backlog"]
    open_ = [x for x in reqs if x["status"] in ("SUBMITTED", "IN_PROGRESS")]
    assert backlog["open"] == len(open_)
    assert sum(b["count"] for b in backlog["aging"]) == len(open_)
    assert [b["label"] for b in backlog["aging"]] == ["0-7", "8-30", "31-90", ">90"]


async def test_supervisor_sees_only_their_departments(gql, world):
    tenant, history = world
    # when the supervisor of "accueil" asks, grouped by department
    r = await gql(INDICATORS, {"filter": period(), "dimension": "DEPARTMENT"}, token=tenant.tokens["SUPERVISOR"])
    # then only accueil appears, with its own count
    assert r.errors == []
    points = r.data["requestIndicators"]["points"]
    assert [p["dimensionKey"] for p in points] == ["accueil"]
    assert points[0]["submitted"] == sum(1 for x in history.requests if x["department_id"] == tenant.department_id)
    # and asking for another department is forbidden
    r = await gql(INDICATORS, {"filter": {**period(), "departmentCodes": ["voirie"]}}, token=tenant.tokens["SUPERVISOR"])
    assert r.error_codes == ["FORBIDDEN"]


async def test_agents_citizens_and_anonymous_are_refused(gql, world):
    tenant, _ = world
    r = await gql(INDICATORS, {"filter": period()}, token=tenant.tokens["AGENT"])
    assert r.error_codes == ["FORBIDDEN"] and r.data is None
    r = await gql(INDICATORS, {"filter": period()}, token=tenant.citizen_token(tenant.agents["AGENT"]))
    assert r.error_codes == ["FORBIDDEN"]
    r = await gql(INDICATORS, {"filter": period()})
    assert r.error_codes == ["UNAUTHENTICATED"]


async def test_analyst_gets_small_groups_suppressed(gql, world):
    tenant, _ = world
    # when grouped by day and procedure, many groups hold fewer than 5 requests
    r = await gql(INDICATORS, {"filter": period(30), "granularity": "DAY", "dimension": "PROCEDURE"}, token=tenant.tokens["ANALYST"])
    assert r.errors == []
    points = r.data["requestIndicators"]["points"]
    small = [p for p in points if p["suppressed"]]
    assert small, "expected small daily groups"
    assert all(p["submitted"] is None and p["ratingDistribution"] is None for p in small)
    # while the admin sees the same groups in full
    r = await gql(INDICATORS, {"filter": period(30), "granularity": "DAY", "dimension": "PROCEDURE"}, token=tenant.tokens["ADMIN"])
    assert not any(p["suppressed"] for p in r.data["requestIndicators"]["points"])


async def test_channel_shift_by_month(gql, world):
    tenant, history = world
    r = await gql(INDICATORS, {"filter": period(), "granularity": "MONTH", "dimension": "CHANNEL"}, token=tenant.tokens["ADMIN"])
    points = r.data["requestIndicators"]["points"]
    assert {p["dimensionKey"] for p in points} <= {"WEB", "APP", "COUNTER", "PHONE", "EMAIL", "POST"}
    assert sum(p["submitted"] for p in points) == len(history.requests)
    for p in points:
        assert p["selfServiceShare"] == (1.0 if p["dimensionKey"] in ("WEB", "APP") else 0.0) or p["submitted"] == 0


async def test_raw_source_gives_exact_percentiles(gql, world):
    tenant, _ = world
    r = await gql(INDICATORS, {"filter": period(60), "source": "RAW"}, token=tenant.tokens["ADMIN"])
    assert r.errors == []
    result = r.data["requestIndicators"]
    assert result["exactPercentiles"] is True and result["source"] == "RAW"
    approx = await gql(INDICATORS, {"filter": period(60)}, token=tenant.tokens["ADMIN"])
    a, b = approx.data["requestIndicators"]["points"][0], result["points"][0]
    assert a["submitted"] == b["submitted"] and a["closed"] == b["closed"]
    assert a["processingTime"]["meanSeconds"] == pytest.approx(b["processingTime"]["meanSeconds"])


@pytest.mark.parametrize(
    "variables, field, code",
    [
        ({"filter": {"from": "2026-05-01", "to": "2026-04-01"}}, ["filter", "from"], "PERIOD_INVERTED"),
        ({"filter": {"from": "2025-01-01", "to": "2026-04-01"}, "source": "RAW"}, ["filter", "to"], "RANGE_TOO_LARGE_FOR_RAW"),
        ({"filter": {"from": "2001-01-01", "to": "2026-04-01"}}, ["filter", "to"], "RANGE_TOO_LARGE"),
        ({"filter": {"from": "2023-01-01", "to": "2026-04-01"}, "granularity": "DAY"}, ["granularity"], "TOO_MANY_POINTS"),
        ({"filter": {"from": "2026-01-01", "to": "2026-04-01", "procedureCodes": ["nope"]}}, ["filter", "procedureCodes", "0"], "UNKNOWN_PROCEDURE"),
        ({"filter": {"from": "2026-01-01", "to": "2026-04-01", "departmentCodes": ["nope"]}}, ["filter", "departmentCodes", "0"], "UNKNOWN_DEPARTMENT"),
    ],
)
async def test_bad_input_is_a_precise_error(gql, world, variables, field, code):
    tenant, _ = world
    r = await gql(INDICATORS, variables, token=tenant.tokens["ADMIN"], lang="en")
    assert r.error_codes == ["BAD_USER_INPUT"]
    ext = r.errors[0]["extensions"]
    assert ext.get("field") == field and ext.get("reason") == code, ext


async def test_unknown_dimension_is_bad_user_input(gql, world):
    tenant, _ = world
    r = await gql(INDICATORS, {"filter": period(), "dimension": "CITIZEN"}, token=tenant.tokens["ADMIN"])
    assert r.error_codes == ["BAD_USER_INPUT"]


async def test_histograms_and_backlog_are_only_read_when_selected(app, gql, world):
    import sqlalchemy as sa

    tenant, _ = world
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = app.state.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        full = await gql(INDICATORS, {"filter": period(), "granularity": "MONTH"}, token=tenant.tokens["ADMIN"])
        read_full = list(statements)
        statements.clear()
        # when only volumes and means are asked
        light = await gql(
            """query Light($filter: IndicatorFilter!) { requestIndicators(filter: $filter, granularity: MONTH) {
                 points { periodStart submitted closed processingTime { count meanSeconds } } } }""",
            {"filter": period()},
            token=tenant.tokens["ADMIN"],
        )
        read_light = list(statements)
        statements.clear()
        # and when the median is asked through a fragment
        fragment = await gql(
            """query Frag($filter: IndicatorFilter!) { requestIndicators(filter: $filter, granularity: MONTH) {
                 points { periodStart ...Times } } }
               fragment Times on IndicatorPoint { processingTime { ... on DurationStats { medianSeconds } } }""",
            {"filter": period()},
            token=tenant.tokens["ADMIN"],
        )
        read_fragment = list(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    def reads(stmts, table):
        return sum(1 for s in stmts if table in s)

    assert full.errors == [] and light.errors == [] and fragment.errors == []
    # then the full query read the histograms and the open requests, the light one neither
    assert reads(read_full, "request_daily_histograms") == 1
    assert reads(read_full, "x.status IN") == 1
    assert reads(read_light, "request_daily_histograms") == 0
    assert reads(read_light, "x.status IN") == 0
    # with the same figures
    strip = lambda points: [  # noqa: E731
        (p["periodStart"], p["submitted"], p["closed"], p["processingTime"]["count"], p["processingTime"]["meanSeconds"])
        for p in points
    ]
    assert strip(light.data["requestIndicators"]["points"]) == strip(full.data["requestIndicators"]["points"])
    # and a median asked through fragments is computed (the histograms are read)
    assert reads(read_fragment, "request_daily_histograms") == 1
    medians = [p["processingTime"]["medianSeconds"] for p in fragment.data["requestIndicators"]["points"]]
    assert medians == [p["processingTime"]["medianSeconds"] for p in full.data["requestIndicators"]["points"]]
    assert any(m is not None for m in medians)


async def test_backlog_aging_buckets_count_local_days_since_submission(gql, world):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    tenant, history = world
    paris = ZoneInfo("Europe/Paris")
    today = datetime.now(timezone.utc).astimezone(paris).date()
    open_ = [x for x in history.requests if x["status"] in ("SUBMITTED", "IN_PROGRESS", "WAITING_FOR_CITIZEN")]
    ages = [(today - x["submitted_at"].astimezone(paris).date()).days for x in open_]
    expected = [
        sum(1 for a in ages if a <= 7),
        sum(1 for a in ages if 8 <= a <= 30),
        sum(1 for a in ages if 31 <= a <= 90),
        sum(1 for a in ages if a > 90),
    ]
    r = await gql("query B($filter: IndicatorFilter!) { requestIndicators(filter: $filter) { backlog { open overdue aging { label count } } } }",
                  {"filter": period()}, token=tenant.tokens["ADMIN"])
    backlog = r.data["requestIndicators"]["backlog"]
    assert [b["count"] for b in backlog["aging"]] == expected
    assert all(expected)  # the generated history has open requests of every age
    now = datetime.now(timezone.utc)
    assert backlog["overdue"] == sum(1 for x in open_ if x["due_at"] is not None and x["due_at"] < now)
    # and a category filter (the only one needing the procedures table) narrows it
    r = await gql("query B($filter: IndicatorFilter!) { requestIndicators(filter: $filter) { backlog { open } } }",
                  {"filter": {**period(), "categories": ["voirie"]}}, token=tenant.tokens["ADMIN"])
    permit = history.procedures["permit"]
    assert r.data["requestIndicators"]["backlog"]["open"] == sum(1 for x in open_ if x["procedure_id"] == permit)
