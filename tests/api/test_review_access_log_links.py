"""Review 2026-11-29: the access log does not record signed download links (bearer credentials)."""

from __future__ import annotations

import json
import logging
import uuid

from api.logs import JsonFormatter


async def test_signed_file_token_is_not_in_the_access_log(client, app, tenant, caplog):
    caplog.set_level(logging.INFO, logger="guichet.access")
    caplog.handler.setFormatter(JsonFormatter())
    token = app.state.files.signer.sign(tenant.id, uuid.uuid4())
    response = await client.get(f"/files/{token}")
    assert response.status_code == 404  # a valid link to a file that does not exist
    lines = [json.loads(line) for line in caplog.text.splitlines() if line.strip()]
    access = [e for e in lines if e["logger"] == "guichet.access"]
    assert [(e["method"], e["path"], e["status"]) for e in access] == [("GET", "/files/{token}", 404)]
    assert token not in caplog.text and token.split(".")[1] not in caplog.text
