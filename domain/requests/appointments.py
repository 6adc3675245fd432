"""Appointments that belong to a request (issue #4 item 6).

* :func:`check_request_for_booking`: ``appointmentBook(requestId)`` only for a submitted
  request of the tenant whose citizen is the one the appointment is for.
* :func:`on_appointment_change`: called by the appointments context in the same transaction;
  writes ``request.appointment_<kind>`` (public) on the request's timeline and, when the
  request's workflow has a transition with the matching ``trigger`` from its current state
  (e.g. ``APPOINTMENT_BOOKED``), takes it: booking is a step of the workflow.
* :func:`load_request_appointments`: DataLoader batch function for ``Request.appointments``.
"""

from __future__ import annotations

import uuid
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appointments.models import Appointment
from domain.base import utcnow
from domain.errors import Collector
from domain.procedures.rules import state_of, triggered_transition
from domain.requests.models import Request, RequestStatus
from domain.security import Principal

TRIGGERS = {
    "booked": "APPOINTMENT_BOOKED",
    "cancelled": "APPOINTMENT_CANCELLED",
    "honoured": "APPOINTMENT_HONOURED",
    "no_show": "APPOINTMENT_NO_SHOW",
}


async def _lock_request(session: AsyncSession, tenant_id: uuid.UUID, request_id: uuid.UUID) -> Request | None:
    return (
        await session.execute(
            sa.select(Request)
            .where(Request.tenant_id == tenant_id, Request.id == request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def check_request_for_booking(
    session: AsyncSession, p: Principal, request_id: uuid.UUID, citizen_id: uuid.UUID | None, errors: Collector
) -> None:
    """The request must exist in the tenant (drafts do not count) and be the appointment citizen's."""
    request = (
        await session.execute(
            sa.select(Request.citizen_id, Request.status).where(Request.tenant_id == p.tenant_id, Request.id == request_id)
        )
    ).first()
    if request is None or request.status == RequestStatus.DRAFT.value:
        errors.add(("request_id",), "NOT_FOUND")
    elif citizen_id is not None and request.citizen_id != citizen_id:
        errors.add(("request_id",), "REQUEST_CITIZEN_MISMATCH")


async def on_appointment_change(session: AsyncSession, p: Principal, appointment: Appointment, kind: str) -> None:
    """Mirror an appointment change on its request's timeline and take the triggered transition."""
    from domain.requests.services import _definition, _event

    if appointment.request_id is None:
        return
    request = await _lock_request(session, appointment.tenant_id, appointment.request_id)
    if request is None:
        return
    _event(
        session, p, request, f"request.appointment_{kind}", True,
        appointment_id=str(appointment.id), code=appointment.code,
        starts_at=appointment.starts_at.isoformat(), appointment_status=appointment.status,
    )
    trigger = TRIGGERS.get(kind)
    definition = await _definition(session, request)
    transition = triggered_transition(definition, request.state, trigger) if trigger else None
    if transition is not None:
        target = state_of(definition, transition["to"])
        assert target is not None  # the definition validator guarantees it
        previous = request.state
        request.state, request.status = target["code"], target["status"]
        request.closed_at = utcnow() if target.get("terminal") else None
        _event(
            session, p, request, "request.transitioned", True,
            transition=transition["name"], from_state=previous, to_state=target["code"], status=target["status"],
            notify_citizen=bool(transition.get("notifyCitizen")), inputs={}, trigger=trigger,
            appointment_id=str(appointment.id),
        )
    request.version += 1
    await session.flush()


async def load_request_appointments(
    session: AsyncSession, tenant_id: uuid.UUID, request_ids: Sequence[uuid.UUID]
) -> list[list[Appointment]]:
    """DataLoader batch function: the appointments of each request, by start time (one statement)."""
    rows = (
        await session.execute(
            sa.select(Appointment)
            .where(Appointment.tenant_id == tenant_id, Appointment.request_id.in_(list(request_ids)))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    ).scalars()
    grouped: dict[uuid.UUID, list[Appointment]] = {i: [] for i in request_ids}
    for row in rows:
        grouped[row.request_id].append(row)  # type: ignore[index]
    return [grouped[i] for i in request_ids]
