"""Requests, the per-tenant-year reference counter and the dialogue messages."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field, updated_field


class RequestStatus(str, enum.Enum):
    """Generic status shared by every procedure (each workflow state maps to one)."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_FOR_CITIZEN = "WAITING_FOR_CITIZEN"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class Channel(str, enum.Enum):
    WEB = "WEB"
    APP = "APP"
    COUNTER = "COUNTER"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    POST = "POST"


CITIZEN_CHANNELS = frozenset({Channel.WEB, Channel.APP})
AGENT_CHANNELS = frozenset({Channel.COUNTER, Channel.PHONE, Channel.EMAIL, Channel.POST})


class Priority(str, enum.Enum):
    URGENT = "URGENT"
    HIGH = "HIGH"
    NORMAL = "NORMAL"
    LOW = "LOW"


# Stored as a small integer so that "most urgent first" is an ascending sort.
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
RANK_PRIORITY = {v: k for k, v in PRIORITY_RANK.items()}


def _uuid_fk(target: str, nullable: bool, ondelete: str = "RESTRICT", index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


class Request(SQLModel, table=True):
    __tablename__ = "requests"
    __table_args__ = (
        sa.Index("uq_requests_tenant_reference", "tenant_id", "reference", unique=True,
                 postgresql_where=sa.text("reference IS NOT NULL")),
        sa.Index("ix_requests_inbox_due", "tenant_id", "due_at", "id"),
        sa.Index("ix_requests_inbox_priority", "tenant_id", "priority", "due_at", "id"),
        sa.Index("ix_requests_inbox_created", "tenant_id", "created_at", "id"),
        sa.Index("ix_requests_tenant_status", "tenant_id", "status"),
        sa.Index("ix_requests_tenant_assignee", "tenant_id", "assignee_id"),
        sa.Index("ix_requests_tenant_department", "tenant_id", "department_id"),
        sa.Index("ix_requests_citizen", "tenant_id", "citizen_id", "created_at"),
        sa.Index("ix_requests_search", "search_vector", postgresql_using="gin"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    # Human reference "2026-000123", unique per tenant; null while a draft.
    reference: str | None = Field(default=None, max_length=20)
    procedure_id: uuid.UUID = _uuid_fk("procedures.id", nullable=False, index=True)
    procedure_version_id: uuid.UUID = _uuid_fk("procedure_versions.id", nullable=False)
    citizen_id: uuid.UUID = _uuid_fk("citizens.id", nullable=False)
    channel: str = Field(max_length=16)
    status: str = Field(max_length=32)
    state: str = Field(max_length=63)
    priority: int = Field(default=PRIORITY_RANK[Priority.NORMAL], sa_column=sa.Column(sa.SmallInteger, nullable=False))
    department_id: uuid.UUID | None = _uuid_fk("departments.id", nullable=True, ondelete="SET NULL")
    assignee_id: uuid.UUID | None = _uuid_fk("agents.id", nullable=True, ondelete="SET NULL")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(pg.JSONB, nullable=False))
    # Who typed it: the citizen (WEB/APP) or an agent on their behalf.
    created_by_type: str = Field(max_length=16)
    created_by_id: uuid.UUID | None = None
    submitted_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    due_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    # Satisfaction, once closed: 1..5 and a comment.
    rating: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))
    rating_comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    rated_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    # Dialogue read marks, one per side (unread counts).
    citizen_read_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    agents_read_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    # Full-text search: reference, citizen name and answers, folded in Python (domain.text.fold).
    search_document: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    search_vector: str | None = Field(
        default=None,
        sa_column=sa.Column(
            pg.TSVECTOR,
            sa.Computed("to_tsvector('french'::regconfig, search_document)", persisted=True),
        ),
    )
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class RequestCounter(SQLModel, table=True):
    """Last reference number given per tenant and year (incremented atomically by an upsert)."""

    __tablename__ = "request_counters"

    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    )
    year: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    last_value: int = Field(default=0)


class RequestMessage(SQLModel, table=True):
    """A message of the citizen<->agents thread, or an internal note (agents only)."""

    __tablename__ = "request_messages"
    __table_args__ = (sa.Index("ix_request_messages_request", "tenant_id", "request_id", "created_at"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    request_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False)
    )
    author_type: str = Field(max_length=16)
    author_id: uuid.UUID | None = None
    internal: bool = Field(default=False)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = created_field()
