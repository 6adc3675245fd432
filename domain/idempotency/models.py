"""The ``idempotency_keys`` table: one row per (tenant, principal, key), kept 24 hours."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "principal_kind", "principal_id", "key", name="uq_idempotency_keys_scope"),
        sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    principal_kind: str = Field(max_length=16)
    principal_id: uuid.UUID
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status: str = Field(max_length=16)  # IN_PROGRESS | COMPLETED
    response_status: int | None = None
    response_body: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    response_language: str | None = Field(default=None, max_length=5)
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
