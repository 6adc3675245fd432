"""The citizen repository (référentiel usagers): one record per person and tenant."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field, updated_field


class Gender(str, enum.Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    UNSPECIFIED = "UNSPECIFIED"


class ContactChannel(str, enum.Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PHONE = "PHONE"
    POST = "POST"
    APP = "APP"


class Language(str, enum.Enum):
    FR = "FR"
    EN = "EN"


class AssuranceLevel(str, enum.Enum):
    DECLARED = "DECLARED"
    VERIFIED_AT_COUNTER = "VERIFIED_AT_COUNTER"
    FRANCECONNECT = "FRANCECONNECT"


def _enum_col(default: enum.Enum) -> sa.Column:
    return sa.Column(sa.String(32), nullable=False, server_default=default.value)


class Citizen(SQLModel, table=True):
    __tablename__ = "citizens"
    __table_args__ = (
        sa.Index(
            "uq_citizens_tenant_email",
            "tenant_id",
            "email",
            unique=True,
            postgresql_where=sa.text("email IS NOT NULL"),
        ),
        sa.Index("ix_citizens_tenant_sort", "tenant_id", "sort_name", "id"),
        sa.Index("ix_citizens_search", "search_vector", postgresql_using="gin"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    given_names: str = Field(max_length=150)
    family_name: str = Field(max_length=100)
    birth_name: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    birth_place_insee: str | None = Field(default=None, max_length=5)
    birth_place_label: str | None = Field(default=None, max_length=150)
    gender: str = Field(default=Gender.UNSPECIFIED.value, sa_column=_enum_col(Gender.UNSPECIFIED))
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    address_number: str | None = Field(default=None, max_length=20)
    address_street: str | None = Field(default=None, max_length=200)
    address_complement: str | None = Field(default=None, max_length=200)
    address_postcode: str | None = Field(default=None, max_length=5)
    address_city: str | None = Field(default=None, max_length=150)
    address_insee: str | None = Field(default=None, max_length=5)
    preferred_channel: str = Field(
        default=ContactChannel.EMAIL.value, sa_column=_enum_col(ContactChannel.EMAIL)
    )
    preferred_language: str = Field(default=Language.FR.value, sa_column=_enum_col(Language.FR))
    assurance_level: str = Field(
        default=AssuranceLevel.DECLARED.value, sa_column=_enum_col(AssuranceLevel.DECLARED)
    )
    password_hash: str | None = Field(default=None, max_length=255)
    # Search support: accent- and case-folded in Python (domain.text.fold).
    sort_name: str = Field(default="", max_length=300)
    search_document: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    search_vector: str | None = Field(
        default=None,
        sa_column=sa.Column(
            pg.TSVECTOR,
            sa.Computed("to_tsvector('simple'::regconfig, search_document)", persisted=True),
        ),
    )
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class CitizenExternalId(SQLModel, table=True):
    """An identifier of the citizen in another system (family portal, civil status software...)."""

    __tablename__ = "citizen_external_ids"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "source", "external_id", name="uq_citizen_external_ids"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    citizen_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    source: str = Field(max_length=50)
    external_id: str = Field(max_length=100)
    created_at: datetime = created_field()
