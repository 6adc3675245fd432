"""The ``api_clients`` table: one row per credential issued to an external system.

The key itself is never stored: only its first characters (``key_prefix``,
to find the row and to let people recognise a key) and a SHA-256 digest of
the whole key (see :mod:`domain.clients.keys`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field


def _timestamp(nullable: bool = True) -> datetime | None:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"
    __table_args__ = (
        # a name identifies one live credential of the tenant; a revoked one frees its name
        sa.Index(
            "uq_api_clients_tenant_name",
            "tenant_id",
            "name",
            unique=True,
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
        sa.Index("ix_api_clients_tenant_sort", "tenant_id", "name", "id"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    name: str = Field(max_length=100)
    roles: list[str] = Field(default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.String(16)), nullable=False))
    department_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=sa.Column(pg.ARRAY(sa.Uuid), nullable=False, server_default="{}"),
    )
    key_prefix: str = Field(max_length=8, sa_column_kwargs={"unique": True})
    key_hash: str = Field(max_length=64)
    created_by: uuid.UUID | None = None
    created_at: datetime = created_field()
    last_used_at: datetime | None = _timestamp()
    revoked_at: datetime | None = _timestamp()
    expires_at: datetime | None = _timestamp()
    version: int = Field(default=1)
