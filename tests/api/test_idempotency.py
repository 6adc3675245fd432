"""Idempotency-Key on GraphQL mutations, over HTTP against the real app and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from click.testing import CliRunner

from domain.citizens.models import Citizen
from domain.idempotency import store
from domain.idempotency.models import IdempotencyKey
from domain.security import Principal, PrincipalKind, Role
from schema.common import parse_global_id
from tests.api.integrations import CREATE_CITIZEN, issue_key, post


def citizen(family: str, **extra) -> dict:
    return {"input": {"givenNames": "Idem", "familyName": family, **extra}}


async def count_citizens(app, tenant, family: str) -> int:
    async with app.state.sessionmaker() as s:
        return (
            await s.execute(
                sa.select(sa.func.count()).select_from(Citizen).where(Citizen.tenant_id == tenant.id, Citizen.family_name == family)
            )
        ).scalar_one()


async def test_retry_returns_the_first_response_and_creates_one_citizen(client, tenant, app):
    key = (await issue_key(client, tenant, ["AGENT"]))["key"]
    idem = str(uuid.uuid4())
    # given a first call that created a citizen
    first = await post(client, CREATE_CITIZEN, citizen("Retry"), api_key=key, idem=idem)
    assert first.status == 200 and first.data["citizenCreate"]["userErrors"] == []
    assert "idempotent-replayed" not in first.headers
    # when the integrator retries (lost response, timeout...), even with keys in another order
    retried = await post(client, CREATE_CITIZEN, {"input": {"familyName": "Retry", "givenNames": "Idem"}}, api_key=key, idem=idem)
    # then the first response comes back and nothing runs again
    assert retried.status == 200
    assert retried.body == first.body
    assert retried.headers["idempotent-replayed"] == "true"
    assert await count_citizens(app, tenant, "Retry") == 1


async def test_same_key_with_another_body_is_refused(client, tenant, app):
    token = tenant.tokens["AGENT"]
    idem = "order-2026-000042"
    await post(client, CREATE_CITIZEN, citizen("Body"), token=token, idem=idem)
    for lang, text in (("en", "already used for a different request"), ("fr", "déjà servi pour une autre requête")):
        reused = await post(client, CREATE_CITIZEN, citizen("Other"), token=token, idem=idem, lang=lang)
        assert reused.status == 422
        assert reused.error_codes == ["IDEMPOTENCY_KEY_REUSED"]
        assert text in reused.errors[0]["message"]
    assert await count_citizens(app, tenant, "Other") == 0
    assert await count_citizens(app, tenant, "Body") == 1


async def test_concurrent_duplicates_execute_once(client, tenant, app):
    key = (await issue_key(client, tenant, ["AGENT"]))["key"]
    idem = str(uuid.uuid4())
    # when five copies of the same request arrive at once
    results = await asyncio.gather(*[post(client, CREATE_CITIZEN, citizen("Racer"), api_key=key, idem=idem) for _ in range(5)])
    # then exactly one ran; the others were told to wait (409) or got its response
    executed = [r for r in results if r.status == 200 and "idempotent-replayed" not in r.headers]
    assert len(executed) == 1
    for r in results:
        assert r.status in (200, 409), r.body
        if r.status == 409:
            assert r.error_codes == ["IDEMPOTENCY_IN_PROGRESS"] and r.headers["retry-after"] == "1"
        else:
            assert r.body == executed[0].body
    assert await count_citizens(app, tenant, "Racer") == 1


async def test_request_in_progress_gets_409(client, tenant, app):
    key = await issue_key(client, tenant, ["AGENT"])
    principal = Principal(PrincipalKind.CLIENT, parse_global_id(key["apiClient"]["id"])[1], tenant.id, frozenset({Role.AGENT}))
    variables = citizen("Slow")
    digest = store.request_hash({"query": CREATE_CITIZEN, "variables": variables, "operationName": None})
    # given the same request reserved and still running elsewhere
    held = await store.reserve(app.state.sessionmaker, principal, "slow-1", digest)
    assert held.outcome is store.Outcome.RESERVED
    # when a duplicate arrives
    duplicate = await post(client, CREATE_CITIZEN, variables, api_key=key["key"], idem="slow-1", lang="en")
    # then it is told to retry later, and nothing ran
    assert duplicate.status == 409 and duplicate.error_codes == ["IDEMPOTENCY_IN_PROGRESS"]
    assert await count_citizens(app, tenant, "Slow") == 0
    # once the first completes, the duplicate gets its response
    await store.complete(app.state.sessionmaker, held.record_id, 200, '{"data": {"done": true}}', "en")
    replay = await post(client, CREATE_CITIZEN, variables, api_key=key["key"], idem="slow-1")
    assert replay.status == 200 and replay.body == {"data": {"done": True}}
    assert await count_citizens(app, tenant, "Slow") == 0


async def test_keys_are_scoped_per_principal(client, tenant, make_tenant, app):
    key_a = (await issue_key(client, tenant, ["AGENT"]))["key"]
    key_b = (await issue_key(client, tenant, ["AGENT"]))["key"]
    other = await make_tenant("o")
    idem = "shared-key-1"
    # the same key and body from four different principals (two clients, an agent, another tenant's agent)
    results = [
        await post(client, CREATE_CITIZEN, citizen("Shared"), api_key=key_a, idem=idem),
        await post(client, CREATE_CITIZEN, citizen("Shared"), api_key=key_b, idem=idem),
        await post(client, CREATE_CITIZEN, citizen("Shared"), token=tenant.tokens["AGENT"], idem=idem),
        await post(client, CREATE_CITIZEN, citizen("Shared"), token=other.tokens["AGENT"], idem=idem),
    ]
    # each ran once
    assert all(r.status == 200 and "idempotent-replayed" not in r.headers for r in results)
    assert len({r.data["citizenCreate"]["citizen"]["id"] for r in results}) == 4
    assert await count_citizens(app, tenant, "Shared") == 3
    assert await count_citizens(app, other, "Shared") == 1


async def test_user_errors_are_replayed_too(client, tenant, app):
    token = tenant.tokens["AGENT"]
    bad = citizen("Invalid", email="not-an-email")
    first = await post(client, CREATE_CITIZEN, bad, token=token, idem="bad-1", lang="en")
    assert first.data["citizenCreate"]["userErrors"][0]["code"] == "INVALID_EMAIL"
    again = await post(client, CREATE_CITIZEN, bad, token=token, idem="bad-1", lang="en")
    assert again.body == first.body and again.headers["content-language"] == "en"


async def test_queries_and_anonymous_requests_ignore_the_header(client, tenant, app):
    token = tenant.tokens["AGENT"]
    for _ in range(2):
        result = await post(client, "{ citizens(first: 1) { edges { cursor } } }", token=token, idem="query-1")
        assert result.status == 200 and "idempotent-replayed" not in result.headers
    anonymous = await post(client, CREATE_CITIZEN, citizen("Anon"), idem="anon-1")
    assert anonymous.status == 401
    async with app.state.sessionmaker() as s:
        keys = (
            await s.execute(sa.select(IdempotencyKey.key).where(IdempotencyKey.tenant_id == tenant.id))
        ).scalars().all()
    assert keys == []


async def test_malformed_key_is_a_typed_error(client, tenant, app):
    for bad in ("x" * 256, "has space", "accentué"):
        result = await post(client, CREATE_CITIZEN, citizen("Malformed"), token=tenant.tokens["AGENT"], idem=bad.encode(), lang="en")
        assert result.status == 400 and result.error_codes == ["IDEMPOTENCY_KEY_INVALID"], bad
    assert await count_citizens(app, tenant, "Malformed") == 0
    longest = await post(client, CREATE_CITIZEN, citizen("Malformed"), token=tenant.tokens["AGENT"], idem="k" * 255)
    assert longest.status == 200


async def test_expired_key_may_be_used_again(client, tenant, app):
    token = tenant.tokens["AGENT"]
    await post(client, CREATE_CITIZEN, citizen("Yesterday"), token=token, idem="daily")
    async with app.state.sessionmaker() as s:
        await s.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.tenant_id == tenant.id, IdempotencyKey.key == "daily")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await s.commit()
    fresh = await post(client, CREATE_CITIZEN, citizen("Today"), token=token, idem="daily")
    assert fresh.status == 200 and fresh.data["citizenCreate"]["citizen"]["familyName"] == "Today"


def test_purge_command_deletes_expired_keys_only(database_url, monkeypatch):
    from api import db
    from api.cli import main
    from api.settings import get_settings
    from domain.tenancy.services import create_tenant

    async def seed() -> uuid.UUID:
        engine = db.create_engine(database_url, 1, 0)
        try:
            async with db.sessionmaker(engine)() as s:
                tenant = await create_tenant(s, {"name": "Purge", "slug": f"purge-{uuid.uuid4().hex[:8]}"})
                now = datetime.now(UTC)
                for index, expires in enumerate((now - timedelta(hours=1), now - timedelta(days=3), now + timedelta(hours=5))):
                    s.add(
                        IdempotencyKey(
                            tenant_id=tenant.id, principal_kind="agent", principal_id=uuid.uuid4(), key=f"k{index}",
                            request_hash="0" * 64, status=store.COMPLETED, expires_at=expires,
                        )
                    )
                await s.commit()
                return tenant.id
        finally:
            await engine.dispose()

    async def remaining(tenant_id: uuid.UUID) -> list[str]:
        engine = db.create_engine(database_url, 1, 0)
        try:
            async with db.sessionmaker(engine)() as s:
                return list((await s.execute(sa.select(IdempotencyKey.key).where(IdempotencyKey.tenant_id == tenant_id))).scalars())
        finally:
            await engine.dispose()

    tenant_id = asyncio.run(seed())
    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["idempotency", "purge"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "expired idempotency keys deleted" in result.output
    assert asyncio.run(remaining(tenant_id)) == ["k2"]


async def test_a_reservation_abandoned_by_a_dead_process_is_taken_over(client, tenant, app):
    token = tenant.tokens["AGENT"]
    principal = Principal(PrincipalKind.AGENT, tenant.agents["AGENT"], tenant.id, frozenset({Role.AGENT}))
    variables = citizen("Orphan")
    digest = store.request_hash({"query": CREATE_CITIZEN, "variables": variables, "operationName": None})
    held = await store.reserve(app.state.sessionmaker, principal, "orphan-1", digest)
    # given a reservation still IN_PROGRESS long after any request could have finished (the process died)
    async with app.state.sessionmaker() as s:
        await s.execute(
            sa.update(IdempotencyKey).where(IdempotencyKey.id == held.record_id).values(created_at=datetime.now(UTC) - timedelta(minutes=10))
        )
        await s.commit()
    # when the integrator retries, the request runs
    retried = await post(client, CREATE_CITIZEN, variables, token=token, idem="orphan-1")
    assert retried.status == 200 and retried.data["citizenCreate"]["citizen"]["familyName"] == "Orphan"
    assert await count_citizens(app, tenant, "Orphan") == 1
    # and a late completion of the dead holder cannot overwrite the stored response
    await store.complete(app.state.sessionmaker, held.record_id, 200, '{"data": null}', None)
    replay = await post(client, CREATE_CITIZEN, variables, token=token, idem="orphan-1")
    assert replay.body == retried.body
