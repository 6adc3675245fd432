"""Report indicators, the reports CSV export and the reporting views of reports and appointments,
with reports submitted, merged and closed through the real API."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import asyncpg
import pytest
import sqlalchemy as sa

from api import db
from auth.tokens import issue_token
from domain.security import PrincipalKind, Role
from tests.api.appointments_support import book_as_citizen, days_ahead, local, make_agenda, ok
from tests.api.appointments_support import make_citizen as make_booking_citizen
from tests.api.reports_support import HOTEL_DE_VILLE, SUBMIT, offset, report_input, setup_reports
from tests.dashboard_fixtures import assert_refused
from tests.procedure_fixtures import make_citizen

DAY = 86400
INDICATORS = """
query($filter: ReportIndicatorFilter!, $granularity: Granularity! = TOTAL, $groupBy: ReportDimension = CATEGORY, $top: Int) {
  reportIndicators(filter: $filter, granularity: $granularity, groupBy: $groupBy, top: $top) {
    periodStart dimensionKey dimensionLabel targetDays suppressed submitted resolved merged
    resolutionTime { count meanSeconds medianSeconds p90Seconds }
    resolvedWithTarget resolvedWithinTarget withinTargetRate
  }
}
"""
ACK = """
mutation($id: ID!) { requestTransition(input: {id: $id, version: 1, transition: "acknowledge"}) { userErrors { code } } }
"""
CLOSE = """
mutation($ids: [ID!]!) { reportsClose(input: {ids: $ids, resolutionNote: "Fait"}) { userErrors { field code } } }
"""
MERGE = """
mutation($keep: ID!, $dup: ID!) { reportMerge(input: {keepId: $keep, duplicateId: $dup}) { userErrors { field code } } }
"""

# category -> days from submission to closure of its closed reports (None: stays open)
PLAN = {
    "nid-de-poule": [2, 5, 12, 20, None, None],  # target 10 days
    "depot-sauvage": [1, 4, "merged"],  # target 3 days; the third is merged into the first
    "graffiti": [None],  # target 7 days
}


@dataclass
class World:
    tenant: object
    deps: dict
    citizen_ids: set = field(default_factory=set)
    filter: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
async def world(app, gql, make_tenant) -> World:
    tenant = await make_tenant("rep")
    w = World(tenant, await setup_reports(app, tenant))
    agent = tenant.tokens["AGENT"]
    _, citizen_id, citizen_token = await make_citizen(gql, tenant)
    w.citizen_ids.add(citizen_id)
    durations: dict[str, int] = {}  # reference -> days
    to_close: list[str] = []
    first_depot = merged = None
    n = 0
    for category, plan in PLAN.items():
        for outcome in plan:
            n += 1
            token = citizen_token if n % 2 else agent
            where = offset(HOTEL_DE_VILLE, north_m=120 * n)
            result = await gql(SUBMIT, {"input": report_input(category, where, address="12 rue de Rivoli")}, token=token)
            payload = result.data["reportSubmit"]
            assert payload["userErrors"] == [], payload
            report = payload["report"]
            if outcome == "merged":
                merged = report["id"]
                continue
            if category == "depot-sauvage" and first_depot is None:
                first_depot = report["id"]
            if outcome is not None:
                acked = await gql(ACK, {"id": report["request"]["id"]}, token=agent)
                assert acked.data["requestTransition"]["userErrors"] == []
                durations[report["reference"]] = outcome
                to_close.append(report["id"])
    merge = await gql(MERGE, {"keep": first_depot, "dup": merged}, token=agent)
    assert merge.data["reportMerge"]["userErrors"] == []
    closed = await gql(CLOSE, {"ids": to_close}, token=agent)
    assert closed.data["reportsClose"]["userErrors"] == []
    # place each submission N days before its closure (the API cannot submit in the past)
    async with app.state.sessionmaker() as s:
        for reference, days in durations.items():
            await s.execute(sa.text(
                "UPDATE requests SET submitted_at = closed_at - make_interval(days => :d) WHERE tenant_id = :t AND reference = :ref"
            ), {"d": days, "t": tenant.id, "ref": reference})
        await s.commit()
    today = date.today()
    w.filter = {"from": (today - timedelta(days=40)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    return w


def supervisor_of(tenant, department_id: uuid.UUID) -> str:
    return issue_token(tenant.keys, kind=PrincipalKind.AGENT, subject_id=tenant.agents["SUPERVISOR"], tenant_id=tenant.id,
                       roles=[Role.SUPERVISOR], departments=[department_id])


def reason(result) -> tuple:
    e = result.errors[0]["extensions"]
    return e["code"], e.get("reason"), e.get("field")


async def test_top_categories_with_resolution_time_and_share_within_target(gql, world):
    # when the admin asks per category over the period
    r = await gql(INDICATORS, {"filter": world.filter}, token=world.tenant.tokens["ADMIN"])
    # then categories come most reported first, with their target
    assert r.errors == []
    points = r.data["reportIndicators"]
    assert [(p["dimensionKey"], p["submitted"], p["targetDays"]) for p in points] == [
        ("nid-de-poule", 6, 10), ("depot-sauvage", 3, 3), ("graffiti", 1, 7)]
    pothole, depot, graffiti = points
    assert pothole["dimensionLabel"] == "Nid-de-poule"
    # potholes: closed after 2, 5, 12 and 20 days, two still open; target 10 days
    assert (pothole["resolved"], pothole["merged"], pothole["resolvedWithTarget"], pothole["resolvedWithinTarget"]) == (4, 0, 4, 2)
    assert pothole["withinTargetRate"] == 0.5
    stats = pothole["resolutionTime"]
    assert stats["count"] == 4
    assert stats["meanSeconds"] == pytest.approx((2 + 5 + 12 + 20) / 4 * DAY, abs=1)
    assert stats["medianSeconds"] == pytest.approx(8.5 * DAY, abs=1)
    assert stats["p90Seconds"] == pytest.approx((12 + 0.7 * 8) * DAY, abs=1)  # linear interpolation (percentile_cont)
    # fly-tipping: 1 and 4 days (target 3), the duplicate merged away is not a resolution
    assert (depot["resolved"], depot["merged"], depot["resolvedWithinTarget"], depot["withinTargetRate"]) == (2, 1, 1, 0.5)
    assert depot["resolutionTime"]["medianSeconds"] == pytest.approx(2.5 * DAY, abs=1)
    assert (graffiti["resolved"], graffiti["withinTargetRate"], graffiti["resolutionTime"]["medianSeconds"]) == (0, None, None)

    # top 2 only
    r = await gql(INDICATORS, {"filter": world.filter, "top": 2}, token=world.tenant.tokens["ADMIN"])
    assert [p["dimensionKey"] for p in r.data["reportIndicators"]] == ["nid-de-poule", "depot-sauvage"]


async def test_other_groupings_and_filters(gql, world):
    admin = world.tenant.tokens["ADMIN"]

    async def keys(**variables):
        r = await gql(INDICATORS, {"filter": world.filter, **variables}, token=admin)
        assert r.errors == [], r.errors
        return [(p["dimensionKey"], p["submitted"], p["resolved"]) for p in r.data["reportIndicators"]]

    assert await keys(groupBy="PARENT_CATEGORY") == [("voirie", 6, 4), ("proprete", 3, 2), ("graffiti", 1, 0)]
    assert await keys(groupBy="DEPARTMENT") == [("voirie", 6, 4), ("proprete", 4, 2)]
    # no grouping: the whole tenant; 6 resolved, all with a target, 3 of them within it
    r = await gql(INDICATORS, {"filter": world.filter, "groupBy": None}, token=admin)
    (total,) = r.data["reportIndicators"]
    assert (total["dimensionKey"], total["submitted"], total["resolved"], total["merged"], total["withinTargetRate"]) == (None, 10, 6, 1, 0.5)
    # a parent category filter takes its subcategories
    filtered = {**world.filter, "categoryCodes": ["proprete"]}
    r = await gql(INDICATORS, {"filter": filtered}, token=admin)
    assert [(p["dimensionKey"], p["submitted"]) for p in r.data["reportIndicators"]] == [("depot-sauvage", 3)]
    filtered = {**world.filter, "departmentCodes": ["proprete"]}
    r = await gql(INDICATORS, {"filter": filtered}, token=admin)
    assert [(p["dimensionKey"], p["submitted"]) for p in r.data["reportIndicators"]] == [("depot-sauvage", 3), ("graffiti", 1)]
    # per month: every submission falls in some month, counted once
    r = await gql(INDICATORS, {"filter": world.filter, "granularity": "MONTH", "groupBy": None}, token=admin)
    assert sum(p["submitted"] for p in r.data["reportIndicators"]) == 10
    assert all(date.fromisoformat(p["periodStart"]).day == 1 for p in r.data["reportIndicators"])


async def test_who_sees_what(gql, world):
    t = world.tenant
    # a supervisor of the roads department sees only its reports
    roads = supervisor_of(t, world.deps["voirie"])
    r = await gql(INDICATORS, {"filter": world.filter, "groupBy": "DEPARTMENT"}, token=roads)
    assert [(p["dimensionKey"], p["submitted"]) for p in r.data["reportIndicators"]] == [("voirie", 6)]
    # and may not ask for another department
    r = await gql(INDICATORS, {"filter": {**world.filter, "departmentCodes": ["proprete"]}}, token=roads)
    assert r.error_codes == ["FORBIDDEN"]
    # the fixture's supervisor (front desk) sees no report at all
    r = await gql(INDICATORS, {"filter": world.filter}, token=t.tokens["SUPERVISOR"])
    assert r.errors == [] and r.data["reportIndicators"] == []
    # analysts: groups under 5 reports are suppressed
    r = await gql(INDICATORS, {"filter": world.filter}, token=t.tokens["ANALYST"])
    shown = {p["dimensionKey"]: p for p in r.data["reportIndicators"]}
    assert shown["nid-de-poule"]["suppressed"] is False and shown["nid-de-poule"]["submitted"] == 6
    assert shown["depot-sauvage"]["suppressed"] is True
    assert shown["depot-sauvage"]["submitted"] is None and shown["depot-sauvage"]["resolutionTime"] is None
    # agents, citizens and anonymous callers may not
    r = await gql(INDICATORS, {"filter": world.filter}, token=t.tokens["AGENT"])
    assert r.error_codes == ["FORBIDDEN"]
    r = await gql(INDICATORS, {"filter": world.filter}, token=t.citizen_token(next(iter(world.citizen_ids))))
    assert r.error_codes == ["FORBIDDEN"]
    r = await gql(INDICATORS, {"filter": world.filter})
    assert r.error_codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({"filter": {"from": "2026-05-01", "to": "2026-04-01"}}, ("PERIOD_INVERTED", ["filter", "from"])),
        ({"filter": {"from": "2025-01-01", "to": "2026-06-30"}}, ("RANGE_TOO_LARGE", ["filter", "to"])),
        ({"filter": {"from": "2026-01-01", "to": "2026-01-31", "categoryCodes": ["voirie", "licorne"]}},
         ("UNKNOWN_CATEGORY", ["filter", "categoryCodes", "1"])),
        ({"filter": {"from": "2026-01-01", "to": "2026-01-31", "departmentCodes": ["nope"]}},
         ("UNKNOWN_DEPARTMENT", ["filter", "departmentCodes", "0"])),
        ({"filter": {"from": "2026-01-01", "to": "2026-01-31"}, "top": 0}, ("OUT_OF_RANGE", ["top"])),
    ],
)
async def test_bad_arguments_are_precise(gql, world, variables, expected):
    r = await gql(INDICATORS, variables, token=world.tenant.tokens["ADMIN"], lang="fr")
    code, why, path = reason(r)
    assert (code, why, path) == ("BAD_USER_INPUT", *expected)
    assert r.data is None or r.data.get("reportIndicators") is None


async def test_reports_csv_is_pseudonymised_and_rounded(client, world):
    t = world.tenant
    params = {**world.filter, "sep": ";", "bom": "1"}
    r = await client.get("/exports/reports.csv", params=params, headers={"Authorization": f"Bearer {t.tokens['ANALYST']}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert len(rows) == 10
    assert sorted(x["category_code"] for x in rows).count("nid-de-poule") == 6
    assert {x["merged"] for x in rows} == {"True", "False"}  # same boolean spelling as requests.csv
    resolved = [x for x in rows if x["resolution_seconds"]]
    assert len(resolved) == 6 and {x["within_target"] for x in resolved} == {"True", "False"}
    # coordinates at 3 decimals, never the exact point, the address or the description
    assert all(len(x["latitude"].split(".")[1]) <= 3 and len(x["longitude"].split(".")[1]) <= 3 for x in rows)
    assert "Rivoli" not in text and "trou profond" not in text and "Lefèvre" not in text
    assert not any(str(cid) in text for cid in world.citizen_ids)
    assert all(len(x["citizen_pseudonym"]) == 32 for x in rows)
    # the supervisor of roads gets their reports only; agents may not export
    r = await client.get("/exports/reports.csv", params=world.filter,
                         headers={"Authorization": f"Bearer {supervisor_of(t, world.deps['voirie'])}"})
    assert {x["department_code"] for x in csv.DictReader(io.StringIO(r.text))} == {"voirie"}
    r = await client.get("/exports/reports.csv", params=world.filter, headers={"Authorization": f"Bearer {t.tokens['AGENT']}"})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"
    r = await client.get("/exports/reports.csv", params={**world.filter, "sep": "|"}, headers={"Authorization": f"Bearer {t.tokens['ADMIN']}"})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "INVALID_SEPARATOR"


async def test_reporting_role_reads_report_and_appointment_views(database_url, gql, client, world):
    t = world.tenant
    # given one appointment booked through the API
    ids = await make_agenda(gql, t, capacity=1)
    booker = await make_booking_citizen(gql, t, "Durand")
    await ok(await book_as_citizen(gql, t, ids, booker, local(days_ahead(2), 10)), "appointmentBook")
    # appointments.csv reads the same view, within the supervisor's departments
    day = days_ahead(2).isoformat()
    for token, expected in ((t.tokens["SUPERVISOR"], 1), (supervisor_of(t, world.deps["voirie"]), 0)):
        r = await client.get("/exports/appointments.csv", params={"from": day, "to": day}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and len(list(csv.DictReader(io.StringIO(r.text)))) == expected
    conn = await asyncpg.connect(db.to_plain_url(database_url))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE guichet_reporting")
            reports = await conn.fetch("SELECT * FROM reporting.reports WHERE tenant_id = $1", t.id)
            assert len(reports) == 10
            assert all(r["latitude"] == round(r["latitude"], 3) for r in reports)
            assert sum(1 for r in reports if r["merged"]) == 1
            assert sum(1 for r in reports if r["within_target"]) == 3
            (appointment,) = await conn.fetch("SELECT * FROM reporting.appointments WHERE tenant_id = $1", t.id)
            assert appointment["status"] == "BOOKED" and len(appointment["citizen_pseudonym"]) == 32
            for view in ("reports", "appointments"):
                columns = {r["column_name"] for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'reporting' AND table_name = $1", view)}
                assert columns and not columns & {"citizen_id", "address", "reporter_email", "description", "subject", "answers",
                                                  "code", "cancellation_reason", "email", "family_name"}
        await assert_refused(conn, ("public.report_details", "public.appointments", "public.report_followers", "public.agendas"))
    finally:
        await conn.close()
