"""Who sees what: tenant isolation, citizens see only themselves, analysts see no personal data."""

from __future__ import annotations

import sqlalchemy as sa

from domain.citizens.models import Citizen as CitizenRow
from domain.tenancy.models import Agent as AgentRow
from domain.tenancy.models import Department as DepartmentRow
from tests.api.helpers import count_events, gid, raw_id

CREATE_CITIZEN = """
mutation($input: CitizenCreateInput!) {
  citizenCreate(input: $input) { citizen { id version } userErrors { field code } }
}
"""
CITIZEN = "query($id: ID!) { citizen(id: $id) { id familyName email } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Citizen { familyName } ... on Agent { email } ... on Department { name } ... on Tenant { slug } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
SEARCH = "query($search: String) { citizens(search: $search) { edges { node { id familyName } } } }"
CITIZEN_UPDATE = """
mutation($input: CitizenUpdateInput!) {
  citizenUpdate(input: $input) { citizen { id familyName } userErrors { field code } }
}
"""
DEPARTMENTS = "{ departments { id name } }"
DEPARTMENT = "query($id: ID!) { department(id: $id) { id name } }"
AGENT = "query($id: ID!) { agent(id: $id) { id email } }"
AGENTS = "query($dep: ID) { agents(departmentId: $dep) { edges { node { id email } } } }"
DEPARTMENT_UPDATE = """
mutation($input: DepartmentUpdateInput!) {
  departmentUpdate(input: $input) { department { id name } userErrors { field code } }
}
"""
DEPARTMENT_CREATE = """
mutation($input: DepartmentCreateInput!) {
  departmentCreate(input: $input) { department { id } userErrors { field code } }
}
"""
AGENT_UPDATE = """
mutation($input: AgentUpdateInput!) {
  agentUpdate(input: $input) { agent { id email } userErrors { field code } }
}
"""
AGENT_CREATE = """
mutation($input: AgentCreateInput!) {
  agentCreate(input: $input) { agent { id } userErrors { field code } }
}
"""
ME = "{ me { id familyName email version } }"
MY_UPDATE = """
mutation($input: MyProfileUpdateInput!) {
  myProfileUpdate(input: $input) { citizen { id familyName phone version } userErrors { field code message } }
}
"""
TENANT = "{ tenant { id slug } }"


async def new_citizen(gql, tenant, family="Dupont", **extra) -> str:
    result = await gql(
        CREATE_CITIZEN, {"input": {"givenNames": "Jean", "familyName": family, **extra}}, token=tenant.tokens["AGENT"]
    )
    assert result.data["citizenCreate"]["userErrors"] == [], result.body
    return result.data["citizenCreate"]["citizen"]["id"]


async def snapshot(app, tenant_id) -> dict:
    """Everything tenant B holds that tenant A could try to change."""
    async with app.state.sessionmaker() as s:
        citizens = (await s.execute(sa.select(CitizenRow.id, CitizenRow.family_name, CitizenRow.version).where(CitizenRow.tenant_id == tenant_id))).all()
        deps = (await s.execute(sa.select(DepartmentRow.id, DepartmentRow.name, DepartmentRow.parent_id, DepartmentRow.version).where(DepartmentRow.tenant_id == tenant_id))).all()
        agents = (await s.execute(sa.select(AgentRow.id, AgentRow.email, AgentRow.roles, AgentRow.version).where(AgentRow.tenant_id == tenant_id))).all()
    return {"citizens": sorted(citizens), "departments": sorted(deps), "agents": sorted(agents, key=str), "events": await count_events(app, tenant_id)}


# ---------------------------------------------------------------- tenant isolation


async def test_tenant_a_cannot_read_anything_of_tenant_b(gql, make_tenant):
    # given two local authorities, each with a citizen
    a, b = await make_tenant("a"), await make_tenant("b")
    b_citizen = await new_citizen(gql, b, family="Secret", email="secret@b.example.org")
    a_citizen = await new_citizen(gql, a, family="Secret")
    b_dep, b_agent = gid("Department", b.department_id), gid("Agent", b.agents["AGENT"])
    for role in ("AGENT", "SUPERVISOR", "ADMIN"):
        token = a.tokens[role]
        # when A's staff ask for B's objects by ID, every way
        assert (await gql(CITIZEN, {"id": b_citizen}, token=token)).body == {"data": {"citizen": None}}
        assert (await gql(NODE, {"id": b_citizen}, token=token)).body == {"data": {"node": None}}
        assert (await gql(NODE, {"id": b_dep}, token=token)).body == {"data": {"node": None}}
        assert (await gql(NODE, {"id": b_agent}, token=token)).body == {"data": {"node": None}}
        assert (await gql(NODE, {"id": gid("Tenant", b.id)}, token=token)).body == {"data": {"node": None}}
        nodes = await gql(NODES, {"ids": [b_citizen, a_citizen, b_dep, b_agent]}, token=token)
        assert nodes.body == {"data": {"nodes": [None, {"id": a_citizen}, None, None]}}
        assert (await gql(DEPARTMENT, {"id": b_dep}, token=token)).body == {"data": {"department": None}}
        assert (await gql(AGENT, {"id": b_agent}, token=token)).body == {"data": {"agent": None}}
        # then searches only ever return their own tenant's rows
        found = await gql(SEARCH, {"search": "secret"}, token=token)
        assert [e["node"]["id"] for e in found.data["citizens"]["edges"]] == [a_citizen]
        assert b_dep not in str((await gql(DEPARTMENTS, token=token)).body)
        assert (await gql(AGENTS, {"dep": b_dep}, token=token)).data["agents"]["edges"] == []
        assert (await gql(TENANT, token=token)).data["tenant"] == {"id": gid("Tenant", a.id), "slug": a.slug}


async def test_tenant_a_cannot_change_anything_of_tenant_b(gql, make_tenant, app):
    a, b = await make_tenant("a"), await make_tenant("b")
    b_citizen = await new_citizen(gql, b, family="Intouchable")
    b_dep, b_agent = gid("Department", b.department_id), gid("Agent", b.agents["AGENT"])
    a_dep, a_agent = gid("Department", a.department_id), gid("Agent", a.agents["AGENT"])
    before = await snapshot(app, b.id)
    admin = a.tokens["ADMIN"]

    # when A's admin targets B's rows directly
    update = await gql(CITIZEN_UPDATE, {"input": {"id": b_citizen, "version": 1, "familyName": "Pirate"}}, token=admin)
    assert update.data["citizenUpdate"] == {"citizen": None, "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}]}
    dep = await gql(DEPARTMENT_UPDATE, {"input": {"id": b_dep, "version": 1, "name": "Pirate"}}, token=admin)
    assert dep.data["departmentUpdate"] == {"department": None, "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}]}
    agent = await gql(AGENT_UPDATE, {"input": {"id": b_agent, "version": 1, "roles": ["ADMIN"]}}, token=admin)
    assert agent.data["agentUpdate"] == {"agent": None, "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}]}
    # or links A's rows to B's
    moved = await gql(DEPARTMENT_UPDATE, {"input": {"id": a_dep, "version": 1, "parentId": b_dep}}, token=admin)
    assert moved.data["departmentUpdate"]["userErrors"] == [{"field": ["parentId"], "code": "NOT_FOUND"}]
    child = await gql(DEPARTMENT_CREATE, {"input": {"name": "Annexe", "parentId": b_dep}}, token=admin)
    assert child.data["departmentCreate"]["userErrors"] == [{"field": ["parentId"], "code": "NOT_FOUND"}]
    member = await gql(AGENT_UPDATE, {"input": {"id": a_agent, "version": 1, "departmentIds": [a_dep, b_dep]}}, token=admin)
    assert member.data["agentUpdate"]["userErrors"] == [{"field": ["departmentIds", "1"], "code": "NOT_FOUND"}]
    hired = await gql(
        AGENT_CREATE,
        {"input": {"email": "x@a.example.org", "givenName": "X", "familyName": "Y", "roles": ["AGENT"], "departmentIds": [b_dep]}},
        token=admin,
    )
    assert hired.data["agentCreate"]["userErrors"] == [{"field": ["departmentIds", "0"], "code": "NOT_FOUND"}]

    # then nothing of B changed, and no event was written in B's name
    assert await snapshot(app, b.id) == before
    # and the refused agentCreate left no half-created agent in A
    assert "x@a.example.org" not in str((await snapshot(app, a.id))["agents"])


# ---------------------------------------------------------------- citizen principal


async def test_citizen_sees_only_themselves(gql, tenant):
    mine = await new_citizen(gql, tenant, family="Moi", email="moi@example.org")
    other = await new_citizen(gql, tenant, family="Voisin", email="voisin@example.org")
    token = tenant.citizen_token(raw_id(mine))

    me = await gql(ME, token=token)
    assert me.status == 200
    assert me.data["me"] == {"id": mine, "familyName": "Moi", "email": "moi@example.org", "version": 1}
    assert (await gql(CITIZEN, {"id": mine}, token=token)).data["citizen"]["familyName"] == "Moi"
    assert (await gql(NODE, {"id": mine}, token=token)).data["node"] == {"id": mine, "familyName": "Moi"}

    # another citizen: FORBIDDEN, HTTP 403 because nothing could be returned
    for query, variables in ((CITIZEN, {"id": other}), (NODE, {"id": other}), (SEARCH, {"search": "voisin"})):
        result = await gql(query, variables, token=token, lang="en")
        assert result.status == 403, (query, result.body)
        assert result.error_codes == ["FORBIDDEN"]
        assert result.errors[0]["message"] == "You are not allowed to perform this action."
        assert "Voisin" not in str(result.body) and "voisin@" not in str(result.body)
    # nodes: own record returned, the other one null with a FORBIDDEN error at its index
    listed = await gql(NODES, {"ids": [mine, other, "garbage"]}, token=token)
    assert listed.data == {"nodes": [{"id": mine}, None, None]}
    assert [(e["path"], e["extensions"]["code"]) for e in listed.errors] == [(["nodes", 1], "FORBIDDEN")]
    # nor the back-office objects
    for query in (DEPARTMENTS, "{ agents { edges { node { id } } } }"):
        assert (await gql(query, token=token)).error_codes == ["FORBIDDEN"]
    # a partially allowed request keeps its allowed data (HTTP 200)
    mixed = await gql("query($id: ID!) { me { id } citizen(id: $id) { id } }", {"id": other}, token=token)
    assert mixed.status == 200 and mixed.data == {"me": {"id": mine}, "citizen": None}
    assert mixed.error_codes == ["FORBIDDEN"]


async def test_citizen_cannot_use_staff_mutations(gql, tenant, app):
    mine = await new_citizen(gql, tenant, family="Moi")
    token = tenant.citizen_token(raw_id(mine))
    before = await count_events(app, tenant.id)
    update = await gql(CITIZEN_UPDATE, {"input": {"id": mine, "version": 1, "familyName": "Autre"}}, token=token)
    assert update.error_codes == ["FORBIDDEN"] and update.status == 403
    create = await gql(CREATE_CITIZEN, {"input": {"givenNames": "A", "familyName": "B"}}, token=token)
    assert create.error_codes == ["FORBIDDEN"]
    assert await count_events(app, tenant.id) == before


async def test_my_profile_update_with_version_and_conflict(gql, tenant):
    mine = await new_citizen(gql, tenant, family="Moi")
    token = tenant.citizen_token(raw_id(mine))
    ok = await gql(MY_UPDATE, {"input": {"version": 1, "phone": "06 11 22 33 44", "familyName": "Moi-Même"}}, token=token)
    assert ok.data["myProfileUpdate"] == {
        "citizen": {"id": mine, "familyName": "Moi-Même", "phone": "+33611223344", "version": 2},
        "userErrors": [],
    }
    stale = await gql(MY_UPDATE, {"input": {"version": 1, "phone": "06 99 88 77 66"}}, token=token, lang="fr")
    payload = stale.data["myProfileUpdate"]
    assert payload["citizen"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["version"], "CONFLICT")]
    assert "version 2 au lieu de 1" in payload["userErrors"][0]["message"]
    invalid = await gql(MY_UPDATE, {"input": {"version": 2, "email": "nope"}}, token=token)
    assert invalid.data["myProfileUpdate"]["userErrors"] == [{"field": ["email"], "code": "INVALID_EMAIL", "message": invalid.data["myProfileUpdate"]["userErrors"][0]["message"]}]
    assert (await gql(ME, token=token)).data["me"]["version"] == 2
    # an agent cannot use the citizen's own mutation
    assert (await gql(MY_UPDATE, {"input": {"version": 2}}, token=tenant.tokens["AGENT"])).error_codes == ["FORBIDDEN"]


async def test_verified_identity_is_locked_for_the_citizen(gql, tenant):
    mine = await new_citizen(gql, tenant, family="Vérifié", assuranceLevel="VERIFIED_AT_COUNTER", birthDate="1980-02-03")
    token = tenant.citizen_token(raw_id(mine))
    for change in ({"familyName": "Autre"}, {"givenNames": "Paul"}, {"birthDate": "1990-01-01"}, {"gender": "MALE"}):
        result = await gql(MY_UPDATE, {"input": {"version": 1, **change}}, token=token, lang="en")
        errors = result.data["myProfileUpdate"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [([next(iter(change))], "IDENTITY_LOCKED")]
        assert "contact a town hall agent" in errors[0]["message"]
    # contact details stay editable
    ok = await gql(MY_UPDATE, {"input": {"version": 1, "phone": "0611223344"}}, token=token)
    assert ok.data["myProfileUpdate"]["citizen"]["version"] == 2
    me = await gql("{ me { familyName birthDate assuranceLevel } }", token=token)
    assert me.data["me"] == {"familyName": "Vérifié", "birthDate": "1980-02-03", "assuranceLevel": "VERIFIED_AT_COUNTER"}
    # an agent can still correct the identity
    fixed = await gql(CITIZEN_UPDATE, {"input": {"id": mine, "version": 2, "familyName": "Verifie"}}, token=tenant.tokens["AGENT"])
    assert fixed.data["citizenUpdate"]["userErrors"] == []


async def test_declared_identity_stays_editable_by_the_citizen(gql, tenant):
    mine = await new_citizen(gql, tenant, family="Déclaré")
    token = tenant.citizen_token(raw_id(mine))
    ok = await gql(MY_UPDATE, {"input": {"version": 1, "familyName": "Declare"}}, token=token)
    assert ok.data["myProfileUpdate"]["citizen"]["familyName"] == "Declare"


async def test_citizen_token_of_a_deleted_or_unknown_citizen_sees_nothing(gql, tenant):
    import uuid

    ghost = tenant.citizen_token(uuid.uuid4())
    assert (await gql(ME, token=ghost)).data == {"me": None}


# ---------------------------------------------------------------- analyst


async def test_analyst_sees_no_personal_data(gql, tenant):
    someone = await new_citizen(gql, tenant, family="Privé", email="prive@example.org")
    token = tenant.tokens["ANALYST"]
    for query, variables in (
        (CITIZEN, {"id": someone}),
        (NODE, {"id": someone}),
        (SEARCH, {"search": "prive"}),
    ):
        result = await gql(query, variables, token=token)
        assert result.error_codes == ["FORBIDDEN"], (query, result.body)
        assert result.status == 403
        assert "prive" not in str(result.body).lower()
    # nodes: each item is checked on its own; the refused one is null with its own error
    listed = await gql(NODES, {"ids": [someone, gid("Department", tenant.department_id)]}, token=token)
    assert listed.data == {"nodes": [None, {"id": gid("Department", tenant.department_id)}]}
    assert listed.error_codes == ["FORBIDDEN"] and listed.errors[0]["path"] == ["nodes", 0]
    create = await gql(CREATE_CITIZEN, {"input": {"givenNames": "A", "familyName": "B"}}, token=token)
    assert create.error_codes == ["FORBIDDEN"]
    # organisation data is fine
    departments = await gql(DEPARTMENTS, token=token)
    assert departments.status == 200 and departments.data["departments"] == [{"id": gid("Department", tenant.department_id), "name": "Accueil"}]
    agents = await gql("{ agents { edges { node { email roles } } } }", token=token)
    assert len(agents.data["agents"]["edges"]) == 4
