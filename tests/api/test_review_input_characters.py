"""Review 2026-11-29: text PostgreSQL cannot store (NUL, lone surrogates) is a typed error, never INTERNAL."""

from __future__ import annotations

import json

CREATE = """
mutation Create($input: CitizenCreateInput!) {
  citizenCreate(input: $input) { citizen { id } userErrors { field code message } }
}
"""
SEARCH = "query Search($s: String) { citizens(search: $s) { edges { node { id familyName } } } }"


async def test_nul_byte_in_a_variable_is_a_typed_error_and_nothing_is_written(gql, tenant):
    token = tenant.tokens["AGENT"]
    # when a client sends a NUL byte in a text field
    result = await gql(CREATE, {"input": {"givenNames": "Je\x00an", "familyName": "Nulbyte"}}, token=token, lang="en")
    # then it gets a precise, translated BAD_USER_INPUT naming the variable path, not INTERNAL
    assert result.error_codes == ["BAD_USER_INPUT"]
    error = result.errors[0]
    assert error["extensions"]["reason"] == "INVALID_CHARACTER"
    assert error["extensions"]["field"] == ["input", "givenNames"]
    assert "character" in error["message"]
    # and nothing was written
    found = await gql(SEARCH, {"s": "nulbyte"}, token=token)
    assert found.data["citizens"]["edges"] == []


async def test_nul_byte_in_a_query_literal_and_in_french(gql, tenant):
    query = 'mutation { citizenCreate(input: {givenNames: "A\\u0000", familyName: "B"}) { citizen { id } } }'
    result = await gql(query, token=tenant.tokens["AGENT"], lang="fr")
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["reason"] == "INVALID_CHARACTER"
    assert "caractère" in result.errors[0]["message"]


async def test_lone_surrogate_is_a_typed_error(client, tenant):
    # a JSON body may escape a lone surrogate ("\\ud800"), which UTF-8 (hence PostgreSQL) cannot encode
    variables = json.dumps({"input": {"givenNames": "Jean\ud800", "familyName": "Surrogate"}})  # ASCII-escaped
    body = json.dumps({"query": CREATE, "variables": json.loads(variables)})
    response = await client.post(
        "/graphql",
        content=body.encode("ascii"),
        headers={"content-type": "application/json", "authorization": f"Bearer {tenant.tokens['AGENT']}"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "INVALID_CHARACTER"


async def test_search_with_nul_byte_is_refused_the_same_way(gql, tenant):
    result = await gql(SEARCH, {"s": "du\x00pont"}, token=tenant.tokens["AGENT"])
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == ["s"]
