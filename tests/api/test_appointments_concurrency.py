"""No overbooking, ever: concurrent booking attempts over many database connections.

Half of the attempts go through the domain service, each in its own session
(its own pooled connection and transaction), the other half through the HTTP
API; all are started at once with ``asyncio.gather``.
"""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from domain.appointments import services
from domain.appointments.models import Appointment, AppointmentCitizenSeat, AppointmentSeat
from domain.citizens.models import Citizen
from domain.errors import DomainValidationError
from domain.security import Principal, PrincipalKind
from tests.api.appointments_support import BOOK, days_ahead, iso, local, make_agenda, make_citizen, raw_id

ATTEMPTS = 200


async def _service_attempt(app, principal: Principal, data: dict) -> str:
    async with app.state.sessionmaker() as session:
        try:
            async with session.begin():
                await services.book(session, principal, data)
            return "OK"
        except DomainValidationError as exc:
            return exc.errors[0].code


async def _http_attempt(gql, token: str, data: dict) -> str:
    result = await gql(BOOK, {"input": data}, token=token)
    payload = result.data["appointmentBook"]
    return payload["userErrors"][0]["code"] if payload["userErrors"] else "OK"


async def _citizens(app, tenant_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    async with app.state.sessionmaker() as session:
        rows = [Citizen(tenant_id=tenant_id, given_names="Test", family_name=f"Concurrent {i}") for i in range(count)]
        session.add_all(rows)
        await session.commit()
        return [r.id for r in rows]


async def test_200_concurrent_bookings_on_a_slot_of_capacity_3(gql, tenant, app):
    # given a slot of capacity 3 and 200 different citizens
    ids = await make_agenda(gql, tenant, capacity=3)
    starts = local(days_ahead(6), 10)
    citizens = await _citizens(app, tenant.id, ATTEMPTS)
    agenda_id, type_id = raw_id(ids["agenda"]), raw_id(ids["type"])

    def attempt(i: int, citizen_id: uuid.UUID):
        if i % 2:
            principal = Principal(PrincipalKind.CITIZEN, citizen_id, tenant.id)
            return _service_attempt(app, principal, {"agenda_id": agenda_id, "appointment_type_id": type_id, "starts_at": starts})
        data = {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(starts)}
        return _http_attempt(gql, tenant.citizen_token(citizen_id), data)

    # when they all try to book it at the same time
    outcomes = await asyncio.gather(*(attempt(i, c) for i, c in enumerate(citizens)))
    # then exactly 3 succeed and every other attempt is told SLOT_FULL
    assert outcomes.count("OK") == 3
    assert outcomes.count("SLOT_FULL") == ATTEMPTS - 3
    # and the database holds exactly 3 appointments and 3 seats for that slot
    async with app.state.sessionmaker() as s:
        booked = (await s.execute(sa.select(sa.func.count()).select_from(Appointment).where(Appointment.agenda_id == agenda_id))).scalar_one()
        seats = (
            await s.execute(sa.select(AppointmentSeat.seat_no).where(AppointmentSeat.agenda_id == agenda_id, AppointmentSeat.starts_at == starts))
        ).scalars().all()
    assert booked == 3
    assert sorted(seats) == [1, 2, 3]


async def test_a_citizen_cannot_exceed_the_limit_by_booking_in_parallel(gql, tenant, app):
    # given an agenda allowing 2 active bookings per citizen, and 30 different free slots
    ids = await make_agenda(gql, tenant, capacity=3, max_per_citizen=2)
    citizen = await make_citizen(gql, tenant)
    citizen_id = raw_id(citizen)
    day = days_ahead(7)
    slots = [local(day, 8 + i // 4, (i % 4) * 15) for i in range(30)]
    principal = Principal(PrincipalKind.CITIZEN, citizen_id, tenant.id)
    token = tenant.citizen_token(citizen_id)

    def attempt(i: int, starts):
        if i % 2:
            data = {"agenda_id": raw_id(ids["agenda"]), "appointment_type_id": raw_id(ids["type"]), "starts_at": starts}
            return _service_attempt(app, principal, data)
        return _http_attempt(gql, token, {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(starts)})

    # when the citizen fires 30 bookings at once
    outcomes = await asyncio.gather(*(attempt(i, s) for i, s in enumerate(slots)))
    # then exactly 2 succeed, the others are refused with CITIZEN_LIMIT_REACHED
    assert outcomes.count("OK") == 2
    assert outcomes.count("CITIZEN_LIMIT_REACHED") == 28
    async with app.state.sessionmaker() as s:
        booked = (
            await s.execute(sa.select(sa.func.count()).select_from(Appointment).where(Appointment.citizen_id == citizen_id))
        ).scalar_one()
        held = (
            await s.execute(sa.select(sa.func.count()).select_from(AppointmentSeat).where(AppointmentSeat.agenda_id == raw_id(ids["agenda"])))
        ).scalar_one()
        citizen_seats = (
            await s.execute(sa.select(AppointmentCitizenSeat.seat_no).where(AppointmentCitizenSeat.citizen_id == citizen_id))
        ).scalars().all()
    assert booked == 2 and held == 2
    assert sorted(citizen_seats) == [1, 2]


async def test_the_database_itself_refuses_a_seat_beyond_capacity(gql, tenant, app):
    """Even a buggy writer bypassing the service cannot store a fourth seat."""
    ids = await make_agenda(gql, tenant, capacity=3)
    citizen = await make_citizen(gql, tenant)
    booked = await gql(
        BOOK,
        {"input": {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(local(days_ahead(6), 11))}},
        token=tenant.citizen_token(raw_id(citizen)),
    )
    appointment_id = raw_id(booked.data["appointmentBook"]["appointment"]["id"])
    agenda_id = raw_id(ids["agenda"])
    starts = local(days_ahead(6), 11)
    for seat_no, capacity, expected in ((1, 3, "UniqueViolation"), (4, 3, "CheckViolation"), (4, 4, "ForeignKeyViolation")):
        async with app.state.sessionmaker() as s:
            try:
                await s.execute(
                    sa.insert(AppointmentSeat).values(
                        agenda_id=agenda_id, starts_at=starts, seat_no=seat_no, capacity=capacity,
                        appointment_id=appointment_id, tenant_id=tenant.id,
                    )
                )
                await s.commit()
                raise AssertionError(f"seat {seat_no} with capacity {capacity} was accepted")
            except sa.exc.IntegrityError as exc:
                assert expected in type(exc.orig).__name__ or expected.lower() in str(exc.orig).lower().replace(" ", ""), exc
