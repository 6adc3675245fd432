"""0011_reporting_more adds the appointment and report views and their grant; downgrade removes them."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from api import db
from tests.api.test_http import empty_database  # noqa: F401 - fixture: a database with no table

VIEWS = {"appointments", "reports"}


async def _state(url: str) -> tuple[set[str], set[str]]:
    conn = await asyncpg.connect(db.to_plain_url(url))
    try:
        views = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting'")} & VIEWS
        granted = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.role_table_grants WHERE table_schema = 'reporting' "
            "AND grantee = 'guichet_reporting' AND privilege_type = 'SELECT'")} & VIEWS
        return views, granted
    finally:
        await conn.close()


async def test_reporting_views_up_down_up(empty_database):
    url = empty_database
    await asyncio.to_thread(db.migrate, url)
    assert await _state(url) == (VIEWS, VIEWS)
    await asyncio.to_thread(command.downgrade, db.alembic_config(url), "0010_dashboards")
    assert await _state(url) == (set(), set())
    await asyncio.to_thread(db.migrate, url)
    assert await _state(url) == (VIEWS, VIEWS)
