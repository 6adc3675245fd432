"""Request attachments over real multipart uploads: form `file` answers, requestAttach, who may download."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from api.app import create_app
from domain.events.models import Event
from domain.files.models import StoredFile
from domain.requests.models import Request
from schema.common import to_global_id
from tests.api.test_files import _app_settings, fetch, gql_on, raw_id, upload
from tests.api.test_inbox import count_statements
from tests.files_helpers import pdf_bytes, png_bytes
from tests.procedure_fixtures import GOOD_ANSWERS, add_department, make_citizen, permit, publish

SUBMIT = """
mutation($input: RequestSubmitInput!) {
  requestSubmit(input: $input) {
    request { id reference version answers attachments { id filename contentType downloadUrl } }
    userErrors { field code message }
  }
}
"""
SAVE_DRAFT = """
mutation($input: RequestSaveDraftInput!) {
  requestSaveDraft(input: $input) { request { id version attachments { id } } userErrors { field code } }
}
"""
ATTACH = """
mutation($input: RequestAttachInput!) {
  requestAttach(input: $input) {
    request { id version attachments { id filename } timeline { nodes { kind eventType public data } } }
    userErrors { field code message }
  }
}
"""
REQUEST = "query($id: ID!) { request(id: $id) { id attachments { id filename downloadUrl } } }"
STORED = "query($id: ID!) { storedFile(id: $id) { id downloadUrl } }"
MY_REQUESTS = "query($first: Int) { myRequests(first: $first) { nodes { id attachments { id filename } appointments { id } } } }"

# a `file` field for PDFs up to 2 KiB (`registration`), one for any document (`other`)
FILE_PROPERTIES = {
    "registration": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "other": {"type": "array", "items": {"type": "string"}},
}
FILE_HINTS = {
    "registration": {"widget": "file", "accept": ["application/pdf"], "maxBytes": 2048, "label": {"fr": "Carte grise", "en": "Registration"}},
    "other": {"widget": "file", "label": {"fr": "Autre pièce", "en": "Other document"}},
}


def with_files() -> dict:
    definition = permit()
    definition["form"]["schema"]["properties"].update(FILE_PROPERTIES)
    definition["form"]["ui"]["fields"].update(FILE_HINTS)
    return definition


@pytest.fixture(scope="module")
async def files_app(database_url, tmp_path_factory):
    application = create_app(_app_settings(tmp_path_factory.mktemp("attachments")), database_url=database_url)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def setup(gql, app, make_tenant):
    tenant = await make_tenant("attach")
    await add_department(app, tenant, "voirie", "Voirie")
    assert (await publish(gql, tenant, with_files()))["userErrors"] == []
    return tenant


async def uploaded(files_app, token, content: bytes, name: str, purpose: str = "ATTACHMENT") -> str:
    response = await upload(files_app, token, content, name, purpose)
    payload = response.json()["data"]["fileUpload"]
    assert payload["userErrors"] == [], payload
    return payload["file"]["id"]


async def file_row(files_app, gid: str) -> StoredFile:
    async with files_app.state.sessionmaker() as s:
        return (await s.execute(sa.select(StoredFile).where(StoredFile.id == raw_id(gid)))).scalar_one()


async def counts(files_app, tenant) -> tuple[int, int, int]:
    async with files_app.state.sessionmaker() as s:
        requests = (await s.execute(sa.select(sa.func.count()).select_from(Request).where(Request.tenant_id == tenant.id))).scalar_one()
        events = (await s.execute(sa.select(sa.func.count()).select_from(Event).where(Event.tenant_id == tenant.id))).scalar_one()
        claimed = (
            await s.execute(
                sa.select(sa.func.count()).select_from(StoredFile).where(StoredFile.tenant_id == tenant.id, StoredFile.owner_id.is_not(None))
            )
        ).scalar_one()
    return requests, events, claimed


def errors_of(body: dict, field: str) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in body["data"][field]["userErrors"]]


async def test_citizen_submits_with_attachments_and_only_the_right_people_download_them(gql, files_app, setup):
    tenant = setup
    _, _, token = await make_citizen(gql, tenant)
    _, _, other_token = await make_citizen(gql, tenant, givenNames="Autre")
    content = pdf_bytes("Carte grise")
    pdf = await uploaded(files_app, token, content, "carte-grise.pdf")
    image = await uploaded(files_app, token, png_bytes(), "photo.png")
    # when the citizen submits with the ids in the form's file fields
    body = await gql_on(
        files_app, SUBMIT,
        {"input": {"procedureCode": "parking-permit", "answers": {**GOOD_ANSWERS, "registration": [pdf], "other": [image]}}},
        token,
    )
    payload = body["data"]["requestSubmit"]
    assert payload["userErrors"] == []
    request = payload["request"]
    # then the files are the request's attachments, with download links
    assert [(a["id"], a["contentType"]) for a in request["attachments"]] == [(pdf, "application/pdf"), (image, "image/png")]
    assert request["answers"]["registration"] == [pdf]
    row = await file_row(files_app, pdf)
    assert (row.owner_type, row.owner_id) == ("Request", raw_id(request["id"]))
    download = await fetch(files_app, request["attachments"][0]["downloadUrl"])
    assert download.status_code == 200 and download.content == content
    # and an agent of the tenant sees and downloads them too
    agent_view = (await gql_on(files_app, REQUEST, {"id": request["id"]}, tenant.tokens["AGENT"]))["data"]["request"]
    assert [a["id"] for a in agent_view["attachments"]] == [pdf, image]
    assert (await fetch(files_app, agent_view["attachments"][0]["downloadUrl"])).content == content
    # but another citizen gets FORBIDDEN on the request and no file
    refused = await gql_on(files_app, REQUEST, {"id": request["id"]}, other_token)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert refused["data"]["request"] is None
    assert (await gql_on(files_app, STORED, {"id": pdf}, other_token))["data"]["storedFile"] is None
    # while the request's citizen may read the file directly
    assert (await gql_on(files_app, STORED, {"id": pdf}, token))["data"]["storedFile"]["downloadUrl"]


async def test_a_file_uploaded_by_an_agent_is_downloadable_by_the_request_citizen(gql, files_app, setup):
    # given a request, and a scan an agent uploaded at the counter
    tenant = setup
    _, _, token = await make_citizen(gql, tenant)
    body = await gql_on(files_app, SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}}, token)
    request = body["data"]["requestSubmit"]["request"]
    scan = await uploaded(files_app, tenant.tokens["AGENT"], pdf_bytes("Scan"), "scan.pdf")
    # before it is attached the citizen cannot read it
    assert (await gql_on(files_app, STORED, {"id": scan}, token))["data"]["storedFile"] is None
    # when the agent attaches it
    attached = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [scan]}}, tenant.tokens["AGENT"])
    assert attached["data"]["requestAttach"]["userErrors"] == []
    # then the citizen reads it through the request (read check of the Request owner)
    assert (await gql_on(files_app, STORED, {"id": scan}, token))["data"]["storedFile"]["downloadUrl"]


async def test_bad_file_ids_are_refused_precisely_and_nothing_is_written(gql, files_app, setup):
    tenant = setup
    _, _, token = await make_citizen(gql, tenant)
    _, _, other_token = await make_citizen(gql, tenant, givenNames="Autre")
    pdf = await uploaded(files_app, token, pdf_bytes(), "ok.pdf")
    png = await uploaded(files_app, token, png_bytes(), "image.png")
    big = await uploaded(files_app, token, pdf_bytes("x" * 4000), "big.pdf")
    photo = await uploaded(files_app, token, png_bytes(), "photo.png", purpose="PHOTO")
    theirs = await uploaded(files_app, other_token, pdf_bytes(), "theirs.pdf")
    first = await gql_on(files_app, SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": {**GOOD_ANSWERS, "other": [pdf]}}}, token)
    assert first["data"]["requestSubmit"]["userErrors"] == []
    fresh = await uploaded(files_app, token, pdf_bytes(), "fresh.pdf")
    unknown = str(to_global_id("StoredFile", uuid.uuid4()))
    before = await counts(files_app, tenant)
    cases = [
        ({"registration": [unknown]}, (["answers", "registration", "0"], "NOT_FOUND")),
        ({"registration": [theirs]}, (["answers", "registration", "0"], "NOT_FOUND")),
        ({"other": [pdf]}, (["answers", "other", "0"], "FILE_ALREADY_CLAIMED")),
        ({"registration": [png]}, (["answers", "registration", "0"], "FILE_TYPE_NOT_ALLOWED")),
        ({"registration": [big]}, (["answers", "registration", "0"], "FILE_TOO_LARGE")),
        ({"other": [photo]}, (["answers", "other", "0"], "FILE_PURPOSE_MISMATCH")),
        ({"other": [fresh, "not-an-id"]}, (["answers", "other", "1"], "INVALID_ID")),
        ({"other": [to_global_id("Citizen", uuid.uuid4())]}, (["answers", "other", "0"], "INVALID_ID")),
    ]
    for extra, expected in cases:
        # when a submission names a bad file
        body = await gql_on(files_app, SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": {**GOOD_ANSWERS, **extra}}}, token)
        # then one precise error, and no request, event or claim is written (the good file stays free)
        assert errors_of(body, "requestSubmit") == [expected], extra
        assert await counts(files_app, tenant) == before, extra
    assert (await file_row(files_app, fresh)).owner_id is None
    # the message says which types are accepted
    body = await gql_on(files_app, SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": {**GOOD_ANSWERS, "registration": [png]}}}, token)
    assert "PDF" in body["data"]["requestSubmit"]["userErrors"][0]["message"]


async def test_drafts_keep_their_files_and_submit_with_them(gql, files_app, setup):
    tenant = setup
    _, _, token = await make_citizen(gql, tenant)
    pdf = await uploaded(files_app, token, pdf_bytes(), "carte.pdf")
    # when a citizen saves a draft naming a file, then saves it again unchanged
    saved = (await gql_on(files_app, SAVE_DRAFT, {"input": {"procedureCode": "parking-permit", "answers": {"registration": [pdf]}}}, token))
    draft = saved["data"]["requestSaveDraft"]["request"]
    assert [a["id"] for a in draft["attachments"]] == [pdf]
    again = await gql_on(
        files_app, SAVE_DRAFT, {"input": {"id": draft["id"], "version": draft["version"], "answers": {**GOOD_ANSWERS, "registration": [pdf]}}}, token
    )
    assert again["data"]["requestSaveDraft"]["userErrors"] == []
    # then submitting the draft keeps the file (claimed once, by the same request)
    body = await gql_on(files_app, SUBMIT, {"input": {"draftId": draft["id"]}}, token)
    payload = body["data"]["requestSubmit"]
    assert payload["userErrors"] == [] and [a["id"] for a in payload["request"]["attachments"]] == [pdf]
    # and a draft naming a file that is not theirs is refused
    _, _, other_token = await make_citizen(gql, tenant, givenNames="Autre")
    refused = await gql_on(files_app, SAVE_DRAFT, {"input": {"procedureCode": "parking-permit", "answers": {"other": [pdf]}}}, other_token)
    assert errors_of(refused, "requestSaveDraft") == [(["answers", "other", "0"], "NOT_FOUND")]


async def test_request_attach_adds_documents_on_the_timeline(gql, files_app, setup):
    tenant = setup
    _, _, token = await make_citizen(gql, tenant)
    _, _, other_token = await make_citizen(gql, tenant, givenNames="Autre")
    body = await gql_on(files_app, SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}}, token)
    request = body["data"]["requestSubmit"]["request"]
    first = await uploaded(files_app, token, pdf_bytes("one"), "one.pdf")
    second = await uploaded(files_app, token, png_bytes(), "two.png")
    # a stale version is a CONFLICT, nothing claimed
    stale = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [first], "version": 99}}, token)
    assert errors_of(stale, "requestAttach") == [(["version"], "CONFLICT")]
    assert (await file_row(files_app, first)).owner_id is None
    # another citizen may not attach to it
    forbidden = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [first]}}, other_token)
    assert [e["extensions"]["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]
    # when the citizen attaches two documents to their request
    body = await gql_on(
        files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [first, second], "version": request["version"]}}, token
    )
    payload = body["data"]["requestAttach"]
    assert payload["userErrors"] == []
    attached = payload["request"]
    # then they are attachments, the version moved, and a public timeline entry says so
    assert [a["id"] for a in attached["attachments"]] == [first, second]
    assert attached["version"] == request["version"] + 1
    entry = attached["timeline"]["nodes"][-1]
    assert (entry["kind"], entry["eventType"], entry["public"]) == ("ATTACHMENT", "request.attachment_added", True)
    assert entry["data"]["file_ids"] == [str(raw_id(first)), str(raw_id(second))]
    # attaching them again is refused, as is an id of the wrong type or an empty list
    again = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [second]}}, token)
    assert errors_of(again, "requestAttach") == [(["fileIds"], "FILE_ALREADY_CLAIMED")]
    wrong = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [request["id"]]}}, token)
    assert errors_of(wrong, "requestAttach") == [(["fileIds", "0"], "INVALID_ID")]
    empty = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": []}}, token)
    assert errors_of(empty, "requestAttach") == [(["fileIds"], "REQUIRED")]
    # an analyst (read-only staff) cannot attach
    third = await uploaded(files_app, tenant.tokens["AGENT"], pdf_bytes("three"), "three.pdf")
    analyst = await gql_on(files_app, ATTACH, {"input": {"requestId": request["id"], "fileIds": [third]}}, tenant.tokens["ANALYST"])
    assert [e["extensions"]["code"] for e in analyst["errors"]] == ["FORBIDDEN"]
    assert (await file_row(files_app, third)).owner_id is None


async def test_attachments_of_a_page_are_loaded_in_one_statement(gql, files_app, setup):
    tenant = setup
    _, _, token = await make_citizen(gql, tenant)
    for i in range(6):
        pdf = await uploaded(files_app, token, pdf_bytes(f"doc {i}"), f"doc{i}.pdf")
        body = await gql_on(files_app, SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": {**GOOD_ANSWERS, "other": [pdf]}}}, token)
        assert body["data"]["requestSubmit"]["userErrors"] == []
    sizes = {}
    for first in (2, 6):
        with count_statements(files_app) as statements:
            body = await gql_on(files_app, MY_REQUESTS, {"first": first}, token)
        nodes = body["data"]["myRequests"]["nodes"]
        assert len(nodes) == first and all(len(n["attachments"]) == 1 for n in nodes)
        sizes[first] = len(statements)
    assert sizes[2] == sizes[6], sizes
