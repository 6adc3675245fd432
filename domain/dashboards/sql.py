"""SQL shared by the rollup refresh and the indicators.

Three layers, the same for both sources so that rollups and raw computation cannot drift:

1. **facts**: one row per submitted request (``FACTS_FROM_BASE``): local days of submission,
   closure and first response, durations in seconds, SLA outcome, rating. Either read from the
   ``request_facts`` table (kept by the refresh) or computed on the fly from ``requests`` and
   ``events`` (the "raw" source, and "today").
2. **contributions** (``contributions_sql``): a request counts as *submitted* on its submission
   day, *closed/cancelled* (with its processing time, SLA outcome and rating) on its closure day,
   and *first-responded* on the day of its first public agent action. Grouped by
   (day, procedure, department, channel) they are exactly the rows of ``request_daily_rollups``.
3. **histograms** (``histograms_sql``): the same grouping, per duration bucket.

First response = the earliest event on the request after submission that staff (an agent or an API
client) caused and
that the citizen can see (``payload.public = true``): a public transition or a message; internal
notes, assignments and the counter submission itself do not count.
"""

from __future__ import annotations

from domain.dashboards.buckets import BASE_SECONDS, BUCKETS, RATIO

FACTS_FROM_BASE = """
SELECT r.id AS request_id, r.tenant_id, r.procedure_id, r.department_id, r.channel, r.status,
       (r.submitted_at AT TIME ZONE t.timezone)::date AS submitted_day,
       CASE WHEN r.closed_at IS NOT NULL THEN (r.closed_at AT TIME ZONE t.timezone)::date END AS closed_day,
       (fr.at AT TIME ZONE t.timezone)::date AS first_response_day,
       CASE WHEN r.closed_at IS NOT NULL AND r.status <> 'CANCELLED'
            THEN floor(extract(epoch FROM r.closed_at - r.submitted_at))::bigint END AS processing_seconds,
       floor(extract(epoch FROM fr.at - r.submitted_at))::bigint AS first_response_seconds,
       CASE WHEN r.closed_at IS NOT NULL AND r.status <> 'CANCELLED' AND r.due_at IS NOT NULL
            THEN r.closed_at <= r.due_at END AS on_time,
       r.rating
FROM requests r
JOIN tenants t ON t.id = r.tenant_id
LEFT JOIN LATERAL (
    SELECT min(e.occurred_at) AS at FROM events e
    WHERE e.tenant_id = r.tenant_id AND e.aggregate_type = 'Request' AND e.aggregate_id = r.id
      AND e.actor_type IN ('agent', 'client') AND e.type <> 'request.submitted'
      AND e.payload ->> 'public' = 'true' AND e.occurred_at >= r.submitted_at
) fr ON true
WHERE r.submitted_at IS NOT NULL AND r.tenant_id = :tenant_id AND ({where})
"""

# Requests that may contribute to local days [:t0, :t1) (UTC bounds): submitted, closed or first
# answered in the window. Each branch uses an index.
WINDOW_CANDIDATES = """
r.id IN (
    SELECT id FROM requests WHERE tenant_id = :tenant_id AND submitted_at >= :t0 AND submitted_at < :t1
    UNION SELECT id FROM requests WHERE tenant_id = :tenant_id AND closed_at >= :t0 AND closed_at < :t1
    UNION SELECT aggregate_id FROM events WHERE tenant_id = :tenant_id AND occurred_at >= :t0 AND occurred_at < :t1
          AND aggregate_type = 'Request' AND actor_type IN ('agent', 'client')
)
"""

COUNTERS = (
    "submitted", "closed", "cancelled", "processing_seconds_sum", "with_due", "on_time",
    "first_responses", "first_response_seconds_sum", "rated", "rating_sum",
    "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
)
KEY = "procedure_id, department_id, channel"


def _zeros(names: list[str]) -> str:
    return ", ".join(f"0 AS {n}" for n in names)


def contributions_sql(facts: str, day_filter: str) -> str:
    """Rows shaped like ``request_daily_rollups`` (without tenant) from a facts relation.

    ``day_filter`` is a condition on the placeholder ``{day}`` (e.g. ``{day} = ANY(:days)``).
    """
    others = lambda keep: [c for c in COUNTERS if c not in keep]  # noqa: E731
    submitted = f"SELECT submitted_day AS day, {KEY}, 1 AS submitted, {_zeros(others({'submitted'}))} FROM f WHERE {day_filter.format(day='submitted_day')}"
    closing = ["closed", "cancelled", "processing_seconds_sum", "with_due", "on_time", "rated", "rating_sum",
               "rating_1", "rating_2", "rating_3", "rating_4", "rating_5"]
    closed = (
        f"SELECT closed_day AS day, {KEY}, 0 AS submitted, "
        "(status <> 'CANCELLED')::int AS closed, (status = 'CANCELLED')::int AS cancelled, "
        "coalesce(processing_seconds, 0) AS processing_seconds_sum, (on_time IS NOT NULL)::int AS with_due, "
        "coalesce(on_time::int, 0) AS on_time, 0 AS first_responses, 0 AS first_response_seconds_sum, "
        "(rating IS NOT NULL)::int AS rated, coalesce(rating, 0) AS rating_sum, "
        + ", ".join(f"coalesce((rating = {i})::int, 0) AS rating_{i}" for i in range(1, 6))
        + f" FROM f WHERE closed_day IS NOT NULL AND {day_filter.format(day='closed_day')}"
    )
    assert len(closing) + 3 == len(COUNTERS)
    responded = (
        f"SELECT first_response_day AS day, {KEY}, "
        + ", ".join(
            {"first_responses": "1 AS first_responses", "first_response_seconds_sum": "first_response_seconds AS first_response_seconds_sum"}.get(
                c, f"0 AS {c}"
            )
            for c in COUNTERS
        )
        + f" FROM f WHERE first_response_day IS NOT NULL AND {day_filter.format(day='first_response_day')}"
    )
    sums = ", ".join(f"sum({c})::bigint AS {c}" for c in COUNTERS)
    return (
        f"WITH f AS ({facts}) SELECT day, {KEY}, {sums} FROM ("
        f"{submitted} UNION ALL {closed} UNION ALL {responded}) c GROUP BY day, {KEY}"
    )


def bucket_sql(column: str) -> str:
    return (
        f"CASE WHEN {column} < {BASE_SECONDS} THEN 0 ELSE "
        f"least({BUCKETS - 1}, floor(ln({column}::float8 / {BASE_SECONDS}) / ln({RATIO}))::int + 1) END"
    )


def histograms_sql(facts: str, day_filter: str) -> str:
    """(day, key, kind, bucket, count) rows from a facts relation."""
    return (
        f"WITH f AS ({facts}) SELECT day, {KEY}, kind, bucket, count(*)::bigint AS count FROM ("
        f"SELECT closed_day AS day, {KEY}, 'processing' AS kind, {bucket_sql('processing_seconds')} AS bucket "
        f"FROM f WHERE processing_seconds IS NOT NULL AND {day_filter.format(day='closed_day')} "
        f"UNION ALL SELECT first_response_day AS day, {KEY}, 'first_response' AS kind, "
        f"{bucket_sql('first_response_seconds')} AS bucket "
        f"FROM f WHERE first_response_seconds IS NOT NULL AND {day_filter.format(day='first_response_day')}"
        f") h GROUP BY day, {KEY}, kind, bucket"
    )
