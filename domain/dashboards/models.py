"""Analytics tables: per-request facts, daily rollups, duration histograms, refresh cursors.

* ``request_facts``: one row per submitted request, the figures the indicators need
  (days in the tenant's time zone, durations in seconds, SLA outcome, rating), derived
  from ``requests`` and the events outbox by :mod:`domain.dashboards.rollups`. It also
  remembers which days a request counted in, so a late change can retract it from them.
* ``request_daily_rollups``: additive counters per (tenant, local day, procedure,
  department, channel); ``grain = 'M'`` rows hold calendar-month sums of the day rows.
* ``request_daily_histograms``: counts per fixed logarithmic duration bucket (processing
  time and first-response time), for approximate percentiles (see ``domain.dashboards.buckets``).
* ``rollup_cursors``: per tenant, the last outbox sequence folded into the rollups.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.requests.models import Request

# Indexes on the requests table that "today, read raw" and the raw source need.
sa.Index("ix_requests_dash_submitted", Request.__table__.c.tenant_id, Request.__table__.c.submitted_at)
sa.Index("ix_requests_dash_closed", Request.__table__.c.tenant_id, Request.__table__.c.closed_at)
# The open backlog "now": a small partial index covering the columns the backlog query reads.
sa.Index(
    "ix_requests_dash_open",
    Request.__table__.c.tenant_id,
    Request.__table__.c.submitted_at,
    postgresql_where=sa.text("status IN ('SUBMITTED', 'IN_PROGRESS', 'WAITING_FOR_CITIZEN')"),
    postgresql_include=["procedure_id", "department_id", "channel", "due_at"],
)


def _uuid(nullable: bool = False, pk: bool = False) -> uuid.UUID:
    return Field(default=None, sa_column=sa.Column(sa.Uuid, nullable=nullable, primary_key=pk))


def _int(default: int = 0) -> int:
    return Field(default=default, sa_column=sa.Column(sa.Integer, nullable=False, server_default=str(default)))


def _bigint(default: int = 0) -> int:
    return Field(default=default, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default=str(default)))


class RequestFact(SQLModel, table=True):
    __tablename__ = "request_facts"
    __table_args__ = (
        sa.Index("ix_request_facts_submitted", "tenant_id", "submitted_day"),
        sa.Index("ix_request_facts_closed", "tenant_id", "closed_day"),
        sa.Index("ix_request_facts_first_response", "tenant_id", "first_response_day"),
    )

    request_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    )
    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
    procedure_id: uuid.UUID = _uuid()
    department_id: uuid.UUID | None = _uuid(nullable=True)
    channel: str = Field(max_length=16)
    status: str = Field(max_length=32)
    submitted_day: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    closed_day: date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    first_response_day: date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    processing_seconds: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    first_response_seconds: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    on_time: bool | None = Field(default=None, sa_column=sa.Column(sa.Boolean, nullable=True))
    rating: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))


class RequestDailyRollup(SQLModel, table=True):
    __tablename__ = "request_daily_rollups"
    __table_args__ = (
        # one row per (tenant, grain, day, procedure, department, channel) by construction (rebuilt per day)
        sa.Index("ix_request_daily_rollups_day", "tenant_id", "grain", "day"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
    # "D": one local day; "M": a calendar month (``day`` = its first day), the sum of its "D" rows,
    # so that long periods read 30x fewer rows
    grain: str = Field(default="D", sa_column=sa.Column(sa.String(1), nullable=False, server_default="D"))
    day: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    procedure_id: uuid.UUID = _uuid()
    department_id: uuid.UUID | None = _uuid(nullable=True)
    channel: str = Field(max_length=16)
    submitted: int = _int()
    closed: int = _int()
    cancelled: int = _int()
    processing_seconds_sum: int = _bigint()
    with_due: int = _int()
    on_time: int = _int()
    first_responses: int = _int()
    first_response_seconds_sum: int = _bigint()
    rated: int = _int()
    rating_sum: int = _int()
    rating_1: int = _int()
    rating_2: int = _int()
    rating_3: int = _int()
    rating_4: int = _int()
    rating_5: int = _int()


class RequestDailyHistogram(SQLModel, table=True):
    __tablename__ = "request_daily_histograms"
    __table_args__ = (sa.Index("ix_request_daily_histograms_day", "tenant_id", "grain", "day"),)

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
    # "D": one local day; "M": a calendar month (``day`` = its first day), the sum of its "D" rows,
    # so that long periods read 30x fewer rows
    grain: str = Field(default="D", sa_column=sa.Column(sa.String(1), nullable=False, server_default="D"))
    day: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    procedure_id: uuid.UUID = _uuid()
    department_id: uuid.UUID | None = _uuid(nullable=True)
    channel: str = Field(max_length=16)
    # "processing" (submission -> closure) or "first_response"
    kind: str = Field(max_length=16)
    bucket: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    count: int = _int()


class RollupCursor(SQLModel, table=True):
    __tablename__ = "rollup_cursors"

    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    )
    last_sequence: int = _bigint()
    refreshed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))


# "First response today" is read raw from the outbox by time.
from domain.events.models import Event  # noqa: E402

sa.Index("ix_events_dash_occurred", Event.__table__.c.tenant_id, Event.__table__.c.occurred_at)
