"""Authentication over HTTP: bad tokens are 401 UNAUTHENTICATED; the development login."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from api.settings import Settings
from auth.passwords import hash_password
from auth.tokens import issue_token, verify_token
from domain.citizens.services import create_citizen
from domain.security import PrincipalKind
from seeds.demo import AGENTS, DEMO_CITIZEN, DEMO_PASSWORD, seed_demo, system_principal

TENANT_Q = "{ tenant { slug } }"
VIEWER = "{ viewer { kind subjectId roles departmentIds } }"
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { accessToken tokenType expiresAt userErrors { field code message } }
}
"""


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def forged_tokens(tenant) -> dict[str, str]:
    good = tenant.tokens["ADMIN"]
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    expired = issue_token(
        tenant.keys, kind=PrincipalKind.AGENT, subject_id=tenant.agents["ADMIN"], tenant_id=tenant.id,
        now=datetime.now(UTC) - timedelta(days=1), ttl=60,
    )
    return {
        "tampered signature": f"{header}.{payload}.{signature[::-1]}",
        "tampered claims": f"{header}.{b64({**claims, 'tenant': str(uuid.uuid4())})}.{signature}",
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "expired": expired,
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize(
    "case", ["tampered signature", "tampered claims", "alg none", "expired", "garbage"]
)
async def test_invalid_token_is_401_unauthenticated(client, tenant, case):
    token = forged_tokens(tenant)[case]
    response = await client.post(
        "/graphql", json={"query": TENANT_Q}, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-language"] == "en"
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["message"].startswith("You must be authenticated")


async def test_non_bearer_authorization_is_401(client):
    for header in ("Basic dXNlcjpwYXNz", "Bearer ", "Token abc"):
        response = await client.post("/graphql", json={"query": TENANT_Q}, headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_no_token_on_a_protected_field_is_401(gql):
    for query in (TENANT_Q, "{ citizens { edges { node { id } } } }", "{ departments { id } }", "{ me { id } }"):
        result = await gql(query, lang="fr")
        assert result.status == 401, query
        assert result.error_codes == ["UNAUTHENTICATED"]
        assert result.errors[0]["message"].startswith("Vous devez être authentifié")
    # a mutation too
    result = await gql('mutation { departmentCreate(input: {name: "X"}) { department { id } } }')
    assert result.status == 401 and result.error_codes == ["UNAUTHENTICATED"]


async def test_public_fields_work_without_a_token(gql):
    result = await gql("{ viewer { kind } }")
    assert result.status == 200 and result.body == {"data": {"viewer": None}}


async def test_viewer_reflects_the_token(gql, tenant):
    result = await gql(VIEWER, token=tenant.tokens["SUPERVISOR"])
    viewer = result.data["viewer"]
    assert viewer["kind"] == "AGENT" and viewer["roles"] == ["SUPERVISOR"]
    assert len(viewer["departmentIds"]) == 1


# ---------------------------------------------------------------- development login


@pytest.fixture(scope="session")
async def demo(app):
    async with app.state.sessionmaker() as session:
        await seed_demo(session, citizens=5)
    return app


@pytest.mark.parametrize("account", AGENTS, ids=lambda a: a.email)
async def test_every_demo_agent_can_log_in(gql, demo, account):
    result = await gql(LOGIN, {"input": {"tenant": account.tenant, "kind": "AGENT", "email": account.email, "password": DEMO_PASSWORD}})
    payload = result.data["login"]
    assert payload["userErrors"] == [] and payload["tokenType"] == "Bearer"
    assert datetime.fromisoformat(payload["expiresAt"]) > datetime.now(UTC)
    viewer = await gql("{ viewer { kind roles departmentIds } tenant { slug } }", token=payload["accessToken"])
    assert viewer.data["viewer"]["kind"] == "AGENT"
    assert viewer.data["viewer"]["roles"] == sorted(account.roles)
    assert len(viewer.data["viewer"]["departmentIds"]) == len(account.departments)
    assert viewer.data["tenant"] == {"slug": account.tenant}


async def test_demo_citizen_logs_in_and_sees_their_record(gql, demo):
    result = await gql(LOGIN, {"input": {"tenant": "demo", "kind": "CITIZEN", "email": DEMO_CITIZEN["email"].upper(), "password": DEMO_PASSWORD}})
    token = result.data["login"]["accessToken"]
    me = await gql("{ me { email familyName } }", token=token)
    assert me.data["me"] == {"email": DEMO_CITIZEN["email"], "familyName": DEMO_CITIZEN["family_name"]}


async def test_login_token_is_usable_and_verifiable(gql, tenant, app):
    async with app.state.sessionmaker() as s:
        citizen = await create_citizen(s, system_principal(tenant.id), {"given_names": "Léa", "family_name": "Login", "email": "lea@example.org"})
        citizen.password_hash = hash_password("correct horse")
        await s.commit()
    result = await gql(LOGIN, {"input": {"tenant": tenant.slug, "kind": "CITIZEN", "email": "lea@example.org", "password": "correct horse"}})
    principal = verify_token(app.state.keys, result.data["login"]["accessToken"])
    assert principal.subject_id == citizen.id and principal.tenant_id == tenant.id and principal.is_citizen


async def test_wrong_password_and_unknown_email_look_the_same(gql, demo):
    messages = []
    for email, password in (("admin@ville-demo.fr", "wrong"), ("nobody@ville-demo.fr", DEMO_PASSWORD), ("admin@commune-voisine.fr", DEMO_PASSWORD)):
        result = await gql(LOGIN, {"input": {"tenant": "demo", "kind": "AGENT", "email": email, "password": password}}, lang="en")
        payload = result.data["login"]
        assert payload["accessToken"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(None, "INVALID_CREDENTIALS")]
        messages.append(payload["userErrors"][0]["message"])
    assert len(set(messages)) == 1
    # an agent's password does not open a citizen account of the same e-mail, and vice versa
    result = await gql(LOGIN, {"input": {"tenant": "demo", "kind": "CITIZEN", "email": "admin@ville-demo.fr", "password": DEMO_PASSWORD}})
    assert result.data["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_unknown_tenant(gql):
    result = await gql(LOGIN, {"input": {"tenant": "atlantide", "kind": "AGENT", "email": "a@b.fr", "password": "x"}}, lang="fr")
    assert result.data["login"]["userErrors"] == [{"field": ["tenant"], "code": "UNKNOWN_TENANT", "message": "Cette collectivité est inconnue."}]


async def test_agents_without_password_cannot_log_in(gql, tenant):
    # agents created through the API have no password: only SSO (later) or tokens
    result = await gql(LOGIN, {"input": {"tenant": tenant.slug, "kind": "AGENT", "email": f"admin@{tenant.slug}.example.org", "password": ""}})
    assert result.data["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_login_disabled_when_dev_login_is_off(database_url, demo):
    import httpx

    from api.app import create_app

    settings = Settings(environment="test", dev_login_enabled=False, log_level="WARNING")
    app = create_app(settings, database_url=database_url)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            response = await c.post(
                "/graphql",
                json={"query": LOGIN, "variables": {"input": {"tenant": "demo", "kind": "AGENT", "email": "admin@ville-demo.fr", "password": DEMO_PASSWORD}}},
            )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert response.json()["data"] is None


def test_readme_lists_every_demo_login():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = set(re.findall(r"^\| (\w+) \| (AGENT|CITIZEN) \| (\S+@\S+) \| ([A-Z, ]*)\|$", readme, re.M))
    expected = {(a.tenant, "AGENT", a.email, ", ".join(a.roles) + " ") for a in AGENTS}
    expected.add(("demo", "CITIZEN", DEMO_CITIZEN["email"], ""))
    assert rows == expected
    assert f"**`{DEMO_PASSWORD}`**" in readme


AGENT_UPDATE = """
mutation($input: AgentUpdateInput!) { agentUpdate(input: $input) { agent { version active roles } userErrors { code } } }
"""
AGENT_VERSION = "query($id: ID!) { agent(id: $id) { version } }"


async def test_deactivated_agent_loses_access_at_once_and_removed_roles_are_not_honoured(gql, tenant):
    from schema.common import to_global_id

    # given a supervisor whose token is still valid
    supervisor_id = to_global_id("Agent", tenant.agents["SUPERVISOR"])
    token = tenant.tokens["SUPERVISOR"]
    assert (await gql("{ citizens(first: 1) { edges { cursor } } }", token=token)).status == 200
    admin = tenant.tokens["ADMIN"]
    version = (await gql(AGENT_VERSION, {"id": supervisor_id}, token=admin)).data["agent"]["version"]
    # when an admin turns them into an analyst
    changed = await gql(AGENT_UPDATE, {"input": {"id": supervisor_id, "version": version, "roles": ["ANALYST"]}}, token=admin)
    assert changed.data["agentUpdate"]["userErrors"] == []
    # then the old token no longer grants the removed role
    refused = await gql("{ citizens(first: 1) { edges { cursor } } }", token=token)
    assert refused.status == 403 and refused.error_codes == ["FORBIDDEN"]
    # and once deactivated, the token is refused altogether
    version = changed.data["agentUpdate"]["agent"]["version"]
    off = await gql(AGENT_UPDATE, {"input": {"id": supervisor_id, "version": version, "active": False}}, token=admin)
    assert off.data["agentUpdate"]["agent"]["active"] is False
    gone = await gql("{ tenant { name } }", token=token)
    assert gone.status == 401 and gone.error_codes == ["UNAUTHENTICATED"]
