"""Appointment types, inputs and payloads: places, agendas, slots, appointments."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.appointments import models
from domain.appointments.calendar import appointment_ics
from domain.appointments.services import (
    load_agendas,
    load_appointment_types,
    load_exceptions_of_agendas,
    load_places,
    load_rules_of_agendas,
    load_types_of_agendas,
)
from domain.citizens.services import load_citizens
from domain.tenancy.services import load_agents, load_departments
from schema.citizens import Citizen
from schema.common import Node, UserError, to_global_id
from schema.tenancy import Agent, Department

AppointmentStatus = strawberry.enum(models.AppointmentStatus, description="Where an appointment stands.")
BookingChannel = strawberry.enum(models.BookingChannel, description="How the appointment was booked.")
OpeningExceptionKind = strawberry.enum(
    models.OpeningExceptionKind, description="An exceptional closure (whole day or hours) or an extra opening."
)
RuleOverride = strawberry.enum(models.RuleOverride, description="A booking rule an agent went past (recorded).")


@strawberry.enum(description="ISO day of the week.")
class Weekday(enum.Enum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


@strawberry.type(description="Where appointments take place (a town hall, an annex...).")
class Place(Node):
    name: str
    address: str | None

    @classmethod
    def from_model(cls, m: models.Place) -> Place:
        return cls(id=to_global_id("Place", m.id), name=m.name, address=m.address)


@strawberry.type(description="A weekly opening range, in the local time of the tenant.")
class OpeningRule:
    id: strawberry.ID
    weekday: Weekday
    start_time: dt.time
    end_time: dt.time
    valid_from: dt.date | None = strawberry.field(description="First day the range applies (summer hours...); null = always.")
    valid_to: dt.date | None

    @classmethod
    def from_model(cls, m: models.OpeningRule) -> OpeningRule:
        return cls(
            id=to_global_id("OpeningRule", m.id), weekday=Weekday(m.weekday), start_time=m.start_time, end_time=m.end_time,
            valid_from=m.valid_from, valid_to=m.valid_to,
        )


@strawberry.type(description="An exceptional closure or extra opening on one local date.")
class OpeningException:
    id: strawberry.ID
    kind: OpeningExceptionKind  # type: ignore[valid-type]
    on_date: dt.date
    start_time: dt.time | None = strawberry.field(description="Null with endTime for a whole-day closure.")
    end_time: dt.time | None
    reason: str | None

    @classmethod
    def from_model(cls, m: models.OpeningException) -> OpeningException:
        return cls(
            id=to_global_id("OpeningException", m.id), kind=OpeningExceptionKind(m.kind), on_date=m.on_date,
            start_time=m.start_time, end_time=m.end_time, reason=m.reason,
        )


@strawberry.type(description="What can be booked in an agenda: label, duration, questions, documents to bring.")
class AppointmentType(Node):
    label_fr: str
    label_en: str
    duration_minutes: int
    questions: JSON | None = strawberry.field(
        description="A JSON Schema (draft 2020-12) of the answers expected in appointmentBook(input.answers)."
    )
    documents_to_bring: list[str]
    procedure_code: str | None = strawberry.field(description="The procedure this type serves (e.g. PASSPORT), if any.")
    active: bool
    _model: strawberry.Private[models.AppointmentType]

    @strawberry.field(description="The label in the caller's language.")
    def label(self, info: Info) -> str:
        return self.label_en if info.context.locale == "en" else self.label_fr

    @classmethod
    def from_model(cls, m: models.AppointmentType) -> AppointmentType:
        return cls(
            id=to_global_id("AppointmentType", m.id), label_fr=m.label_fr, label_en=m.label_en,
            duration_minutes=m.duration_minutes, questions=m.questions, documents_to_bring=list(m.documents_to_bring or []),
            procedure_code=m.procedure_code, active=m.active, _model=m,
        )


@strawberry.type(description="A bookable agenda of a department at a place, with its booking rules.")
class Agenda(Node):
    name: str
    description: str | None
    capacity: int = strawberry.field(description="Appointments that can run at the same time (counters).")
    slot_minutes: int = strawberry.field(description="The grid step: slots start every slotMinutes within opening ranges.")
    min_notice_minutes: int
    horizon_days: int
    max_active_per_citizen: int
    cancellation_deadline_minutes: int
    agents_may_override: bool
    requires_subject: bool = strawberry.field(description="True for an elected official's permanence: give a subject.")
    open_on_public_holidays: bool
    active: bool
    version: int
    _model: strawberry.Private[models.Agenda]

    @strawberry.field
    async def place(self, info: Info) -> Place | None:
        m = await info.context.loader("appointment_places", load_places).load(self._model.place_id)
        return Place.from_model(m) if m else None

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        m = await info.context.loader("department", load_departments).load(self._model.department_id)
        return Department.from_model(m) if m else None

    @strawberry.field(description="The agent or official who holds this agenda (agents only; null for citizens).")
    async def agent(self, info: Info) -> Agent | None:
        p = info.context.principal
        if self._model.agent_id is None or p is None or p.is_citizen:
            return None
        m = await info.context.loader("agent", load_agents).load(self._model.agent_id)
        return Agent.from_model(m) if m else None

    @strawberry.field
    async def appointment_types(self, info: Info) -> list[AppointmentType]:
        rows = await info.context.loader("agenda_types", load_types_of_agendas).load(self._model.id)
        return [AppointmentType.from_model(r) for r in rows if r.active]

    @strawberry.field
    async def opening_rules(self, info: Info) -> list[OpeningRule]:
        rows = await info.context.loader("agenda_rules", load_rules_of_agendas).load(self._model.id)
        return [OpeningRule.from_model(r) for r in rows]

    @strawberry.field
    async def opening_exceptions(self, info: Info) -> list[OpeningException]:
        rows = await info.context.loader("agenda_exceptions", load_exceptions_of_agendas).load(self._model.id)
        return [OpeningException.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, m: models.Agenda) -> Agenda:
        return cls(
            id=to_global_id("Agenda", m.id), name=m.name, description=m.description, capacity=m.capacity,
            slot_minutes=m.slot_minutes, min_notice_minutes=m.min_notice_minutes, horizon_days=m.horizon_days,
            max_active_per_citizen=m.max_active_per_citizen, cancellation_deadline_minutes=m.cancellation_deadline_minutes,
            agents_may_override=m.agents_may_override, requires_subject=m.requires_subject,
            open_on_public_holidays=m.open_on_public_holidays, active=m.active, version=m.version, _model=m,
        )


@strawberry.type(description="A bookable slot with the seats left.")
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    remaining: int = strawberry.field(description="Seats still free (0 only when includeFull is true).")
    capacity: int


@strawberry.type(description="A booked appointment.")
class Appointment(Node):
    code: str = strawberry.field(description="Short confirmation code to give at the counter (8 characters, no 0/O/1/I/L).")
    status: AppointmentStatus  # type: ignore[valid-type]
    starts_at: dt.datetime
    ends_at: dt.datetime
    channel: BookingChannel  # type: ignore[valid-type]
    subject: str | None
    answers: JSON
    overrides: list[RuleOverride]  # type: ignore[valid-type]
    cancellation_reason: str | None
    cancelled_at: dt.datetime | None
    request_id: strawberry.ID | None = strawberry.field(description="The request (global ID) this appointment belongs to, if any.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    _model: strawberry.Private[models.Appointment]

    @strawberry.field
    async def agenda(self, info: Info) -> Agenda | None:
        m = await info.context.loader("agendas", load_agendas).load(self._model.agenda_id)
        return Agenda.from_model(m) if m else None

    @strawberry.field
    async def appointment_type(self, info: Info) -> AppointmentType | None:
        m = await info.context.loader("appointment_types", load_appointment_types).load(self._model.appointment_type_id)
        return AppointmentType.from_model(m) if m else None

    @strawberry.field
    async def citizen(self, info: Info) -> Citizen | None:
        m = await info.context.loader("citizen", load_citizens).load(self._model.citizen_id)
        return Citizen.from_model(m) if m else None

    @strawberry.field(description="The appointment as an iCalendar (RFC 5545) document; METHOD:CANCEL once cancelled.")
    async def ics(self, info: Info) -> str:
        ctx = info.context
        atype = await ctx.loader("appointment_types", load_appointment_types).load(self._model.appointment_type_id)
        agenda = await ctx.loader("agendas", load_agendas).load(self._model.agenda_id)
        place = await ctx.loader("appointment_places", load_places).load(agenda.place_id) if agenda else None
        return appointment_ics(self._model, atype, place, ctx.locale)

    @classmethod
    def from_model(cls, m: models.Appointment) -> Appointment:
        return cls(
            id=to_global_id("Appointment", m.id), code=m.code, status=AppointmentStatus(m.status), starts_at=m.starts_at,
            ends_at=m.ends_at, channel=BookingChannel(m.channel), subject=m.subject, answers=m.answers or {},
            overrides=[RuleOverride(o) for o in m.overrides or []], cancellation_reason=m.cancellation_reason,
            cancelled_at=m.cancelled_at, request_id=to_global_id("Request", m.request_id) if m.request_id else None,
            version=m.version, created_at=m.created_at, updated_at=m.updated_at, _model=m,
        )


# ---------------------------------------------------------------- inputs


@strawberry.input
class PlaceCreateInput:
    name: str
    address: str | None = strawberry.UNSET


@strawberry.input(description="A new agenda (admins). Unsent rules take the defaults shown in docs/appointments.md.")
class AgendaCreateInput:
    department_id: strawberry.ID
    place_id: strawberry.ID
    name: str
    agent_id: strawberry.ID | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    capacity: int | None = strawberry.UNSET
    slot_minutes: int | None = strawberry.UNSET
    min_notice_minutes: int | None = strawberry.UNSET
    horizon_days: int | None = strawberry.UNSET
    max_active_per_citizen: int | None = strawberry.UNSET
    cancellation_deadline_minutes: int | None = strawberry.UNSET
    agents_may_override: bool | None = strawberry.UNSET
    requires_subject: bool | None = strawberry.UNSET
    open_on_public_holidays: bool | None = strawberry.UNSET


@strawberry.input(description="Changes to an agenda (admins): only the fields sent change.")
class AgendaUpdateInput:
    id: strawberry.ID
    version: int
    department_id: strawberry.ID | None = strawberry.UNSET
    place_id: strawberry.ID | None = strawberry.UNSET
    agent_id: strawberry.ID | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    capacity: int | None = strawberry.UNSET
    slot_minutes: int | None = strawberry.UNSET
    min_notice_minutes: int | None = strawberry.UNSET
    horizon_days: int | None = strawberry.UNSET
    max_active_per_citizen: int | None = strawberry.UNSET
    cancellation_deadline_minutes: int | None = strawberry.UNSET
    agents_may_override: bool | None = strawberry.UNSET
    requires_subject: bool | None = strawberry.UNSET
    open_on_public_holidays: bool | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class AppointmentTypeCreateInput:
    agenda_id: strawberry.ID
    label_fr: str
    label_en: str
    duration_minutes: int = strawberry.field(description="A multiple of the agenda's slotMinutes.")
    questions: JSON | None = strawberry.field(default=strawberry.UNSET, description="JSON Schema of an object.")
    documents_to_bring: list[str] | None = strawberry.UNSET
    procedure_code: str | None = strawberry.UNSET


@strawberry.input
class OpeningRuleAddInput:
    agenda_id: strawberry.ID
    weekday: Weekday
    start_time: dt.time
    end_time: dt.time
    valid_from: dt.date | None = strawberry.UNSET
    valid_to: dt.date | None = strawberry.UNSET


@strawberry.input
class OpeningRuleRemoveInput:
    id: strawberry.ID


@strawberry.input(description="A closure (no times = whole day) or an extra opening (times required) on a local date.")
class OpeningExceptionAddInput:
    agenda_id: strawberry.ID
    on_date: dt.date
    kind: OpeningExceptionKind = OpeningExceptionKind.CLOSURE  # type: ignore[valid-type]
    start_time: dt.time | None = strawberry.UNSET
    end_time: dt.time | None = strawberry.UNSET
    reason: str | None = strawberry.UNSET


@strawberry.input(description="Book a slot. Citizens book for themselves; agents give citizenId and the channel.")
class AppointmentBookInput:
    agenda_id: strawberry.ID
    appointment_type_id: strawberry.ID
    starts_at: dt.datetime = strawberry.field(description="A slot start from `availability` (with its offset).")
    ends_at: dt.datetime | None = strawberry.field(default=strawberry.UNSET, description="Optional; checked against the type's duration.")
    citizen_id: strawberry.ID | None = strawberry.UNSET
    channel: BookingChannel | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="Agents: COUNTER (default), PHONE, EMAIL, POST... Citizens: WEB (default) or APP."
    )
    answers: JSON | None = strawberry.UNSET
    subject: str | None = strawberry.field(default=strawberry.UNSET, description="Required when the agenda requiresSubject.")
    request_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="The request this booking serves.")
    override_rules: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Agents only: book past notice, horizon and capacity (recorded in overrides)."
    )


@strawberry.input
class AppointmentRescheduleInput:
    id: strawberry.ID
    version: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None = strawberry.UNSET
    override_rules: bool | None = strawberry.UNSET


@strawberry.input
class AppointmentCancelInput:
    id: strawberry.ID
    version: int
    reason: str | None = strawberry.field(default=strawberry.UNSET, description="Required for agents.")


@strawberry.input
class AppointmentMarkInput:
    id: strawberry.ID
    version: int


@strawberry.type
class PlacePayload:
    place: Place | None
    user_errors: list[UserError]


@strawberry.type
class AgendaPayload:
    agenda: Agenda | None
    user_errors: list[UserError]


@strawberry.type
class AppointmentTypePayload:
    appointment_type: AppointmentType | None
    user_errors: list[UserError]


@strawberry.type
class AppointmentPayload:
    appointment: Appointment | None
    user_errors: list[UserError]
