"""The domain event log: a transactional outbox.

Every state change appends one row in the same transaction as the change.
Timelines, audit, notifications, webhooks and subscriptions read from it;
``sequence`` gives consumers a total order to resume from.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import id_field, tenant_field, utcnow


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_aggregate", "tenant_id", "aggregate_type", "aggregate_id", "sequence"),
        # outbox consumers: "this tenant's events of a type after my cursor, in order"
        sa.Index("ix_events_stream", "tenant_id", "aggregate_type", "sequence"),
    )

    id: uuid.UUID = id_field()
    sequence: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
    )
    tenant_id: uuid.UUID = tenant_field()
    type: str = Field(max_length=100, index=True)
    aggregate_type: str = Field(max_length=50)
    aggregate_id: uuid.UUID
    actor_type: str | None = Field(default=None, max_length=16)
    actor_id: uuid.UUID | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(pg.JSONB, nullable=False))
    occurred_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
