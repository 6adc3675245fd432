"""Satisfaction (rate once a request is closed) and the dialogue (messages, internal notes, unread counts)."""

from __future__ import annotations

from tests.procedure_fixtures import GOOD_ANSWERS, add_department, make_citizen, permit, publish

SUBMIT = """
mutation($input: RequestSubmitInput!) { requestSubmit(input: $input) { request { id reference version } userErrors { code } } }
"""
TRANSITION = """
mutation($input: RequestTransitionInput!) { requestTransition(input: $input) { request { id version status } userErrors { field code } } }
"""
RATE = """
mutation($input: RequestRateInput!) {
  requestRate(input: $input) { request { satisfaction { rating comment } } userErrors { field code message } }
}
"""
POST = """
mutation($input: RequestMessagePostInput!) { requestMessagePost(input: $input) { message { id body internal authorType } userErrors { field code } } }
"""
THREAD = """
query($id: ID!) {
  request(id: $id) {
    unreadCount
    messages { edges { node { body internal authorType authorAgent { id } } } }
    timeline { edges { node { kind public } } }
  }
}
"""


async def _request(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    await publish(gql, tenant, permit())
    _, _, token = await make_citizen(gql, tenant)
    result = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS}}, token=token)
    return result.data["requestSubmit"]["request"], token


async def _move(gql, token, request, name, **extra):
    result = await gql(TRANSITION, {"input": {"id": request["id"], "version": request["version"], "transition": name, **extra}}, token=token)
    payload = result.data["requestTransition"]
    assert payload["userErrors"] == [], payload
    return payload["request"]


async def test_citizen_rates_a_closed_request_once(gql, app, tenant):
    request, token = await _request(gql, app, tenant)
    # not before it is closed
    early = await gql(RATE, {"input": {"id": request["id"], "rating": 5}}, token=token)
    assert early.data["requestRate"]["userErrors"][0]["code"] == "NOT_CLOSED"
    request = await _move(gql, tenant.tokens["AGENT"], request, "take")
    request = await _move(gql, tenant.tokens["AGENT"], request, "grant")
    assert request["status"] == "CLOSED"
    # out of range, then an agent trying, then the citizen
    bad = await gql(RATE, {"input": {"id": request["id"], "rating": 6}}, token=token)
    assert bad.data["requestRate"]["userErrors"] == [
        {"field": ["rating"], "code": "INVALID_RATING", "message": "La note doit être comprise entre 1 et 5."}
    ]
    assert (await gql(RATE, {"input": {"id": request["id"], "rating": 4}}, token=tenant.tokens["AGENT"])).error_codes == ["FORBIDDEN"]
    ok = await gql(RATE, {"input": {"id": request["id"], "rating": 4, "comment": " Rapide et clair. "}}, token=token)
    assert ok.data["requestRate"]["request"]["satisfaction"] == {"rating": 4, "comment": "Rapide et clair."}
    # only once
    twice = await gql(RATE, {"input": {"id": request["id"], "rating": 1}}, token=token, lang="en")
    assert twice.data["requestRate"]["userErrors"][0]["code"] == "ALREADY_RATED"
    assert "already rated" in twice.data["requestRate"]["userErrors"][0]["message"]


async def test_messages_internal_notes_and_unread_counts(gql, app, tenant):
    request, token = await _request(gql, app, tenant)
    agent = tenant.tokens["AGENT"]
    # the citizen writes; the agents have one unread message
    sent = await gql(POST, {"input": {"id": request["id"], "body": "Bonjour, où en est ma demande ?"}}, token=token)
    assert sent.data["requestMessagePost"]["message"]["authorType"] == "citizen"
    assert (await gql(THREAD, {"id": request["id"]}, token=agent)).data["request"]["unreadCount"] == 1
    # an agent replies and adds an internal note; the citizen may not write notes
    await gql(POST, {"input": {"id": request["id"], "body": "Elle est en cours d'instruction."}}, token=agent)
    await gql(POST, {"input": {"id": request["id"], "body": "Vérifier la plaque", "internal": True}}, token=agent)
    refused = await gql(POST, {"input": {"id": request["id"], "body": "note", "internal": True}}, token=token)
    assert refused.error_codes == ["FORBIDDEN"]
    blank = await gql(POST, {"input": {"id": request["id"], "body": "   "}}, token=token)
    assert blank.data["requestMessagePost"]["userErrors"] == [{"field": ["body"], "code": "BLANK"}]
    # the citizen sees the two messages, not the note, and one unread
    mine = (await gql(THREAD, {"id": request["id"]}, token=token)).data["request"]
    assert [e["node"]["body"] for e in mine["messages"]["edges"]] == ["Bonjour, où en est ma demande ?", "Elle est en cours d'instruction."]
    assert mine["unreadCount"] == 1
    assert [e["node"]["kind"] for e in mine["timeline"]["edges"]] == ["SUBMITTED", "MESSAGE", "MESSAGE"]
    # agents see everything; their side has read the citizen's message by replying
    theirs = (await gql(THREAD, {"id": request["id"]}, token=agent)).data["request"]
    assert [e["node"]["internal"] for e in theirs["messages"]["edges"]] == [False, False, True]
    assert theirs["messages"]["edges"][1]["node"]["authorAgent"]["id"]
    assert theirs["unreadCount"] == 0
    assert [e["node"]["kind"] for e in theirs["timeline"]["edges"]] == ["SUBMITTED", "MESSAGE", "MESSAGE", "NOTE"]
    # the citizen marks the thread read
    await gql("mutation($id: ID!) { requestMarkRead(input: {id: $id}) { request { id } } }", {"id": request["id"]}, token=token)
    assert (await gql(THREAD, {"id": request["id"]}, token=token)).data["request"]["unreadCount"] == 0
