"""Database URLs, the embedded PostgreSQL, the async engine and migrations."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

log = logging.getLogger("guichet.db")

_embedded = {}


def to_async_url(url: str) -> str:
    """Accept ``postgres://``, ``postgresql://`` or ``postgresql+asyncpg://`` URLs."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        scheme = "postgresql+asyncpg"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def to_plain_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL of ``pgserver`` and return its URL."""
    key = str(Path(data_dir).resolve())
    if key not in _embedded:
        import pgserver  # imported lazily: only needed without GUICHET_DATABASE_URL

        Path(key).mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(key, cleanup_mode="stop")
        _embedded[key] = server
        log.info("embedded PostgreSQL started", extra={"data_dir": key})
    return _embedded[key].get_uri()


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or start_embedded(data_dir)


def create_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        hide_parameters=True,  # bound values are personal data: keep them out of exception texts and logs
        connect_args={"server_settings": {"application_name": "guichet", "timezone": "UTC"}},
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# ---------------------------------------------------------------- migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", to_async_url(url).replace("%", "%%"))
    return cfg


def _in_thread(fn, *args) -> None:
    """Alembic's env.py runs its own event loop: keep it off any running loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def migrate(url: str, revision: str = "heads") -> None:
    from alembic import command

    _in_thread(command.upgrade, alembic_config(url), revision)


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("postgresql://x/x")).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    import sqlalchemy as sa

    async with engine.connect() as conn:
        try:
            rows = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        except Exception:  # noqa: BLE001 - table missing means "not migrated"
            return set()
        return {r[0] for r in rows}


def run_sync(coro):
    """Run a coroutine from synchronous code (command line)."""
    return asyncio.run(coro)
