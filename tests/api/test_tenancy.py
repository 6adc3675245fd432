"""Departments and agents: admin-only mutations, hierarchy, duplicates, memberships, events."""

from __future__ import annotations

import pytest

from tests.api.helpers import count_events, events_of, gid, raw_id

DEPARTMENT_CREATE = """
mutation($input: DepartmentCreateInput!) {
  departmentCreate(input: $input) { department { id code name version parent { id name } } userErrors { field code message } }
}
"""
DEPARTMENT_UPDATE = """
mutation($input: DepartmentUpdateInput!) {
  departmentUpdate(input: $input) { department { id code name version parent { id } } userErrors { field code message } }
}
"""
AGENT_CREATE = """
mutation($input: AgentCreateInput!) {
  agentCreate(input: $input) { agent { id email roles active version departments { id code } } userErrors { field code message } }
}
"""
AGENT_UPDATE = """
mutation($input: AgentUpdateInput!) {
  agentUpdate(input: $input) { agent { id email roles active version departments { code } } userErrors { field code message } }
}
"""
AGENT = "query($id: ID!) { agent(id: $id) { email departments { code name } } }"
AGENTS = "query($search: String, $dep: ID) { agents(search: $search, departmentId: $dep) { edges { node { email } } } }"


async def department(gql, token, **fields):
    result = await gql(DEPARTMENT_CREATE, {"input": fields}, token=token)
    return result.data["departmentCreate"] if result.data else result


async def agent(gql, token, **fields):
    base = {"email": "new.agent@example.org", "givenName": "Nina", "familyName": "Nouvelle", "roles": ["AGENT"]}
    result = await gql(AGENT_CREATE, {"input": {**base, **fields}}, token=token)
    return result.data["agentCreate"] if result.data else result


@pytest.mark.parametrize("role", ["AGENT", "SUPERVISOR", "ANALYST"])
async def test_only_admins_manage_departments_and_agents(gql, tenant, app, role):
    token = tenant.tokens[role]
    before = await count_events(app, tenant.id)
    dep_id, agent_id = gid("Department", tenant.department_id), gid("Agent", tenant.agents["AGENT"])
    attempts = [
        (DEPARTMENT_CREATE, {"input": {"name": "Sport"}}),
        (DEPARTMENT_UPDATE, {"input": {"id": dep_id, "version": 1, "name": "Renamed"}}),
        (AGENT_CREATE, {"input": {"email": "z@example.org", "givenName": "Z", "familyName": "Z", "roles": ["ADMIN"]}}),
        (AGENT_UPDATE, {"input": {"id": agent_id, "version": 1, "roles": ["ADMIN"]}}),
    ]
    for query, variables in attempts:
        result = await gql(query, variables, token=token, lang="en")
        assert result.status == 403 and result.error_codes == ["FORBIDDEN"], result.body
    assert await count_events(app, tenant.id) == before
    dep = await gql("query($id: ID!) { department(id: $id) { name version } }", {"id": dep_id}, token=token)
    assert dep.data["department"] == {"name": "Accueil", "version": 1}


async def test_admin_builds_a_hierarchy_and_cycles_are_refused(gql, tenant, app):
    token = tenant.tokens["ADMIN"]
    # given Services techniques > Voirie > Éclairage
    tech = (await department(gql, token, name="Services techniques"))["department"]
    assert tech["code"] == "services-techniques" and tech["parent"] is None and tech["version"] == 1
    road = (await department(gql, token, name="Voirie", parentId=tech["id"]))["department"]
    assert road["parent"] == {"id": tech["id"], "name": "Services techniques"}
    light = (await department(gql, token, name="Éclairage public", code="eclairage", parentId=road["id"]))["department"]
    # when the top is moved under its own grandchild, or under itself
    for parent in (light["id"], tech["id"]):
        result = await gql(DEPARTMENT_UPDATE, {"input": {"id": tech["id"], "version": 1, "parentId": parent}}, token=token, lang="en")
        payload = result.data["departmentUpdate"]
        # then CYCLE, and nothing changed
        assert payload["department"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["parentId"], "CYCLE")]
        assert "sub-departments" in payload["userErrors"][0]["message"]
    events = await events_of(app, raw_id(tech["id"]))
    assert [e.type for e in events] == ["department.created"]
    # a legal move works and bumps the version
    moved = await gql(DEPARTMENT_UPDATE, {"input": {"id": light["id"], "version": 1, "parentId": tech["id"], "name": "Éclairage"}}, token=token)
    assert moved.data["departmentUpdate"]["department"] == {
        "id": light["id"], "code": "eclairage", "name": "Éclairage", "version": 2, "parent": {"id": tech["id"]}
    }
    # back to the top level with parentId null
    top = await gql(DEPARTMENT_UPDATE, {"input": {"id": light["id"], "version": 2, "parentId": None}}, token=token)
    assert top.data["departmentUpdate"]["department"]["parent"] is None
    # a stale version is a CONFLICT
    stale = await gql(DEPARTMENT_UPDATE, {"input": {"id": light["id"], "version": 1, "name": "X"}}, token=token)
    assert stale.data["departmentUpdate"]["userErrors"][0]["code"] == "CONFLICT"


async def test_department_duplicates_and_validation(gql, tenant, make_tenant):
    token = tenant.tokens["ADMIN"]
    dup = await department(gql, token, name="Accueil bis", code="accueil")
    assert [(e["field"], e["code"]) for e in dup["userErrors"]] == [(["code"], "DUPLICATE")]
    # the default code comes from the folded name, so "ACCUEIL" collides too
    assert [(e["field"], e["code"]) for e in (await department(gql, token, name="ACCUEIL"))["userErrors"]] == [(["code"], "DUPLICATE")]
    bad = await department(gql, token, name="  ", code="Pas Bon!")
    assert {(tuple(e["field"]), e["code"]) for e in bad["userErrors"]} == {(("name",), "REQUIRED"), (("code",), "INVALID_SLUG")}
    bad_parent = await department(gql, token, name="Sport", parentId="not-an-id")
    assert [(e["field"], e["code"]) for e in bad_parent["userErrors"]] == [(["parentId"], "INVALID_ID")]
    # the same code in another tenant is fine
    other = await make_tenant("o")
    assert (await department(gql, other.tokens["ADMIN"], name="Accueil 2", code="accueil-2"))["userErrors"] == []
    assert (await department(gql, token, name="Accueil 2", code="accueil-2"))["userErrors"] == []
    # renaming onto an existing code is a duplicate too
    second = (await department(gql, token, name="Sport"))["department"]
    renamed = await gql(DEPARTMENT_UPDATE, {"input": {"id": second["id"], "version": 1, "code": "accueil"}}, token=token)
    assert renamed.data["departmentUpdate"]["userErrors"][0]["code"] == "DUPLICATE"


async def test_admin_creates_and_updates_agents_with_departments(gql, tenant, app):
    token = tenant.tokens["ADMIN"]
    accueil = gid("Department", tenant.department_id)
    civil = (await department(gql, token, name="État civil"))["department"]
    created = await agent(gql, token, email="Nina.Nouvelle@Example.org", roles=["AGENT", "SUPERVISOR"], departmentIds=[accueil, civil["id"]])
    assert created["userErrors"] == []
    nina = created["agent"]
    assert nina["email"] == "nina.nouvelle@example.org"
    assert nina["roles"] == ["AGENT", "SUPERVISOR"] and nina["active"] is True and nina["version"] == 1
    assert sorted(d["code"] for d in nina["departments"]) == ["accueil", "etat-civil"]
    # the department filter and search find her
    by_dep = await gql(AGENTS, {"dep": civil["id"]}, token=token)
    assert [e["node"]["email"] for e in by_dep.data["agents"]["edges"]] == ["nina.nouvelle@example.org"]
    by_name = await gql(AGENTS, {"search": "nouv"}, token=token)
    assert [e["node"]["email"] for e in by_name.data["agents"]["edges"]] == ["nina.nouvelle@example.org"]
    # update: roles, membership and deactivation
    updated = await gql(
        AGENT_UPDATE, {"input": {"id": nina["id"], "version": 1, "roles": ["ADMIN"], "departmentIds": [civil["id"]], "active": False}}, token=token
    )
    assert updated.data["agentUpdate"]["agent"] == {
        "id": nina["id"], "email": "nina.nouvelle@example.org", "roles": ["ADMIN"], "active": False, "version": 2,
        "departments": [{"code": "etat-civil"}],
    }
    read = await gql(AGENT, {"id": nina["id"]}, token=tenant.tokens["ANALYST"])
    assert read.data["agent"] == {"email": "nina.nouvelle@example.org", "departments": [{"code": "etat-civil", "name": "État civil"}]}
    # events: one per mutation, payload without personal values
    events = await events_of(app, raw_id(nina["id"]))
    assert [e.type for e in events] == ["agent.created", "agent.updated"]
    assert sorted(events[1].payload["fields"]) == ["active", "department_ids", "roles"]
    assert "nina" not in str([e.payload for e in events]).lower()
    assert all(e.actor_id == tenant.agents["ADMIN"] for e in events)


async def test_agent_duplicates_and_validation(gql, tenant, app):
    token = tenant.tokens["ADMIN"]
    before = await count_events(app, tenant.id)
    dup = await agent(gql, token, email=f"AGENT@{tenant.slug}.example.org")
    assert [(e["field"], e["code"]) for e in dup["userErrors"]] == [(["email"], "DUPLICATE")]
    bad = await agent(gql, token, email="nope", givenName=" ", roles=[])
    assert {(tuple(e["field"]), e["code"]) for e in bad["userErrors"]} == {
        (("email",), "INVALID_EMAIL"), (("givenName",), "REQUIRED"), (("roles",), "ROLE_REQUIRED")
    }
    unknown_dep = await agent(gql, token, departmentIds=[gid("Department", tenant.agents["ADMIN"])])
    assert [(e["field"], e["code"]) for e in unknown_dep["userErrors"]] == [(["departmentIds", "0"], "NOT_FOUND")]
    # changing an e-mail onto a colleague's is a duplicate
    taken = await gql(
        AGENT_UPDATE, {"input": {"id": gid("Agent", tenant.agents["AGENT"]), "version": 1, "email": f"admin@{tenant.slug}.example.org"}}, token=token
    )
    assert taken.data["agentUpdate"]["userErrors"][0]["code"] == "DUPLICATE"
    # nothing was written by any of the refused mutations
    assert await count_events(app, tenant.id) == before
    empty = await gql(AGENTS, {"search": "nouvelle"}, token=token)
    assert empty.data["agents"]["edges"] == []


async def test_department_mutations_write_exactly_one_event_each(gql, tenant, app):
    token = tenant.tokens["ADMIN"]
    before = await count_events(app, tenant.id)
    dep = (await department(gql, token, name="Culture"))["department"]
    await gql(DEPARTMENT_UPDATE, {"input": {"id": dep["id"], "version": 1, "name": "Culture et patrimoine"}}, token=token)
    await gql(DEPARTMENT_UPDATE, {"input": {"id": dep["id"], "version": 1, "name": "stale"}}, token=token)  # refused
    events = await events_of(app, raw_id(dep["id"]))
    assert [(e.type, e.aggregate_type, e.tenant_id) for e in events] == [
        ("department.created", "Department", tenant.id), ("department.updated", "Department", tenant.id)
    ]
    assert events[1].payload == {"fields": ["name"]}
    assert await count_events(app, tenant.id) == before + 2


async def test_datetimes_carry_an_offset(gql, tenant):
    from datetime import datetime

    result = await gql("{ departments { createdAt updatedAt } }", token=tenant.tokens["AGENT"])
    for value in result.data["departments"][0].values():
        parsed = datetime.fromisoformat(value)
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


async def test_deactivated_agent_can_no_longer_log_in(gql, app, tenant):
    from auth.passwords import hash_password
    from domain.tenancy.models import Agent as AgentRow

    async with app.state.sessionmaker() as s:
        row = await s.get(AgentRow, tenant.agents["AGENT"])
        row.password_hash = hash_password("s3cret-pass")
        await s.commit()
    login = """mutation($email: String!) { login(input: {tenant: "%s", kind: AGENT, email: $email, password: "s3cret-pass"}) {
      accessToken userErrors { code } } }""" % tenant.slug
    email = f"agent@{tenant.slug}.example.org"
    assert (await gql(login, {"email": email})).data["login"]["accessToken"]
    off = await gql(AGENT_UPDATE, {"input": {"id": gid("Agent", tenant.agents["AGENT"]), "version": 1, "active": False}}, token=tenant.tokens["ADMIN"])
    assert off.data["agentUpdate"]["agent"]["active"] is False
    refused = await gql(login, {"email": email})
    assert refused.data["login"] == {"accessToken": None, "userErrors": [{"code": "INVALID_CREDENTIALS"}]}
