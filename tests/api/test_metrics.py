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
