"""Queries and mutations of the appointments context."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from domain.appointments import admin, services
from domain.appointments.models import AppointmentStatus
from domain.security import require_principal
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.appointments import (
    Agenda,
    AgendaCreateInput,
    AgendaPayload,
    AgendaUpdateInput,
    Appointment,
    AppointmentBookInput,
    AppointmentCancelInput,
    AppointmentMarkInput,
    AppointmentPayload,
    AppointmentRescheduleInput,
    AppointmentType,
    AppointmentTypeCreateInput,
    AppointmentTypePayload,
    OpeningExceptionAddInput,
    OpeningRuleAddInput,
    OpeningRuleRemoveInput,
    Place,
    PlaceCreateInput,
    PlacePayload,
    Slot,
)
from schema.common import Connection, connection_from_page, decode_id, input_to_data

# ---------------------------------------------------------------- nodes


@register_node("Place")
async def _place_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        m = await services.get_place(s, ctx.principal, raw_id)
    return Place.from_model(m) if m else None


@register_node("Agenda")
async def _agenda_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        m = await services.get_agenda(s, ctx.principal, raw_id)
    return Agenda.from_model(m) if m else None


@register_node("AppointmentType")
async def _type_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        m = await services.get_appointment_type(s, ctx.principal, raw_id)
    return AppointmentType.from_model(m) if m else None


@register_node("Appointment")
async def _appointment_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        m = await services.get_appointment(s, ctx.principal, raw_id)
    return Appointment.from_model(m) if m else None


def _decode_refs(data: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """Decode the global IDs of ``data`` in place (``field -> type``); ``None`` stays ``None``."""
    for name, type_name in refs.items():
        if data.get(name) is not None:
            data[name] = decode_id(data[name], type_name, (name,))
    return data


# ---------------------------------------------------------------- queries


@strawberry.type
class AppointmentQuery:
    @strawberry.field(description="The places where appointments happen (a bounded list).")
    async def places(self, info: Info) -> list[Place]:
        ctx = info.context
        async with ctx.read() as s:
            rows = await services.list_places(s, ctx.principal)
        return [Place.from_model(r) for r in rows]

    @strawberry.field(description="The agendas of the tenant (a bounded list). Citizens see active agendas only.")
    async def agendas(self, info: Info, include_inactive: bool = False) -> list[Agenda]:
        ctx = info.context
        async with ctx.read() as s:
            rows = await services.list_agendas(s, ctx.principal, include_inactive)
        return [Agenda.from_model(r) for r in rows]

    @strawberry.field(
        description="Free slots of an agenda for an appointment type, starting in [from, to) (at most 62 days), "
        "honouring opening hours, holidays, closures, minimum notice and horizon. Computed on the fly."
    )
    async def availability(
        self,
        info: Info,
        agenda_id: strawberry.ID,
        appointment_type_id: strawberry.ID,
        from_: Annotated[dt.datetime, strawberry.argument(name="from")],
        to: dt.datetime,
        include_full: bool = False,
    ) -> list[Slot]:
        ctx = info.context
        agenda = decode_id(agenda_id, "Agenda", ("agenda_id",))
        atype = decode_id(appointment_type_id, "AppointmentType", ("appointment_type_id",))
        async with ctx.read() as s:
            slots = await services.availability(s, ctx.principal, agenda, atype, from_, to, include_full)
        return [Slot(starts_at=x.starts_at, ends_at=x.ends_at, remaining=x.remaining, capacity=x.capacity) for x in slots]

    @strawberry.field(description="The authenticated citizen's appointments, soonest first.")
    async def my_appointments(
        self, info: Info, upcoming_only: bool = True, first: int | None = 20, after: str | None = None
    ) -> Connection[Appointment]:
        ctx = info.context
        async with ctx.read() as s:
            page = await services.my_appointments(s, ctx.principal, upcoming_only, first, after)
        return connection_from_page(page, Appointment.from_model)

    @strawberry.field(description="An appointment by its confirmation code (agents); null when unknown.")
    async def appointment_by_code(self, info: Info, code: str) -> Appointment | None:
        ctx = info.context
        async with ctx.read() as s:
            m = await services.appointment_by_code(s, ctx.principal, code)
        return Appointment.from_model(m) if m else None

    @strawberry.field(
        description="Appointments of an agenda over `days` local days from `from` (1 = day view, 7 = week view), "
        "by start time; at most 2000. Cancelled ones only with includeCancelled."
    )
    async def agenda_planning(
        self,
        info: Info,
        agenda_id: strawberry.ID,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        days: int = 1,
        include_cancelled: bool = False,
    ) -> list[Appointment]:
        ctx = info.context
        agenda = decode_id(agenda_id, "Agenda", ("agenda_id",))
        async with ctx.read() as s:
            rows = await services.planning(s, ctx.principal, from_, days, agenda_id=agenda, include_cancelled=include_cancelled)
        return [Appointment.from_model(r) for r in rows]

    @strawberry.field(
        description="Appointments of every agenda held by an agent (default: yourself) over `days` local days from `from`."
    )
    async def agent_planning(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        days: int = 1,
        agent_id: strawberry.ID | None = None,
        include_cancelled: bool = False,
    ) -> list[Appointment]:
        ctx = info.context
        agent = decode_id(agent_id, "Agent", ("agent_id",)) if agent_id else None
        async with ctx.read() as s:
            rows = await services.planning(s, ctx.principal, from_, days, agent_id=agent, include_cancelled=include_cancelled)
        return [Appointment.from_model(r) for r in rows]


# ---------------------------------------------------------------- mutations


async def _agenda_of(s, ctx, agenda_id: uuid.UUID):
    return (await services.load_agendas(s, require_principal(ctx.principal).tenant_id, [agenda_id]))[0]


@strawberry.type
class AppointmentMutation:
    @strawberry.mutation(description="Create a place (admins).")
    async def place_create(self, info: Info, input: PlaceCreateInput) -> PlacePayload:
        ctx = info.context

        async def action(s):
            return await admin.create_place(s, ctx.principal, input_to_data(input))

        return await run_mutation(ctx, action, PlacePayload, "place", Place.from_model)

    @strawberry.mutation(description="Create an agenda (admins).")
    async def agenda_create(self, info: Info, input: AgendaCreateInput) -> AgendaPayload:
        ctx = info.context

        async def action(s):
            data = _decode_refs(input_to_data(input), {"department_id": "Department", "place_id": "Place", "agent_id": "Agent"})
            return await admin.create_agenda(s, ctx.principal, data)

        return await run_mutation(ctx, action, AgendaPayload, "agenda", Agenda.from_model)

    @strawberry.mutation(description="Change an agenda's settings and booking rules (admins). Send the version you read.")
    async def agenda_update(self, info: Info, input: AgendaUpdateInput) -> AgendaPayload:
        ctx = info.context

        async def action(s):
            data = _decode_refs(input_to_data(input), {"department_id": "Department", "place_id": "Place", "agent_id": "Agent"})
            agenda_id = decode_id(data.pop("id"), "Agenda")
            return await admin.update_agenda(s, ctx.principal, agenda_id, data.pop("version"), data)

        return await run_mutation(ctx, action, AgendaPayload, "agenda", Agenda.from_model)

    @strawberry.mutation(description="Add an appointment type to an agenda (admins).")
    async def appointment_type_create(self, info: Info, input: AppointmentTypeCreateInput) -> AppointmentTypePayload:
        ctx = info.context

        async def action(s):
            data = _decode_refs(input_to_data(input), {"agenda_id": "Agenda"})
            return await admin.create_appointment_type(s, ctx.principal, data)

        return await run_mutation(ctx, action, AppointmentTypePayload, "appointment_type", AppointmentType.from_model)

    @strawberry.mutation(description="Add a weekly opening range to an agenda (admins). Returns the agenda.")
    async def agenda_opening_rule_add(self, info: Info, input: OpeningRuleAddInput) -> AgendaPayload:
        ctx = info.context

        async def action(s):
            data = _decode_refs(input_to_data(input), {"agenda_id": "Agenda"})
            rule = await admin.add_opening_rule(s, ctx.principal, data)
            return await _agenda_of(s, ctx, rule.agenda_id)

        return await run_mutation(ctx, action, AgendaPayload, "agenda", Agenda.from_model)

    @strawberry.mutation(description="Remove a weekly opening range (admins). Returns the agenda.")
    async def agenda_opening_rule_remove(self, info: Info, input: OpeningRuleRemoveInput) -> AgendaPayload:
        ctx = info.context

        async def action(s):
            rule = await admin.remove_opening_rule(s, ctx.principal, decode_id(input.id, "OpeningRule"))
            return await _agenda_of(s, ctx, rule.agenda_id)

        return await run_mutation(ctx, action, AgendaPayload, "agenda", Agenda.from_model)

    @strawberry.mutation(description="Add an exceptional closure or extra opening to an agenda (admins). Returns the agenda.")
    async def agenda_opening_exception_add(self, info: Info, input: OpeningExceptionAddInput) -> AgendaPayload:
        ctx = info.context

        async def action(s):
            data = _decode_refs(input_to_data(input), {"agenda_id": "Agenda"})
            exc = await admin.add_opening_exception(s, ctx.principal, data)
            return await _agenda_of(s, ctx, exc.agenda_id)

        return await run_mutation(ctx, action, AgendaPayload, "agenda", Agenda.from_model)

    @strawberry.mutation(description="Book a slot (citizen for themself, or agent on behalf of a citizen).")
    async def appointment_book(self, info: Info, input: AppointmentBookInput) -> AppointmentPayload:
        ctx = info.context

        async def action(s):
            data = _decode_refs(
                input_to_data(input),
                {"agenda_id": "Agenda", "appointment_type_id": "AppointmentType", "citizen_id": "Citizen", "request_id": "Request"},
            )
            return await services.book(s, ctx.principal, data)

        return await run_mutation(ctx, action, AppointmentPayload, "appointment", Appointment.from_model)

    @strawberry.mutation(description="Move an appointment to another slot of the same agenda. Send the version you read.")
    async def appointment_reschedule(self, info: Info, input: AppointmentRescheduleInput) -> AppointmentPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            appointment_id = decode_id(data.pop("id"), "Appointment")
            return await services.reschedule(s, ctx.principal, appointment_id, data.pop("version"), data)

        return await run_mutation(ctx, action, AppointmentPayload, "appointment", Appointment.from_model)

    @strawberry.mutation(description="Cancel an appointment: citizens before the deadline, agents any time with a reason.")
    async def appointment_cancel(self, info: Info, input: AppointmentCancelInput) -> AppointmentPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            appointment_id = decode_id(data["id"], "Appointment")
            return await services.cancel(s, ctx.principal, appointment_id, data["version"], data.get("reason"))

        return await run_mutation(ctx, action, AppointmentPayload, "appointment", Appointment.from_model)

    @strawberry.mutation(description="Record that the citizen came (agents).")
    async def appointment_mark_honoured(self, info: Info, input: AppointmentMarkInput) -> AppointmentPayload:
        return await _mark(info, input, AppointmentStatus.HONOURED)

    @strawberry.mutation(description="Record that the citizen did not come (agents).")
    async def appointment_mark_no_show(self, info: Info, input: AppointmentMarkInput) -> AppointmentPayload:
        return await _mark(info, input, AppointmentStatus.NO_SHOW)


async def _mark(info: Info, input: AppointmentMarkInput, status: AppointmentStatus) -> AppointmentPayload:
    ctx = info.context

    async def action(s):
        return await services.mark(s, ctx.principal, decode_id(input.id, "Appointment"), input.version, status)

    return await run_mutation(ctx, action, AppointmentPayload, "appointment", Appointment.from_model)
