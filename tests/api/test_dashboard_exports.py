"""CSV exports over HTTP and the reporting schema's role."""

from __future__ import annotations

import csv
import io
from datetime import timezone

import asyncpg
import pytest

from api import db
from tests.dashboard_fixtures import period as fixture_period
from tests.dashboard_fixtures import assert_refused, refreshed_world


@pytest.fixture(scope="module")
async def world(app, make_tenant):
    return await refreshed_world(app, make_tenant, "exp", count=120, days=60, seed=5)


def period(days_back=70):
    return fixture_period(days_back)


async def get_csv(client, path, params, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get(path, params=params, headers=headers)


async def test_requests_csv_is_pseudonymised_and_complete(client, world):
    tenant, history = world
    # when an analyst exports with the French options
    r = await get_csv(client, "/exports/requests.csv", {**period(), "sep": ";", "bom": "1"}, tenant.tokens["ANALYST"])
    # then every request is there, with a stable pseudonym and no personal data
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert len(rows) == len(history.requests)
    assert set(rows[0]) == {"reference", "procedure_code", "category", "department_code", "channel", "status", "entered_by",
                            "submitted_at", "due_at", "closed_at", "processing_seconds", "on_time", "rating", "citizen_pseudonym"}
    by_citizen: dict = {}
    for row, req in zip(rows, sorted(history.requests, key=lambda x: (x["submitted_at"], x["id"]))):
        assert row["channel"] == req["channel"] and row["status"] == req["status"]
        # instants in ISO 8601 UTC to the second
        assert row["submitted_at"] == req["submitted_at"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        by_citizen.setdefault(req["citizen_id"], set()).add(row["citizen_pseudonym"])
    assert all(len(p) == 1 for p in by_citizen.values())  # one pseudonym per citizen
    assert len({next(iter(p)) for p in by_citizen.values()}) == len(by_citizen)  # distinct citizens stay distinct
    assert not any(str(cid) in text for cid in by_citizen)  # never the real id
    assert "Test" not in text  # family name of the generated citizens
    # and a second export gives the same pseudonyms
    again = await get_csv(client, "/exports/requests.csv", period(), tenant.tokens["ADMIN"])
    rows2 = list(csv.DictReader(io.StringIO(again.text)))
    assert [x["citizen_pseudonym"] for x in rows2] == [x["citizen_pseudonym"] for x in rows]


async def test_supervisor_export_is_limited_to_their_departments(client, world):
    tenant, history = world
    r = await get_csv(client, "/exports/requests.csv", period(), tenant.tokens["SUPERVISOR"])
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == sum(1 for x in history.requests if x["department_id"] == tenant.department_id)
    assert {x["department_code"] for x in rows} == {"accueil"}


@pytest.mark.parametrize(
    "role, params, status, code",
    [
        ("AGENT", None, 403, "FORBIDDEN"),
        (None, None, 401, "UNAUTHENTICATED"),
        ("ADMIN", {"from": "2026-05-01", "to": "2026-04-01"}, 400, "PERIOD_INVERTED"),
        ("ADMIN", {"from": "2026-05-01", "to": "soon"}, 400, "INVALID_DATE"),
        ("ADMIN", {"from": "2026-04-01", "to": "2026-05-01", "sep": "|"}, 400, "INVALID_SEPARATOR"),
    ],
)
async def test_requests_csv_errors(client, world, role, params, status, code):
    tenant, _ = world
    r = await get_csv(client, "/exports/requests.csv", params or period(), tenant.tokens[role] if role else None)
    assert r.status_code == status
    assert [e["code"] for e in r.json()["errors"]] == [code]


async def test_indicator_series_csv_suppresses_small_groups(client, world):
    tenant, _ = world
    r = await get_csv(client, "/exports/indicators.csv", {**period(), "granularity": "DAY", "dimension": "CHANNEL"}, tenant.tokens["ADMIN"])
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and all(row["dimension"] == "CHANNEL" for row in rows)
    small = [row for row in rows if row["suppressed"] == "true"]
    assert small and all(row["submitted"] == "" for row in small)
    shown = [row for row in rows if row["suppressed"] == "false"]
    assert all(max(int(row["submitted"]), int(row["closed"]) + int(row["cancelled"]), int(row["first_response_count"])) >= 5 for row in shown)
    r = await get_csv(client, "/exports/indicators.csv", {**period(), "dimension": "COLOUR"}, tenant.tokens["ADMIN"])
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "dimension"


async def test_reporting_role_reads_views_only(database_url, world):
    tenant, history = world
    conn = await asyncpg.connect(db.to_plain_url(database_url))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE guichet_reporting")
            n = await conn.fetchval("SELECT count(*) FROM reporting.requests WHERE tenant_id = $1", tenant.id)
            assert n == len(history.requests)
            assert await conn.fetchval("SELECT count(*) FROM reporting.request_events WHERE tenant_id = $1", tenant.id) > n
            assert await conn.fetchval("SELECT sum(submitted) FROM reporting.request_daily WHERE tenant_id = $1", tenant.id) == n
            columns = {r["column_name"] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'reporting' AND table_name = 'requests'")}
            assert not columns & {"citizen_id", "answers", "rating_comment", "email", "family_name"}
            # the views of 0011_reporting_more are readable too (their content: test_dashboard_reports.py)
            for view in ("reporting.appointments", "reporting.reports"):
                assert await conn.fetchval(f"SELECT count(*) FROM {view} WHERE tenant_id = $1", tenant.id) == 0
        await assert_refused(conn, ("public.citizens", "public.requests", "reporting.tenant_keys", "public.appointments", "public.report_details"))
    finally:
        await conn.close()

