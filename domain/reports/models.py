"""Tables of reports: a category tree, the place of a report (1-1 with requests),
the tenant's territory, supporters and followers.

A report IS a request (procedure ``street-issue``): workflow, assignment, SLA,
timeline and inbox are the request engine's; these tables only add the place.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field, updated_field

DEFAULT_RADIUS_M = 50
REPORT_PROCEDURE = "street-issue"


def _fk(target: str, nullable: bool, ondelete: str = "RESTRICT") -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Uuid, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable))


class ReportCategory(SQLModel, table=True):
    """A node of the tenant's category tree (e.g. Voirie › Nid-de-poule)."""

    __tablename__ = "report_categories"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code", name="uq_report_categories_tenant_code"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    code: str = Field(max_length=63)
    label_fr: str = Field(max_length=150)
    label_en: str = Field(max_length=150)
    parent_id: uuid.UUID | None = _fk("report_categories.id", nullable=True, ondelete="RESTRICT")
    department_id: uuid.UUID | None = _fk("departments.id", nullable=True, ondelete="SET NULL")
    # Value given to the street-issue form's `category` answer (its enum).
    form_category: str = Field(default="other", max_length=63)
    duplicate_radius_m: int = Field(default=DEFAULT_RADIUS_M)
    target_resolution_days: int | None = Field(default=None)
    active: bool = Field(default=True)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class ReportDetails(SQLModel, table=True):
    """Where and what: one row per report request."""

    __tablename__ = "report_details"
    __table_args__ = (
        # bounding-box prefilter of the duplicate search and of map feeds
        sa.Index("ix_report_details_geo", "tenant_id", "category_id", "latitude", "longitude"),
        sa.Index("ix_report_details_tenant_geo", "tenant_id", "latitude", "longitude"),
    )

    request_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    )
    tenant_id: uuid.UUID = tenant_field()
    category_id: uuid.UUID = _fk("report_categories.id", nullable=False)
    latitude: float = Field(sa_column=sa.Column(sa.Double, nullable=False))
    longitude: float = Field(sa_column=sa.Column(sa.Double, nullable=False))
    address: str | None = Field(default=None, max_length=300)
    reporter_email: str | None = Field(default=None, max_length=254)
    public: bool = Field(default=True)
    support_count: int = Field(default=0)
    merged_into_id: uuid.UUID | None = _fk("requests.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class ReportSettings(SQLModel, table=True):
    """Per tenant: the territory (a GeoJSON Polygon, WGS 84 [lon, lat] positions; null = no
    check) and the shared "anonymous reporter" citizen that anonymous reports belong to."""

    __tablename__ = "report_settings"

    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    )
    territory: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(pg.JSONB, nullable=True))
    anonymous_citizen_id: uuid.UUID | None = _fk("citizens.id", nullable=True, ondelete="SET NULL")
    updated_at: datetime = updated_field()


class ReportSupport(SQLModel, table=True):
    """"Me too": one per person (citizen) and report."""

    __tablename__ = "report_supports"
    __table_args__ = (sa.UniqueConstraint("request_id", "citizen_id", name="uq_report_supports_person"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    request_id: uuid.UUID = _fk("requests.id", nullable=False, ondelete="CASCADE")
    citizen_id: uuid.UUID = _fk("citizens.id", nullable=False, ondelete="CASCADE")
    created_at: datetime = created_field()


class ReportFollower(SQLModel, table=True):
    """Someone notified of the report's progress: a citizen, or an e-mail (anonymous)."""

    __tablename__ = "report_followers"
    __table_args__ = (
        sa.Index("uq_report_followers_citizen", "request_id", "citizen_id", unique=True,
                 postgresql_where=sa.text("citizen_id IS NOT NULL")),
        sa.Index("uq_report_followers_email", "request_id", "email", unique=True,
                 postgresql_where=sa.text("email IS NOT NULL")),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    request_id: uuid.UUID = _fk("requests.id", nullable=False, ondelete="CASCADE")
    citizen_id: uuid.UUID | None = _fk("citizens.id", nullable=True, ondelete="CASCADE")
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = created_field()
