"""The ``guichet`` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from api import db
from api.settings import get_settings

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def _database_url() -> str:
    settings = get_settings()
    url = db.resolve_database_url(settings.database_url, settings.data_dir)
    # child processes (uvicorn workers) must use the same database
    os.environ["GUICHET_DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


async def _with_session(url: str, fn):
    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    try:
        async with db.sessionmaker(engine)() as session:
            return await fn(session)
    finally:
        await engine.dispose()


def _seed_demo(url: str, citizens: int) -> None:
    from seeds.demo import seed_demo

    asyncio.run(_with_session(url, lambda s: seed_demo(s, citizens)))


@click.group()
def main() -> None:
    """Guichet: the API-first citizen relationship management backend."""


@main.command()
@click.option("--demo", is_flag=True, help="Load the demo tenants and data on start (idempotent).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Reload on code changes (development).")
def serve(demo: bool, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the API (GraphQL at /graphql, GraphiQL in development)."""
    import uvicorn

    from api.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    url = _database_url()
    if settings.run_migrations_on_start:
        db.migrate(url)
    if demo:
        _seed_demo(url, 300)
    click.echo(f"Guichet on http://{host}:{port}/graphql (GraphiQL: open it in a browser)", err=True)
    uvicorn.run(
        "api.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers if not reload else None,
        reload=reload,
        proxy_headers=True,
        log_config=None,
    )


@main.command()
def migrate() -> None:
    """Apply the database migrations."""
    db.migrate(_database_url())
    click.echo("migrations applied")


@main.command()
@click.option("--demo", is_flag=True, required=True, help="Load the demo tenants and data.")
@click.option("--citizens", default=300, show_default=True, help="Citizens to generate in the demo tenant.")
def seed(demo: bool, citizens: int) -> None:
    """Load seed data (idempotent)."""
    url = _database_url()
    db.migrate(url)
    _seed_demo(url, citizens)
    click.echo("demo data loaded")


@main.command()
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug, e.g. demo.")
@click.option("--role", "roles", multiple=True, help="Role (repeatable): AGENT, SUPERVISOR, ADMIN, ANALYST.")
@click.option("--agent", "agent_email", help="Sign as this agent (roles and departments from the database).")
@click.option("--citizen", "citizen_email", help="Sign as this citizen.")
@click.option("--ttl", default=None, type=int, help="Lifetime in seconds.")
def token(tenant_slug: str, roles: tuple[str, ...], agent_email: str | None, citizen_email: str | None, ttl: int | None) -> None:
    """Print a signed access token (development and scripting)."""
    import uuid

    import sqlalchemy as sa

    from auth.login import agent_token, citizen_token
    from auth.tokens import TokenKeys, issue_token
    from domain.citizens.models import Citizen
    from domain.security import PrincipalKind, Role
    from domain.tenancy.models import Agent
    from domain.tenancy.services import get_tenant_by_slug

    if agent_email and citizen_email:
        raise click.UsageError("--agent and --citizen are exclusive")
    keys = TokenKeys.from_settings(get_settings())
    try:
        role_values = [Role(r.upper()) for r in roles]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--role") from exc

    async def run(session):
        tenant = await get_tenant_by_slug(session, tenant_slug)
        if tenant is None:
            raise click.ClickException(f"unknown tenant {tenant_slug!r}")
        if agent_email:
            agent = (
                await session.execute(sa.select(Agent).where(Agent.tenant_id == tenant.id, Agent.email == agent_email.lower()))
            ).scalar_one_or_none()
            if agent is None:
                raise click.ClickException(f"no agent {agent_email!r} in {tenant_slug!r}")
            if not agent.active:
                raise click.ClickException(f"agent {agent_email!r} is deactivated")
            if role_values:
                agent.roles = [r.value for r in role_values]
            return await agent_token(session, keys, agent, ttl)
        if citizen_email:
            citizen = (
                await session.execute(
                    sa.select(Citizen).where(Citizen.tenant_id == tenant.id, Citizen.email == citizen_email.lower())
                )
            ).scalar_one_or_none()
            if citizen is None:
                raise click.ClickException(f"no citizen {citizen_email!r} in {tenant_slug!r}")
            return citizen_token(keys, citizen, ttl)
        if not role_values:
            raise click.UsageError("an API-client token needs at least one --role")
        return issue_token(keys, kind=PrincipalKind.CLIENT, subject_id=uuid.uuid4(), tenant_id=tenant.id, roles=role_values, ttl=ttl)

    click.echo(asyncio.run(_with_session(_database_url(), run)))


@main.group()
def procedures() -> None:
    """The procedure catalogue (procedures as data)."""


@procedures.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug, e.g. demo.")
def procedures_import(files: tuple[Path, ...], tenant_slug: str) -> None:
    """Publish procedure definitions from YAML or JSON FILES (a changed file = a new version)."""
    import uuid

    from domain.errors import DomainValidationError
    from domain.messages import translate
    from domain.procedures.services import import_procedure_file
    from domain.security import Principal, PrincipalKind, Role
    from domain.tenancy.services import get_tenant_by_slug

    async def run(session):
        tenant = await get_tenant_by_slug(session, tenant_slug)
        if tenant is None:
            raise click.ClickException(f"unknown tenant {tenant_slug!r}")
        admin = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
        lines = []
        for path in files:
            try:
                procedure = await import_procedure_file(session, admin, path)
            except DomainValidationError as exc:
                await session.rollback()
                details = "\n".join(
                    f"  {'.'.join(e.field or ())}: {e.code}: {translate(e.code, 'en', e.params)}" for e in exc.errors
                )
                raise click.ClickException(f"{path} refused:\n{details}") from exc
            lines.append(f"{path}: {procedure.code} version {procedure.current_version}")
        await session.commit()
        return lines

    for line in asyncio.run(_with_session(_database_url(), run)):
        click.echo(line)


@main.group()
def rollups() -> None:
    """Daily rollups behind the dashboards."""


def _rollups(tenant_slug: str | None, rebuild: bool) -> None:
    from domain.dashboards.rollups import refresh_all

    async def run(session):
        return await refresh_all(session, tenant_slug, rebuild)

    results = asyncio.run(_with_session(_database_url(), run))
    if tenant_slug and not results:
        raise click.ClickException(f"unknown tenant {tenant_slug!r}")
    for r in results:
        click.echo(f"tenant {r.tenant_id}: {r.events} events, {r.requests} requests, {r.days} days, cursor {r.last_sequence}")


@rollups.command("refresh")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant (slug); default: every tenant.")
def rollups_refresh(tenant_slug: str | None) -> None:
    """Fold new request events into the daily rollups (run it every few minutes, e.g. from cron)."""
    _rollups(tenant_slug, rebuild=False)


@rollups.command("rebuild")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant (slug); default: every tenant.")
def rollups_rebuild(tenant_slug: str | None) -> None:
    """Recompute facts and rollups from scratch (initial load of a big history, repair)."""
    _rollups(tenant_slug, rebuild=True)


@main.group()
def schema() -> None:
    """The GraphQL contract (schema.graphql)."""


@schema.command("export")
@click.option("--check", is_flag=True, help="Fail if schema.graphql differs from the code.")
@click.option("--output", type=click.Path(path_type=Path), default=SCHEMA_FILE, show_default=True)
def schema_export(check: bool, output: Path) -> None:
    """Write the SDL to schema.graphql (or check it is up to date)."""
    from api.graphql import export_sdl

    sdl = export_sdl()
    if check:
        current = output.read_text() if output.exists() else ""
        if current != sdl:
            click.echo(f"{output} is out of date: run `guichet schema export`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date")
        return
    output.write_text(sdl)
    click.echo(f"wrote {output}")


@main.group()
def idempotency() -> None:
    """Idempotency keys of integrators' retried mutations."""


@idempotency.command("purge")
def idempotency_purge() -> None:
    """Delete idempotency keys older than 24 hours (run it hourly, e.g. from cron)."""
    from domain.idempotency.store import purge_expired

    async def run() -> int:
        engine = db.create_engine(_database_url(), pool_size=1, max_overflow=0)
        try:
            return await purge_expired(db.sessionmaker(engine))
        finally:
            await engine.dispose()

    click.echo(f"{asyncio.run(run())} expired idempotency keys deleted")


@main.group("api-client")
def api_client() -> None:
    """API keys for integrations (the GraphQL apiClientCreate does the same for ADMIN agents)."""


@api_client.command("create")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug, e.g. demo.")
@click.option("--name", required=True, help="What the key is for, e.g. 'Open311 gateway'.")
@click.option("--role", "roles", multiple=True, required=True, help="Role (repeatable): AGENT, SUPERVISOR, ADMIN, ANALYST.")
def api_client_create(tenant_slug: str, name: str, roles: tuple[str, ...]) -> None:
    """Issue an API key and print it (shown once; only its hash is stored)."""
    from domain.clients.services import issue_api_client
    from domain.errors import DomainValidationError
    from domain.tenancy.services import get_tenant_by_slug

    async def run(session):
        tenant = await get_tenant_by_slug(session, tenant_slug)
        if tenant is None:
            raise click.ClickException(f"unknown tenant {tenant_slug!r}")
        try:
            issued = await issue_api_client(session, tenant.id, {"name": name, "roles": [r.upper() for r in roles]}, None)
        except DomainValidationError as exc:
            raise click.ClickException(str(exc)) from exc
        await session.commit()
        return issued

    issued = asyncio.run(_with_session(_database_url(), run))
    click.echo(f"api client {issued.client.id} ({issued.client.name}), key shown once:", err=True)
    click.echo(issued.key)


@main.group()
def files() -> None:
    """Stored files (uploads)."""


@files.command("purge-unclaimed")
@click.option("--older-than-hours", type=click.IntRange(min=1), default=24, show_default=True)
def files_purge_unclaimed(older_than_hours: int) -> None:
    """Delete uploads that no request or report claimed in time (rows and blobs)."""
    from datetime import timedelta

    from domain.files.services import purge_unclaimed
    from domain.files.storage import FilesystemStorage

    storage = FilesystemStorage(get_settings().storage_dir)
    count = asyncio.run(
        _with_session(_database_url(), lambda s: purge_unclaimed(s, storage, timedelta(hours=older_than_hours)))
    )
    click.echo(f"purged {count} unclaimed file(s)")


if __name__ == "__main__":
    main()
