"""Helpers for tests of API keys and idempotency: raw HTTP calls with any header."""

from __future__ import annotations

from typing import Any

from tests.conftest import GQLResult

CREATE_CLIENT = """
mutation Create($input: ApiClientCreateInput!) {
  apiClientCreate(input: $input) {
    key
    apiClient { id name roles keyPrefix active version createdAt lastUsedAt revokedAt expiresAt
                departments { id code } createdBy { id } }
    userErrors { field code message }
  }
}
"""
REVOKE_CLIENT = """
mutation Revoke($input: ApiClientRevokeInput!) {
  apiClientRevoke(input: $input) { apiClient { id active revokedAt version } userErrors { field code message } }
}
"""
CREATE_CITIZEN = """
mutation Create($input: CitizenCreateInput!) {
  citizenCreate(input: $input) { citizen { id givenNames familyName version } userErrors { field code message } }
}
"""


async def post(client, query: str, variables: dict | None = None, **headers: str) -> GQLResult:
    """POST /graphql with headers given as keyword arguments (``api_key=`` -> ``X-Api-Key``)."""
    names = {"api_key": "X-Api-Key", "token": "Authorization", "lang": "Accept-Language", "idem": "Idempotency-Key"}
    sent: dict[str, Any] = {}
    for name, value in headers.items():
        if value is None:
            continue
        header = names.get(name, name)
        sent[header] = f"Bearer {value}" if name == "token" else value
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)
    return GQLResult(response.status_code, response.json(), response.headers)


async def issue_key(client, tenant, roles: list[str], name: str | None = None, **extra: Any) -> dict[str, Any]:
    """Issue an API key with the tenant's ADMIN agent; returns the create payload."""
    import uuid

    variables = {"input": {"name": name or f"client-{uuid.uuid4().hex[:6]}", "roles": roles, **extra}}
    result = await post(client, CREATE_CLIENT, variables, token=tenant.tokens["ADMIN"])
    assert result.status == 200, result.body
    payload = result.data["apiClientCreate"]
    assert payload["userErrors"] == [], payload
    return payload
