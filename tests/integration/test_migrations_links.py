"""0008_links joins the context heads: upgrade from an empty database, downgrade to the heads, upgrade again."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from alembic import command

from api import db
from tests.api.test_http import empty_database  # noqa: F401 - fixture: a database with no table

PARENTS = {"0002_requests", "0003_appointments", "0004_files", "0005_integrations"}


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db.to_plain_url(url))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def _versions(url: str) -> set[str]:
    return {r["version_num"] for r in await _fetch(url, "SELECT version_num FROM alembic_version")}


async def _request_fk(url: str) -> list[str]:
    rows = await _fetch(
        url,
        "SELECT conname, confdeltype::text AS confdeltype FROM pg_constraint WHERE conrelid = 'appointments'::regclass AND contype = 'f' "
        "AND conname = 'fk_appointments_request_id'",
    )
    return [f"{r['conname']}:{r['confdeltype']}" for r in rows]


async def _old_appointment_with_unknown_request(url: str) -> uuid.UUID:
    """An appointment as a database before 0008 may hold one: request_id stored unchecked.
    (Its other references are not built: FK triggers are off for this session only.)"""
    conn = await asyncpg.connect(db.to_plain_url(url))
    try:
        await conn.execute("SET session_replication_role = replica")
        appointment_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO appointments (id, tenant_id, agenda_id, appointment_type_id, citizen_id, request_id, code, "
            "starts_at, ends_at, channel, booked_by_type, booked_by_id, version) "
            "VALUES ($1, $2, $2, $2, $2, $3, 'ABCDEFGH', now(), now() + interval '15 minutes', 'WEB', 'citizen', $2, 1)",
            appointment_id, uuid.uuid4(), uuid.uuid4(),
        )
        return appointment_id
    finally:
        await conn.close()


LATEST = "0013_compact_month_histograms"


async def test_upgrade_from_empty_then_down_to_the_heads_and_up_again(empty_database):
    url = empty_database
    # when an empty database is migrated to the heads
    await asyncio.to_thread(db.migrate, url, "0008_links")
    # then the merge is current (later migrations build on it in a single line), and the
    # foreign key is there (n = ON DELETE SET NULL)
    assert db.head_revisions() == {LATEST}
    assert await _versions(url) == {"0008_links"}
    assert await _request_fk(url) == ["fk_appointments_request_id:n"]
    # when the merge is downgraded (to one of its parents: only 0008 is undone)
    await asyncio.to_thread(command.downgrade, db.alembic_config(url), "0002_requests")
    # then the four context heads are current again and the foreign key is gone
    assert await _versions(url) == PARENTS
    assert await _request_fk(url) == []
    # and upgrading again restores it, after clearing request ids that match no request
    appointment_id = await _old_appointment_with_unknown_request(url)
    await asyncio.to_thread(db.migrate, url, "0008_links")
    assert await _versions(url) == {"0008_links"}
    assert await _request_fk(url) == ["fk_appointments_request_id:n"]
    rows = await _fetch(url, f"SELECT request_id FROM appointments WHERE id = '{appointment_id}'")
    assert [r["request_id"] for r in rows] == [None]


async def test_the_whole_chain_upgrades_to_one_head_and_back_down(empty_database):
    url = empty_database
    await asyncio.to_thread(db.migrate, url)
    assert await _versions(url) == {LATEST}
    await asyncio.to_thread(command.downgrade, db.alembic_config(url), "0008_links")
    assert await _versions(url) == {"0008_links"}
    await asyncio.to_thread(db.migrate, url)
    assert await _versions(url) == {LATEST}
