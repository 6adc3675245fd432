"""The COPY-based CSV stream behind the row exports: bounded, and stopped when the reader leaves."""

from __future__ import annotations

import asyncio
import csv
import io

import sqlalchemy as sa

from domain.dashboards.exports import QUEUE_CHUNKS, CsvFormat, _stream


async def test_stream_yields_csv_written_by_postgresql(app):
    async with app.state.sessionmaker() as s:
        chunks = [c async for c in _stream(s, "SELECT g AS n, 'a;b' AS t, NULL::int AS z FROM generate_series(1, $1) g", [3], CsvFormat(";", True))]
    text = b"".join(chunks).decode("utf-8")
    # then a BOM, a header, the separator asked for, quoting where needed, NULL as empty
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows == [["n", "t", "z"], ["1", "a;b", ""], ["2", "a;b", ""], ["3", "a;b", ""]]


async def test_a_reader_leaving_early_stops_the_copy_and_frees_the_connection(app):
    async with app.state.sessionmaker() as s:
        pid = (await s.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        # given an export far larger than what the queue may hold
        stream = _stream(s, "SELECT g, repeat('x', 100) FROM generate_series(1, 20000000) g", [], CsvFormat())
        first = await stream.__anext__()
        assert first.startswith(b"g,repeat")
        # when the reader goes away after the first chunk
        await stream.aclose()
    # then PostgreSQL stops that COPY (its connection is dropped, not left copying 20 M rows)
    async with app.state.sessionmaker() as other:
        for _ in range(100):
            running = (
                await other.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            ).scalar_one()
            if not running:
                break
            await other.rollback()  # pg_stat_activity is a snapshot per transaction
            await asyncio.sleep(0.05)
        assert running == 0
        # and the pool serves working connections
        assert (await other.execute(sa.text("SELECT 42"))).scalar_one() == 42
    assert QUEUE_CHUNKS <= 64  # the bound this relies on stays small
