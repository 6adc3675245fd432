"""Keyset (cursor) pagination, independent of GraphQL.

A cursor is the opaque, URL-safe base64 of the JSON list of the sort-key
values of the row it points at. Paging never uses OFFSET, so page 1 000 of a
large table costs the same as page 1.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Sequence, TypeVar

import sqlalchemy as sa

from domain.errors import DomainValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(type(value))


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), default=_default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainValidationError.single(("after",), "INVALID_CURSOR") from exc
    if not isinstance(values, list) or len(values) != size:
        raise DomainValidationError.single(("after",), "INVALID_CURSOR")
    return values


def check_page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 1 or first > MAX_PAGE_SIZE:
        raise DomainValidationError.single(("first",), "INVALID_PAGE_SIZE", max=MAX_PAGE_SIZE)
    return first


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _coerce(column: sa.ColumnElement, value: Any) -> Any:
    python_type = None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        pass
    if value is None or python_type is None or isinstance(value, python_type):
        return value
    try:
        if python_type is uuid.UUID:
            return uuid.UUID(value)
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
        return python_type(value)
    except (ValueError, TypeError) as exc:
        raise DomainValidationError.single(("after",), "INVALID_CURSOR") from exc


async def paginate(
    session: Any,
    stmt: sa.Select,
    order_by: Sequence[sa.ColumnElement],
    first: int | None,
    after: str | None,
    *,
    key: Any = None,
    descending: bool = False,
) -> Page:
    """Run ``stmt`` ordered ascending (or ``descending``) by ``order_by`` (non-null columns, last one unique).

    ``key(row)`` returns the sort-key values of a fetched row (defaults to the
    attributes named like the columns).
    """
    size = check_page_size(first)
    if after:
        values = [_coerce(col, v) for col, v in zip(order_by, decode_cursor(after, len(order_by)))]
        if descending:
            stmt = stmt.where(sa.tuple_(*order_by) < sa.tuple_(*values))
        else:
            stmt = stmt.where(sa.tuple_(*order_by) > sa.tuple_(*values))
    stmt = stmt.order_by(*[c.desc() if descending else c for c in order_by]).limit(size + 1)
    rows = list((await session.execute(stmt)).scalars().all())
    has_next = len(rows) > size
    rows = rows[:size]
    if key is None:
        names = [col.key for col in order_by]

        def key(row: Any) -> list[Any]:
            return [getattr(row, n) for n in names]

    return Page(
        items=rows,
        cursors=[encode_cursor(key(r)) for r in rows],
        has_next_page=has_next,
        has_previous_page=bool(after),
    )
