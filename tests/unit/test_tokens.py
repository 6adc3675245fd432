"""Access tokens: round-trips and every way a forged or stale token must be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt

from api.settings import Settings
from auth.tokens import InvalidToken, TokenKeys, issue_token, verify_token
from domain.security import PrincipalKind, Role

TENANT = uuid.uuid4()
SUBJECT = uuid.uuid4()
DEPARTMENT = uuid.uuid4()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hs_keys(secret: str = "s" * 40) -> TokenKeys:
    return TokenKeys.from_settings(Settings(environment="test", jwt_secret=secret))


def pem_pair(kind: str) -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "RS256" else ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def asym_keys(algorithm: str, kid: str = "key-2026") -> TokenKeys:
    private_pem, public_pem = pem_pair(algorithm)
    settings = Settings(
        environment="test", jwt_algorithm=algorithm, jwt_private_key=private_pem, jwt_public_key=public_pem, jwt_key_id=kid
    )
    return TokenKeys.from_settings(settings)


def claims(**overrides) -> dict:
    now = datetime.now(UTC)
    base = {
        "iss": "guichet",
        "sub": str(SUBJECT),
        "tenant": str(TENANT),
        "kind": "agent",
        "roles": ["AGENT"],
        "departments": [],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hand_signed(header: dict, payload: dict, secret: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()) if secret is not None else ""
    return f"{signing_input}.{signature}"


def test_hs256_round_trip_keeps_every_claim():
    keys = hs_keys()
    token = issue_token(
        keys, kind=PrincipalKind.AGENT, subject_id=SUBJECT, tenant_id=TENANT, roles=[Role.ADMIN, Role.AGENT], departments=[DEPARTMENT]
    )
    principal = verify_token(keys, token)
    assert principal.kind is PrincipalKind.AGENT
    assert principal.subject_id == SUBJECT and principal.tenant_id == TENANT
    assert principal.roles == {Role.ADMIN, Role.AGENT}
    assert principal.departments == {DEPARTMENT}
    assert principal.token_id


def test_citizen_tokens_never_carry_roles():
    keys = hs_keys()
    token = jwt.encode(claims(kind="citizen", roles=["ADMIN"]), keys.signing_key, algorithm="HS256")
    principal = verify_token(keys, token)
    assert principal.is_citizen and principal.roles == frozenset()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_asymmetric_round_trip_with_kid(algorithm):
    keys = asym_keys(algorithm)
    token = issue_token(keys, kind=PrincipalKind.CLIENT, subject_id=SUBJECT, tenant_id=TENANT, roles=[Role.ANALYST])
    assert jwt.get_unverified_header(token) == {"alg": algorithm, "typ": "JWT", "kid": "key-2026"}
    principal = verify_token(keys, token)
    assert principal.kind is PrincipalKind.CLIENT and principal.roles == {Role.ANALYST}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_asymmetric_token_with_unknown_kid_or_other_key_is_refused(algorithm):
    keys = asym_keys(algorithm)
    other = asym_keys(algorithm)  # same kid, different key pair
    with pytest.raises(InvalidToken):
        verify_token(keys, issue_token(other, kind=PrincipalKind.AGENT, subject_id=SUBJECT, tenant_id=TENANT))
    rotated = asym_keys(algorithm, kid="old-key")
    with pytest.raises(InvalidToken):
        verify_token(rotated, issue_token(keys, kind=PrincipalKind.AGENT, subject_id=SUBJECT, tenant_id=TENANT))


def test_tampered_payload_is_refused():
    keys = hs_keys()
    token = issue_token(keys, kind=PrincipalKind.AGENT, subject_id=SUBJECT, tenant_id=TENANT, roles=[Role.AGENT])
    header, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["roles"] = ["ADMIN"]
    with pytest.raises(InvalidToken):
        verify_token(keys, f"{header}.{b64(json.dumps(forged).encode())}.{signature}")


def test_tampered_signature_is_refused():
    keys = hs_keys()
    token = issue_token(keys, kind=PrincipalKind.AGENT, subject_id=SUBJECT, tenant_id=TENANT)
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(InvalidToken):
        verify_token(keys, f"{header}.{payload}.{flipped}")


def test_expired_token_is_refused():
    keys = hs_keys()
    token = issue_token(
        keys, kind=PrincipalKind.AGENT, subject_id=SUBJECT, tenant_id=TENANT, ttl=60, now=datetime.now(UTC) - timedelta(hours=2)
    )
    with pytest.raises(InvalidToken):
        verify_token(keys, token)


def test_alg_none_is_refused():
    keys = hs_keys()
    token = hand_signed({"alg": "none", "typ": "JWT"}, claims(roles=["ADMIN"]), None)
    assert token.endswith(".")
    with pytest.raises(InvalidToken):
        verify_token(keys, token)
    # also with the header spelled differently
    for alg in ("None", "NONE"):
        with pytest.raises(InvalidToken):
            verify_token(keys, hand_signed({"alg": alg}, claims(), None))


def test_hs256_token_signed_with_another_secret_is_refused():
    keys = hs_keys("a" * 40)
    token = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(), b"b" * 40)
    with pytest.raises(InvalidToken):
        verify_token(keys, token)
    # the same claims signed with the right secret pass: the check above is about the secret only
    assert verify_token(keys, hand_signed({"alg": "HS256", "typ": "JWT"}, claims(), b"a" * 40)).subject_id == SUBJECT


def test_algorithm_confusion_public_key_as_hmac_secret_is_refused():
    keys = asym_keys("RS256")
    public_pem = keys.verifying_key.encode()
    forged = hand_signed({"alg": "HS256", "typ": "JWT", "kid": "key-2026"}, claims(roles=["ADMIN"]), public_pem)
    with pytest.raises(InvalidToken):
        verify_token(keys, forged)


@pytest.mark.parametrize("missing", ["iss", "sub", "tenant", "kind", "exp", "iat", "jti"])
def test_token_missing_a_claim_is_refused(missing):
    keys = hs_keys()
    token = jwt.encode(claims(**{missing: None}), keys.signing_key, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_token(keys, token)


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "robot"},
        {"roles": ["EMPEROR"]},
        {"sub": "not-a-uuid"},
        {"tenant": "42"},
        {"departments": ["x"]},
        {"iss": "someone-else"},
    ],
)
def test_token_with_bad_claim_values_is_refused(bad):
    keys = hs_keys()
    token = jwt.encode(claims(**bad), keys.signing_key, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_token(keys, token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30"])
def test_garbage_is_refused(garbage):
    with pytest.raises(InvalidToken):
        verify_token(hs_keys(), garbage)
