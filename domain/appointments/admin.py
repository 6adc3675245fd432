"""Administration of the appointments context (ADMIN role): places, agendas and their
booking rules, opening rules and exceptions, appointment types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appointments import rules
from domain.appointments.models import (
    Agenda,
    Appointment,
    AppointmentCitizenSeat,
    AppointmentSeat,
    AppointmentStatus,
    AppointmentType,
    OpeningException,
    OpeningExceptionKind,
    OpeningRule,
    Place,
)
from domain.appointments.services import _by_ids, _clean_text, load_agendas, load_places
from domain.locking import check_version, lock_row
from domain.base import utcnow
from domain.errors import Collector, DomainValidationError, constraint_error
from domain.events.services import record_event
from domain.security import Principal, Role, require_role
from domain.tenancy.models import Agent, Department


async def create_place(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Place:
    p = require_role(principal, Role.ADMIN)
    errors = Collector()
    name = _clean_text(data, "name", 200, errors, True)
    address = _clean_text(data, "address", 500, errors, False)
    errors.raise_if_any()
    place = Place(tenant_id=p.tenant_id, name=name, address=address)
    session.add(place)
    await session.flush()
    record_event(session, tenant_id=p.tenant_id, type="place.created", aggregate_type="Place", aggregate_id=place.id, actor=p)
    return place


AGENDA_INTS = {
    # name: (min, max)
    "capacity": (1, 100),
    "slot_minutes": (5, 480),
    "min_notice_minutes": (0, 60 * 24 * 90),
    "horizon_days": (1, 730),
    "max_active_per_citizen": (1, 50),
    "cancellation_deadline_minutes": (0, 60 * 24 * 30),
}
AGENDA_BOOLS = ("agents_may_override", "requires_subject", "open_on_public_holidays", "active")


async def _clean_agenda(session: AsyncSession, p: Principal, data: dict[str, Any], creating: bool) -> dict[str, Any]:
    errors = Collector()
    values: dict[str, Any] = {}
    if creating or "name" in data:
        values["name"] = _clean_text(data, "name", 200, errors, True)
    if "description" in data:
        values["description"] = _clean_text(data, "description", 2000, errors, False)
    for name, (low, high) in AGENDA_INTS.items():
        if name in data:
            value = data[name]
            if value is None or not (low <= value <= high):
                errors.add((name,), "OUT_OF_RANGE", min=low, max=high)
            else:
                values[name] = value
    for name in AGENDA_BOOLS:
        if name in data:
            if data[name] is None:
                errors.add((name,), "REQUIRED")
            else:
                values[name] = data[name]
    if creating or "department_id" in data:
        dep_id = data.get("department_id")
        found = dep_id and (
            await session.execute(sa.select(Department.id).where(Department.tenant_id == p.tenant_id, Department.id == dep_id))
        ).first()
        if not found:
            errors.add(("department_id",), "NOT_FOUND")
        values["department_id"] = dep_id
    if creating or "place_id" in data:
        place_id = data.get("place_id")
        if not place_id or (await load_places(session, p.tenant_id, [place_id]))[0] is None:
            errors.add(("place_id",), "NOT_FOUND")
        values["place_id"] = place_id
    if "agent_id" in data:
        agent_id = data["agent_id"]
        if agent_id is not None:
            found = (await session.execute(sa.select(Agent.id).where(Agent.tenant_id == p.tenant_id, Agent.id == agent_id))).first()
            if not found:
                errors.add(("agent_id",), "NOT_FOUND")
        values["agent_id"] = agent_id
    errors.raise_if_any()
    return values


async def create_agenda(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Agenda:
    p = require_role(principal, Role.ADMIN)
    values = await _clean_agenda(session, p, data, creating=True)
    agenda = Agenda(tenant_id=p.tenant_id, **values)
    session.add(agenda)
    await session.flush()
    record_event(
        session, tenant_id=p.tenant_id, type="agenda.created", aggregate_type="Agenda", aggregate_id=agenda.id, actor=p,
        payload={"fields": sorted(values)},
    )
    return agenda


async def update_agenda(
    session: AsyncSession, principal: Principal | None, agenda_id: uuid.UUID, expected_version: int, data: dict[str, Any]
) -> Agenda:
    p = require_role(principal, Role.ADMIN)
    agenda = await lock_row(session, Agenda, p.tenant_id, agenda_id)
    if agenda is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    check_version(agenda.version, expected_version)
    values = await _clean_agenda(session, p, data, creating=False)
    changed = sorted(k for k, v in values.items() if getattr(agenda, k) != v)
    if not changed:
        return agenda
    now = utcnow()
    if "slot_minutes" in changed:
        await _check_new_grid(session, agenda, values["slot_minutes"], now)
    if "capacity" in changed or "max_active_per_citizen" in changed:
        # past seats no longer matter: drop them so that a lower bound only meets future bookings
        await session.execute(sa.delete(AppointmentSeat).where(AppointmentSeat.agenda_id == agenda.id, AppointmentSeat.starts_at < now))
        await session.execute(
            sa.delete(AppointmentCitizenSeat).where(AppointmentCitizenSeat.agenda_id == agenda.id, AppointmentCitizenSeat.ends_at < now)
        )
    for key in changed:
        setattr(agenda, key, values[key])
    agenda.version += 1
    agenda.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()  # ON UPDATE CASCADE re-checks every future seat against the new bounds
    except IntegrityError as exc:
        mapped = constraint_error(exc)  # a CHECK on future seats: CAPACITY_IN_USE on the right field
        if mapped is None:
            raise
        raise mapped from exc
    record_event(
        session, tenant_id=p.tenant_id, type="agenda.updated", aggregate_type="Agenda", aggregate_id=agenda.id, actor=p,
        payload={"fields": changed, "version": agenda.version},
    )
    return agenda


async def _check_new_grid(session: AsyncSession, agenda: Agenda, slot_minutes: int, now: datetime) -> None:
    """The grid can change only when no upcoming booking holds seats on the old one,
    and every active type's duration stays a multiple of the step."""
    upcoming = (
        await session.execute(
            sa.select(Appointment.id).where(
                Appointment.agenda_id == agenda.id, Appointment.status == AppointmentStatus.BOOKED.value, Appointment.ends_at > now
            ).limit(1)
        )
    ).first()
    if upcoming:
        raise DomainValidationError.single(("slot_minutes",), "GRID_IN_USE")
    durations = (
        await session.execute(
            sa.select(AppointmentType.duration_minutes).where(AppointmentType.agenda_id == agenda.id, AppointmentType.active.is_(True))
        )
    ).scalars()
    if any(d % slot_minutes for d in durations):
        raise DomainValidationError.single(("slot_minutes",), "DURATION_NOT_MULTIPLE", step=slot_minutes)


async def _admin_agenda(session: AsyncSession, p: Principal, agenda_id: uuid.UUID) -> Agenda:
    agenda = (await load_agendas(session, p.tenant_id, [agenda_id]))[0]
    if agenda is None:
        raise DomainValidationError.single(("agenda_id",), "NOT_FOUND")
    return agenda


async def add_opening_rule(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> OpeningRule:
    p = require_role(principal, Role.ADMIN)
    agenda = await _admin_agenda(session, p, data["agenda_id"])
    errors = Collector()
    weekday = data.get("weekday")
    if weekday is None or not 1 <= weekday <= 7:
        errors.add(("weekday",), "OUT_OF_RANGE", min=1, max=7)
    rules.check_time_range(data.get("start_time"), data.get("end_time"), errors, ("end_time",))
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    if valid_from and valid_to and valid_from > valid_to:
        errors.add(("valid_to",), "INVALID_DATE_RANGE")
    errors.raise_if_any()
    rule = OpeningRule(
        tenant_id=p.tenant_id, agenda_id=agenda.id, weekday=weekday, start_time=data["start_time"], end_time=data["end_time"],
        valid_from=valid_from, valid_to=valid_to,
    )
    session.add(rule)
    await session.flush()
    record_event(
        session, tenant_id=p.tenant_id, type="agenda.opening_rule_added", aggregate_type="Agenda", aggregate_id=agenda.id,
        actor=p, payload={"rule_id": str(rule.id)},
    )
    return rule


async def remove_opening_rule(session: AsyncSession, principal: Principal | None, rule_id: uuid.UUID) -> OpeningRule:
    p = require_role(principal, Role.ADMIN)
    rule = (await _by_ids(session, OpeningRule, p.tenant_id, [rule_id]))[0]
    if rule is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    await session.delete(rule)
    record_event(
        session, tenant_id=p.tenant_id, type="agenda.opening_rule_removed", aggregate_type="Agenda", aggregate_id=rule.agenda_id,
        actor=p, payload={"rule_id": str(rule.id)},
    )
    await session.flush()
    return rule


async def add_opening_exception(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> OpeningException:
    """An exceptional closure (whole day when no times are given) or an extra opening (times required)."""
    p = require_role(principal, Role.ADMIN)
    agenda = await _admin_agenda(session, p, data["agenda_id"])
    errors = Collector()
    kind = data.get("kind") or OpeningExceptionKind.CLOSURE.value
    start, end = data.get("start_time"), data.get("end_time")
    if kind == OpeningExceptionKind.EXTRA_OPENING.value or start is not None or end is not None:
        rules.check_time_range(start, end, errors, ("end_time",))
    if data.get("on_date") is None:
        errors.add(("on_date",), "REQUIRED")
    reason = _clean_text(data, "reason", 300, errors, False)
    errors.raise_if_any()
    exc = OpeningException(
        tenant_id=p.tenant_id, agenda_id=agenda.id, kind=kind, on_date=data["on_date"], start_time=start, end_time=end, reason=reason
    )
    session.add(exc)
    await session.flush()
    record_event(
        session, tenant_id=p.tenant_id, type="agenda.opening_exception_added", aggregate_type="Agenda", aggregate_id=agenda.id,
        actor=p, payload={"exception_id": str(exc.id), "kind": kind, "on_date": exc.on_date.isoformat()},
    )
    return exc


async def create_appointment_type(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> AppointmentType:
    p = require_role(principal, Role.ADMIN)
    agenda = await _admin_agenda(session, p, data["agenda_id"])
    errors = Collector()
    label_fr = _clean_text(data, "label_fr", 200, errors, True)
    label_en = _clean_text(data, "label_en", 200, errors, True)
    duration = data.get("duration_minutes")
    if duration is None or duration < agenda.slot_minutes or duration > 480 or duration % agenda.slot_minutes:
        errors.add(("duration_minutes",), "DURATION_NOT_MULTIPLE", step=agenda.slot_minutes)
    rules.check_questions(data.get("questions"), errors)
    documents = [d.strip() for d in (data.get("documents_to_bring") or []) if d and d.strip()]
    procedure = _clean_text(data, "procedure_code", 100, errors, False)
    errors.raise_if_any()
    atype = AppointmentType(
        tenant_id=p.tenant_id, agenda_id=agenda.id, label_fr=label_fr, label_en=label_en, duration_minutes=duration,
        questions=data.get("questions"), documents_to_bring=documents, procedure_code=procedure,
    )
    session.add(atype)
    await session.flush()
    record_event(
        session, tenant_id=p.tenant_id, type="appointment_type.created", aggregate_type="AppointmentType",
        aggregate_id=atype.id, actor=p, payload={"agenda_id": str(agenda.id)},
    )
    return atype
