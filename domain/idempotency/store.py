"""Reserve, complete, release and purge idempotency keys (PostgreSQL, no GraphQL here).

A key is reserved *before* the request runs, atomically, with
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <the old row expired or its
holder is presumed dead>``: exactly one of several concurrent requests gets
the reservation; the others read the existing row and are told to wait (409)
or get the stored response. Each call runs in its own short transaction,
committed at once, so that concurrent requests see it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.base import utcnow
from domain.idempotency.models import IdempotencyKey
from domain.security import Principal

RETENTION = timedelta(hours=24)
# A reservation still IN_PROGRESS after this long belongs to a request whose
# process died: another attempt may take it over instead of waiting 24 hours.
STALE_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


class Outcome(str, enum.Enum):
    RESERVED = "RESERVED"  # run the request, then complete() or release()
    REPLAY = "REPLAY"  # same request already answered: send the stored response
    IN_PROGRESS = "IN_PROGRESS"  # same request still running elsewhere
    MISMATCH = "MISMATCH"  # same key, different request


@dataclass(frozen=True)
class Reservation:
    outcome: Outcome
    record_id: uuid.UUID | None = None
    status: int | None = None
    body: str | None = None
    language: str | None = None


def valid_key(key: str) -> bool:
    """1 to 255 visible ASCII characters (an opaque string: UUIDs are a good choice)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(33 <= ord(c) <= 126 for c in key)


def request_hash(payload: Any) -> str:
    """SHA-256 of the request in canonical JSON: key order and whitespace do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def reserve(sessionmaker: async_sessionmaker, principal: Principal, key: str, digest: str) -> Reservation:
    now = utcnow()
    table = IdempotencyKey.__table__
    new_id = uuid.uuid4()
    stmt = insert(table).values(
        id=new_id,
        tenant_id=principal.tenant_id,
        principal_kind=principal.kind.value,
        principal_id=principal.subject_id,
        key=key,
        request_hash=digest,
        status=IN_PROGRESS,
        created_at=now,
        expires_at=now + RETENTION,
    )
    stmt = stmt.on_conflict_do_update(
        constraint="uq_idempotency_keys_scope",
        set_={
            "id": stmt.excluded.id,
            "request_hash": stmt.excluded.request_hash,
            "status": IN_PROGRESS,
            "response_status": None,
            "response_body": None,
            "response_language": None,
            "created_at": stmt.excluded.created_at,
            "expires_at": stmt.excluded.expires_at,
        },
        where=sa.or_(
            table.c.expires_at <= now,
            sa.and_(table.c.status == IN_PROGRESS, table.c.created_at < now - STALE_AFTER),
        ),
    ).returning(table.c.id)
    async with sessionmaker() as session:
        reserved = (await session.execute(stmt)).scalar_one_or_none()
        if reserved is not None:
            await session.commit()
            return Reservation(Outcome.RESERVED, record_id=reserved)
        row = (
            await session.execute(
                sa.select(IdempotencyKey).where(
                    IdempotencyKey.tenant_id == principal.tenant_id,
                    IdempotencyKey.principal_kind == principal.kind.value,
                    IdempotencyKey.principal_id == principal.subject_id,
                    IdempotencyKey.key == key,
                )
            )
        ).scalar_one()
        await session.commit()
    if row.request_hash != digest:
        return Reservation(Outcome.MISMATCH, record_id=row.id)
    if row.status != COMPLETED:
        return Reservation(Outcome.IN_PROGRESS, record_id=row.id)
    return Reservation(
        Outcome.REPLAY, record_id=row.id, status=row.response_status, body=row.response_body, language=row.response_language
    )


async def complete(
    sessionmaker: async_sessionmaker, record_id: uuid.UUID, status: int, body: str, language: str | None
) -> None:
    async with sessionmaker() as session:
        await session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.id == record_id)
            .values(status=COMPLETED, response_status=status, response_body=body, response_language=language)
        )
        await session.commit()


async def release(sessionmaker: async_sessionmaker, record_id: uuid.UUID) -> None:
    """Forget a reservation whose request failed on our side, so that a retry runs again."""
    async with sessionmaker() as session:
        await session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
        await session.commit()


async def purge_expired(sessionmaker: async_sessionmaker, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete expired keys in batches (short transactions); returns how many were deleted."""
    now = now or utcnow()
    total = 0
    while True:
        async with sessionmaker() as session:
            ids = sa.select(IdempotencyKey.id).where(IdempotencyKey.expires_at <= now).limit(batch)
            result = await session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
            await session.commit()
        total += result.rowcount or 0
        if (result.rowcount or 0) < batch:
            return total
