"""API clients over HTTP: issue a key (shown once), use it as X-Api-Key, revoke it, scopes and tenants."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.clients.models import ApiClient
from domain.events.models import Event
from schema.common import parse_global_id
from tests.api.integrations import CREATE_CITIZEN, CREATE_CLIENT, REVOKE_CLIENT, issue_key, post

VIEWER = "{ viewer { kind subjectId roles departmentIds } }"
CITIZENS = "{ citizens(first: 5) { edges { node { id familyName } } } }"
LIST_CLIENTS = """
query($after: String, $all: Boolean!) {
  apiClients(first: 2, after: $after, includeRevoked: $all) {
    edges { node { id name keyPrefix active } } pageInfo { hasNextPage endCursor }
  }
}
"""


def raw_id(global_id: str) -> uuid.UUID:
    return parse_global_id(global_id)[1]


async def test_key_is_shown_once_and_only_its_hash_is_stored(client, tenant, app):
    # given an admin agent
    # when they issue a key
    payload = await issue_key(client, tenant, ["AGENT"], name="Portail famille")
    key, api_client = payload["key"], payload["apiClient"]
    # then the key has the documented shape and the client shows only its prefix
    assert key.startswith("gk_live_") and key[16] == "_" and len(key) == 60
    assert api_client["keyPrefix"] == key[8:16]
    assert api_client["roles"] == ["AGENT"] and api_client["active"] is True and api_client["version"] == 1
    assert api_client["createdBy"]["id"] is not None
    assert parse_global_id(api_client["createdBy"]["id"]) == ("Agent", tenant.agents["ADMIN"])
    # the database holds a digest, never the key or its secret part
    async with app.state.sessionmaker() as s:
        row = (await s.execute(sa.select(ApiClient).where(ApiClient.id == raw_id(api_client["id"])))).scalar_one()
        events = (await s.execute(sa.select(Event).where(Event.aggregate_id == row.id))).scalars().all()
        dump = (await s.execute(sa.text("SELECT api_clients::text FROM api_clients WHERE id = :id"), {"id": row.id})).scalar_one()
    assert key not in dump and key[17:] not in dump
    assert row.key_hash != key and len(row.key_hash) == 64
    # the creation is an event without key material
    assert [e.type for e in events] == ["api_client.created"]
    assert events[0].payload["roles"] == ["AGENT"]
    assert key[8:16] not in str(events[0].payload) and row.key_hash not in str(events[0].payload)
    # the key cannot be read again: not in the list, not a field of ApiClient
    listed = await post(client, LIST_CLIENTS, {"all": False}, token=tenant.tokens["ADMIN"])
    assert key not in str(listed.body)
    asked = await post(client, "{ apiClients { edges { node { key } } } }", token=tenant.tokens["ADMIN"])
    assert asked.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    one = await post(client, "query($id: ID!) { apiClient(id: $id) { name keyPrefix } }", {"id": api_client["id"]}, token=tenant.tokens["ADMIN"])
    assert one.data["apiClient"] == {"name": "Portail famille", "keyPrefix": key[8:16]}


async def test_key_authenticates_with_its_roles(client, tenant):
    analyst = (await issue_key(client, tenant, ["ANALYST"]))
    agent = (await issue_key(client, tenant, ["AGENT"]))
    # the viewer is the API client with its roles
    viewer = await post(client, VIEWER, api_key=analyst["key"])
    assert viewer.status == 200
    assert viewer.data["viewer"]["kind"] == "CLIENT"
    assert viewer.data["viewer"]["roles"] == ["ANALYST"]
    assert viewer.data["viewer"]["subjectId"] == str(raw_id(analyst["apiClient"]["id"]))
    # an ANALYST key cannot read personal data
    refused = await post(client, CITIZENS, api_key=analyst["key"])
    assert refused.status == 403 and refused.error_codes == ["FORBIDDEN"]
    # an AGENT key can create and read citizens
    created = await post(client, CREATE_CITIZEN, {"input": {"givenNames": "Ana", "familyName": "Keyed"}}, api_key=agent["key"])
    assert created.data["citizenCreate"]["userErrors"] == []
    listed = await post(client, CITIZENS, api_key=agent["key"])
    assert listed.status == 200
    assert [e["node"]["familyName"] for e in listed.data["citizens"]["edges"]] == ["Keyed"]


async def test_bad_keys_are_refused_like_bad_tokens(client, tenant):
    good = (await issue_key(client, tenant, ["AGENT"]))["key"]
    forged = good[:17] + ("A" if good[17] != "A" else "B") + good[18:]  # right prefix, wrong secret
    unknown = "gk_live_zzzzzzzz_" + "x" * 43
    for key in (forged, unknown, "not-a-key", "", good[:-1]):
        result = await post(client, VIEWER, api_key=key, lang="en")
        assert result.status == 401, key
        assert result.error_codes == ["UNAUTHENTICATED"]
        assert result.errors[0]["message"].startswith("You must be authenticated")
    # two credentials at once are ambiguous: refused
    both = await post(client, VIEWER, api_key=good, token=tenant.tokens["AGENT"])
    assert both.status == 401


async def test_revoked_key_is_refused_at_once(client, tenant, app):
    payload = await issue_key(client, tenant, ["AGENT"])
    key, api_client = payload["key"], payload["apiClient"]
    assert (await post(client, VIEWER, api_key=key)).status == 200
    # a stale version is a conflict
    stale = await post(client, REVOKE_CLIENT, {"input": {"id": api_client["id"], "version": 7}}, token=tenant.tokens["ADMIN"])
    assert stale.data["apiClientRevoke"]["userErrors"][0]["code"] == "CONFLICT"
    # when the admin revokes it
    revoked = await post(client, REVOKE_CLIENT, {"input": {"id": api_client["id"], "version": 1}}, token=tenant.tokens["ADMIN"])
    body = revoked.data["apiClientRevoke"]
    assert body["userErrors"] == []
    assert body["apiClient"]["active"] is False and body["apiClient"]["revokedAt"] and body["apiClient"]["version"] == 2
    # then the key no longer works
    after = await post(client, VIEWER, api_key=key)
    assert after.status == 401 and after.error_codes == ["UNAUTHENTICATED"]
    # revoking twice says so
    again = await post(client, REVOKE_CLIENT, {"input": {"id": api_client["id"], "version": 2}}, token=tenant.tokens["ADMIN"], lang="en")
    assert again.data["apiClientRevoke"]["userErrors"] == [
        {"field": ["id"], "code": "ALREADY_REVOKED", "message": "This API key is already revoked."}
    ]
    # revoked clients leave the default list, and the event is recorded
    listed = await post(client, LIST_CLIENTS, {"all": False}, token=tenant.tokens["ADMIN"])
    assert api_client["id"] not in str(listed.body)
    everything = await post(client, LIST_CLIENTS, {"all": True}, token=tenant.tokens["ADMIN"])
    assert api_client["id"] in str(everything.body)
    async with app.state.sessionmaker() as s:
        types = (
            await s.execute(sa.select(Event.type).where(Event.aggregate_id == raw_id(api_client["id"])).order_by(Event.sequence))
        ).scalars().all()
    assert types == ["api_client.created", "api_client.revoked"]


async def test_expired_key_is_refused(client, tenant, app):
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    payload = await issue_key(client, tenant, ["AGENT"], expiresAt=soon)
    assert payload["apiClient"]["expiresAt"] is not None
    assert (await post(client, VIEWER, api_key=payload["key"])).status == 200
    # when the expiry date passes
    async with app.state.sessionmaker() as s:
        await s.execute(
            sa.update(ApiClient)
            .where(ApiClient.id == raw_id(payload["apiClient"]["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await s.commit()
    assert (await post(client, VIEWER, api_key=payload["key"])).status == 401


async def test_last_used_at_is_written_at_most_once_a_minute(client, tenant, app):
    payload = await issue_key(client, tenant, ["AGENT"])
    client_id = raw_id(payload["apiClient"]["id"])
    assert payload["apiClient"]["lastUsedAt"] is None

    async def last_used():
        async with app.state.sessionmaker() as s:
            return (await s.execute(sa.select(ApiClient.last_used_at).where(ApiClient.id == client_id))).scalar_one()

    await post(client, VIEWER, api_key=payload["key"])
    first = await last_used()
    assert first is not None
    await post(client, VIEWER, api_key=payload["key"])
    assert await last_used() == first  # not rewritten within the minute
    # once the last write is older than a minute, the next use refreshes it
    async with app.state.sessionmaker() as s:
        await s.execute(sa.update(ApiClient).where(ApiClient.id == client_id).values(last_used_at=first - timedelta(minutes=2)))
        await s.commit()
    await post(client, VIEWER, api_key=payload["key"])
    assert await last_used() > first - timedelta(minutes=2)


async def test_other_tenants_data_and_clients_are_invisible(client, make_tenant):
    town, other = await make_tenant("a"), await make_tenant("b")
    key = (await issue_key(client, town, ["AGENT"]))["key"]
    theirs = await post(client, CREATE_CITIZEN, {"input": {"givenNames": "Bea", "familyName": "Elsewhere"}}, token=other.tokens["AGENT"])
    their_citizen = theirs.data["citizenCreate"]["citizen"]["id"]
    # the key reads its own tenant only
    listed = await post(client, CITIZENS, api_key=key)
    assert listed.data["citizens"]["edges"] == []
    node = await post(client, "query($id: ID!) { node(id: $id) { id } }", {"id": their_citizen}, api_key=key)
    assert node.data["node"] is None
    # another tenant's admin neither sees nor revokes the client
    other_client = (await issue_key(client, other, ["AGENT"]))["apiClient"]
    seen = await post(client, "query($id: ID!) { node(id: $id) { id } }", {"id": other_client["id"]}, token=town.tokens["ADMIN"])
    assert seen.data["node"] is None
    field = await post(client, "query($id: ID!) { apiClient(id: $id) { id } }", {"id": other_client["id"]}, token=town.tokens["ADMIN"])
    assert field.status == 200 and field.data["apiClient"] is None
    revoke = await post(client, REVOKE_CLIENT, {"input": {"id": other_client["id"], "version": 1}}, token=town.tokens["ADMIN"])
    assert revoke.data["apiClientRevoke"]["userErrors"][0]["code"] == "NOT_FOUND"
    listed = await post(client, LIST_CLIENTS, {"all": True}, token=town.tokens["ADMIN"])
    assert other_client["id"] not in str(listed.body)


async def test_only_admin_agents_manage_clients(client, tenant):
    create = {"input": {"name": "Sneaky", "roles": ["ADMIN"]}}
    for role in ("AGENT", "SUPERVISOR", "ANALYST"):
        result = await post(client, CREATE_CLIENT, create, token=tenant.tokens[role])
        assert result.status == 403 and result.error_codes == ["FORBIDDEN"], role
        listed = await post(client, LIST_CLIENTS, {"all": False}, token=tenant.tokens[role])
        assert listed.error_codes == ["FORBIDDEN"], role
    # an API client holding ADMIN cannot mint keys either (a leaked key cannot outlive its revocation)
    admin_key = (await issue_key(client, tenant, ["ADMIN"]))["key"]
    result = await post(client, CREATE_CLIENT, create, api_key=admin_key)
    assert result.status == 403 and result.error_codes == ["FORBIDDEN"]
    # but it may use its ADMIN role elsewhere
    dep = await post(
        client, 'mutation { departmentCreate(input: {name: "Numérique"}) { department { code } userErrors { code } } }', api_key=admin_key
    )
    assert dep.data["departmentCreate"]["department"] == {"code": "numerique"}
    # anonymous callers are told to authenticate
    anonymous = await post(client, CREATE_CLIENT, create)
    assert anonymous.status == 401


async def test_bad_input_is_a_typed_error_and_nothing_is_written(client, tenant, app):
    await issue_key(client, tenant, ["AGENT"], name="Open311")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    bad_department = base64.urlsafe_b64encode(f"Department:{uuid.uuid4()}".encode()).decode().rstrip("=")
    cases = [
        ({"name": "  ", "roles": ["AGENT"]}, (["name"], "REQUIRED")),
        ({"name": "x" * 101, "roles": ["AGENT"]}, (["name"], "TOO_LONG")),
        ({"name": "Open311", "roles": ["AGENT"]}, (["name"], "DUPLICATE")),
        ({"name": "No roles", "roles": []}, (["roles"], "CLIENT_ROLE_REQUIRED")),
        ({"name": "Past", "roles": ["AGENT"], "expiresAt": past}, (["expiresAt"], "EXPIRY_IN_PAST")),
        ({"name": "Dep", "roles": ["AGENT"], "departmentIds": [bad_department]}, (["departmentIds", "0"], "NOT_FOUND")),
        ({"name": "Bad id", "roles": ["AGENT"], "departmentIds": ["nope"]}, (["departmentIds", "0"], "INVALID_ID")),
    ]
    for data, expected in cases:
        result = await post(client, CREATE_CLIENT, {"input": data}, token=tenant.tokens["ADMIN"], lang="en")
        payload = result.data["apiClientCreate"]
        assert payload["key"] is None and payload["apiClient"] is None, data
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [expected], data
        assert all(e["message"] for e in payload["userErrors"])
    async with app.state.sessionmaker() as s:
        count = (await s.execute(sa.select(sa.func.count()).select_from(ApiClient).where(ApiClient.tenant_id == tenant.id))).scalar_one()
    assert count == 1
    french = await post(client, CREATE_CLIENT, {"input": {"name": "No roles", "roles": []}}, token=tenant.tokens["ADMIN"], lang="fr")
    assert french.data["apiClientCreate"]["userErrors"][0]["message"] == "Un client d'API doit avoir au moins un rôle."


async def test_department_scope_reaches_the_principal(client, tenant):
    dep_id = base64.urlsafe_b64encode(f"Department:{tenant.department_id}".encode()).decode().rstrip("=")
    payload = await issue_key(client, tenant, ["AGENT"], departmentIds=[dep_id])
    assert payload["apiClient"]["departments"] == [{"id": dep_id, "code": "accueil"}]
    viewer = await post(client, VIEWER, api_key=payload["key"])
    assert viewer.data["viewer"]["departmentIds"] == [dep_id]


async def test_list_is_paginated_by_name(client, tenant):
    for name in ("Charlie", "Alpha", "Bravo"):
        await issue_key(client, tenant, ["ANALYST"], name=name)
    names, after = [], None
    while True:
        page = await post(client, LIST_CLIENTS, {"all": False, "after": after}, token=tenant.tokens["ADMIN"])
        conn = page.data["apiClients"]
        names += [e["node"]["name"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert names == ["Alpha", "Bravo", "Charlie"]


# ---------------------------------------------------------------- POST /auth/token


async def test_client_credentials_exchange_a_key_for_a_short_lived_token(client, tenant):
    payload = await issue_key(client, tenant, ["AGENT"])
    key, prefix = payload["key"], payload["apiClient"]["keyPrefix"]
    basic = base64.b64encode(f"{prefix}:{key}".encode()).decode()
    response = await client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 900
    assert response.headers["cache-control"] == "no-store"
    viewer = await post(client, VIEWER, token=body["access_token"])
    assert viewer.data["viewer"]["kind"] == "CLIENT" and viewer.data["viewer"]["roles"] == ["AGENT"]
    # the key in a form field works too
    form = await client.post("/auth/token", data={"grant_type": "client_credentials", "client_secret": key})
    assert form.status_code == 200


async def test_token_endpoint_errors_follow_rfc_6749(client, tenant):
    payload = await issue_key(client, tenant, ["AGENT"])
    key = payload["key"]
    wrong_grant = await client.post("/auth/token", data={"grant_type": "password", "client_secret": key})
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    no_creds = await client.post("/auth/token", data={"grant_type": "client_credentials"})
    assert no_creds.status_code == 401 and no_creds.json()["error"] == "invalid_client"
    assert no_creds.headers["www-authenticate"].startswith("Basic")
    mismatched = base64.b64encode(f"otherpfx:{key}".encode()).decode()
    bad_id = await client.post("/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {mismatched}"})
    assert bad_id.status_code == 401
    as_json = await client.post("/auth/token", json={"grant_type": "client_credentials", "client_secret": key})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    # a revoked key gets no token
    await post(client, REVOKE_CLIENT, {"input": {"id": payload["apiClient"]["id"], "version": 1}}, token=tenant.tokens["ADMIN"])
    revoked = await client.post("/auth/token", data={"grant_type": "client_credentials", "client_secret": key})
    assert revoked.status_code == 401 and revoked.json()["error"] == "invalid_client"


async def test_demo_data_brings_working_demo_keys(client, app):
    from seeds.demo import seed_demo
    from seeds.integrations import DEMO_API_CLIENTS

    for _ in range(2):  # idempotent
        async with app.state.sessionmaker() as s:
            await seed_demo(s, citizens=3)
    for slug, _, roles, key in DEMO_API_CLIENTS:
        result = await post(client, "{ viewer { kind roles } tenant { slug } }", api_key=key)
        assert result.status == 200, result.body
        assert result.data == {"viewer": {"kind": "CLIENT", "roles": roles}, "tenant": {"slug": slug}}
    async with app.state.sessionmaker() as s:
        prefixes = (await s.execute(sa.select(ApiClient.key_prefix).where(ApiClient.key_prefix.in_(["demo0001", "voisin01"])))).scalars().all()
    assert sorted(prefixes) == ["demo0001", "voisin01"]
