"""The agents' inbox: filters, orders, keyset cursors, full-text search, (bulk) assignment, no N+1."""

from __future__ import annotations

import base64
import uuid
from contextlib import contextmanager

from sqlalchemy import event

from schema.common import to_global_id
from tests.procedure_fixtures import GOOD_ANSWERS, add_department, make_citizen, permit, publish

INBOX = """
query($filter: InboxFilter, $orderBy: InboxOrder, $first: Int, $after: String) {
  inbox(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    edges { cursor node {
      reference status priority channel dueAt overdue
      citizen { id displayName } procedure { code title { fr } } department { code name } assignee { id displayName }
      state { code label { fr } }
      lastTimelineEntry { kind occurredAt }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
INBOX_WITH_FRAGMENTS = """
fragment Who on Request { citizen { displayName } assignee { displayName } }
query($first: Int) {
  inbox(first: $first) {
    nodes { reference ...Who ... on Request { procedure { code } department { code } state { code } lastTimelineEntry { kind } } }
  }
}
"""
SUBMIT = """
mutation($input: RequestSubmitInput!) { requestSubmit(input: $input) { request { id reference version } userErrors { field code } } }
"""
BULK = """
mutation($input: RequestsAssignInput!) { requestsAssign(input: $input) { requests { reference assignee { id } } userErrors { field code } } }
"""
ASSIGN = """
mutation($input: RequestAssignInput!) { requestAssign(input: $input) { request { version assignee { id } department { code } } userErrors { field code } } }
"""


async def _setup(gql, app, tenant):
    await add_department(app, tenant, "voirie", "Voirie")
    assert (await publish(gql, tenant, permit()))["userErrors"] == []


async def _submit(gql, token, **input):
    result = await gql(SUBMIT, {"input": {"procedureCode": "parking-permit", "answers": GOOD_ANSWERS, **input}}, token=token)
    payload = result.data["requestSubmit"]
    assert payload["userErrors"] == [], payload
    return payload["request"]


async def _inbox(gql, tenant, role="AGENT", **variables):
    result = await gql(INBOX, variables, token=tenant.tokens[role])
    assert result.status == 200 and not result.errors, result.body
    return result.data["inbox"]


def refs(page):
    return [e["node"]["reference"] for e in page["edges"]]


async def test_filters_orders_and_cursors(gql, app, tenant):
    await _setup(gql, app, tenant)
    citizen_gid, _, token = await make_citizen(gql, tenant)
    agent = tenant.tokens["AGENT"]
    web = await _submit(gql, token)
    counter = await _submit(gql, agent, channel="COUNTER", citizenId=citizen_gid, priority="URGENT")
    van = await _submit(gql, token, answers={**GOOD_ANSWERS, "vehicle": "van", "vanLength": 6})
    phone = await _submit(gql, agent, channel="PHONE", citizenId=citizen_gid, priority="LOW")
    # drafts never reach the inbox
    await gql("mutation { requestSaveDraft(input: {procedureCode: \"parking-permit\", answers: {}}) { request { id } } }", token=token)

    everything = await _inbox(gql, tenant, first=10)
    assert sorted(refs(everything)) == sorted(r["reference"] for r in (web, counter, van, phone))
    node = everything["edges"][0]["node"]
    assert node["procedure"]["code"] == "parking-permit" and node["citizen"]["displayName"] == "Élodie Lefèvre"
    assert node["lastTimelineEntry"]["kind"] == "SUBMITTED" and node["state"]["label"]["fr"] == "Reçue"

    # by channel, department, priority
    assert set(refs(await _inbox(gql, tenant, filter={"channels": ["COUNTER", "PHONE"]}))) == {counter["reference"], phone["reference"]}
    voirie_id = to_global_id("Department", await _department_id(app, tenant, "voirie"))
    assert refs(await _inbox(gql, tenant, filter={"departmentIds": [voirie_id]})) == [van["reference"]]
    assert refs(await _inbox(gql, tenant, filter={"priorities": ["URGENT"]})) == [counter["reference"]]
    # by status and procedure
    assert refs(await _inbox(gql, tenant, filter={"status": ["CLOSED"]})) == []
    assert len(refs(await _inbox(gql, tenant, filter={"procedureCodes": ["parking-permit"]}))) == 4
    assert refs(await _inbox(gql, tenant, filter={"procedureCodes": ["other"]})) == []
    # overdue: nothing is overdue yet
    assert refs(await _inbox(gql, tenant, filter={"overdue": True})) == []
    assert len(refs(await _inbox(gql, tenant, filter={"overdue": False}))) == 4

    # order by priority: URGENT first, LOW last
    by_priority = refs(await _inbox(gql, tenant, orderBy={"field": "PRIORITY"}))
    assert by_priority[0] == counter["reference"] and by_priority[-1] == phone["reference"]
    # order by creation, newest first, paged 2 by 2 with keyset cursors
    page1 = await _inbox(gql, tenant, orderBy={"field": "CREATED", "direction": "DESC"}, first=2)
    page2 = await _inbox(gql, tenant, orderBy={"field": "CREATED", "direction": "DESC"}, first=2, after=page1["pageInfo"]["endCursor"])
    assert refs(page1) + refs(page2) == [phone["reference"], van["reference"], counter["reference"], web["reference"]]
    assert page1["pageInfo"]["hasNextPage"] and not page2["pageInfo"]["hasNextPage"]
    # a bad cursor is a typed error, not a crash
    bad = await gql(INBOX, {"after": "garbage"}, token=agent)
    assert bad.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"

    # citizens and analysts have no inbox
    assert (await gql(INBOX, {}, token=token)).error_codes == ["FORBIDDEN"]
    assert (await gql(INBOX, {}, token=tenant.tokens["ANALYST"])).error_codes == ["FORBIDDEN"]


async def _department_id(app, tenant, code):
    import sqlalchemy as sa

    from domain.tenancy.models import Department

    async with app.state.sessionmaker() as s:
        return (await s.execute(sa.select(Department.id).where(Department.tenant_id == tenant.id, Department.code == code))).scalar_one()


async def test_assignment_mine_unassigned_and_bulk(gql, app, tenant):
    await _setup(gql, app, tenant)
    _, _, token = await make_citizen(gql, tenant)
    requests = [await _submit(gql, token) for _ in range(3)]
    me = to_global_id("Agent", tenant.agents["AGENT"])
    supervisor = to_global_id("Agent", tenant.agents["SUPERVISOR"])
    # assign one to me
    result = await gql(ASSIGN, {"input": {"id": requests[0]["id"], "version": 1, "assigneeId": me}}, token=tenant.tokens["AGENT"])
    assert result.data["requestAssign"]["request"]["assignee"]["id"] == me
    assert refs(await _inbox(gql, tenant, filter={"mine": True})) == [requests[0]["reference"]]
    assert set(refs(await _inbox(gql, tenant, filter={"unassigned": True}))) == {r["reference"] for r in requests[1:]}
    assert set(refs(await _inbox(gql, tenant, filter={"mine": True, "unassigned": True}))) == {r["reference"] for r in requests}
    # an unknown agent is refused; a stale version is a conflict
    ghost = to_global_id("Agent", uuid.uuid4())
    result = await gql(ASSIGN, {"input": {"id": requests[1]["id"], "version": 1, "assigneeId": ghost}}, token=tenant.tokens["AGENT"])
    assert result.data["requestAssign"]["userErrors"] == [{"field": ["assigneeId"], "code": "INVALID_ASSIGNEE"}]
    result = await gql(ASSIGN, {"input": {"id": requests[0]["id"], "version": 1, "assigneeId": None}}, token=tenant.tokens["AGENT"])
    assert result.data["requestAssign"]["userErrors"] == [{"field": ["version"], "code": "CONFLICT"}]
    # bulk: all or nothing
    ids = [r["id"] for r in requests]
    bad = await gql(BULK, {"input": {"ids": ids + [to_global_id("Request", uuid.uuid4())], "assigneeId": supervisor}}, token=tenant.tokens["SUPERVISOR"])
    assert bad.data["requestsAssign"]["userErrors"] == [{"field": ["ids", "3"], "code": "NOT_FOUND"}]
    assert refs(await _inbox(gql, tenant, filter={"assigneeIds": [supervisor]})) == []
    ok = await gql(BULK, {"input": {"ids": ids, "assigneeId": supervisor}}, token=tenant.tokens["SUPERVISOR"])
    assert [r["assignee"]["id"] for r in ok.data["requestsAssign"]["requests"]] == [supervisor] * 3
    assert set(refs(await _inbox(gql, tenant, filter={"assigneeIds": [supervisor]}))) == {r["reference"] for r in requests}
    assert refs(await _inbox(gql, tenant, filter={"unassigned": True})) == []


async def test_full_text_search_french_accents_folded(gql, app, tenant):
    await _setup(gql, app, tenant)
    citizen_gid, _, token = await make_citizen(gql, tenant, givenNames="Hélène", familyName="Bérégovoy")
    _, _, other_token = await make_citizen(gql, tenant, givenNames="Marc", familyName="Martin")
    helene = await _submit(gql, token, answers={**GOOD_ANSWERS, "address": {"street": "Allée des Châtaigniers", "city": "Paris"}})
    marc = await _submit(gql, other_token, answers={**GOOD_ANSWERS, "plate": "XY-456-ZT"})

    async def search(text):
        return refs(await _inbox(gql, tenant, filter={"search": text}))

    assert await search("beregovoy") == [helene["reference"]]  # accents folded
    assert await search("HÉLÈNE") == [helene["reference"]]
    assert await search("chataignier") == [helene["reference"]]  # French stemming (plural) and accents
    assert await search("châtaig") == [helene["reference"]]  # prefix
    assert await search("xy-456") == [marc["reference"]]  # answers
    assert await search(marc["reference"]) == [marc["reference"]]  # reference
    assert await search("martin paris") == [marc["reference"]]
    assert await search("introuvable") == []


@contextmanager
def count_statements(app):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_inbox_page_runs_a_fixed_number_of_statements(gql, app, make_tenant, monkeypatch):
    """No N+1: citizen, procedure, department, assignee, state and last timeline entry are batched."""
    import auth.agent_check

    # the agent-directory check is cached per process: keep it out of the counts
    monkeypatch.setattr(auth.agent_check, "AGENT_CHECK_SECONDS", 3600.0)
    tenant = await make_tenant("nplus1")
    await _setup(gql, app, tenant)
    agent = tenant.tokens["AGENT"]
    citizens = [await make_citizen(gql, tenant, givenNames=f"Usager{i}") for i in range(6)]
    assignees = [to_global_id("Agent", tenant.agents[r]) for r in ("AGENT", "SUPERVISOR", "ADMIN")]
    created = []
    for i in range(55):
        gid, _, token = citizens[i % len(citizens)]
        answers = {**GOOD_ANSWERS, "vehicle": "van", "vanLength": 4} if i % 3 == 0 else GOOD_ANSWERS
        created.append(await _submit(gql, token, answers=answers))
    for i, request in enumerate(created[:40]):
        await gql(ASSIGN, {"input": {"id": request["id"], "version": 1, "assigneeId": assignees[i % 3]}}, token=agent)

    counts = {}
    for size in (5, 50):
        with count_statements(app) as statements:
            page = await _inbox(gql, tenant, first=size)
        assert len(page["edges"]) == size
        assert all(e["node"]["lastTimelineEntry"] for e in page["edges"])
        counts[size] = len(statements)
    assert counts[5] == counts[50], counts
    # page query + citizens + procedures + versions + departments + agents + last events (+ begin/reset)
    print("statements per inbox page", counts)
    assert counts[50] <= 9, counts
    # the same through fragments and the `nodes` shortcut
    with count_statements(app) as statements:
        result = await gql(INBOX_WITH_FRAGMENTS, {"first": 50}, token=agent)
    nodes = result.data["inbox"]["nodes"]
    assert len(nodes) == 50 and all(n["citizen"]["displayName"] and n["lastTimelineEntry"]["kind"] for n in nodes)
    assert len(statements) == counts[50]


SET_PRIORITY = """
mutation($input: RequestSetPriorityInput!) { requestSetPriority(input: $input) { request { priority version } userErrors { field code } } }
"""


async def test_staff_change_the_priority(gql, app, tenant):
    await _setup(gql, app, tenant)
    _, _, token = await make_citizen(gql, tenant)
    low, high = await _submit(gql, token), await _submit(gql, token)
    result = await gql(SET_PRIORITY, {"input": {"id": high["id"], "version": 1, "priority": "URGENT"}}, token=tenant.tokens["AGENT"])
    assert result.data["requestSetPriority"]["request"] == {"priority": "URGENT", "version": 2}
    assert refs(await _inbox(gql, tenant, orderBy={"field": "PRIORITY"}))[0] == high["reference"]
    stale = await gql(SET_PRIORITY, {"input": {"id": high["id"], "version": 1, "priority": "LOW"}}, token=tenant.tokens["AGENT"])
    assert stale.data["requestSetPriority"]["userErrors"] == [{"field": ["version"], "code": "CONFLICT"}]
    assert (await gql(SET_PRIORITY, {"input": {"id": low["id"], "version": 1, "priority": "HIGH"}}, token=token)).error_codes == ["FORBIDDEN"]
