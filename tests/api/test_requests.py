"""Requests through the public API: submission on every channel, drafts, workflow, races, timeline."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from tests.procedure_fixtures import GOOD_ANSWERS, add_department, make_citizen, permit, publish

REQUEST_FIELDS = """
  id reference status channel priority answers version dueAt submittedAt closedAt overdue
  state { code status publicLabel { fr } terminal }
  procedure { code } procedureVersion { number }
  citizen { id familyName } department { code } assignee { id }
  availableTransitions { name requiredInputs }
"""
SUBMIT = f"""
mutation($input: RequestSubmitInput!) {{
  requestSubmit(input: $input) {{ request {{ {REQUEST_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
DRAFT = f"""
mutation($input: RequestSaveDraftInput!) {{
  requestSaveDraft(input: $input) {{ request {{ {REQUEST_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
TRANSITION = f"""
mutation($input: RequestTransitionInput!) {{
  requestTransition(input: $input) {{ request {{ {REQUEST_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
ASSIGN = """
mutation($input: RequestAssignInput!) {
  requestAssign(input: $input) { request { id version assignee { id } department { code } } userErrors { field code } }
}
"""
BY_REFERENCE = """
query($ref: String!) {
  request(reference: $ref) {
    reference status
    timeline { edges { node { kind public transition fromState toState status inputs actorType } } }
    lastTimelineEntry { kind }
  }
}
"""
MY_REQUESTS = """
query($first: Int, $after: String) {
  myRequests(first: $first, after: $after) {
    edges { cursor node { reference status procedure { code } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def setup(gql, app, tenant, **changes):
    await add_department(app, tenant, "voirie", "Voirie")
    payload = await publish(gql, tenant, permit(**changes))
    assert payload["userErrors"] == [], payload
    return await make_citizen(gql, tenant)


async def submit(gql, token, **input):
    result = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS, **input}}, token=token)
    assert result.status == 200, result.body
    return result.data["requestSubmit"]


async def transition(gql, token, request, name, **extra):
    result = await gql(
        TRANSITION, {"input": {"id": request["id"], "version": request["version"], "transition": name, **extra}}, token=token
    )
    if result.errors:
        return result
    assert result.status == 200, result.body
    return result.data["requestTransition"]


async def test_citizen_submits_online_with_prefill_routing_reference_and_sla(gql, app, tenant):
    # given a published procedure and a citizen
    citizen_gid, _, token = await setup(gql, app, tenant)
    # when the citizen submits on the web without retyping what their profile holds
    payload = await submit(gql, token)
    # then the request is created with a reference, its initial state, routing and due date
    assert payload["userErrors"] == []
    request = payload["request"]
    assert re.fullmatch(r"\d{4}-\d{6}", request["reference"])
    assert request["status"] == "SUBMITTED"
    assert request["state"] == {"code": "submitted", "status": "SUBMITTED", "publicLabel": {"fr": "Reçue"}, "terminal": False}
    assert request["channel"] == "WEB"
    assert request["priority"] == "NORMAL"
    assert request["version"] == 1
    assert request["citizen"]["id"] == citizen_gid
    assert request["department"]["code"] == "accueil"
    assert request["answers"]["fullName"] == "Élodie Lefèvre"  # prefilled (tell us once)
    assert request["answers"]["address"]["city"] == "Paris"
    assert request["procedureVersion"]["number"] == 1
    assert [t["name"] for t in request["availableTransitions"]] == ["cancel"]
    submitted = datetime.fromisoformat(request["submittedAt"])
    due = datetime.fromisoformat(request["dueAt"])
    assert 3 <= (due.date() - submitted.date()).days <= 3 + 2 + 4  # 3 business days, weekends/holidays skipped
    assert request["overdue"] is False

    # routing rule on the answers: a van goes to the roads department
    van = await submit(gql, token, answers={**GOOD_ANSWERS, "vehicle": "van", "vanLength": 5.5})
    assert van["request"]["department"]["code"] == "voirie"
    # references are consecutive within the tenant and year
    first_number = int(request["reference"].split("-")[1])
    assert van["request"]["reference"].endswith(f"{first_number + 1:06d}")


async def test_invalid_answers_one_error_per_field_and_nothing_written(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    bad = {"plate": "not a plate", "vehicle": "bus", "since": "31/12/2020", "extra": 1}
    payload = await submit(gql, token, answers=bad)
    assert payload["request"] is None
    by_field = {tuple(e["field"]): e["code"] for e in payload["userErrors"]}
    assert by_field == {
        ("answers", "plate"): "INVALID_ANSWER",
        ("answers", "vehicle"): "INVALID_CHOICE",
        ("answers", "since"): "INVALID_ANSWER",
        ("answers", "extra"): "UNKNOWN_FIELD",
    }
    # a conditional requirement (if/then): a van needs its length; a hidden field is ignored
    payload = await submit(gql, token, answers={**GOOD_ANSWERS, "vehicle": "van"})
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["answers", "vanLength"], "REQUIRED")]
    ok = await submit(gql, token, answers={**GOOD_ANSWERS, "vanLength": 99})
    assert ok["userErrors"] == [] and "vanLength" not in ok["request"]["answers"]
    # nothing was written by the refused attempts
    mine = await gql(MY_REQUESTS, token=token)
    assert len(mine.data["myRequests"]["edges"]) == 1


async def test_unknown_procedure_channels_and_assurance_level(gql, app, tenant):
    citizen_gid, _, token = await setup(gql, app, tenant, channels=["WEB", "COUNTER"])
    payload = await submit(gql, token, procedureCode="no-such-thing")
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["procedureCode"], "UNKNOWN_PROCEDURE")]
    # a citizen cannot claim a counter channel; the procedure refuses APP
    payload = await submit(gql, token, channel="COUNTER")
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["channel"], "CHANNEL_NOT_ACCEPTED")]
    payload = await submit(gql, token, channel="APP")
    assert payload["userErrors"][0]["code"] == "CHANNEL_NOT_ACCEPTED"
    # an agent submits on behalf of the citizen at the counter; PHONE is not accepted by this procedure
    agent = tenant.tokens["AGENT"]
    payload = await submit(gql, agent, channel="COUNTER", citizenId=citizen_gid, priority="HIGH")
    assert payload["userErrors"] == []
    assert payload["request"]["channel"] == "COUNTER" and payload["request"]["priority"] == "HIGH"
    payload = await submit(gql, agent, channel="PHONE", citizenId=citizen_gid)
    assert payload["userErrors"][0]["code"] == "CHANNEL_NOT_ACCEPTED"
    payload = await submit(gql, agent, channel="COUNTER")
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["citizenId"], "REQUIRED")]
    # a procedure requiring a verified identity refuses a declared one, in the caller's language
    await publish(gql, tenant, permit(channels=["WEB", "COUNTER"], assuranceLevel="FRANCECONNECT"))
    result = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}}, token=token, lang="en")
    error = result.data["requestSubmit"]["userErrors"][0]
    assert error["code"] == "ASSURANCE_LEVEL_TOO_LOW" and "FranceConnect" in error["message"]
    # analysts cannot submit
    result = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}}, token=tenant.tokens["ANALYST"])
    assert result.error_codes == ["FORBIDDEN"]


async def test_drafts_are_saved_resumed_and_submitted(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    # an incomplete draft is accepted as is
    saved = (await gql(DRAFT, {"input": {"procedureCode": "parking-permit", "answers": {"plate": "AB-1"}}}, token=token)).data
    draft = saved["requestSaveDraft"]["request"]
    assert draft["status"] == "DRAFT" and draft["reference"] is None and draft["state"] is None
    # resumed and updated with its version
    updated = await gql(DRAFT, {"input": {"id": draft["id"], "version": 1, "answers": {"plate": "AB-123-CD", "vehicle": "car"}}}, token=token)
    draft = updated.data["requestSaveDraft"]["request"]
    assert draft["version"] == 2
    stale = await gql(DRAFT, {"input": {"id": draft["id"], "version": 1, "answers": {}}}, token=token)
    assert stale.data["requestSaveDraft"]["userErrors"][0]["code"] == "CONFLICT"
    # submitted: validated, referenced, no longer a draft
    payload = await submit(gql, token, procedureCode=None, draftId=draft["id"], answers=None)
    assert payload["userErrors"] == []
    assert payload["request"]["id"] == draft["id"]
    assert payload["request"]["status"] == "SUBMITTED" and payload["request"]["reference"]
    again = await submit(gql, token, procedureCode=None, draftId=draft["id"], answers=None)
    assert again["userErrors"][0]["code"] == "NOT_A_DRAFT"
    # agents cannot save drafts, nor see the drafts citizens have not sent
    result = await gql(DRAFT, {"input": {"procedureCode": "parking-permit", "answers": {}}}, token=tenant.tokens["AGENT"])
    assert result.error_codes == ["FORBIDDEN"]
    other = (await gql(DRAFT, {"input": {"procedureCode": "parking-permit", "answers": {}}}, token=token)).data
    hidden = other["requestSaveDraft"]["request"]["id"]
    seen = await gql("query($id: ID!) { request(id: $id) { id } }", {"id": hidden}, token=tenant.tokens["AGENT"])
    assert seen.data["request"] is None
    assert (await gql("query($id: ID!) { request(id: $id) { id } }", {"id": hidden}, token=token)).data["request"]["id"] == hidden


async def test_workflow_roles_inputs_versions_and_citizen_actions(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    request = (await submit(gql, token))["request"]
    agent = tenant.tokens["AGENT"]
    # a transition that does not exist, or not from this state, or not for this role
    payload = await transition(gql, agent, request, "fly")
    assert payload["userErrors"][0]["code"] == "UNKNOWN_TRANSITION"
    payload = await transition(gql, agent, request, "grant")
    assert payload["userErrors"][0]["code"] == "TRANSITION_NOT_ALLOWED"
    payload = await transition(gql, agent, request, "reject", inputs={"reason": "x"})
    assert payload["userErrors"][0]["code"] == "TRANSITION_NOT_ALLOWED"  # SUPERVISOR only
    payload = await transition(gql, token, request, "take")
    assert payload["userErrors"][0]["code"] == "TRANSITION_NOT_ALLOWED"  # not for citizens
    # the agent takes it
    payload = await transition(gql, agent, request, "take")
    assert payload["userErrors"] == []
    request = payload["request"]
    assert request["state"]["code"] == "review" and request["status"] == "IN_PROGRESS" and request["version"] == 2
    # a stale version is a conflict
    stale = await transition(gql, agent, {**request, "version": 1}, "ask", inputs={"question": "?"})
    assert [(e["field"], e["code"]) for e in stale["userErrors"]] == [(["version"], "CONFLICT")]
    # a required input is missing
    payload = await transition(gql, agent, request, "ask", inputs={"question": "  "})
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["inputs", "question"], "MISSING_TRANSITION_INPUT")]
    payload = await transition(gql, agent, request, "ask", inputs={"question": "Pouvez-vous préciser la plaque ?"})
    request = payload["request"]
    assert request["status"] == "WAITING_FOR_CITIZEN"
    # the citizen answers with corrected answers (validated again)
    bad = await transition(gql, token, request, "answer", answers={"plate": "??"})
    assert {tuple(e["field"]) for e in bad["userErrors"]} >= {("answers", "plate")}
    payload = await transition(gql, token, request, "answer", answers={**GOOD_ANSWERS, "plate": "ZZ-999-ZZ"}, inputs={"comment": "Corrigé"})
    assert payload["userErrors"] == []
    request = payload["request"]
    assert request["status"] == "IN_PROGRESS" and request["answers"]["plate"] == "ZZ-999-ZZ"
    # a supervisor rejects with a reason; the request is closed
    payload = await transition(gql, tenant.tokens["SUPERVISOR"], request, "reject", inputs={"reason": "Hors zone"})
    request = payload["request"]
    assert request["status"] == "REJECTED" and request["state"]["terminal"] and request["closedAt"]
    assert request["availableTransitions"] == []


async def test_citizen_cancels_and_cannot_touch_another_citizens_request(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    _, _, other = await make_citizen(gql, tenant, givenNames="Paul")
    request = (await submit(gql, token))["request"]
    # another citizen can neither act on nor read it
    result = await transition(gql, other, request, "cancel")
    assert result.error_codes == ["FORBIDDEN"] and result.status == 403
    read = await gql(BY_REFERENCE, {"ref": request["reference"]}, token=other)
    assert read.error_codes == ["FORBIDDEN"]
    # its citizen cancels while the workflow allows it
    payload = await transition(gql, token, request, "cancel")
    assert payload["request"]["status"] == "CANCELLED"
    # nothing changed for the other citizen's attempt: one submission, one cancellation
    timeline = await gql(BY_REFERENCE, {"ref": request["reference"]}, token=token)
    assert [e["node"]["kind"] for e in timeline.data["request"]["timeline"]["edges"]] == ["SUBMITTED", "TRANSITION"]


async def test_another_tenant_does_not_see_the_request(gql, app, tenant, make_tenant):
    _, _, token = await setup(gql, app, tenant)
    request = (await submit(gql, token))["request"]
    other_tenant = await make_tenant("other")
    read = await gql(BY_REFERENCE, {"ref": request["reference"]}, token=other_tenant.tokens["AGENT"])
    assert read.data["request"] is None
    result = await transition(gql, other_tenant.tokens["AGENT"], request, "take")
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["id"], "NOT_FOUND")]


async def test_two_agents_racing_exactly_one_wins(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    request = (await submit(gql, token))["request"]
    # when two agents take the same request at the same time with the same version
    results = await asyncio.gather(
        transition(gql, tenant.tokens["AGENT"], request, "take"),
        transition(gql, tenant.tokens["SUPERVISOR"], request, "take"),
    )
    # then exactly one wins, the other gets CONFLICT
    winners = [r for r in results if r["userErrors"] == []]
    losers = [r for r in results if r["userErrors"]]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["userErrors"][0]["code"] == "CONFLICT"
    assert winners[0]["request"]["version"] == 2


async def test_concurrent_submissions_get_distinct_consecutive_references(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    payloads = await asyncio.gather(*[submit(gql, token) for _ in range(8)])
    refs = sorted(p["request"]["reference"] for p in payloads)
    numbers = [int(r.split("-")[1]) for r in refs]
    assert numbers == list(range(numbers[0], numbers[0] + 8))


async def test_timeline_public_for_citizen_all_for_agents(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    request = (await submit(gql, token))["request"]
    agent = tenant.tokens["AGENT"]
    assigned = await gql(ASSIGN, {"input": {"id": request["id"], "version": 1, "assigneeId": _agent_gid(tenant)}}, token=agent)
    assert assigned.data["requestAssign"]["userErrors"] == []
    request = {**request, "version": 2}
    await transition(gql, agent, request, "take")
    # the agent sees everything, in order
    seen = await gql(BY_REFERENCE, {"ref": request["reference"]}, token=agent)
    kinds = [e["node"]["kind"] for e in seen.data["request"]["timeline"]["edges"]]
    assert kinds == ["SUBMITTED", "ASSIGNMENT", "TRANSITION"]
    assert seen.data["request"]["lastTimelineEntry"]["kind"] == "TRANSITION"
    last = seen.data["request"]["timeline"]["edges"][-1]["node"]
    assert (last["transition"], last["fromState"], last["toState"], last["status"]) == ("take", "submitted", "review", "IN_PROGRESS")
    # the citizen sees the public entries only
    mine = await gql(BY_REFERENCE, {"ref": request["reference"]}, token=token)
    assert [e["node"]["kind"] for e in mine.data["request"]["timeline"]["edges"]] == ["SUBMITTED", "TRANSITION"]
    assert all(e["node"]["public"] for e in mine.data["request"]["timeline"]["edges"])


def _agent_gid(tenant, role="AGENT"):
    from schema.common import to_global_id

    return to_global_id("Agent", tenant.agents[role])


async def test_existing_requests_keep_their_procedure_version(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    old = (await submit(gql, token))["request"]
    # a new version renames the states and makes the plate optional
    changed = permit()
    changed["workflow"]["states"][0]["publicLabel"] = {"fr": "Bien reçue", "en": "Well received"}
    changed["form"]["schema"]["required"] = ["fullName", "vehicle", "address"]
    assert (await publish(gql, tenant, changed))["procedure"]["currentVersionNumber"] == 2
    new = (await submit(gql, token, answers={"vehicle": "car"}))["request"]
    assert new["procedureVersion"]["number"] == 2 and new["state"]["publicLabel"]["fr"] == "Bien reçue"
    # the old request still shows version 1
    refreshed = await gql(f"query($id: ID!) {{ request(id: $id) {{ {REQUEST_FIELDS} }} }}", {"id": old["id"]}, token=token)
    assert refreshed.data["request"]["procedureVersion"]["number"] == 1
    assert refreshed.data["request"]["state"]["publicLabel"]["fr"] == "Reçue"


async def test_my_requests_newest_first_with_cursors(gql, app, tenant):
    _, _, token = await setup(gql, app, tenant)
    refs = [(await submit(gql, token))["request"]["reference"] for _ in range(3)]
    page = (await gql(MY_REQUESTS, {"first": 2}, token=token)).data["myRequests"]
    assert [e["node"]["reference"] for e in page["edges"]] == [refs[2], refs[1]]
    assert page["pageInfo"]["hasNextPage"]
    rest = (await gql(MY_REQUESTS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=token)).data["myRequests"]
    assert [e["node"]["reference"] for e in rest["edges"]] == [refs[0]]
    # agents have no "my requests"
    assert (await gql(MY_REQUESTS, token=tenant.tokens["AGENT"])).error_codes == ["FORBIDDEN"]
