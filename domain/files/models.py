"""The ``stored_files`` table: one row per uploaded file, the bytes live in a :class:`Storage`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field


class FilePurpose(str, enum.Enum):
    ATTACHMENT = "ATTACHMENT"  # a document joined to a request (PDF, image, office text)
    PHOTO = "PHOTO"  # a picture of a report: images only, thumbnail kept


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_files"
    __table_args__ = (
        sa.Index("ix_stored_files_owner", "tenant_id", "owner_type", "owner_id"),
        sa.Index("ix_stored_files_unclaimed", "tenant_id", "created_at", postgresql_where=sa.text("owner_id IS NULL")),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    purpose: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    storage_key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    sha256: str = Field(sa_column=sa.Column(sa.CHAR(64), nullable=False))
    width: int | None = None
    height: int | None = None
    thumbnail_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True, unique=True))
    published: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    uploaded_by_type: str = Field(max_length=16)
    uploaded_by_id: uuid.UUID
    owner_type: str | None = Field(default=None, max_length=50)
    owner_id: uuid.UUID | None = None
    claimed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    created_at: datetime = created_field()

    @property
    def is_claimed(self) -> bool:
        return self.owner_id is not None
