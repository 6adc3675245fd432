"""Review 2026-11-29: citizens see who handles their request, not the staff directory.

``agent(id:)`` and ``node(id:)`` refuse citizens an Agent, but an Agent is also
reachable through ``Request.assignee`` and ``RequestMessage.authorAgent``: its
e-mail, roles, active flag and departments stay staff-only there too.
"""

from __future__ import annotations

from schema.common import to_global_id
from tests.api.test_inbox import ASSIGN, _setup, _submit
from tests.procedure_fixtures import make_citizen

MINE = "query($id: ID!) { request(id: $id) { assignee { id displayName } } }"
DIRECTORY = "query($id: ID!) { request(id: $id) { assignee { id displayName email roles active departments { id } } } }"
FIELD = "query($id: ID!) { request(id: $id) { assignee { id %s } } }"


async def test_citizen_sees_the_assignee_name_but_not_the_staff_directory(gql, app, tenant):
    # given a citizen's request assigned to an agent
    await _setup(gql, app, tenant)
    _, _, citizen_token = await make_citizen(gql, tenant)
    request = await _submit(gql, citizen_token)
    agent_id = to_global_id("Agent", tenant.agents["AGENT"])
    assigned = await gql(ASSIGN, {"input": {"id": request["id"], "version": 1, "assigneeId": agent_id}}, token=tenant.tokens["AGENT"])
    assert assigned.data["requestAssign"]["userErrors"] == []
    # when the citizen reads who handles it
    mine = await gql(MINE, {"id": request["id"]}, token=citizen_token)
    # then the name is shown
    assert not mine.errors
    assert mine.data["request"]["assignee"]["id"] == agent_id
    # but the agent's e-mail, roles, state and departments are refused
    for field in ("email", "roles", "active", "departments { id }"):
        probing = await gql(FIELD % field, {"id": request["id"]}, token=citizen_token)
        assert probing.data["request"]["assignee"] is None, field
        assert [(e["path"][2:], e["extensions"]["code"]) for e in probing.errors] == [([field.split()[0]], "FORBIDDEN")]
    # staff still read everything
    staff = await gql(DIRECTORY, {"id": request["id"]}, token=tenant.tokens["AGENT"])
    assert not staff.errors and staff.data["request"]["assignee"]["email"]
