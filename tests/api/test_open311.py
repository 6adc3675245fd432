"""Open311 GeoReport v2 at /open311/v2/: every method, JSON and XML, and the error cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from domain.requests.models import Request
from tests.api.integrations import issue_key
from tests.api.reports_support import HOTEL_DE_VILLE, setup_reports

BASE = "/open311/v2"


def _xml(response):
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    return ET.fromstring(response.content)


async def _post(client, tenant, key, fmt="json", **fields):
    data = {
        "jurisdiction_id": tenant.slug, "service_code": "nid-de-poule",
        "lat": str(HOTEL_DE_VILLE[0]), "long": str(HOTEL_DE_VILLE[1]),
        "description": "Trou dangereux devant la mairie", "email": "passant@example.org",
        "address_string": "Place de l'Hôtel de Ville",
    }
    if key is not None:
        data["api_key"] = key
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return await client.post(f"{BASE}/requests.{fmt}", data=data)


@pytest.fixture
async def city(app, client, tenant):
    await setup_reports(app, tenant)
    key = (await issue_key(client, tenant, ["AGENT"]))["key"]
    return tenant, key


async def test_services_json_and_xml(client, city):
    tenant, _ = city
    response = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": tenant.slug})
    assert response.status_code == 200
    services = {s["service_code"]: s for s in response.json()}
    assert services["nid-de-poule"]["service_name"] == "Nid-de-poule"
    assert services["nid-de-poule"]["group"] == "Voirie"
    assert services["nid-de-poule"]["metadata"] is True and services["nid-de-poule"]["type"] == "realtime"
    root = _xml(await client.get(f"{BASE}/services.xml", params={"jurisdiction_id": tenant.slug}))
    assert root.tag == "services"
    codes = {s.findtext("service_code") for s in root.findall("service")}
    assert codes == set(services)
    assert root.find("service/metadata").text == "true"


async def test_service_definition_from_the_procedure_form(client, city):
    tenant, _ = city
    response = await client.get(f"{BASE}/services/nid-de-poule.json", params={"jurisdiction_id": tenant.slug})
    body = response.json()
    assert body["service_code"] == "nid-de-poule"
    (attr,) = body["attributes"]  # the form's only non-standard field
    assert attr["code"] == "dangerous" and attr["datatype"] == "singlevaluelist" and attr["required"] is False
    assert [v["key"] for v in attr["values"]] == ["true", "false"]
    root = _xml(await client.get(f"{BASE}/services/nid-de-poule.xml", params={"jurisdiction_id": tenant.slug}))
    assert root.tag == "service_definition"
    assert root.findtext("attributes/attribute/code") == "dangerous"
    assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")] == ["true", "false"]
    unknown = await client.get(f"{BASE}/services/volcan.json", params={"jurisdiction_id": tenant.slug})
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404


async def test_post_then_get_by_id_token_and_search(client, app, city):
    tenant, key = city
    # when
    created = await _post(client, tenant, key, **{"attribute[dangerous]": "true"})
    # then
    assert created.status_code == 201, created.text
    (item,) = created.json()
    ref, token = item["service_request_id"], item["token"]
    async with app.state.sessionmaker() as s:
        request = (await s.execute(sa.select(Request).where(Request.tenant_id == tenant.id, Request.reference == ref))).scalar_one()
    assert request.answers["dangerous"] is True and request.channel == "APP"
    one = await client.get(f"{BASE}/requests/{ref}.json", params={"jurisdiction_id": tenant.slug})
    (got,) = one.json()
    assert got["service_code"] == "nid-de-poule" and got["status"] == "open" and got["lat"] == HOTEL_DE_VILLE[0]
    assert got["address"] == "Place de l'Hôtel de Ville" and got["agency_responsible"] == "Voirie"
    assert "passant" not in one.text  # the reporter's e-mail is never published
    root = _xml(await client.get(f"{BASE}/requests/{ref}.xml", params={"jurisdiction_id": tenant.slug}))
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == ref
    assert float(root.findtext("request/long")) == HOTEL_DE_VILLE[1]
    tok = await client.get(f"{BASE}/tokens/{token}.json", params={"jurisdiction_id": tenant.slug})
    assert tok.json() == [{"service_request_id": ref, "token": token}]
    tok_xml = _xml(await client.get(f"{BASE}/tokens/{token}.xml", params={"jurisdiction_id": tenant.slug}))
    assert tok_xml.findtext("request/token") == token
    # xml POST
    created_xml = _xml(await _post(client, tenant, key, fmt="xml", service_code="graffiti"))
    ref2 = created_xml.findtext("request/service_request_id")
    assert ref2 and ref2 != ref
    # search
    every = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug})).json()
    assert [r["service_request_id"] for r in every] == [ref2, ref]
    by_code = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "service_code": "graffiti"})).json()
    assert [r["service_request_id"] for r in by_code] == [ref2]
    by_ids = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "service_request_id": f"{ref},{ref2}"})).json()
    assert {r["service_request_id"] for r in by_ids} == {ref, ref2}
    closed = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "status": "closed"})).json()
    assert closed == []
    future = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "start_date": "2099-01-01T00:00:00Z"})).json()
    assert future == []
    paged = (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "page": "2", "page_size": "1"})).json()
    assert [r["service_request_id"] for r in paged] == [ref]
    listed_xml = _xml(await client.get(f"{BASE}/requests.xml", params={"jurisdiction_id": tenant.slug}))
    assert [r.findtext("service_request_id") for r in listed_xml.findall("request")] == [ref2, ref]


async def test_errors_in_open311_format(client, app, make_tenant, city):
    tenant, key = city
    other = await make_tenant()
    other_key = (await issue_key(client, other, ["AGENT"]))["key"]
    cases = [
        (await _post(client, tenant, None), 401),
        (await _post(client, tenant, "gk_not-a-key"), 403),
        (await _post(client, tenant, other_key), 403),
        (await _post(client, tenant, key, jurisdiction_id=None), 400),
        (await _post(client, tenant, key, jurisdiction_id="nowhere"), 404),
        (await _post(client, tenant, key, service_code="volcan"), 404),
        (await _post(client, tenant, key, lat="abc"), 400),
        (await _post(client, tenant, key, lat=None, long=None), 400),
        (await _post(client, tenant, key, lat="95"), 400),
        (await _post(client, tenant, key, description="x"), 400),  # the form wants 5 characters
        (await _post(client, tenant, key, **{"attribute[dangerous]": "maybe"}), 400),
        (await _post(client, tenant, key, **{"attribute[volcano]": "1"}), 400),
        (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "status": "pending"}), 400),
        (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "page_size": "1000"}), 400),
        (await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": tenant.slug, "start_date": "yesterday"}), 400),
        (await client.get(f"{BASE}/requests/2026-999999.json", params={"jurisdiction_id": tenant.slug}), 404),
        (await client.get(f"{BASE}/tokens/not-a-token.json", params={"jurisdiction_id": tenant.slug}), 404),
        (await client.get(f"{BASE}/services.json"), 400),
        (await client.get(f"{BASE}/services.csv", params={"jurisdiction_id": tenant.slug}), 404),
    ]
    for i, (response, status) in enumerate(cases):
        assert response.status_code == status, (i, response.status_code, response.text)
        (err,) = response.json()
        assert err["code"] == status and err["description"], (i, err)
    lat_error = cases[8][0].json()[0]["description"]
    assert "location.latitude" in lat_error
    xml_error = _xml(await _post(client, tenant, None, fmt="xml"))
    assert xml_error.tag == "errors" and xml_error.findtext("error/code") == "401"
    assert xml_error.findtext("error/description") == "api_key is required"
    async with app.state.sessionmaker() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(Request).where(Request.tenant_id == tenant.id))).scalar_one()
    assert n == 0  # nothing written by any refused submission
