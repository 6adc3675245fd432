"""Optimistic locking helpers shared by every context (see docs/architecture.md).

An update loads its row ``FOR UPDATE`` (a racing writer waits for the lock), then compares
the version the caller read: a stale version is a ``CONFLICT`` user error on ``version``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from domain.errors import DomainValidationError


async def lock_row(session: Any, model: Any, tenant_id: uuid.UUID, row_id: uuid.UUID) -> Any:
    """The tenant's row ``row_id`` of ``model``, locked for update and freshly read, or ``None``."""
    return (
        await session.execute(
            sa.select(model)
            .where(model.tenant_id == tenant_id, model.id == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


def check_version(current: int, expected: int) -> None:
    if current != expected:
        raise DomainValidationError.single(("version",), "CONFLICT", current=current, expected=expected)
