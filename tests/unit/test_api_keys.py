"""The API key format: generation, parsing and hashing (pure functions)."""

from __future__ import annotations

import re

from domain.clients.keys import generate_key, hash_key, key_matches, parse_prefix
from domain.idempotency.store import request_hash, valid_key


def test_generated_keys_have_the_documented_shape_and_differ():
    keys = [generate_key() for _ in range(50)]
    for key, prefix in keys:
        assert re.fullmatch(r"gk_live_[a-z0-9]{8}_[A-Za-z0-9_-]{43}", key)
        assert parse_prefix(key) == prefix == key[8:16]
    assert len({k for k, _ in keys}) == 50


def test_malformed_keys_have_no_prefix():
    key, _ = generate_key()
    for bad in (None, "", "gk_live_", key[:-1], key + "x", key.replace("gk_live_", "gk_test_"), key.upper(), "Bearer " + key):
        assert parse_prefix(bad) is None, bad


def test_only_the_exact_key_matches_its_hash():
    key, _ = generate_key()
    digest = hash_key(key)
    assert len(digest) == 64 and key not in digest
    assert key_matches(key, digest)
    assert not key_matches(key[:-1] + ("a" if key[-1] != "a" else "b"), digest)


def test_request_hash_ignores_key_order_but_not_values():
    a = request_hash({"query": "mutation", "variables": {"x": 1, "y": [1, 2]}})
    b = request_hash({"variables": {"y": [1, 2], "x": 1}, "query": "mutation"})
    c = request_hash({"query": "mutation", "variables": {"x": 1, "y": [2, 1]}})
    assert a == b != c


def test_idempotency_key_syntax():
    assert valid_key("550e8400-e29b-41d4-a716-446655440000")
    assert valid_key("k" * 255) and not valid_key("k" * 256)
    assert not valid_key("") and not valid_key("with space") and not valid_key("é")


def test_only_mutations_are_made_idempotent():
    from api.idempotency import mutation_payload

    mutation = b'{"query": "mutation M { citizenCreate(input: {givenNames: \\"a\\", familyName: \\"b\\"}) { userErrors { code } } }"}'
    assert mutation_payload(mutation)["operationName"] is None
    assert mutation_payload(b'{"query": "{ viewer { kind } }"}') is None
    assert mutation_payload(b'{"query": "mutation {"}') is None  # syntax error: the view answers it
    assert mutation_payload(b"not json") is None
    two = b'{"query": "query Q { viewer { kind } } mutation M { login { userErrors { code } } }", "operationName": "%s"}'
    assert mutation_payload(two % b"M") is not None
    assert mutation_payload(two % b"Q") is None


def test_server_faults_are_not_stored():
    from api.idempotency import _is_server_fault

    assert _is_server_fault(500, b"Internal Server Error")
    assert _is_server_fault(200, b'{"data": {"x": null}, "errors": [{"extensions": {"code": "INTERNAL"}}]}')
    assert not _is_server_fault(200, b'{"data": {"x": {"userErrors": [{"code": "CONFLICT"}]}}}')
    assert not _is_server_fault(403, b'{"data": null, "errors": [{"extensions": {"code": "FORBIDDEN"}}]}')
