"""The ``guichet`` command line, run in-process against the test database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from click.testing import CliRunner

from api import db
from api.cli import SCHEMA_FILE, main
from api.graphql import export_sdl
from api.settings import Settings, get_settings
from auth.tokens import TokenKeys, verify_token
from domain.security import PrincipalKind, Role
from seeds.demo import AGENTS, DEMO_CITIZEN

COUNTED = ("tenants", "departments", "agents", "agent_departments", "citizens", "citizen_external_ids", "events")


@pytest.fixture
def cli_env(monkeypatch, database_url):
    """The CLI reads its settings from the environment: point it at the test database."""
    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    monkeypatch.setenv("GUICHET_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str):
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result


def keys() -> TokenKeys:
    return TokenKeys.from_settings(Settings(environment="test"))


def counts(url: str) -> dict[str, int]:
    async def go():
        conn = await asyncpg.connect(db.to_plain_url(url))
        try:
            return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in COUNTED}
        finally:
            await conn.close()

    return asyncio.run(go())


# ---------------------------------------------------------------- schema


def test_schema_graphql_is_up_to_date():
    assert SCHEMA_FILE.read_text() == export_sdl(), "schema.graphql is stale: run `guichet schema export` and commit it"


def test_schema_export_check_exit_codes(tmp_path):
    runner = CliRunner()
    assert run(runner, "schema", "export", "--check").exit_code == 0
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n")
    result = runner.invoke(main, ["schema", "export", "--check", "--output", str(stale)])
    assert result.exit_code == 1
    assert "guichet schema export" in result.output
    missing = runner.invoke(main, ["schema", "export", "--check", "--output", str(tmp_path / "none.graphql")])
    assert missing.exit_code == 1
    written = runner.invoke(main, ["schema", "export", "--output", str(stale)])
    assert written.exit_code == 0 and stale.read_text() == export_sdl()
    assert runner.invoke(main, ["schema", "export", "--check", "--output", str(stale)]).exit_code == 0


# ---------------------------------------------------------------- seed and tokens


def test_seed_demo_is_idempotent(cli_env, database_url):
    first = run(cli_env, "seed", "--demo", "--citizens", "12")
    assert first.exit_code == 0, first.output
    after_first = counts(database_url)
    second = run(cli_env, "seed", "--demo", "--citizens", "12")
    assert second.exit_code == 0, second.output
    assert counts(database_url) == after_first


def test_demo_history_is_consistent_with_the_procedures(cli_env, database_url):
    """The generated months of history look like real requests to an agent opening the inbox:
    every submitted request has a unique reference and a state of its procedure's workflow."""
    assert run(cli_env, "seed", "--demo", "--citizens", "12").exit_code == 0

    async def go():
        conn = await asyncpg.connect(db.to_plain_url(database_url))
        try:
            # the demo tenants only: other tests of the session load bare generated histories
            demo = "tenant_id IN (SELECT id FROM tenants WHERE slug IN ('demo', 'voisine'))"
            missing_reference = await conn.fetchval(
                f"SELECT count(*) FROM requests WHERE status <> 'DRAFT' AND reference IS NULL AND {demo}"
            )
            duplicates = await conn.fetchval(
                f"SELECT count(*) - count(DISTINCT (tenant_id, reference)) FROM requests WHERE reference IS NOT NULL AND {demo}"
            )
            unknown_state = await conn.fetchval(
                "SELECT count(*) FROM requests r JOIN procedure_versions v ON v.id = r.procedure_version_id "
                "WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v.definition->'workflow'->'states') s "
                f"WHERE s->>'code' = r.state) AND r.{demo}"
            )
            history = await conn.fetchval(f"SELECT count(*) FROM requests WHERE submitted_at < now() - interval '60 days' AND {demo}")
            return missing_reference, duplicates, unknown_state, history
        finally:
            await conn.close()

    missing_reference, duplicates, unknown_state, history = asyncio.run(go())
    assert history > 1000
    assert (missing_reference, duplicates, unknown_state) == (0, 0, 0)


def test_token_for_an_agent_citizen_and_client(cli_env):
    assert run(cli_env, "seed", "--demo", "--citizens", "5").exit_code == 0
    admin = next(a for a in AGENTS if a.roles == ("ADMIN",) and a.tenant == "demo")

    agent = run(cli_env, "token", "--tenant", "demo", "--agent", admin.email.upper())
    assert agent.exit_code == 0, agent.output
    principal = verify_token(keys(), agent.output.strip())
    assert principal.kind is PrincipalKind.AGENT and principal.roles == {Role.ADMIN}
    assert len(principal.departments) == len(admin.departments)

    narrowed = run(cli_env, "token", "--tenant", "demo", "--agent", admin.email, "--role", "analyst")
    assert verify_token(keys(), narrowed.output.strip()).roles == {Role.ANALYST}
    # narrowing the token's roles does not change the agent in the database
    again = run(cli_env, "token", "--tenant", "demo", "--agent", admin.email)
    assert verify_token(keys(), again.output.strip()).roles == {Role.ADMIN}

    citizen = run(cli_env, "token", "--tenant", "demo", "--citizen", DEMO_CITIZEN["email"], "--ttl", "120")
    assert citizen.exit_code == 0, citizen.output
    c = verify_token(keys(), citizen.output.strip())
    assert c.kind is PrincipalKind.CITIZEN and c.roles == frozenset() and c.tenant_id == principal.tenant_id

    client = run(cli_env, "token", "--tenant", "voisine", "--role", "AGENT", "--role", "SUPERVISOR")
    assert client.exit_code == 0, client.output
    k = verify_token(keys(), client.output.strip())
    assert k.kind is PrincipalKind.CLIENT and k.roles == {Role.AGENT, Role.SUPERVISOR} and k.tenant_id != principal.tenant_id


def test_token_refuses_bad_arguments(cli_env):
    assert run(cli_env, "seed", "--demo", "--citizens", "5").exit_code == 0
    cases = [
        (["--tenant", "atlantide", "--role", "AGENT"], "unknown tenant"),
        (["--tenant", "demo", "--agent", "nobody@ville-demo.fr"], "no agent"),
        (["--tenant", "demo", "--citizen", "nobody@example.org"], "no citizen"),
        (["--tenant", "demo"], "at least one --role"),
        (["--tenant", "demo", "--role", "EMPEROR"], "--role"),
        (["--tenant", "demo", "--agent", "a@b.fr", "--citizen", "c@d.fr"], "exclusive"),
    ]
    for args, message in cases:
        result = cli_env.invoke(main, ["token", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)


def test_migrate_is_idempotent(cli_env, database_url):
    before = counts(database_url)
    for _ in range(2):
        result = run(cli_env, "migrate")
        assert result.exit_code == 0 and "migrations applied" in result.output
    assert counts(database_url) == before
