"""The public map (GraphQL and GeoJSON) and agents' field-work feed."""

from __future__ import annotations

from tests.api.reports_support import HOTEL_DE_VILLE, SUBMIT, offset, report_input, setup_reports
from tests.procedure_fixtures import make_citizen

PUBLIC = """
query($t: String!, $box: [Float!]!, $cats: [String!], $st: [RequestStatus!], $first: Int, $after: String) {
  publicReports(tenant: $t, boundingBox: $box, categories: $cats, statuses: $st, first: $first, after: $after) {
    edges { node { id reference categoryCode status location { latitude longitude } supportCount photos { url thumbnailUrl } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
AREA = """
query($box: [Float!]!, $cats: [String!]) {
  reportsInArea(boundingBox: $box, categories: $cats) { edges { node { id reporterEmail category { code } } } }
}
"""
CITY = [2.25, 48.81, 2.42, 48.90]


async def _submit(gql, token, **kw):
    result = await gql(SUBMIT, {"input": report_input(**kw)}, token=token)
    payload = result.data["reportSubmit"]
    assert payload["userErrors"] == [], payload
    return payload["report"]


async def test_public_reports_bbox_filters_paging_and_no_personal_data(gql, app, tenant):
    # given
    await setup_reports(app, tenant)
    agent = tenant.tokens["AGENT"]
    a = await _submit(gql, agent, reporterEmail="secret@example.org")
    b = await _submit(gql, agent, category="graffiti", at=offset(HOTEL_DE_VILLE, north_m=200))
    await _submit(gql, agent, public=False, at=offset(HOTEL_DE_VILLE, north_m=300))
    await _submit(gql, agent, at=(45.764, 4.8357))  # Lyon: outside the box
    # when
    result = await gql(PUBLIC, {"t": tenant.slug, "box": CITY, "first": 1})
    # then: newest first, one per page, the private one never shown
    assert result.status == 200, result.body
    first_page = result.data["publicReports"]
    assert len(first_page["edges"]) == 1 and first_page["pageInfo"]["hasNextPage"]
    ids = []
    after = None
    while True:
        page = (await gql(PUBLIC, {"t": tenant.slug, "box": CITY, "first": 1, "after": after})).data["publicReports"]
        ids += [e["node"]["reference"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert ids == [b["reference"], a["reference"]]
    assert "secret" not in str(result.body)
    only = await gql(PUBLIC, {"t": tenant.slug, "box": CITY, "cats": ["voirie"]})  # parent includes children
    assert [e["node"]["categoryCode"] for e in only.data["publicReports"]["edges"]] == ["nid-de-poule"]
    closed = await gql(PUBLIC, {"t": tenant.slug, "box": CITY, "st": ["CLOSED"]})
    assert closed.data["publicReports"]["edges"] == []


async def test_public_reports_bad_input(gql, app, tenant):
    await setup_reports(app, tenant)
    for box, reason in [([2.4, 48.8, 2.3, 48.9], "INVALID_BBOX"), ([2.0, 48.0], "INVALID_BBOX"), ([0, 40, 10, 50], "BBOX_TOO_LARGE")]:
        result = await gql(PUBLIC, {"t": tenant.slug, "box": box})
        assert result.errors[0]["extensions"]["reason"] == reason, result.body
    unknown = await gql(PUBLIC, {"t": "no-such-town", "box": CITY})
    assert unknown.errors[0]["extensions"]["reason"] == "NOT_FOUND"
    cat = await gql(PUBLIC, {"t": tenant.slug, "box": CITY, "cats": ["volcan"]})
    assert cat.errors[0]["extensions"]["reason"] == "UNKNOWN_CATEGORY"
    assert cat.errors[0]["extensions"]["field"] == ["categories", "0"]


async def test_geojson_feed(client, gql, app, tenant):
    await setup_reports(app, tenant)
    report = await _submit(gql, tenant.tokens["AGENT"], reporterEmail="secret@example.org", address="Place de l'Hôtel de Ville")
    response = await client.get(f"/public/{tenant.slug}/reports.geojson", params={"bbox": ",".join(map(str, CITY))})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    (feature,) = body["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [HOTEL_DE_VILLE[1], HOTEL_DE_VILLE[0]]}
    assert feature["properties"]["reference"] == report["reference"]
    assert feature["properties"]["category"] == "nid-de-poule"
    assert "secret" not in response.text and "reporter" not in response.text.lower()
    bad = await client.get(f"/public/{tenant.slug}/reports.geojson", params={"bbox": "a,b,c,d"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_BBOX"
    missing = await client.get("/public/nowhere/reports.geojson", params={"bbox": ",".join(map(str, CITY))})
    assert missing.status_code == 404


async def test_reports_in_area_is_for_agents(gql, app, tenant):
    await setup_reports(app, tenant)
    agent = tenant.tokens["AGENT"]
    await _submit(gql, agent, reporterEmail="x@example.org", public=False)
    result = await gql(AREA, {"box": CITY}, token=agent)
    (edge,) = result.data["reportsInArea"]["edges"]
    assert edge["node"]["reporterEmail"] == "x@example.org"  # agents see the private one, with contact
    _, _, citizen = await make_citizen(gql, tenant)
    refused = await gql(AREA, {"box": CITY}, token=citizen)
    assert refused.error_codes == ["FORBIDDEN"]
    anonymous = await gql(AREA, {"box": CITY})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
