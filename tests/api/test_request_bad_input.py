"""Malformed input is always a typed error, never a server fault, and writes nothing."""

from __future__ import annotations

import uuid

from schema.common import to_global_id
from tests.procedure_fixtures import GOOD_ANSWERS, PUBLISH, add_department, make_citizen, permit, publish

SUBMIT = """
mutation($input: RequestSubmitInput!) { requestSubmit(input: $input) { request { id version } userErrors { field code } } }
"""
TRANSITION = """
mutation($input: RequestTransitionInput!) { requestTransition(input: $input) { request { id } userErrors { field code } } }
"""


async def test_malformed_definitions(gql, tenant):
    for definition in ("just a string", [1, 2], 42, {}):
        result = await gql(PUBLISH, {"input": {"definition": definition}}, token=tenant.tokens["ADMIN"])
        assert result.status == 200, result.body
        payload = result.data["procedurePublish"]
        assert payload["procedure"] is None and payload["userErrors"], definition
        assert all(e["field"][0] == "definition" for e in payload["userErrors"])


async def test_malformed_answers_inputs_and_ids(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    await publish(gql, tenant, permit())
    _, _, token = await make_citizen(gql, tenant)
    listed = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": ["a"]}}, token=token)
    assert listed.data["requestSubmit"]["userErrors"] == [{"field": ["answers"], "code": "INVALID_ANSWER"}]
    ok = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}}, token=token)
    request = ok.data["requestSubmit"]["request"]
    bad_inputs = await gql(
        TRANSITION, {"input": {"id": request["id"], "version": 1, "transition": "take", "inputs": ["x"]}}, token=tenant.tokens["AGENT"]
    )
    assert bad_inputs.data["requestTransition"]["userErrors"] == [{"field": ["inputs"], "code": "INVALID_ANSWER"}]
    wrong_type = await gql(
        TRANSITION, {"input": {"id": to_global_id("Citizen", uuid.uuid4()), "version": 1, "transition": "take"}}, token=tenant.tokens["AGENT"]
    )
    assert wrong_type.data["requestTransition"]["userErrors"] == [{"field": ["id"], "code": "INVALID_ID"}]
    garbage = await gql(TRANSITION, {"input": {"id": "%%%", "version": 1, "transition": "take"}}, token=tenant.tokens["AGENT"])
    assert garbage.data["requestTransition"]["userErrors"] == [{"field": ["id"], "code": "INVALID_ID"}]
    bad_citizen = await gql(
        SUBMIT,
        {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS, "channel": "POST", "citizenId": "nope"}},
        token=tenant.tokens["AGENT"],
    )
    assert bad_citizen.data["requestSubmit"]["userErrors"] == [{"field": ["citizenId"], "code": "INVALID_ID"}]
    missing_citizen = await gql(
        SUBMIT,
        {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS, "citizenId": to_global_id("Citizen", uuid.uuid4())}},
        token=tenant.tokens["AGENT"],
    )
    assert missing_citizen.data["requestSubmit"]["userErrors"] == [{"field": ["citizenId"], "code": "NOT_FOUND"}]
    # no token at all
    anonymous = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]


async def test_cli_reports_unreadable_files(app, tenant, tmp_path, database_url, monkeypatch):
    import asyncio

    from click.testing import CliRunner

    from api.cli import main
    from api.settings import get_settings

    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    get_settings.cache_clear()
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: [unclosed\n", encoding="utf-8")
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["procedures", "import", str(broken), "--tenant", tenant.slug]
    )
    assert result.exit_code == 1
    assert "definition: INVALID_DEFINITION" in result.output
    unknown = await asyncio.to_thread(CliRunner().invoke, main, ["procedures", "import", str(broken), "--tenant", "nowhere"])
    assert unknown.exit_code == 1 and "unknown tenant" in unknown.output
    get_settings.cache_clear()
