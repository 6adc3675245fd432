"""Small helpers shared by API tests: global IDs, counting rows and events."""

from __future__ import annotations

import base64
import uuid

import sqlalchemy as sa

from domain.events.models import Event
from schema.common import to_global_id

__all__ = ["gid", "raw_id", "events_of", "count_events"]


def gid(type_name: str, value: uuid.UUID) -> str:
    return str(to_global_id(type_name, value))


def raw_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(base64.urlsafe_b64decode(global_id + "==").decode().split(":", 1)[1])


async def events_of(app, aggregate_id: uuid.UUID) -> list[Event]:
    async with app.state.sessionmaker() as s:
        rows = await s.execute(sa.select(Event).where(Event.aggregate_id == aggregate_id).order_by(Event.sequence))
        return list(rows.scalars().all())


async def count_events(app, tenant_id: uuid.UUID) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(sa.select(sa.func.count()).select_from(Event).where(Event.tenant_id == tenant_id))).scalar_one()
