"""Uploads over real multipart HTTP requests, stored on a real filesystem, rows in real PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from api.app import create_app
from api.settings import Settings
from domain.events.models import Event
from domain.files.models import StoredFile
from domain.files.signing import THUMBNAIL
from schema.common import parse_global_id
from tests.files_helpers import EXE_BYTES, HTML_BYTES, bomb_png, heic_bytes, jpeg_with_gps, pdf_bytes, png_bytes

UPLOAD = """
mutation Upload($input: FileUploadInput!) {
  fileUpload(input: $input) {
    file { id filename contentType size sha256 purpose width height downloadUrl thumbnailUrl }
    userErrors { field code message }
  }
}
"""
STORED_FILE = "query F($id: ID!) { storedFile(id: $id) { id filename downloadUrl } node(id: $id) { id } }"
PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def _app_settings(storage_dir, **overrides) -> Settings:
    return Settings(environment="test", database_url=None, log_level="WARNING", storage_dir=storage_dir, **overrides)


@pytest.fixture(scope="module")
async def files_app(database_url, tmp_path_factory):
    application = create_app(_app_settings(tmp_path_factory.mktemp("files")), database_url=database_url)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def small_app(database_url, tmp_path_factory):
    """The same app with a 64 KiB upload limit."""
    settings = _app_settings(tmp_path_factory.mktemp("files-small"), max_upload_bytes=64 * 1024)
    application = create_app(settings, database_url=database_url)
    async with application.router.lifespan_context(application):
        yield application


def _client(application) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://guichet.test")


async def upload(application, token, content: bytes, filename: str, purpose: str = "ATTACHMENT", *,
                 declared_type: str = "application/octet-stream", headers: dict | None = None, lang: str | None = None):
    operations = {"query": UPLOAD, "variables": {"input": {"file": None, "purpose": purpose}}}
    request_headers = dict(PREFLIGHT if headers is None else headers)
    if token:
        request_headers["Authorization"] = f"Bearer {token}"
    if lang:
        request_headers["Accept-Language"] = lang
    async with _client(application) as client:
        return await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": (filename, content, declared_type)},
            headers=request_headers,
        )


async def gql_on(application, query, variables, token):
    async with _client(application) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"})
    return response.json()


async def fetch(application, url: str) -> httpx.Response:
    async with _client(application) as client:
        return await client.get(url)


async def rows_of(application, tenant_id) -> list[StoredFile]:
    async with application.state.sessionmaker() as session:
        return list((await session.execute(sa.select(StoredFile).where(StoredFile.tenant_id == tenant_id))).scalars())


def blobs(application) -> list:
    root = application.state.files.storage.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def raw_id(global_id: str) -> uuid.UUID:
    return parse_global_id(global_id)[1]


async def test_citizen_uploads_a_pdf_and_downloads_it_through_the_signed_url(files_app, tenant):
    # given a citizen
    token = tenant.citizen_token(uuid.uuid4())
    content = pdf_bytes()
    # when they upload a PDF
    response = await upload(files_app, token, content, "Justificatif domicile.pdf", declared_type="application/pdf")
    # then it is stored with its detected type, size and hash
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["fileUpload"]
    assert payload["userErrors"] == []
    file = payload["file"]
    assert file["contentType"] == "application/pdf"
    assert file["filename"] == "Justificatif domicile.pdf"
    assert file["size"] == len(content)
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    assert file["thumbnailUrl"] is None
    (row,) = await rows_of(files_app, tenant.id)
    assert row.uploaded_by_type == "citizen" and row.owner_id is None
    assert files_app.state.files.storage.exists(row.storage_key)
    assert row.storage_key.startswith(tenant.id.hex + "/") and "Justificatif" not in row.storage_key
    async with files_app.state.sessionmaker() as session:
        types = (await session.execute(sa.select(Event.type).where(Event.aggregate_id == row.id))).scalars().all()
    assert types == ["file.uploaded"]
    # and the signed URL serves the same bytes as a download
    download = await fetch(files_app, file["downloadUrl"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Justificatif domicile.pdf\"; filename*=UTF-8''Justificatif%20domicile.pdf"
    )


async def test_type_comes_from_the_content_not_the_name(files_app, tenant):
    # given a PNG named like a PDF and declared as a PDF
    response = await upload(files_app, tenant.tokens["AGENT"], png_bytes(), "../../etc/scan é.pdf", declared_type="application/pdf")
    # then it is stored as a PNG with a safe name whose extension says so
    file = response.json()["data"]["fileUpload"]["file"]
    assert file["contentType"] == "image/png"
    assert file["filename"] == "scan é.pdf.png"
    download = await fetch(files_app, file["downloadUrl"])
    assert download.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''scan%20%C3%A9.pdf.png" in download.headers["content-disposition"]
    assert 'filename="scan e.pdf.png"' in download.headers["content-disposition"]


@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [(EXE_BYTES, "facture.pdf", "application/pdf"), (HTML_BYTES, "page.html", "text/html"), (HTML_BYTES, "photo.jpg", "image/jpeg")],
)
async def test_executables_and_html_are_refused_and_nothing_is_written(files_app, make_tenant, content, name, declared):
    tenant = await make_tenant()
    before = blobs(files_app)
    # when an executable or an HTML page is uploaded, whatever its name
    response = await upload(files_app, tenant.tokens["AGENT"], content, name, declared_type=declared, lang="en")
    # then a typed error lists what is accepted
    payload = response.json()["data"]["fileUpload"]
    assert payload["file"] is None
    assert payload["userErrors"] == [
        {
            "field": ["file"],
            "code": "FILE_TYPE_NOT_ALLOWED",
            "message": "This type of file is not accepted. Accepted formats: PDF, JPEG, PNG, WebP, HEIC, ODT, DOCX.",
        }
    ]
    # and nothing is stored
    assert await rows_of(files_app, tenant.id) == []
    assert blobs(files_app) == before


async def test_photos_accept_images_only(files_app, tenant):
    response = await upload(files_app, tenant.tokens["AGENT"], pdf_bytes(), "nid-de-poule.pdf", purpose="PHOTO")
    error = response.json()["data"]["fileUpload"]["userErrors"][0]
    assert error["code"] == "FILE_TYPE_NOT_ALLOWED"
    assert error["message"].endswith("Formats acceptés : JPEG, PNG, WebP.")


async def test_oversize_upload_is_refused_while_streaming_and_nothing_is_written(small_app, tenant):
    # given a 64 KiB upload limit and a file of 64 KiB + 1 byte (well under the request body limit)
    content = pdf_bytes() + b"%" * (64 * 1024 + 1 - len(pdf_bytes()))
    # when a citizen uploads it
    response = await upload(small_app, tenant.citizen_token(uuid.uuid4()), content, "gros.pdf")
    # then it is refused with the limit in the message, and nothing is in the DB nor on disk
    payload = response.json()["data"]["fileUpload"]
    assert payload["file"] is None
    assert payload["userErrors"] == [{"field": ["file"], "code": "FILE_TOO_LARGE", "message": "Le fichier est trop volumineux : 64 KiB au maximum."}]
    assert await rows_of(small_app, tenant.id) == []
    assert blobs(small_app) == []
    # and exactly the limit is accepted
    ok = await upload(small_app, tenant.citizen_token(uuid.uuid4()), content[:-1], "juste.pdf")
    assert ok.json()["data"]["fileUpload"]["file"]["size"] == 64 * 1024


async def test_request_body_limit_depends_on_the_content_type(small_app, files_app, tenant):
    # a multipart body over the upload request limit (64 KiB + 1 MiB) is cut off with 413 before parsing
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 70 * 1024)
    response = await upload(small_app, tenant.tokens["AGENT"], big, "big.pdf")
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    # a 2 MiB upload goes through with the default 10 MiB limit, although JSON bodies stay limited to 1 MiB
    two_mib = pdf_bytes() + b"%" * (2 * 1024 * 1024)
    accepted = await upload(files_app, tenant.tokens["AGENT"], two_mib, "deux.pdf")
    assert accepted.status_code == 200
    assert accepted.json()["data"]["fileUpload"]["file"]["size"] == len(two_mib)
    async with _client(files_app) as client:
        json_body = await client.post("/graphql", json={"query": "{ __typename }", "variables": {"pad": "x" * (1024 * 1024)}})
    assert json_body.status_code == 413


async def test_empty_file_is_refused(files_app, tenant):
    response = await upload(files_app, tenant.tokens["AGENT"], b"", "vide.pdf")
    assert response.json()["data"]["fileUpload"]["userErrors"][0]["code"] == "FILE_EMPTY"
    assert await rows_of(files_app, tenant.id) == []


async def test_photo_is_stored_without_exif_upright_with_a_thumbnail(files_app, tenant):
    # given a phone photo, 800x400 as stored but marked "rotate 90°" (orientation 6), with GPS in its EXIF
    original = jpeg_with_gps((800, 400), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the sample really has GPS
    # when it is uploaded as a report photo
    response = await upload(files_app, tenant.citizen_token(uuid.uuid4()), original, "IMG_0042.JPG", purpose="PHOTO")
    file = response.json()["data"]["fileUpload"]["file"]
    assert file["contentType"] == "image/jpeg"
    # then the stored image has no EXIF, no GPS, no comment, and is upright (400x800)
    stored = (await fetch(files_app, file["downloadUrl"])).content
    assert hashlib.sha256(stored).hexdigest() == file["sha256"]
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "comment" not in image.info
    assert b"Secret Phone" not in stored and b"taken at home" not in stored
    assert image.size == (400, 800) and (file["width"], file["height"]) == (400, 800)
    # the red marker that was top-left before rotation is now top-right
    assert image.getpixel((390, 10))[0] > 200 and image.getpixel((10, 10))[0] < 100
    # and a thumbnail of at most 320 px is kept, without metadata either
    thumb = await fetch(files_app, file["thumbnailUrl"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    small = Image.open(io.BytesIO(thumb.content))
    assert small.size == (160, 320)
    assert dict(small.getexif()) == {}


async def test_heic_attachment_is_stored_as_jpeg(files_app, tenant):
    response = await upload(files_app, tenant.tokens["AGENT"], heic_bytes((64, 48)), "IMG_0001.HEIC")
    file = response.json()["data"]["fileUpload"]["file"]
    assert file["contentType"] == "image/jpeg"
    assert file["filename"] == "IMG_0001.HEIC.jpg"
    assert Image.open(io.BytesIO((await fetch(files_app, file["downloadUrl"])).content)).size == (64, 48)


async def test_decompression_bomb_is_refused(files_app, tenant):
    # given a 12 KB PNG that decodes to 100 million pixels
    before = blobs(files_app)
    response = await upload(files_app, tenant.tokens["AGENT"], bomb_png(10_000), "plan.png", purpose="PHOTO")
    payload = response.json()["data"]["fileUpload"]
    assert payload["userErrors"] == [
        {"field": ["file"], "code": "IMAGE_TOO_MANY_PIXELS", "message": "L'image est trop grande : 40 millions de pixels au maximum."}
    ]
    assert await rows_of(files_app, tenant.id) == [] and blobs(files_app) == before


async def test_truncated_image_is_unreadable(files_app, tenant):
    broken = jpeg_with_gps()[:400]
    response = await upload(files_app, tenant.tokens["AGENT"], broken, "coupee.jpg", purpose="PHOTO", lang="en")
    assert response.json()["data"]["fileUpload"]["userErrors"][0]["code"] == "IMAGE_UNREADABLE"
    assert await rows_of(files_app, tenant.id) == []


async def test_multipart_without_preflight_header_is_refused(files_app, tenant):
    # a browser form on another site can post multipart/form-data, but not with a custom header
    before = blobs(files_app)
    response = await upload(files_app, tenant.tokens["AGENT"], pdf_bytes(), "csrf.pdf", headers={}, lang="en")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"
    assert "Apollo-Require-Preflight" in error["message"]
    assert await rows_of(files_app, tenant.id) == [] and blobs(files_app) == before
    # X-Requested-With is accepted as well
    ok = await upload(files_app, tenant.tokens["AGENT"], pdf_bytes(), "ok.pdf", headers={"X-Requested-With": "XMLHttpRequest"})
    assert ok.json()["data"]["fileUpload"]["file"]["contentType"] == "application/pdf"


async def test_anonymous_upload_is_unauthenticated(files_app):
    response = await upload(files_app, None, pdf_bytes(), "anonyme.pdf")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_only_uploader_and_staff_of_the_tenant_get_a_download_url(files_app, make_tenant):
    tenant, other = await make_tenant(), await make_tenant()
    citizen = tenant.citizen_token(uuid.uuid4())
    file_id = (await upload(files_app, citizen, pdf_bytes(), "avis.pdf")).json()["data"]["fileUpload"]["file"]["id"]
    # the uploader and an agent of the tenant see it with a download URL
    for token in (citizen, tenant.tokens["AGENT"]):
        body = await gql_on(files_app, STORED_FILE, {"id": file_id}, token)
        assert body["data"]["storedFile"]["downloadUrl"].startswith("http://guichet.test/files/")
        assert body["data"]["node"] == {"id": file_id}
    # another citizen of the tenant, an analyst, and an admin of another tenant do not
    for token in (tenant.citizen_token(uuid.uuid4()), tenant.tokens["ANALYST"], other.tokens["ADMIN"]):
        body = await gql_on(files_app, STORED_FILE, {"id": file_id}, token)
        assert body["data"] == {"storedFile": None, "node": None}, body


async def test_tampered_expired_and_unknown_links_are_refused(files_app, tenant):
    file = (await upload(files_app, tenant.tokens["AGENT"], pdf_bytes(), "a.pdf")).json()["data"]["fileUpload"]["file"]
    url = file["downloadUrl"]
    token = url.rsplit("/", 1)[1]
    payload, sig = token.split(".")
    signer = files_app.state.files.signer
    # a changed signature or payload -> 403
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert (await fetch(files_app, f"/files/{payload}.{flipped}")).status_code == 403
    other = signer.sign(tenant.id, uuid.uuid4()).split(".")[0]
    assert (await fetch(files_app, f"/files/{other}.{sig}")).status_code == 403
    assert (await fetch(files_app, "/files/not-a-token")).status_code == 403
    # a link signed with another key -> 403
    from domain.files.signing import UrlSigner

    forged = UrlSigner(b"k" * 32).sign(tenant.id, raw_id(file["id"]))
    assert (await fetch(files_app, f"/files/{forged}")).status_code == 403
    # an expired link -> 410, with a message
    old = signer.sign(tenant.id, raw_id(file["id"]), now=time.time() - signer.ttl_seconds - 5)
    expired = await fetch(files_app, f"/files/{old}")
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "LINK_EXPIRED"
    # a valid link to an unknown file, to a file of the wrong tenant, or to a missing thumbnail -> 404
    assert (await fetch(files_app, f"/files/{signer.sign(tenant.id, uuid.uuid4())}")).status_code == 404
    assert (await fetch(files_app, f"/files/{signer.sign(uuid.uuid4(), raw_id(file['id']))}")).status_code == 404
    assert (await fetch(files_app, f"/files/{signer.sign(tenant.id, raw_id(file['id']), THUMBNAIL)}")).status_code == 404
    # and the genuine link still works
    assert (await fetch(files_app, url)).status_code == 200


async def test_staff_publish_photos(files_app, tenant):
    photo = (await upload(files_app, tenant.citizen_token(uuid.uuid4()), png_bytes(), "p.png", purpose="PHOTO")).json()
    file_id = photo["data"]["fileUpload"]["file"]["id"]
    mutation = "mutation P($input: FilePublishInput!) { filePublish(input: $input) { file { published } userErrors { code } } }"
    body = await gql_on(files_app, mutation, {"input": {"id": file_id}}, tenant.tokens["SUPERVISOR"])
    assert body["data"]["filePublish"] == {"file": {"published": True}, "userErrors": []}
    denied = await gql_on(files_app, mutation, {"input": {"id": file_id}}, tenant.citizen_token(uuid.uuid4()))
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("fields", "files", "content_type"),
    [
        ({"operations": "{not json", "map": "{}"}, {"0": ("a.pdf", b"%PDF-1.4")}, None),
        ({"operations": json.dumps({"query": UPLOAD, "variables": {"input": {"file": None}}}), "map": json.dumps({"0": ["variables.input.file"]})}, {"9": ("a.pdf", b"%PDF")}, None),
        ({"operations": json.dumps({"query": UPLOAD, "variables": {"input": {"file": None}}}), "map": json.dumps({"0": ["variables.input.file.x.y"]})}, {"0": ("a.pdf", b"%PDF")}, None),
        (None, None, "multipart/form-data; boundary=zzz"),
    ],
)
async def test_malformed_multipart_is_a_400_with_a_json_error(files_app, tenant, fields, files, content_type):
    headers = {**PREFLIGHT, "Authorization": f"Bearer {tenant.tokens['AGENT']}"}
    async with _client(files_app) as client:
        if content_type:
            response = await client.post("/graphql", content=b"garbage", headers={**headers, "Content-Type": content_type})
        else:
            response = await client.post("/graphql", data=fields, files=files, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_unparseable_json_body_is_a_400_not_a_500(files_app):
    # the view's HTTP errors (Strawberry's HTTPException) are mapped, whatever the body
    async with _client(files_app) as client:
        response = await client.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
