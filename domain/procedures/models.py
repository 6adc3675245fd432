"""Procedure types and their published versions (the definition is data: JSONB)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field, updated_field


class Procedure(SQLModel, table=True):
    """A procedure type of a tenant (e.g. ``civil-status-certificate``); its content lives in versions."""

    __tablename__ = "procedures"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code", name="uq_procedures_tenant_code"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    code: str = Field(max_length=63)
    category: str = Field(max_length=63)
    title_fr: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    # Number of the latest published version (versions are immutable once published).
    current_version: int = Field(default=1)
    current_version_id: uuid.UUID | None = Field(default=None)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class ProcedureVersion(SQLModel, table=True):
    """An immutable published definition. Requests reference the version they were submitted under."""

    __tablename__ = "procedure_versions"
    __table_args__ = (sa.UniqueConstraint("procedure_id", "number", name="uq_procedure_versions_number"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    procedure_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("procedures.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    number: int
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(pg.JSONB, nullable=False))
    published_by_type: str | None = Field(default=None, max_length=16)
    published_by_id: uuid.UUID | None = None
    published_at: datetime = created_field()
