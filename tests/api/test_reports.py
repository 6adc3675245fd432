"""Reports through the public API: submission (citizen, agent, anonymous), routing, duplicates,
support, follow, merge, bulk close, territory, bad input."""

from __future__ import annotations

import sqlalchemy as sa

from domain.events.models import Event
from domain.reports.models import ReportDetails, ReportFollower, ReportSupport
from domain.requests.models import Request
from tests.api.reports_support import HOTEL_DE_VILLE, PARIS, SUBMIT, offset, report_input, setup_reports
from tests.procedure_fixtures import make_citizen

NEARBY = """
query($loc: LocationInput!, $cat: String!) {
  reportsNearby(location: $loc, category: $cat) { id distanceMeters category { code } }
}
"""
SUPPORT = "mutation($id: ID!) { reportSupport(input: {id: $id}) { report { id supportCount } userErrors { field code } } }"
FOLLOW = "mutation($id: ID!) { reportFollow(input: {id: $id}) { report { id } userErrors { field code } } }"
MERGE = """
mutation($keep: ID!, $dup: ID!) {
  reportMerge(input: {keepId: $keep, duplicateId: $dup}) {
    report { id supportCount request { timeline { edges { node { kind } } } } }
    userErrors { field code }
  }
}
"""
CLOSE = """
mutation($ids: [ID!]!, $note: String!) {
  reportsClose(input: {ids: $ids, resolutionNote: $note}) { reports { id status } userErrors { field code } }
}
"""
TERRITORY = """
mutation($p: JSON) { reportTerritorySet(input: {polygon: $p}) { polygon userErrors { field code } } }
"""
CATEGORIES = "query($t: String) { reportCategories(tenant: $t) { code parentCode label { fr en } duplicateRadiusMeters } }"


async def _submit(gql, token, **kw):
    result = await gql(SUBMIT, {"input": report_input(**kw)}, token=token)
    assert result.status == 200, result.body
    return result.data["reportSubmit"]


async def test_citizen_report_is_a_street_issue_request_routed_by_category(gql, app, tenant):
    # given
    deps = await setup_reports(app, tenant)
    _, _, token = await make_citizen(gql, tenant)
    # when
    payload = await _submit(gql, token, category="depot-sauvage", address="12 rue de Rivoli")
    # then
    assert payload["userErrors"] == []
    report = payload["report"]
    assert report["category"]["code"] == "depot-sauvage"
    assert report["request"]["procedure"]["code"] == "street-issue"
    assert report["request"]["department"]["code"] == "proprete"
    assert report["request"]["state"]["code"] == "submitted"
    assert report["address"] == "12 rue de Rivoli"
    assert report["location"] == {"latitude": HOTEL_DE_VILLE[0], "longitude": HOTEL_DE_VILLE[1]}
    assert report["reference"] == report["request"]["reference"]
    assert deps["proprete"]
    async with app.state.sessionmaker() as s:
        types = (await s.execute(sa.select(Event.type).where(Event.tenant_id == tenant.id))).scalars().all()
    assert "request.submitted" in types and "report.submitted" in types


async def test_anonymous_report_belongs_to_the_shared_anonymous_citizen(gql, app, tenant):
    # given
    await setup_reports(app, tenant)
    # when: two anonymous reports, one with an e-mail
    first = await _submit(gql, None, tenant=tenant.slug, reporterEmail="Passant@Example.org")
    second = await _submit(gql, None, category="graffiti", tenant=tenant.slug)
    # then
    assert first["userErrors"] == [] and second["userErrors"] == []
    async with app.state.sessionmaker() as s:
        rows = (await s.execute(sa.select(Request.citizen_id, Request.channel).where(Request.tenant_id == tenant.id))).all()
        followers = (await s.execute(sa.select(ReportFollower.email).where(ReportFollower.tenant_id == tenant.id))).scalars().all()
        emails = (await s.execute(sa.select(ReportDetails.reporter_email).where(ReportDetails.tenant_id == tenant.id))).scalars().all()
    assert len(rows) == 2 and rows[0][0] == rows[1][0]
    assert {r[1] for r in rows} == {"WEB"}
    assert followers == ["passant@example.org"]
    assert sorted(e or "" for e in emails) == ["", "passant@example.org"]


async def test_agent_reports_on_the_phone_for_nobody_and_sees_the_email(gql, app, tenant):
    await setup_reports(app, tenant)
    payload = await _submit(gql, tenant.tokens["AGENT"], category="arbre-tombe", reporterEmail="a@example.org")
    assert payload["userErrors"] == []
    assert payload["report"]["reporterEmail"] == "a@example.org"
    assert payload["report"]["request"]["department"]["code"] == "espaces-verts"
    assert payload["report"]["request"]["citizen"]["familyName"] == "Anonyme"


async def test_nearby_duplicates_same_category_within_radius_closest_first(gql, app, tenant):
    # given: reports at 10 m, 30 m, 80 m (outside 50 m) and another category at 5 m
    await setup_reports(app, tenant)
    token = tenant.tokens["AGENT"]
    near30 = await _submit(gql, token, at=offset(HOTEL_DE_VILLE, north_m=30))
    near10 = await _submit(gql, token, at=offset(HOTEL_DE_VILLE, east_m=-10))
    await _submit(gql, token, at=offset(HOTEL_DE_VILLE, north_m=80))
    await _submit(gql, token, category="graffiti", at=offset(HOTEL_DE_VILLE, north_m=5))
    # when
    result = await gql(NEARBY, {"loc": {"latitude": HOTEL_DE_VILLE[0], "longitude": HOTEL_DE_VILLE[1]}, "cat": "nid-de-poule"}, token=token)
    # then
    found = result.data["reportsNearby"]
    assert [r["id"] for r in found] == [near10["report"]["id"], near30["report"]["id"]]
    assert 9 < found[0]["distanceMeters"] < 11 and 29 < found[1]["distanceMeters"] < 31
    # and at submission
    again = await _submit(gql, token, at=HOTEL_DE_VILLE)
    assert [r["id"] for r in again["possibleDuplicates"]] == [near10["report"]["id"], near30["report"]["id"]]


async def test_nearby_ignores_closed_reports_and_caps_at_five(gql, app, tenant):
    await setup_reports(app, tenant)
    token = tenant.tokens["AGENT"]
    ids = [(await _submit(gql, token, at=offset(HOTEL_DE_VILLE, north_m=i)))["report"]["id"] for i in range(1, 8)]
    closed = await gql(CLOSE, {"ids": [ids[0]], "note": "x"}, token=token)
    # resolve needs acknowledged first: it is refused per item
    assert closed.data["reportsClose"]["userErrors"][0]["field"][:2] == ["ids", "0"]
    result = await gql(NEARBY, {"loc": {"latitude": HOTEL_DE_VILLE[0], "longitude": HOTEL_DE_VILLE[1]}, "cat": "nid-de-poule"}, token=token)
    assert [r["id"] for r in result.data["reportsNearby"]] == ids[:5]


async def test_support_once_per_person_and_follow(gql, app, tenant):
    await setup_reports(app, tenant)
    _, _, author = await make_citizen(gql, tenant)
    _, _, other = await make_citizen(gql, tenant, email="autre@example.org")
    rid = (await _submit(gql, author))["report"]["id"]
    first = await gql(SUPPORT, {"id": rid}, token=other)
    assert first.data["reportSupport"] == {"report": {"id": rid, "supportCount": 1}, "userErrors": []}
    second = await gql(SUPPORT, {"id": rid}, token=other)
    assert second.data["reportSupport"]["userErrors"] == [{"field": ["id"], "code": "ALREADY_SUPPORTED"}]
    agent = await gql(SUPPORT, {"id": rid}, token=tenant.tokens["AGENT"])
    assert agent.errors[0]["extensions"]["code"] == "FORBIDDEN"
    for _ in range(2):
        followed = await gql(FOLLOW, {"id": rid}, token=other)
        assert followed.data["reportFollow"]["userErrors"] == []
    async with app.state.sessionmaker() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(ReportFollower).where(ReportFollower.tenant_id == tenant.id))).scalar_one()
    assert n == 1


async def test_merge_moves_supporters_and_followers_and_closes_duplicate(gql, app, tenant):
    # given
    await setup_reports(app, tenant)
    _, _, alice = await make_citizen(gql, tenant)
    _, bob_id, bob = await make_citizen(gql, tenant, email="bob@example.org")
    _, carol_id, carol = await make_citizen(gql, tenant, email="carol@example.org")
    keep = (await _submit(gql, alice))["report"]["id"]
    dup = (await _submit(gql, bob, at=offset(HOTEL_DE_VILLE, north_m=12)))["report"]["id"]
    await gql(SUPPORT, {"id": dup}, token=carol)
    await gql(FOLLOW, {"id": dup}, token=carol)
    # when
    result = await gql(MERGE, {"keep": keep, "dup": dup}, token=tenant.tokens["AGENT"])
    # then
    payload = result.data["reportMerge"]
    assert payload["userErrors"] == []
    assert payload["report"]["supportCount"] == 2  # carol moved, bob (the duplicate's author) added
    kinds = [e["node"]["kind"] for e in payload["report"]["request"]["timeline"]["edges"]]
    assert any("merged_from" in k for k in kinds), kinds
    async with app.state.sessionmaker() as s:
        supporters = set((await s.execute(sa.select(ReportSupport.citizen_id).where(ReportSupport.tenant_id == tenant.id))).scalars())
        followers = set((await s.execute(sa.select(ReportFollower.citizen_id).where(ReportFollower.tenant_id == tenant.id))).scalars())
        dup_row = (await s.execute(sa.select(Request.status, Request.state, ReportDetails.merged_into_id).join(ReportDetails, ReportDetails.request_id == Request.id).where(Request.tenant_id == tenant.id, Request.id != ReportDetails.merged_into_id, ReportDetails.merged_into_id.is_not(None)))).one()
        dup_events = (await s.execute(sa.select(Event.type).where(Event.tenant_id == tenant.id, Event.type == "report.merged_into"))).scalars().all()
    assert supporters == {bob_id, carol_id}
    assert {bob_id, carol_id} <= followers
    assert dup_row[0] == "CLOSED" and dup_row[1] == "merged"
    assert dup_events == ["report.merged_into"]
    # a second merge of the same duplicate is refused, and merging into itself too
    again = await gql(MERGE, {"keep": keep, "dup": dup}, token=tenant.tokens["AGENT"])
    assert again.data["reportMerge"]["userErrors"] == [{"field": ["duplicateId"], "code": "REPORT_MERGED"}]
    same = await gql(MERGE, {"keep": keep, "dup": keep}, token=tenant.tokens["AGENT"])
    assert same.data["reportMerge"]["userErrors"] == [{"field": ["duplicateId"], "code": "REPORT_MERGE_SAME"}]
    citizen = await gql(MERGE, {"keep": keep, "dup": dup}, token=alice)
    assert citizen.errors[0]["extensions"]["code"] == "FORBIDDEN"


ACK = """
mutation($id: ID!, $v: Int!) { requestTransition(input: {id: $id, version: $v, transition: "acknowledge"}) { request { version } userErrors { code } } }
"""


async def test_bulk_close_is_per_item(gql, app, tenant):
    # given: two acknowledged reports, one still submitted, one unknown id
    await setup_reports(app, tenant)
    token = tenant.tokens["AGENT"]
    reports = [(await _submit(gql, token, at=offset(HOTEL_DE_VILLE, north_m=100 * i)))["report"] for i in range(3)]
    for r in reports[:2]:
        acked = await gql(ACK, {"id": r["request"]["id"], "v": 1}, token=token)
        assert acked.data["requestTransition"]["userErrors"] == []
    other_tenant_like = "UmVwb3J0OjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"  # Report:0000...
    ids = [reports[0]["id"], reports[2]["id"], other_tenant_like, reports[1]["id"]]
    # when
    result = await gql(CLOSE, {"ids": ids, "note": "Réparé le 3"}, token=token)
    # then
    payload = result.data["reportsClose"]
    assert [r["id"] for r in payload["reports"]] == [reports[0]["id"], reports[1]["id"]]
    assert all(r["status"] == "CLOSED" for r in payload["reports"])
    assert [(e["field"][:2], e["code"]) for e in payload["userErrors"]] == [
        (["ids", "1"], "TRANSITION_NOT_ALLOWED"),
        (["ids", "2"], "NOT_FOUND"),
    ]
    blank = await gql(CLOSE, {"ids": ids, "note": " "}, token=token)
    assert blank.data["reportsClose"]["userErrors"] == [{"field": ["resolutionNote"], "code": "REQUIRED"}]


async def test_territory_refuses_points_outside_and_bad_polygons(gql, app, tenant):
    await setup_reports(app, tenant)
    admin = tenant.tokens["ADMIN"]
    set_ = await gql(TERRITORY, {"p": PARIS}, token=admin)
    assert set_.data["reportTerritorySet"]["userErrors"] == []
    bad = await gql(TERRITORY, {"p": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}, token=admin)
    assert bad.data["reportTerritorySet"]["userErrors"] == [{"field": ["territory"], "code": "INVALID_POLYGON"}]
    agent = await gql(TERRITORY, {"p": PARIS}, token=tenant.tokens["AGENT"])
    assert agent.errors[0]["extensions"]["code"] == "FORBIDDEN"
    # Lyon is outside
    outside = await _submit(gql, tenant.tokens["AGENT"], at=(45.764, 4.8357))
    assert outside["userErrors"] == [{"field": ["location"], "code": "OUTSIDE_TERRITORY", "message": outside["userErrors"][0]["message"]}]
    inside = await _submit(gql, tenant.tokens["AGENT"])
    assert inside["userErrors"] == []
    async with app.state.sessionmaker() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(Request).where(Request.tenant_id == tenant.id))).scalar_one()
    assert n == 1  # nothing written for the refused one


async def test_bad_input_is_precise_and_writes_nothing(gql, app, tenant):
    await setup_reports(app, tenant)
    token = tenant.tokens["AGENT"]
    cases = [
        (report_input(at=(91.0, 2.0)), [["location", "latitude"]], "INVALID_COORDINATE"),
        (report_input(at=(48.0, 200.0)), [["location", "longitude"]], "INVALID_COORDINATE"),
        (report_input(category="volcan"), [["categoryCode"]], "UNKNOWN_CATEGORY"),
        (report_input(reporterEmail="pas-un-mail"), [["reporterEmail"]], "INVALID_EMAIL"),
    ]
    for data, fields, code in cases:
        result = await gql(SUBMIT, {"input": data}, token=token)
        errors = result.data["reportSubmit"]["userErrors"]
        assert [e["field"] for e in errors] == fields and {e["code"] for e in errors} == {code}, errors
    not_number = await gql(SUBMIT, {"input": {**report_input(), "location": {"latitude": "abc", "longitude": 2}}}, token=token)
    assert not_number.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown_tenant = await gql(SUBMIT, {"input": report_input(tenant="nowhere")})
    assert unknown_tenant.data["reportSubmit"]["userErrors"][0]["field"] == ["tenant"]
    english = await gql(SUBMIT, {"input": report_input(category="volcan")}, token=token, lang="en")
    assert "does not exist" in english.data["reportSubmit"]["userErrors"][0]["message"]
    async with app.state.sessionmaker() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(Request).where(Request.tenant_id == tenant.id))).scalar_one()
    assert n == 0


async def test_categories_tree_public_by_slug(gql, app, tenant):
    await setup_reports(app, tenant)
    result = await gql(CATEGORIES, {"t": tenant.slug})
    cats = {c["code"]: c for c in result.data["reportCategories"]}
    assert cats["nid-de-poule"]["parentCode"] == "voirie"
    assert cats["lampadaire-eteint"]["label"] == {"fr": "Lampadaire éteint", "en": "Street light out"}
    assert cats["graffiti"]["parentCode"] is None and cats["graffiti"]["duplicateRadiusMeters"] == 50
    assert len(cats) == 11


async def test_demo_seed_is_idempotent_and_inside_its_territory(gql, app, tenant):
    from domain.tenancy.models import Tenant
    from seeds.reports import DEMO_REPORTS, seed_reports

    await setup_reports(app, tenant)
    for _ in range(2):
        async with app.state.sessionmaker() as s:
            await seed_reports(s, await s.get(Tenant, tenant.id))
            await s.commit()
    async with app.state.sessionmaker() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(ReportDetails).where(ReportDetails.tenant_id == tenant.id))).scalar_one()
    assert n == len(DEMO_REPORTS)


SAVE_CATEGORY = """
mutation($input: ReportCategorySaveInput!) {
  reportCategorySave(input: $input) { category { code parentCode label { fr en } duplicateRadiusMeters } userErrors { field code } }
}
"""


async def test_admin_configures_the_category_tree(gql, app, tenant):
    await setup_reports(app, tenant)
    admin = tenant.tokens["ADMIN"]
    created = await gql(SAVE_CATEGORY, {"input": {"code": "trottoir", "labelFr": "Trottoir abîmé", "labelEn": "Damaged pavement",
                                                  "parentCode": "voirie", "departmentCode": "voirie", "duplicateRadiusMeters": 30}}, token=admin)
    assert created.data["reportCategorySave"] == {
        "category": {"code": "trottoir", "parentCode": "voirie", "label": {"fr": "Trottoir abîmé", "en": "Damaged pavement"}, "duplicateRadiusMeters": 30},
        "userErrors": [],
    }
    # a report in the new category is routed to its department
    report = await _submit(gql, tenant.tokens["AGENT"], category="trottoir")
    assert report["report"]["request"]["department"]["code"] == "voirie"
    cycle = await gql(SAVE_CATEGORY, {"input": {"code": "voirie", "parentCode": "trottoir"}}, token=admin)
    assert cycle.data["reportCategorySave"]["userErrors"] == [{"field": ["parentCode"], "code": "CYCLE"}]
    bad = await gql(SAVE_CATEGORY, {"input": {"code": "Pas Un Code"}}, token=admin)
    assert bad.data["reportCategorySave"]["userErrors"] == [{"field": ["code"], "code": "INVALID_SLUG"}]
    many = await gql(SAVE_CATEGORY, {"input": {"code": "x", "labelFr": " ", "duplicateRadiusMeters": 0, "departmentCode": "nope"}}, token=admin)
    assert {e["field"][0] for e in many.data["reportCategorySave"]["userErrors"]} == {"labelFr", "labelEn", "duplicateRadiusMeters", "departmentCode"}
    agent = await gql(SAVE_CATEGORY, {"input": {"code": "y", "labelFr": "Y", "labelEn": "Y"}}, token=tenant.tokens["AGENT"])
    assert agent.error_codes == ["FORBIDDEN"]


async def test_other_peoples_reports_never_expose_their_request(gql, app, tenant):
    await setup_reports(app, tenant)
    _, _, alice = await make_citizen(gql, tenant)
    _, _, bob = await make_citizen(gql, tenant, email="bob2@example.org")
    mine = await _submit(gql, alice)
    assert mine["report"]["request"]["citizen"]["familyName"]  # the reporter sees their request
    seen = await gql(SUBMIT, {"input": report_input(at=offset(HOTEL_DE_VILLE, north_m=5))}, token=bob)
    assert seen.errors == []
    bob_view = await gql("query($id: ID!) { report(id: $id) { id request { id answers } reporterEmail } }", {"id": mine["report"]["id"]}, token=bob)
    assert bob_view.errors == [] and bob_view.data["report"] == {"id": mine["report"]["id"], "request": None, "reporterEmail": None}
    anonymous = await gql(SUBMIT, {"input": report_input(tenant=tenant.slug, at=offset(HOTEL_DE_VILLE, north_m=9))})
    assert anonymous.errors == [], anonymous.body
    assert anonymous.data["reportSubmit"]["report"]["request"] is None
    assert anonymous.data["reportSubmit"]["report"]["category"] == {"code": "nid-de-poule"}
    assert len(anonymous.data["reportSubmit"]["possibleDuplicates"]) == 2


async def test_citizens_only_learn_about_public_reports_nearby(gql, app, tenant):
    await setup_reports(app, tenant)
    agent = tenant.tokens["AGENT"]
    private = await _submit(gql, agent, public=False)
    _, _, citizen = await make_citizen(gql, tenant)
    loc = {"latitude": HOTEL_DE_VILLE[0], "longitude": HOTEL_DE_VILLE[1]}
    as_citizen = await gql(NEARBY, {"loc": loc, "cat": "nid-de-poule"}, token=citizen)
    assert as_citizen.data["reportsNearby"] == []
    as_agent = await gql(NEARBY, {"loc": loc, "cat": "nid-de-poule"}, token=agent)
    assert [r["id"] for r in as_agent.data["reportsNearby"]] == [private["report"]["id"]]
    submitted = await _submit(gql, citizen, at=offset(HOTEL_DE_VILLE, north_m=3))
    assert submitted["possibleDuplicates"] == []


async def test_form_errors_point_at_the_report_input(gql, app, tenant):
    await setup_reports(app, tenant)
    result = await gql(SUBMIT, {"input": report_input(description="x")}, token=tenant.tokens["AGENT"])
    errors = result.data["reportSubmit"]["userErrors"]
    assert [e["field"] for e in errors] == [["description"]], errors


async def test_racing_supports_of_one_person_count_once(gql, app, tenant):
    import asyncio

    await setup_reports(app, tenant)
    rid = (await _submit(gql, tenant.tokens["AGENT"]))["report"]["id"]
    _, _, citizen = await make_citizen(gql, tenant)
    results = await asyncio.gather(*[gql(SUPPORT, {"id": rid}, token=citizen) for _ in range(4)])
    codes = sorted(e["code"] for r in results for e in r.data["reportSupport"]["userErrors"])
    assert codes == ["ALREADY_SUPPORTED"] * 3
    async with app.state.sessionmaker() as s:
        count = (await s.execute(sa.select(ReportDetails.support_count).where(ReportDetails.tenant_id == tenant.id))).scalar_one()
    assert count == 1


async def test_anonymous_nearby_with_tenant_slug(gql, app, tenant):
    await setup_reports(app, tenant)
    agent = tenant.tokens["AGENT"]
    shown = await _submit(gql, agent)
    await _submit(gql, agent, public=False, at=offset(HOTEL_DE_VILLE, north_m=2))
    query = "query($loc: LocationInput!, $t: String) { reportsNearby(location: $loc, category: \"nid-de-poule\", tenant: $t) { id request { id } } }"
    loc = {"latitude": HOTEL_DE_VILLE[0], "longitude": HOTEL_DE_VILLE[1]}
    result = await gql(query, {"loc": loc, "t": tenant.slug})
    assert result.data["reportsNearby"] == [{"id": shown["report"]["id"], "request": None}]
    assert (await gql(query, {"loc": loc})).error_codes == ["UNAUTHENTICATED"]
    assert (await gql(query, {"loc": loc, "t": "nowhere"})).errors[0]["extensions"]["reason"] == "NOT_FOUND"
