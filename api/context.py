"""The per-request context: principal, locale, one database session, DataLoaders.

One ``AsyncSession`` serves the whole GraphQL request. Strawberry resolves
sibling fields concurrently, and an ``AsyncSession`` must not be used by two
coroutines at once, so every use goes through ``read()`` / ``write()``,
which take a per-request lock. DataLoaders batch the reads, so the lock
costs nothing in practice, and statement counts stay fixed per query shape.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from auth.tokens import TokenKeys
from api.settings import Settings
from domain.errors import DomainValidationError, constraint_error
from domain.security import Principal, require_principal

BatchFn = Callable[[AsyncSession, uuid.UUID, Sequence[Any]], Awaitable[list[Any]]]


@dataclass
class Context:
    settings: Settings
    sessionmaker: async_sessionmaker
    keys: TokenKeys
    principal: Principal | None
    locale: str
    request: Any = None
    request_id: str | None = None
    status_code: int | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _session: AsyncSession | None = None
    _loaders: dict[Any, DataLoader] = field(default_factory=dict)

    def _get_session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.sessionmaker()
        return self._session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            yield self._get_session()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends, rolled back on any error."""
        async with self._lock:
            session = self._get_session()
            if session.in_transaction():
                await session.commit()  # close the read snapshot; nothing pending
            try:
                yield session
                await session.commit()
            except IntegrityError as exc:
                await session.rollback()
                mapped = constraint_error(exc)
                if mapped is None:
                    raise
                raise mapped from exc
            except BaseException:
                await session.rollback()
                raise

    def loader(self, name: str, batch: BatchFn) -> DataLoader:
        """The request's DataLoader for ``batch``, created on first use, scoped to the tenant.

        Loaders are keyed by the batch function, not the name (which only documents the call
        site): two fields loading the same objects share one loader, one cache and one query,
        whatever they call it.
        """
        existing = self._loaders.get(batch)
        if existing is not None:
            return existing
        tenant_id = require_principal(self.principal).tenant_id

        async def load(keys: Sequence[Any]) -> list[Any]:
            async with self.read() as session:
                return await batch(session, tenant_id, list(keys))

        created = DataLoader(load_fn=load)
        self._loaders[batch] = created
        return created

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


__all__ = ["Context", "DomainValidationError"]
