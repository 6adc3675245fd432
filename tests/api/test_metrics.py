"""Prometheus metrics at /metrics."""

from __future__ import annotations

import re


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_operations_are_counted_by_name_and_outcome(client, gql, tenant):
    # given the counters before
    before = (await client.get("/metrics")).text
    ok_before = sample(before, "guichet_graphql_operations_total", operation="MetricsProbe", outcome="ok")
    ue_before = sample(before, "guichet_graphql_operations_total", operation="MetricsBad", outcome="user_error")
    err_before = sample(before, "guichet_graphql_operations_total", operation="MetricsAnon", outcome="error")
    # when one successful query, one mutation with user errors and one unauthenticated query run
    await gql("query MetricsProbe { tenant { name } }", token=tenant.tokens["AGENT"])
    await gql(
        'mutation MetricsBad { citizenCreate(input: {givenNames: "", familyName: "X"}) { userErrors { code } } }',
        token=tenant.tokens["AGENT"],
    )
    await gql("query MetricsAnon { tenant { name } }")
    # then each is counted once with its outcome, and latency and pool gauges are exposed
    after = await client.get("/metrics")
    assert after.status_code == 200
    text = after.text
    assert sample(text, "guichet_graphql_operations_total", operation="MetricsProbe", outcome="ok") == ok_before + 1
    assert sample(text, "guichet_graphql_operations_total", operation="MetricsBad", outcome="user_error") == ue_before + 1
    assert sample(text, "guichet_graphql_operations_total", operation="MetricsAnon", outcome="error") == err_before + 1
    assert sample(text, "guichet_graphql_operation_duration_seconds_count", operation="MetricsProbe") >= 1
    assert 'guichet_db_pool_connections{state="size"}' in text
    assert sample(text, "guichet_http_request_duration_seconds_count", route="/graphql", method="POST", status="2xx") >= 1


def test_operation_labels_are_bounded():
    from api import metrics

    assert metrics.operation_label("Robert'); DROP") == "anonymous"
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("x" * 65) == "anonymous"
    assert metrics.operation_label("InboxPage") == "InboxPage"


async def test_outbox_backlog_of_the_rollups_per_tenant_until_the_refresher_consumes_it(app, client, make_tenant):
    import asyncio
    from datetime import datetime, timezone

    from api.app import refresh_rollups_forever
    from tests.dashboard_fixtures import make_history

    # given a tenant whose request history (events up to an hour old) was never folded into the rollups
    tenant = await make_tenant("obx")
    history = await make_history(app, tenant, count=30, days=20, seed=3)
    pending = [e for e in history.events if e["aggregate_type"] == "Request"]
    assert pending
    oldest = min(e["occurred_at"] for e in pending)
    # then /metrics shows all of them as the rollups consumer's backlog, and the age of the oldest
    text = (await client.get("/metrics")).text
    assert sample(text, "guichet_outbox_backlog_events", consumer="rollups", tenant=tenant.slug) == len(pending)
    age = sample(text, "guichet_outbox_backlog_oldest_seconds", consumer="rollups", tenant=tenant.slug)
    expected = (datetime.now(timezone.utc) - oldest).total_seconds()
    assert expected - 5 < age <= expected + 1
    assert "guichet_outbox_backlog_up 1.0" in text
    # when the in-process refresher ticks
    task = asyncio.create_task(refresh_rollups_forever(app.state.sessionmaker, 0.05))
    try:
        for _ in range(200):
            text = (await client.get("/metrics")).text
            if sample(text, "guichet_outbox_backlog_events", consumer="rollups", tenant=tenant.slug) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # then the backlog is consumed (the events are older than the 60 s safety window)
    assert sample(text, "guichet_outbox_backlog_events", consumer="rollups", tenant=tenant.slug) == 0
    assert sample(text, "guichet_outbox_backlog_oldest_seconds", consumer="rollups", tenant=tenant.slug) == 0
    # and the series exist (with 0) rather than vanishing
    assert f'guichet_outbox_backlog_events{{consumer="rollups",tenant="{tenant.slug}"}} 0.0' in text
