"""Review 2026-11-29: a database error never carries the bound values (personal data) into the logs.

Unexpected errors are logged with their exception (``exc_info``). Both SQLAlchemy
(``[parameters: ...]``) and asyncpg/PostgreSQL (``invalid input for query argument
$1: '...'``, ``invalid input syntax for type uuid: "..."``) put the values into
the exception text, so the JSON log formatter withholds database error messages.
"""

from __future__ import annotations

import json
import logging
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from api.logs import JsonFormatter


def _log_line(exc: BaseException) -> dict:
    try:
        raise RuntimeError("wrapper") from exc
    except RuntimeError:
        record = logging.LogRecord("guichet.graphql", logging.ERROR, __file__, 1, "unexpected error in %s", ("x",), sys.exc_info())
    return json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    "sql, value",
    [
        ("SELECT CAST(:value AS integer)", "camille.secret@example.fr"),  # asyncpg argument error
        ("SELECT CAST(CAST(:value AS text) AS uuid)", "Camille Secrète"),  # PostgreSQL DataError
    ],
)
async def test_logged_database_error_withholds_bound_values(app, sql, value):
    # given a database error raised by a statement carrying personal data
    with pytest.raises(DBAPIError) as raised:
        async with app.state.engine.connect() as conn:
            await conn.execute(sa.text(sql), {"value": value})
    assert value in str(raised.value.orig) or value in str(raised.value)  # the driver does put it there
    # when it is logged by the JSON formatter
    line = _log_line(raised.value)
    # then the value is nowhere in the log line, but the error is still identifiable
    assert value not in json.dumps(line, ensure_ascii=False)
    assert "DBAPIError" in line["exception"] or "Error" in line["exception"]
    assert "withheld" in line["exception"]
    assert "RuntimeError: wrapper" in line["exception"]  # other exceptions keep their message
