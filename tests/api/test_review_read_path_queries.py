"""Review 2026-11-29: nested fields of a connection are batched (no N+1).

Counts the SQL statements PostgreSQL receives for a small page and for a full
page of 100: with DataLoaders both cost the same number of statements.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from schema.common import to_global_id

CITIZEN_CREATE = """
mutation($input: CitizenCreateInput!) { citizenCreate(input: $input) { userErrors { code } } }
"""
AGENT_CREATE = """
mutation($input: AgentCreateInput!) { agentCreate(input: $input) { userErrors { code } } }
"""
CITIZENS = "query($first: Int) { citizens(first: $first) { edges { node { id externalIds { source externalId } } } } }"
AGENTS = "query($first: Int) { agents(first: $first) { edges { node { id departments { id parent { id } } } } } }"


@contextlib.contextmanager
def count_statements(app):
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_citizen_external_ids_are_batched_over_a_page_of_100(gql, tenant, app):
    token = tenant.tokens["AGENT"]
    for i in range(100):
        result = await gql(
            CITIZEN_CREATE,
            {"input": {"givenNames": "N", "familyName": f"Plus{i:03}", "externalIds": [{"source": "FAMILY_PORTAL", "externalId": f"F{i}"}]}},
            token=token,
        )
        assert result.data["citizenCreate"]["userErrors"] == []
    with count_statements(app) as small:
        few = await gql(CITIZENS, {"first": 2}, token=token)
    with count_statements(app) as full:
        many = await gql(CITIZENS, {"first": 100}, token=token)
    assert len(many.data["citizens"]["edges"]) == 100
    assert all(len(e["node"]["externalIds"]) == 1 for e in many.data["citizens"]["edges"])
    assert len(few.data["citizens"]["edges"]) == 2
    assert sum("citizen_external_ids" in s for s in full) == 1
    assert len(full) == len(small), full


async def test_agent_departments_are_batched_over_a_page(gql, tenant, app):
    admin = tenant.tokens["ADMIN"]
    department = to_global_id("Department", tenant.department_id)
    for i in range(30):
        result = await gql(
            AGENT_CREATE,
            {"input": {"email": f"a{i}@example.org", "givenName": "A", "familyName": f"Agent{i:02}", "roles": ["AGENT"], "departmentIds": [department]}},
            token=admin,
        )
        assert result.data["agentCreate"]["userErrors"] == []
    with count_statements(app) as small:
        few = await gql(AGENTS, {"first": 2}, token=admin)
    with count_statements(app) as full:
        many = await gql(AGENTS, {"first": 100}, token=admin)
    assert len(few.data["agents"]["edges"]) == 2
    assert len(many.data["agents"]["edges"]) >= 30
    assert len(full) == len(small), full
    assert sum("agent_departments" in s for s in full) == 1
