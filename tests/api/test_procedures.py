"""Procedures as data through the API and the CLI import: publish, versions, refusals, prefill."""

from __future__ import annotations

import json

import yaml

from tests.procedure_fixtures import PERMIT, add_department, make_citizen, permit, publish

PROCEDURE = """
query($code: String!) {
  procedure(code: $code) {
    code category title { fr en } description { fr en } currentVersionNumber
    form workflow { initialState states { code status terminal publicLabel { fr } } transitions { name fromStates toState roles requiredInputs } }
    prefill
    currentVersion { number slaBusinessDays channels assuranceLevel requiredDocuments prefillMapping }
    versions { number }
  }
}
"""
CATALOGUE = "query { procedures { code title { en } } }"


async def test_admin_publishes_a_procedure_and_a_change_makes_a_new_version(gql, app, tenant):
    # given the departments the routing refers to
    await add_department(app, tenant, "voirie", "Voirie")
    # when an admin publishes the definition
    first = await publish(gql, tenant)
    # then version 1 exists and is visible in the catalogue, also to a citizen
    assert first["userErrors"] == []
    assert first["procedure"]["currentVersionNumber"] == 1
    _, _, citizen_token = await make_citizen(gql, tenant)
    catalogue = await gql(CATALOGUE, token=citizen_token)
    assert [p["code"] for p in catalogue.data["procedures"]] == ["parking-permit"]

    # when the same definition is published again: no new version (idempotent import)
    again = await publish(gql, tenant)
    assert again["procedure"]["currentVersionNumber"] == 1
    # when it is changed: version 2
    changed = permit(sla={"businessDays": 7})
    second = await publish(gql, tenant, changed)
    assert second["procedure"]["currentVersionNumber"] == 2
    result = await gql(PROCEDURE, {"code": "parking-permit"}, token=tenant.tokens["AGENT"])
    procedure = result.data["procedure"]
    assert [v["number"] for v in procedure["versions"]] == [1, 2]
    assert procedure["currentVersion"]["slaBusinessDays"] == 7
    assert procedure["currentVersion"]["channels"] == ["WEB", "APP", "COUNTER", "PHONE"]
    assert procedure["workflow"]["initialState"] == "submitted"
    reject = next(t for t in procedure["workflow"]["transitions"] if t["name"] == "reject")
    assert reject == {"name": "reject", "fromStates": ["submitted", "review"], "toState": "rejected", "roles": ["SUPERVISOR"], "requiredInputs": ["reason"]}
    assert procedure["form"]["ui"]["fields"]["vanLength"]["visibleWhen"] == {"field": "vehicle", "equals": "van"}
    # agents have no profile to prefill from
    assert procedure["prefill"] == {}


async def test_prefill_from_the_citizen_profile(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    await publish(gql, tenant)
    _, _, token = await make_citizen(gql, tenant, givenNames="Jean", familyName="Dupont")
    result = await gql(PROCEDURE, {"code": "parking-permit"}, token=token)
    assert result.data["procedure"]["prefill"] == {
        "fullName": "Jean Dupont",
        "address": {"number": "3", "street": "rue des Écoles", "postcode": "75005", "city": "Paris"},
    }


async def test_only_admins_publish(gql, tenant):
    result = await gql(
        "mutation($d: JSON!) { procedurePublish(input: {definition: $d}) { procedure { id } } }",
        {"d": PERMIT},
        token=tenant.tokens["AGENT"],
    )
    assert result.error_codes == ["FORBIDDEN"]


def _errors(payload):
    return {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]}


async def test_structural_errors_point_at_the_faulty_place(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    broken = permit()
    wf = broken["workflow"]
    wf["transitions"][3]["to"] = "nowhere"  # transition to an unknown state
    wf["states"].append({"code": "limbo", "status": "IN_PROGRESS", "label": {"fr": "Limbes", "en": "Limbo"}})  # unreachable
    broken["routing"]["defaultDepartment"] = "finances"  # unknown department
    broken["form"]["schema"]["properties"]["plate"]["minLength"] = -1  # invalid JSON Schema
    payload = await publish(gql, tenant, broken)
    assert payload["procedure"] is None
    errors = _errors(payload)
    assert (("definition", "workflow", "transitions", "3", "to"), "UNKNOWN_STATE") in errors
    assert (("definition", "workflow", "states", "6"), "UNREACHABLE_STATE") in errors
    assert (("definition", "routing", "defaultDepartment"), "UNKNOWN_DEPARTMENT") in errors
    assert (("definition", "form", "schema", "properties", "plate", "minLength"), "INVALID_JSON_SCHEMA") in errors
    # "granted" is now unreachable too (its only incoming transition was redirected)
    assert (("definition", "workflow", "states", "3"), "UNREACHABLE_STATE") in errors
    # nothing was written
    result = await gql(PROCEDURE, {"code": "parking-permit"}, token=tenant.tokens["ADMIN"])
    assert result.data["procedure"] is None


async def test_form_references_must_resolve_locally(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    remote = permit()
    remote["form"]["schema"]["properties"]["plate"] = {"$ref": "https://example.org/plate.json"}
    payload = await publish(gql, tenant, remote)
    assert _errors(payload) == {(("definition", "form", "schema", "properties", "plate", "$ref"), "INVALID_JSON_SCHEMA")}
    local = permit()
    local["form"]["schema"]["$defs"] = {"plate": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}-[A-Z]{2}$"}}
    local["form"]["schema"]["properties"]["plate"] = {"$ref": "#/$defs/plate"}
    assert (await publish(gql, tenant, local))["userErrors"] == []


async def test_no_terminal_state_and_shape_errors(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    broken = permit()
    for state in broken["workflow"]["states"]:
        state.pop("terminal", None)
    del broken["title"]["en"]
    broken["workflow"]["states"][0]["status"] = "PENDING"
    broken["colour"] = "blue"
    payload = await publish(gql, tenant, broken, )
    errors = _errors(payload)
    assert (("definition", "workflow", "states"), "NO_TERMINAL_STATE") not in errors  # shape first
    assert (("definition", "title", "en"), "REQUIRED") in errors
    assert (("definition", "workflow", "states", "0", "status"), "INVALID_DEFINITION") in errors
    assert (("definition", "colour"), "UNKNOWN_PROPERTY") in errors
    # once the shape is right, the meaning is checked
    broken = permit()
    for state in broken["workflow"]["states"]:
        state.pop("terminal", None)
    payload = await publish(gql, tenant, broken)
    assert _errors(payload) == {(("definition", "workflow", "states"), "NO_TERMINAL_STATE")}
    en = next(e for e in payload["userErrors"])
    assert "terminal" in en["message"]


async def test_cli_import_of_yaml_and_json(app, tenant, tmp_path, database_url, monkeypatch):
    """`guichet procedures import FILE --tenant SLUG` with YAML, then JSON, then a broken file."""
    from click.testing import CliRunner

    from api.cli import main
    from api.settings import get_settings

    await add_department(app, tenant, "voirie", "Voirie")
    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yaml_file = tmp_path / "permit.yaml"
    yaml_file.write_text(yaml.safe_dump(PERMIT, allow_unicode=True), encoding="utf-8")
    json_file = tmp_path / "permit.json"
    json_file.write_text(json.dumps(permit(sla={"businessDays": 9})), encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    bad = permit()
    bad["workflow"]["transitions"][0]["to"] = "nowhere"
    broken.write_text(yaml.safe_dump(bad), encoding="utf-8")
    runner = CliRunner()

    import asyncio

    def invoke(*args):
        # the CLI runs its own event loop: run it in a thread
        return runner.invoke(main, ["procedures", "import", *args, "--tenant", tenant.slug])

    ok = await asyncio.to_thread(invoke, str(yaml_file))
    assert ok.exit_code == 0, ok.output
    assert "parking-permit version 1" in ok.output
    ok = await asyncio.to_thread(invoke, str(json_file))
    assert "parking-permit version 2" in ok.output
    refused = await asyncio.to_thread(invoke, str(broken))
    assert refused.exit_code == 1
    assert "definition.workflow.transitions.0.to: UNKNOWN_STATE" in refused.output
    get_settings.cache_clear()


SET_ACTIVE = """
mutation($input: ProcedureSetActiveInput!) { procedureSetActive(input: $input) { procedure { code active } userErrors { field code } } }
"""


async def test_withdrawn_procedure_leaves_the_catalogue_and_refuses_submissions(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    await publish(gql, tenant)
    _, _, token = await make_citizen(gql, tenant)
    submit = """mutation($a: JSON) { requestSubmit(input: {procedureCode: "parking-permit", answers: $a}) {
      request { reference status } userErrors { field code } } }"""
    answers = {"plate": "AB-123-CD", "vehicle": "car"}
    before = (await gql(submit, {"a": answers}, token=token)).data["requestSubmit"]
    assert before["userErrors"] == []
    # when an admin withdraws it
    assert (await gql(SET_ACTIVE, {"input": {"code": "parking-permit", "active": False}}, token=tenant.tokens["AGENT"])).error_codes == ["FORBIDDEN"]
    out = await gql(SET_ACTIVE, {"input": {"code": "parking-permit", "active": False}}, token=tenant.tokens["ADMIN"])
    assert out.data["procedureSetActive"]["procedure"] == {"code": "parking-permit", "active": False}
    # then it leaves the catalogue, refuses new requests, and the existing request is still followed
    assert (await gql(CATALOGUE, token=token)).data["procedures"] == []
    refused = (await gql(submit, {"a": answers}, token=token)).data["requestSubmit"]
    assert refused["userErrors"] == [{"field": ["procedureCode"], "code": "UNKNOWN_PROCEDURE"}]
    followed = await gql("query($r: String!) { request(reference: $r) { status procedure { code active } } }", {"r": before["request"]["reference"]}, token=token)
    assert followed.data["request"] == {"status": "SUBMITTED", "procedure": {"code": "parking-permit", "active": False}}
    # publishing the same definition again offers it again, without a new version
    again = await publish(gql, tenant)
    assert again["procedure"]["currentVersionNumber"] == 1
    assert [p["code"] for p in (await gql(CATALOGUE, token=token)).data["procedures"]] == ["parking-permit"]
    unknown = await gql(SET_ACTIVE, {"input": {"code": "nope", "active": True}}, token=tenant.tokens["ADMIN"])
    assert unknown.data["procedureSetActive"]["userErrors"] == [{"field": ["code"], "code": "UNKNOWN_PROCEDURE"}]
