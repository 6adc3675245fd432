"""Tenants (local authorities), departments (services municipaux) and agents."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field, updated_field


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    slug: str = Field(max_length=63, sa_column_kwargs={"unique": True})
    insee_code: str | None = Field(default=None, max_length=5)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    default_locale: str = Field(default="fr", max_length=5)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class Department(SQLModel, table=True):
    __tablename__ = "departments"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code", name="uq_departments_tenant_code"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    parent_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("departments.id", ondelete="RESTRICT"), nullable=True, index=True),
    )
    code: str = Field(max_length=63)
    name: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()



class Agent(SQLModel, table=True):
    __tablename__ = "agents"
    __table_args__ = (sa.Index("uq_agents_tenant_email", "tenant_id", "email", unique=True),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    email: str = Field(max_length=254)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    roles: list[str] = Field(default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.String(16)), nullable=False))
    active: bool = Field(default=True)
    password_hash: str | None = Field(default=None, max_length=255)
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class AgentDepartment(SQLModel, table=True):
    """Membership of an agent in a department (hidden join table)."""

    __tablename__ = "agent_departments"

    agent_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    )
    department_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    tenant_id: uuid.UUID = tenant_field()
