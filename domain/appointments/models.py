"""Tables of the appointments context.

Overbooking is prevented by the database itself: every booked appointment
takes one *seat* row per slot unit it covers (``appointment_seats``), whose
primary key ``(agenda_id, starts_at, seat_no)`` is unique and whose
``seat_no`` is bounded by the agenda's capacity (a CHECK against a copy of
the capacity kept in step by a composite foreign key ``ON UPDATE CASCADE``).
The per-citizen limit works the same way (``appointment_citizen_seats``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from domain.base import created_field, id_field, tenant_field, updated_field


class AppointmentStatus(str, enum.Enum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    HONOURED = "HONOURED"
    NO_SHOW = "NO_SHOW"


class BookingChannel(str, enum.Enum):
    WEB = "WEB"
    APP = "APP"
    COUNTER = "COUNTER"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    POST = "POST"


class OpeningExceptionKind(str, enum.Enum):
    CLOSURE = "CLOSURE"
    EXTRA_OPENING = "EXTRA_OPENING"


class RuleOverride(str, enum.Enum):
    """What an agent booked past (recorded on the appointment)."""

    NOTICE = "NOTICE"
    HORIZON = "HORIZON"
    CAPACITY = "CAPACITY"
    CANCELLATION_DEADLINE = "CANCELLATION_DEADLINE"


def _fk(target: str, ondelete: str = "CASCADE", index: bool = True, nullable: bool = False) -> Any:
    return Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)
    )


def _ts() -> Any:
    return Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Place(SQLModel, table=True):
    """Where appointments happen (a town hall, an annex, a district office)."""

    __tablename__ = "appointment_places"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class Agenda(SQLModel, table=True):
    __tablename__ = "agendas"
    __table_args__ = (
        # targets of the composite foreign keys that bound seat numbers
        sa.UniqueConstraint("id", "capacity", name="uq_agendas_id_capacity"),
        sa.UniqueConstraint("id", "max_active_per_citizen", name="uq_agendas_id_max_active"),
        sa.CheckConstraint("capacity BETWEEN 1 AND 100", name="ck_agendas_capacity"),
        sa.CheckConstraint("max_active_per_citizen BETWEEN 1 AND 50", name="ck_agendas_max_active"),
        sa.CheckConstraint("slot_minutes BETWEEN 5 AND 480", name="ck_agendas_slot_minutes"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    department_id: uuid.UUID = _fk("departments.id", ondelete="RESTRICT")
    place_id: uuid.UUID = _fk("appointment_places.id", ondelete="RESTRICT")
    agent_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    capacity: int = Field(default=1)
    slot_minutes: int = Field(default=15)
    min_notice_minutes: int = Field(default=1440)
    horizon_days: int = Field(default=60)
    max_active_per_citizen: int = Field(default=2)
    cancellation_deadline_minutes: int = Field(default=1440)
    agents_may_override: bool = Field(default=True)
    requires_subject: bool = Field(default=False)
    open_on_public_holidays: bool = Field(default=False)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class AppointmentType(SQLModel, table=True):
    __tablename__ = "appointment_types"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    agenda_id: uuid.UUID = _fk("agendas.id")
    label_fr: str = Field(max_length=200)
    label_en: str = Field(max_length=200)
    duration_minutes: int
    questions: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(pg.JSONB, nullable=True))
    documents_to_bring: list[str] = Field(
        default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.Text), nullable=False, server_default="{}")
    )
    procedure_code: str | None = Field(default=None, max_length=100)
    active: bool = Field(default=True)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class OpeningRule(SQLModel, table=True):
    """A weekly range (local wall-clock time), optionally valid over a date range."""

    __tablename__ = "agenda_opening_rules"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="ck_opening_rules_weekday"),
        sa.CheckConstraint("start_time < end_time", name="ck_opening_rules_times"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    agenda_id: uuid.UUID = _fk("agendas.id")
    weekday: int = Field(description="ISO weekday: 1 = Monday ... 7 = Sunday")
    start_time: time
    end_time: time
    valid_from: date | None = None
    valid_to: date | None = None
    created_at: datetime = created_field()


class OpeningException(SQLModel, table=True):
    """An exceptional closure (whole day or hours) or an extra opening on a local date."""

    __tablename__ = "agenda_opening_exceptions"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    agenda_id: uuid.UUID = _fk("agendas.id")
    kind: str = Field(max_length=16)
    on_date: date
    start_time: time | None = None
    end_time: time | None = None
    reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = created_field()


class Appointment(SQLModel, table=True):
    __tablename__ = "appointments"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "code", name="uq_appointments_tenant_code"),
        sa.Index("ix_appointments_agenda_start", "agenda_id", "starts_at"),
        sa.Index("ix_appointments_citizen_start", "citizen_id", "starts_at"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    agenda_id: uuid.UUID = _fk("agendas.id", ondelete="RESTRICT", index=False)
    appointment_type_id: uuid.UUID = _fk("appointment_types.id", ondelete="RESTRICT")
    citizen_id: uuid.UUID = _fk("citizens.id", ondelete="RESTRICT", index=False)
    # the request this appointment belongs to (foreign key added when the requests table exists)
    request_id: uuid.UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid, nullable=True, index=True))
    code: str = Field(max_length=12)
    status: str = Field(
        default=AppointmentStatus.BOOKED.value,
        sa_column=sa.Column(sa.String(16), nullable=False, server_default=AppointmentStatus.BOOKED.value),
    )
    starts_at: datetime = _ts()
    ends_at: datetime = _ts()
    channel: str = Field(max_length=16)
    booked_by_type: str = Field(max_length=16)
    booked_by_id: uuid.UUID
    subject: str | None = Field(default=None, max_length=2000)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(pg.JSONB, nullable=False, server_default="{}"))
    overrides: list[str] = Field(
        default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.String(32)), nullable=False, server_default="{}")
    )
    cancellation_reason: str | None = Field(default=None, max_length=1000)
    cancelled_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    version: int = Field(default=1)
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()


class AppointmentSeat(SQLModel, table=True):
    """One of the ``capacity`` seats of one slot unit, held by one appointment."""

    __tablename__ = "appointment_seats"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["agenda_id", "capacity"],
            ["agendas.id", "agendas.capacity"],
            name="fk_appointment_seats_agenda_capacity",
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("seat_no BETWEEN 1 AND capacity", name="ck_appointment_seats_within_capacity"),
    )

    agenda_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, primary_key=True))
    starts_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), primary_key=True))
    seat_no: int = Field(sa_column=sa.Column(sa.SmallInteger, primary_key=True))
    capacity: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    appointment_id: uuid.UUID = _fk("appointments.id")
    tenant_id: uuid.UUID = tenant_field()


class AppointmentCitizenSeat(SQLModel, table=True):
    """One of the ``max_active_per_citizen`` active-booking seats of a citizen in an agenda."""

    __tablename__ = "appointment_citizen_seats"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["agenda_id", "max_active"],
            ["agendas.id", "agendas.max_active_per_citizen"],
            name="fk_appointment_citizen_seats_agenda_max",
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("seat_no BETWEEN 1 AND max_active", name="ck_appointment_citizen_seats_within_max"),
    )

    agenda_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, primary_key=True))
    citizen_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True)
    )
    seat_no: int = Field(sa_column=sa.Column(sa.SmallInteger, primary_key=True))
    max_active: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    appointment_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("appointments.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    ends_at: datetime = _ts()
    tenant_id: uuid.UUID = tenant_field()
