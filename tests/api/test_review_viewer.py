"""Review 2026-11-29: Viewer.tokenExpiresAt is filled; an API client's subjectId is a global ID like every other ID."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from tests.api.integrations import issue_key, post

VIEWER = "{ viewer { kind subjectId tokenExpiresAt } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"


async def test_token_expiry_is_shown_with_its_offset(gql, tenant):
    token = tenant.tokens["AGENT"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    result = await gql(VIEWER, token=token)
    expires = result.data["viewer"]["tokenExpiresAt"]
    assert expires is not None
    parsed = datetime.fromisoformat(expires)
    assert parsed.utcoffset() is not None
    assert int(parsed.timestamp()) == claims["exp"]


async def test_api_client_subject_id_is_an_opaque_global_id(client, tenant):
    issued = await issue_key(client, tenant, ["AGENT"])
    viewer = await post(client, VIEWER, api_key=issued["key"])
    assert viewer.data["viewer"]["kind"] == "CLIENT"
    assert viewer.data["viewer"]["subjectId"] == issued["apiClient"]["id"]
    assert viewer.data["viewer"]["tokenExpiresAt"] is None  # a key has no token expiry
