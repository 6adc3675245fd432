"""Report photos: claimed from uploads (purpose PHOTO), public only once an agent publishes them."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from domain.requests.models import Request
from tests.api.reports_support import SUBMIT, report_input, setup_reports
from tests.api.test_files import files_app, gql_on, upload  # noqa: F401  (fixture)
from tests.files_helpers import pdf_bytes, png_bytes

PUBLISH = """
mutation($id: ID!, $p: Boolean!) { reportPhotoPublish(input: {fileId: $id, published: $p}) { report { id } userErrors { field code } } }
"""
PUBLIC = """
query($t: String!) { publicReports(tenant: $t, boundingBox: [2.25, 48.81, 2.42, 48.90]) { edges { node { reference photos { url thumbnailUrl } } } } }
"""


async def _make_citizen(application, tenant):
    from tests.procedure_fixtures import CREATE_CITIZEN

    body = await gql_on(application, CREATE_CITIZEN, {"input": {"givenNames": "Léa", "familyName": "Roux", "email": "lea@example.org"}}, tenant.tokens["AGENT"])
    gid = body["data"]["citizenCreate"]["citizen"]["id"]
    from schema.common import parse_global_id

    return tenant.citizen_token(parse_global_id(gid)[1])


async def test_photo_claimed_then_published_for_the_public_feeds(files_app, tenant):  # noqa: F811
    # given
    await setup_reports(files_app, tenant)
    citizen = await _make_citizen(files_app, tenant)
    uploaded = (await upload(files_app, citizen, png_bytes(), "trou.png", "PHOTO", declared_type="image/png")).json()
    photo_id = uploaded["data"]["fileUpload"]["file"]["id"]
    # when
    body = await gql_on(files_app, SUBMIT, {"input": report_input(photoIds=[photo_id])}, citizen)
    # then: the report holds the photo, not shown publicly yet
    assert body["data"]["reportSubmit"]["userErrors"] == [], body
    public = await gql_on(files_app, PUBLIC, {"t": tenant.slug}, citizen)
    (edge,) = public["data"]["publicReports"]["edges"]
    assert edge["node"]["photos"] == []
    # a citizen cannot publish; an agent can
    refused = await gql_on(files_app, PUBLISH, {"id": photo_id, "p": True}, citizen)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    published = await gql_on(files_app, PUBLISH, {"id": photo_id, "p": True}, tenant.tokens["AGENT"])
    assert published["data"]["reportPhotoPublish"]["userErrors"] == []
    public = await gql_on(files_app, PUBLIC, {"t": tenant.slug}, citizen)
    (photo,) = public["data"]["publicReports"]["edges"][0]["node"]["photos"]
    assert photo["thumbnailUrl"].startswith("http://guichet.test/files/")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=files_app), base_url="http://guichet.test") as c:
        thumb = await c.get(photo["thumbnailUrl"])
        assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/")
        geo = (await c.get(f"/public/{tenant.slug}/reports.geojson", params={"bbox": "2.25,48.81,2.42,48.90"})).json()
        assert len(geo["features"][0]["properties"]["photos"]) == 1
        o311 = (await c.get("/open311/v2/requests.json", params={"jurisdiction_id": tenant.slug})).json()
        assert o311[0]["media_url"].startswith("http://guichet.test/files/")


async def test_non_photo_upload_is_refused_and_nothing_is_written(files_app, tenant):  # noqa: F811
    await setup_reports(files_app, tenant)
    citizen = await _make_citizen(files_app, tenant)
    doc = (await upload(files_app, citizen, pdf_bytes(), "devis.pdf", "ATTACHMENT", declared_type="application/pdf")).json()
    doc_id = doc["data"]["fileUpload"]["file"]["id"]
    body = await gql_on(files_app, SUBMIT, {"input": report_input(photoIds=[doc_id])}, citizen)
    errors = body["data"]["reportSubmit"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["photoIds", "0"], "FILE_PURPOSE_MISMATCH")]
    # a PDF uploaded as a PHOTO is refused by the files capability itself
    as_photo = (await upload(files_app, citizen, pdf_bytes(), "devis.pdf", "PHOTO", declared_type="application/pdf")).json()
    assert as_photo["data"]["fileUpload"]["userErrors"][0]["field"] == ["file"]
    async with files_app.state.sessionmaker() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(Request).where(Request.tenant_id == tenant.id))).scalar_one()
    assert n == 0
