"""Use cases of the appointments context: reads, availability, booking and its
lifecycle (administration is in :mod:`domain.appointments.admin`). Every query is
scoped to the principal's tenant.

Booking never checks capacity in Python: each appointment inserts one seat row
per slot unit (``INSERT ... ON CONFLICT DO NOTHING`` on the first free seat
number) and the database's primary key and CHECK constraints guarantee that
no more than ``capacity`` seats exist for a unit. Python only chooses which
seat number to try; a concurrent winner makes the insert a no-op and the next
number is tried, until none is left (``SLOT_FULL``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appointments import rules
from domain.appointments.models import (
    Agenda,
    Appointment,
    AppointmentCitizenSeat,
    AppointmentSeat,
    AppointmentStatus,
    AppointmentType,
    BookingChannel,
    OpeningException,
    OpeningRule,
    Place,
    RuleOverride,
)
from domain.base import utcnow
from domain.citizens.models import Citizen
from domain.locking import check_version, lock_row
from domain.errors import Collector, DomainValidationError, FieldError, Forbidden, register_constraint
from domain.events.services import record_event
from domain.requests.appointments import check_request_for_booking, on_appointment_change
from domain.pagination import Page, paginate
from domain.security import Principal, PrincipalKind, require_citizen, require_principal, require_staff
from domain.tenancy.models import Tenant
from domain.tenancy.services import load_agents

register_constraint("ck_appointment_seats_within_capacity", ("capacity",), "CAPACITY_IN_USE")
register_constraint("ck_appointment_citizen_seats_within_max", ("max_active_per_citizen",), "CAPACITY_IN_USE")
# races with an agenda whose bounds just changed, or (once in 10^11) two equal codes: ask to try again
register_constraint("fk_appointment_seats_agenda_capacity", None, "TRY_AGAIN")
register_constraint("fk_appointment_citizen_seats_agenda_max", None, "TRY_AGAIN")
register_constraint("uq_appointments_tenant_code", None, "TRY_AGAIN")

MAX_PLANNING_DAYS = 7
MAX_PLANNING_ROWS = 2000
SEAT_ATTEMPTS = 5

# ---------------------------------------------------------------- loaders


async def _by_ids(session: AsyncSession, model: Any, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Any]:
    rows = (await session.execute(sa.select(model).where(model.tenant_id == tenant_id, model.id.in_(list(ids))))).scalars()
    by_id = {r.id: r for r in rows}
    return [by_id.get(i) for i in ids]


async def load_places(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Place | None]:
    return await _by_ids(session, Place, tenant_id, ids)


async def load_agendas(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Agenda | None]:
    return await _by_ids(session, Agenda, tenant_id, ids)


async def load_appointment_types(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[AppointmentType | None]:
    return await _by_ids(session, AppointmentType, tenant_id, ids)


async def _grouped(session: AsyncSession, model: Any, tenant_id: uuid.UUID, agenda_ids: Sequence[uuid.UUID], order: Sequence[Any]) -> list[list[Any]]:
    rows = (
        await session.execute(
            sa.select(model).where(model.tenant_id == tenant_id, model.agenda_id.in_(list(agenda_ids))).order_by(*order)
        )
    ).scalars()
    grouped: dict[uuid.UUID, list[Any]] = {i: [] for i in agenda_ids}
    for row in rows:
        grouped[row.agenda_id].append(row)
    return [grouped[i] for i in agenda_ids]


async def load_types_of_agendas(session: AsyncSession, tenant_id: uuid.UUID, agenda_ids: Sequence[uuid.UUID]) -> list[list[AppointmentType]]:
    return await _grouped(session, AppointmentType, tenant_id, agenda_ids, [AppointmentType.label_fr, AppointmentType.id])


async def load_rules_of_agendas(session: AsyncSession, tenant_id: uuid.UUID, agenda_ids: Sequence[uuid.UUID]) -> list[list[OpeningRule]]:
    return await _grouped(
        session, OpeningRule, tenant_id, agenda_ids,
        [OpeningRule.valid_from.nulls_first(), OpeningRule.weekday, OpeningRule.start_time, OpeningRule.id],
    )


async def load_exceptions_of_agendas(
    session: AsyncSession, tenant_id: uuid.UUID, agenda_ids: Sequence[uuid.UUID]
) -> list[list[OpeningException]]:
    return await _grouped(session, OpeningException, tenant_id, agenda_ids, [OpeningException.on_date, OpeningException.id])


# ---------------------------------------------------------------- places


def _clean_text(data: dict[str, Any], name: str, max_len: int, errors: Collector, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            errors.add((name,), "REQUIRED")
        return None
    value = str(value).strip()
    if not value:
        if required:
            errors.add((name,), "BLANK")
        return None
    if len(value) > max_len:
        errors.add((name,), "TOO_LONG", max=max_len)
    return value


async def list_places(session: AsyncSession, principal: Principal | None) -> list[Place]:
    p = require_principal(principal)
    rows = await session.execute(sa.select(Place).where(Place.tenant_id == p.tenant_id).order_by(Place.name, Place.id).limit(500))
    return list(rows.scalars())


async def get_place(session: AsyncSession, principal: Principal | None, place_id: uuid.UUID) -> Place | None:
    p = require_principal(principal)
    return (await load_places(session, p.tenant_id, [place_id]))[0]


# ---------------------------------------------------------------- agendas

async def list_agendas(session: AsyncSession, principal: Principal | None, include_inactive: bool = False) -> list[Agenda]:
    """The tenant's agendas (a bounded list). Citizens only see active ones."""
    p = require_principal(principal)
    stmt = sa.select(Agenda).where(Agenda.tenant_id == p.tenant_id)
    if not include_inactive or p.is_citizen:
        stmt = stmt.where(Agenda.active.is_(True))
    return list((await session.execute(stmt.order_by(Agenda.name, Agenda.id).limit(500))).scalars())


async def get_agenda(session: AsyncSession, principal: Principal | None, agenda_id: uuid.UUID) -> Agenda | None:
    p = require_principal(principal)
    agenda = (await load_agendas(session, p.tenant_id, [agenda_id]))[0]
    if agenda is not None and p.is_citizen and not agenda.active:
        return None
    return agenda




# ---------------------------------------------------------------- appointment types


async def get_appointment_type(session: AsyncSession, principal: Principal | None, type_id: uuid.UUID) -> AppointmentType | None:
    p = require_principal(principal)
    return (await load_appointment_types(session, p.tenant_id, [type_id]))[0]


# ---------------------------------------------------------------- schedule and availability


async def _tenant_tz(session: AsyncSession, tenant_id: uuid.UUID) -> ZoneInfo:
    return ZoneInfo((await session.execute(sa.select(Tenant.timezone).where(Tenant.id == tenant_id))).scalar_one())


async def load_schedule(session: AsyncSession, agenda: Agenda) -> rules.Schedule:
    tz = (await session.execute(sa.select(Tenant.timezone).where(Tenant.id == agenda.tenant_id))).scalar_one()
    weekly = (
        await session.execute(sa.select(OpeningRule).where(OpeningRule.tenant_id == agenda.tenant_id, OpeningRule.agenda_id == agenda.id))
    ).scalars()
    exceptions = (
        await session.execute(
            sa.select(OpeningException).where(OpeningException.tenant_id == agenda.tenant_id, OpeningException.agenda_id == agenda.id)
        )
    ).scalars()
    return rules.Schedule(
        timezone=tz,
        slot_minutes=agenda.slot_minutes,
        weekly=tuple(rules.WeeklyRange(r.weekday, r.start_time, r.end_time, r.valid_from, r.valid_to) for r in weekly),
        exceptions=tuple(rules.DayException(e.kind, e.on_date, e.start_time, e.end_time) for e in exceptions),
        open_on_public_holidays=agenda.open_on_public_holidays,
    )


@dataclass(frozen=True)
class FreeSlot:
    starts_at: datetime
    ends_at: datetime
    remaining: int
    capacity: int


async def _seat_counts(session: AsyncSession, agenda: Agenda, start: datetime, end: datetime) -> dict[datetime, int]:
    """Seats taken per slot unit in ``[start, end)``: the one query of an availability call."""
    rows = await session.execute(
        sa.select(AppointmentSeat.starts_at, sa.func.count())
        .where(
            AppointmentSeat.tenant_id == agenda.tenant_id,
            AppointmentSeat.agenda_id == agenda.id,
            AppointmentSeat.starts_at >= start,
            AppointmentSeat.starts_at < end,
        )
        .group_by(AppointmentSeat.starts_at)
    )
    return {ts: n for ts, n in rows}


async def _agenda_and_type(
    session: AsyncSession, p: Principal, agenda_id: uuid.UUID, type_id: uuid.UUID, errors: Collector,
    agenda_field: tuple[str, ...] = ("agenda_id",), type_field: tuple[str, ...] = ("appointment_type_id",),
) -> tuple[Agenda | None, AppointmentType | None]:
    agenda = (await load_agendas(session, p.tenant_id, [agenda_id]))[0]
    if agenda is None or (p.is_citizen and not agenda.active):
        errors.add(agenda_field, "NOT_FOUND")
        return None, None
    if not agenda.active:
        errors.add(agenda_field, "AGENDA_INACTIVE")
    atype = (await load_appointment_types(session, p.tenant_id, [type_id]))[0]
    if atype is None or atype.agenda_id != agenda.id or not atype.active:
        errors.add(type_field, "NOT_FOUND")
        atype = None
    return agenda, atype


async def availability(
    session: AsyncSession,
    principal: Principal | None,
    agenda_id: uuid.UUID,
    type_id: uuid.UUID,
    start: datetime,
    end: datetime,
    include_full: bool = False,
    now: datetime | None = None,
) -> list[FreeSlot]:
    """Bookable slots starting in ``[start, end)``, with the seats left (computed on the fly)."""
    p = require_principal(principal)
    errors = Collector()
    if start.tzinfo is None or end.tzinfo is None:
        errors.add(("from",), "TIMEZONE_REQUIRED")
    elif end <= start:
        errors.add(("to",), "INVALID_DATE_RANGE")
    elif end - start > timedelta(days=rules.MAX_AVAILABILITY_DAYS):
        errors.add(("to",), "RANGE_TOO_LONG", max=rules.MAX_AVAILABILITY_DAYS)
    errors.raise_if_any()
    agenda, atype = await _agenda_and_type(session, p, agenda_id, type_id, errors, ("agenda_id",), ("appointment_type_id",))
    errors.raise_if_any()
    assert agenda is not None and atype is not None
    now = now or utcnow()
    schedule = await load_schedule(session, agenda)
    tz = schedule.tz
    earliest = max(start, now + timedelta(minutes=agenda.min_notice_minutes))
    last_day = rules.horizon_end(now, agenda.horizon_days, tz)
    latest = min(end, datetime.combine(last_day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC))
    if earliest >= latest:
        return []
    candidates = rules.slots_between(schedule, earliest, latest, atype.duration_minutes)
    if not candidates:
        return []
    counts = await _seat_counts(session, agenda, candidates[0].starts_at, candidates[-1].ends_at)
    out = []
    for slot in candidates:
        used = max(counts.get(u, 0) for u in slot.units)
        remaining = max(agenda.capacity - used, 0)
        if remaining or include_full:
            out.append(FreeSlot(slot.starts_at, slot.ends_at, remaining, agenda.capacity))
    return out


# ---------------------------------------------------------------- seats (the database enforces the bounds)


def _first_free_seat_insert(table: sa.Table, key: dict[str, Any], bound_column: str, bound: int, values: dict[str, Any]) -> sa.Insert:
    """``INSERT ... SELECT <first seat number not taken> ... ON CONFLICT DO NOTHING RETURNING seat_no``.

    The database picks the number; if a concurrent transaction inserts the same
    one first, the primary key makes this insert wait for it and then do nothing.
    """
    n = sa.func.generate_series(1, bound).table_valued("n").render_derived()
    taken = sa.select(sa.literal(1)).where(*(table.c[k] == v for k, v in key.items()), table.c.seat_no == n.c.n)
    columns = {**key, **values, bound_column: bound}
    select = (
        sa.select(*(sa.literal(v, table.c[k].type).label(k) for k, v in columns.items()), n.c.n.label("seat_no"))
        .where(~sa.exists(taken))
        .order_by(n.c.n)
        .limit(1)
    )
    return (
        pg_insert(table)
        .from_select([*columns, "seat_no"], select)
        .on_conflict_do_nothing()
        .returning(table.c.seat_no)
    )


async def _take_first_free(session: AsyncSession, table: sa.Table, key: dict[str, Any], bound_column: str, bound: int, values: dict[str, Any]) -> bool:
    for _ in range(SEAT_ATTEMPTS):
        inserted = await session.execute(_first_free_seat_insert(table, key, bound_column, bound, values))
        if inserted.first() is not None:
            return True
        # nothing inserted: either every seat is taken, or a concurrent winner took the one we chose
        used = (
            await session.execute(sa.select(sa.func.count()).select_from(table).where(*(table.c[k] == v for k, v in key.items())))
        ).scalar_one()
        if used >= bound:
            return False
    return False


async def _take_seat(session: AsyncSession, agenda: Agenda, appointment_id: uuid.UUID, unit: datetime) -> bool:
    return await _take_first_free(
        session, AppointmentSeat.__table__, {"agenda_id": agenda.id, "starts_at": unit}, "capacity", agenda.capacity,
        {"appointment_id": appointment_id, "tenant_id": agenda.tenant_id},
    )


async def _take_citizen_seat(session: AsyncSession, agenda: Agenda, appointment: Appointment, now: datetime) -> bool:
    # bookings whose time has passed are no longer "active"
    await session.execute(
        sa.delete(AppointmentCitizenSeat).where(
            AppointmentCitizenSeat.agenda_id == agenda.id,
            AppointmentCitizenSeat.citizen_id == appointment.citizen_id,
            AppointmentCitizenSeat.ends_at < now,
        )
    )
    return await _take_first_free(
        session, AppointmentCitizenSeat.__table__, {"agenda_id": agenda.id, "citizen_id": appointment.citizen_id},
        "max_active", agenda.max_active_per_citizen,
        {"appointment_id": appointment.id, "ends_at": appointment.ends_at, "tenant_id": agenda.tenant_id},
    )


async def _release_seats(session: AsyncSession, appointment_id: uuid.UUID, citizen_too: bool = True) -> None:
    await session.execute(sa.delete(AppointmentSeat).where(AppointmentSeat.appointment_id == appointment_id))
    if citizen_too:
        await session.execute(sa.delete(AppointmentCitizenSeat).where(AppointmentCitizenSeat.appointment_id == appointment_id))


# ---------------------------------------------------------------- booking


def _is_agent(p: Principal) -> bool:
    return not p.is_citizen


async def _check_slot(
    session: AsyncSession, p: Principal, agenda: Agenda, atype: AppointmentType, starts_at: datetime,
    ends_at: datetime | None, override: bool, now: datetime, errors: Collector,
) -> tuple[rules.CandidateSlot | None, list[str]]:
    """The slot (or errors) and the rules overridden by an agent."""
    overrides: list[str] = []
    if starts_at.tzinfo is None:
        errors.add(("starts_at",), "TIMEZONE_REQUIRED")
        return None, overrides
    starts_at = starts_at.astimezone(UTC)
    schedule = await load_schedule(session, agenda)
    if ends_at is not None and ends_at.astimezone(UTC) - starts_at != timedelta(minutes=atype.duration_minutes):
        errors.add(("ends_at",), "WRONG_DURATION", minutes=atype.duration_minutes)
    timing = rules.timing_error(starts_at, now, agenda.min_notice_minutes, agenda.horizon_days, schedule.tz)
    if timing == "IN_THE_PAST":
        errors.add(("starts_at",), timing)
        return None, overrides
    found = rules.explain_slot(schedule, starts_at, atype.duration_minutes)
    if isinstance(found, str):
        errors.add(("starts_at",), found)
        return None, overrides
    if timing and override:
        overrides.append(RuleOverride.NOTICE.value if timing == "TOO_LATE_NOTICE" else RuleOverride.HORIZON.value)
    elif timing:
        errors.add(("starts_at",), timing)
    return found, overrides


def _override_requested(p: Principal, agenda: Agenda | None, data: dict[str, Any], errors: Collector) -> bool:
    """``override_rules``: agents only (citizens get FORBIDDEN), and only where the agenda allows it."""
    if not data.get("override_rules"):
        return False
    if p.is_citizen:
        raise Forbidden()
    if agenda is not None and not agenda.agents_may_override:
        errors.add(("override_rules",), "OVERRIDE_NOT_ALLOWED")
        return False
    return True


async def _new_code(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    for _ in range(10):
        code = rules.new_code()
        exists = (
            await session.execute(sa.select(Appointment.id).where(Appointment.tenant_id == tenant_id, Appointment.code == code))
        ).first()
        if not exists:
            return code
    raise RuntimeError("could not draw a free confirmation code")  # 31^8 codes: never in practice


def _event(session: AsyncSession, p: Principal, appointment: Appointment, kind: str, **payload: Any) -> Any:
    return record_event(
        session, tenant_id=p.tenant_id, type=f"appointment.{kind}", aggregate_type="Appointment",
        aggregate_id=appointment.id, actor=p,
        payload={
            "agenda_id": str(appointment.agenda_id),
            "citizen_id": str(appointment.citizen_id),
            "request_id": str(appointment.request_id) if appointment.request_id else None,
            "version": appointment.version,
            **payload,
        },
    )


async def book(session: AsyncSession, principal: Principal | None, data: dict[str, Any], now: datetime | None = None) -> Appointment:
    """Book a slot: a citizen for themself, or an agent on behalf of a citizen (channel recorded)."""
    p = require_principal(principal)
    now = now or utcnow()
    errors = Collector()
    if p.is_citizen:
        citizen_id = data.get("citizen_id") or p.subject_id
        if citizen_id != p.subject_id:
            raise Forbidden()
        channel = data.get("channel") or BookingChannel.WEB.value
        if channel not in (BookingChannel.WEB.value, BookingChannel.APP.value):
            errors.add(("channel",), "INVALID_CHANNEL")
    else:
        require_staff(p)
        citizen_id = data.get("citizen_id")
        channel = data.get("channel") or BookingChannel.COUNTER.value
        if citizen_id is None:
            errors.add(("citizen_id",), "REQUIRED")
        elif not (
            await session.execute(sa.select(Citizen.id).where(Citizen.tenant_id == p.tenant_id, Citizen.id == citizen_id))
        ).first():
            errors.add(("citizen_id",), "NOT_FOUND")
    agenda, atype = await _agenda_and_type(session, p, data["agenda_id"], data["appointment_type_id"], errors)
    override = _override_requested(p, agenda, data, errors)
    slot, overrides = None, []
    if agenda is not None and atype is not None:
        slot, overrides = await _check_slot(session, p, agenda, atype, data["starts_at"], data.get("ends_at"), override, now, errors)
        for fe in rules.answer_errors(atype.questions, data.get("answers")):
            errors.errors.append(fe)
    subject = _clean_text(data, "subject", 2000, errors, bool(agenda and agenda.requires_subject))
    if data.get("request_id") is not None:
        await check_request_for_booking(session, p, data["request_id"], citizen_id, errors)
    errors.raise_if_any()
    assert agenda is not None and atype is not None and slot is not None
    appointment = Appointment(
        tenant_id=p.tenant_id, agenda_id=agenda.id, appointment_type_id=atype.id, citizen_id=citizen_id,
        request_id=data.get("request_id"), code=await _new_code(session, p.tenant_id), starts_at=slot.starts_at,
        ends_at=slot.ends_at, channel=channel, booked_by_type=p.kind.value, booked_by_id=p.subject_id,
        subject=subject, answers=data.get("answers") or {}, overrides=overrides,
    )
    session.add(appointment)
    # Order matters: the citizen seat first, then everything else is written, and the
    # contended slot seats last (units ascending), so their row locks are held only
    # until the commit that follows, and two bookings never wait for each other in a cycle.
    await session.flush()
    if not await _take_citizen_seat(session, agenda, appointment, now):
        raise DomainValidationError.single(("citizen_id",), "CITIZEN_LIMIT_REACHED", max=agenda.max_active_per_citizen)
    event = _event(
        session, p, appointment, "booked",
        appointment_type_id=str(atype.id), code=appointment.code, channel=channel,
        starts_at=appointment.starts_at.isoformat(), ends_at=appointment.ends_at.isoformat(), overrides=overrides,
        reminders=rules.reminders(appointment.starts_at, now),
    )
    await session.flush()
    capacity_override = await _take_unit_seats(session, agenda, appointment.id, slot, override)
    if capacity_override:  # rare: an agent booked past capacity; say so on the row and the event
        appointment.overrides = overrides + capacity_override
        event.payload = {**event.payload, "overrides": appointment.overrides}
        await session.flush()
    await on_appointment_change(session, p, appointment, "booked")
    return appointment


async def _take_unit_seats(
    session: AsyncSession, agenda: Agenda, appointment_id: uuid.UUID, slot: rules.CandidateSlot, override: bool
) -> list[str]:
    """One seat per slot unit, ascending; SLOT_FULL (or a recorded CAPACITY override) when one is full."""
    overrides: list[str] = []
    for unit in slot.units:
        if not await _take_seat(session, agenda, appointment_id, unit):
            if not override:
                raise DomainValidationError.single(("starts_at",), "SLOT_FULL")
            overrides = [RuleOverride.CAPACITY.value]
    return overrides


async def _load_for_change(
    session: AsyncSession, p: Principal, appointment_id: uuid.UUID, expected_version: int, staff_only: bool = False
) -> Appointment:
    appointment = await lock_row(session, Appointment, p.tenant_id, appointment_id)
    if appointment is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    if p.is_citizen:
        if staff_only or appointment.citizen_id != p.subject_id:
            raise Forbidden()
    else:
        require_staff(p)
    check_version(appointment.version, expected_version)
    return appointment


def _require_booked(appointment: Appointment) -> None:
    if appointment.status != AppointmentStatus.BOOKED.value:
        raise DomainValidationError.single(("id",), "INVALID_STATUS", status=appointment.status)


def _deadline_passed(agenda: Agenda, appointment: Appointment, now: datetime) -> bool:
    return now > appointment.starts_at - timedelta(minutes=agenda.cancellation_deadline_minutes)


def _touch(appointment: Appointment, now: datetime) -> None:
    appointment.version += 1
    appointment.updated_at = now


async def reschedule(
    session: AsyncSession, principal: Principal | None, appointment_id: uuid.UUID, expected_version: int,
    data: dict[str, Any], now: datetime | None = None,
) -> Appointment:
    p = require_principal(principal)
    now = now or utcnow()
    appointment = await _load_for_change(session, p, appointment_id, expected_version)
    _require_booked(appointment)
    agenda = (await load_agendas(session, p.tenant_id, [appointment.agenda_id]))[0]
    atype = (await load_appointment_types(session, p.tenant_id, [appointment.appointment_type_id]))[0]
    assert agenda is not None and atype is not None
    errors = Collector()
    override = _override_requested(p, agenda, data, errors)
    if p.is_citizen and _deadline_passed(agenda, appointment, now):
        errors.add(("id",), "CANCELLATION_DEADLINE_PASSED")
    slot, overrides = await _check_slot(session, p, agenda, atype, data["starts_at"], data.get("ends_at"), override, now, errors)
    errors.raise_if_any()
    assert slot is not None
    previous = appointment.starts_at
    await _release_seats(session, appointment.id, citizen_too=False)
    overrides_cap = await _take_unit_seats(session, agenda, appointment.id, slot, override)
    appointment.starts_at, appointment.ends_at = slot.starts_at, slot.ends_at
    await session.execute(
        sa.update(AppointmentCitizenSeat).where(AppointmentCitizenSeat.appointment_id == appointment.id).values(ends_at=slot.ends_at)
    )
    appointment.overrides = sorted(set(appointment.overrides) | set(overrides) | set(overrides_cap))
    _touch(appointment, now)
    _event(
        session, p, appointment, "rescheduled",
        previous_starts_at=previous.isoformat(), starts_at=slot.starts_at.isoformat(), ends_at=slot.ends_at.isoformat(),
        overrides=overrides + overrides_cap, reminders=rules.reminders(slot.starts_at, now),
    )
    await session.flush()
    await on_appointment_change(session, p, appointment, "rescheduled")
    return appointment


async def cancel(
    session: AsyncSession, principal: Principal | None, appointment_id: uuid.UUID, expected_version: int,
    reason: str | None, now: datetime | None = None,
) -> Appointment:
    """Citizens cancel their own booking before the deadline; agents any time, giving a reason."""
    p = require_principal(principal)
    now = now or utcnow()
    appointment = await _load_for_change(session, p, appointment_id, expected_version)
    _require_booked(appointment)
    agenda = (await load_agendas(session, p.tenant_id, [appointment.agenda_id]))[0]
    assert agenda is not None
    errors = Collector()
    reason = _clean_text({"reason": reason}, "reason", 1000, errors, _is_agent(p))
    if p.is_citizen and _deadline_passed(agenda, appointment, now):
        errors.add(("id",), "CANCELLATION_DEADLINE_PASSED")
    errors.raise_if_any()
    await _release_seats(session, appointment.id)
    late = _deadline_passed(agenda, appointment, now)
    appointment.status = AppointmentStatus.CANCELLED.value
    appointment.cancellation_reason = reason
    appointment.cancelled_at = now
    if late and _is_agent(p) and RuleOverride.CANCELLATION_DEADLINE.value not in appointment.overrides:
        appointment.overrides = [*appointment.overrides, RuleOverride.CANCELLATION_DEADLINE.value]
    _touch(appointment, now)
    _event(session, p, appointment, "cancelled", by=p.kind.value, after_deadline=late, has_reason=bool(reason))
    await session.flush()
    await on_appointment_change(session, p, appointment, "cancelled")
    return appointment


async def mark(
    session: AsyncSession, principal: Principal | None, appointment_id: uuid.UUID, expected_version: int,
    status: AppointmentStatus, now: datetime | None = None,
) -> Appointment:
    """Agents record that the citizen came (HONOURED) or not (NO_SHOW), from the appointment's day on."""
    p = require_staff(principal)
    now = now or utcnow()
    appointment = await _load_for_change(session, p, appointment_id, expected_version, staff_only=True)
    _require_booked(appointment)
    tz = await _tenant_tz(session, p.tenant_id)
    if appointment.starts_at.astimezone(tz).date() > now.astimezone(tz).date():
        raise DomainValidationError.single(("id",), "APPOINTMENT_NOT_YET")
    await session.execute(sa.delete(AppointmentCitizenSeat).where(AppointmentCitizenSeat.appointment_id == appointment.id))
    appointment.status = status.value
    _touch(appointment, now)
    kind = "honoured" if status is AppointmentStatus.HONOURED else "no_show"
    _event(session, p, appointment, kind)
    await session.flush()
    await on_appointment_change(session, p, appointment, kind)
    return appointment


# ---------------------------------------------------------------- reads


async def get_appointment(session: AsyncSession, principal: Principal | None, appointment_id: uuid.UUID) -> Appointment | None:
    p = require_principal(principal)
    appointment = (await _by_ids(session, Appointment, p.tenant_id, [appointment_id]))[0]
    if appointment is None:
        return None
    if p.is_citizen:
        if appointment.citizen_id != p.subject_id:
            raise Forbidden()
    else:
        require_staff(p)
    return appointment


async def appointment_by_code(session: AsyncSession, principal: Principal | None, code: str) -> Appointment | None:
    p = require_staff(principal)
    return (
        await session.execute(
            sa.select(Appointment).where(Appointment.tenant_id == p.tenant_id, Appointment.code == rules.normalise_code(code))
        )
    ).scalar_one_or_none()


async def my_appointments(
    session: AsyncSession, principal: Principal | None, upcoming_only: bool, first: int | None, after: str | None
) -> Page[Appointment]:
    p = require_citizen(principal)
    stmt = sa.select(Appointment).where(Appointment.tenant_id == p.tenant_id, Appointment.citizen_id == p.subject_id)
    if upcoming_only:
        stmt = stmt.where(Appointment.starts_at >= utcnow(), Appointment.status == AppointmentStatus.BOOKED.value)
    return await paginate(session, stmt, [Appointment.starts_at, Appointment.id], first, after)


async def planning(
    session: AsyncSession,
    principal: Principal | None,
    start_day: date,
    days: int,
    agenda_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    include_cancelled: bool = False,
) -> list[Appointment]:
    """Appointments of one agenda, or of every agenda held by an agent, over 1 to 7 local days."""
    p = require_staff(principal)
    if not 1 <= days <= MAX_PLANNING_DAYS:
        raise DomainValidationError.single(("days",), "OUT_OF_RANGE", min=1, max=MAX_PLANNING_DAYS)
    tz = await _tenant_tz(session, p.tenant_id)
    start = datetime.combine(start_day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(start_day + timedelta(days=days), time(), tzinfo=tz).astimezone(UTC)
    stmt = sa.select(Appointment).where(
        Appointment.tenant_id == p.tenant_id, Appointment.starts_at >= start, Appointment.starts_at < end
    )
    if agenda_id is not None:
        stmt = stmt.where(Appointment.agenda_id == agenda_id)
    else:
        held = sa.select(Agenda.id).where(Agenda.tenant_id == p.tenant_id, Agenda.agent_id == (agent_id or p.subject_id))
        stmt = stmt.where(Appointment.agenda_id.in_(held))
    if not include_cancelled:
        stmt = stmt.where(Appointment.status != AppointmentStatus.CANCELLED.value)
    rows = (await session.execute(stmt.order_by(Appointment.starts_at, Appointment.id).limit(MAX_PLANNING_ROWS))).scalars()
    return list(rows)


async def calendar_feed(
    session: AsyncSession,
    principal: Principal | None,
    agenda_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[str, list[tuple[Appointment, AppointmentType, Place]]]:
    """The feed's name and the appointments of one agenda, or of every agenda held by an agent, from 30 days ago
    to 400 days ahead, for agents' calendar applications (bounded)."""
    p = require_staff(principal)
    if agenda_id is not None:
        agendas = sa.select(Agenda.id).where(Agenda.tenant_id == p.tenant_id, Agenda.id == agenda_id)
        name = (await session.execute(sa.select(Agenda.name).where(Agenda.tenant_id == p.tenant_id, Agenda.id == agenda_id))).scalar()
    else:
        agendas = sa.select(Agenda.id).where(Agenda.tenant_id == p.tenant_id, Agenda.agent_id == agent_id)
        agent = (await load_agents(session, p.tenant_id, [agent_id]))[0] if agent_id else None
        name = f"{agent.given_name} {agent.family_name}" if agent else None
    if name is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    now = now or utcnow()
    rows = await session.execute(
        sa.select(Appointment, AppointmentType, Place)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .join(Agenda, Agenda.id == Appointment.agenda_id)
        .join(Place, Place.id == Agenda.place_id)
        .where(
            Appointment.tenant_id == p.tenant_id,
            Appointment.agenda_id.in_(agendas),
            Appointment.starts_at >= now - timedelta(days=30),
            Appointment.starts_at < now + timedelta(days=400),
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(MAX_PLANNING_ROWS * 5)
    )
    return name, [tuple(r) for r in rows]  # type: ignore[misc]


__all__ = ["AppointmentStatus", "BookingChannel", "FieldError", "PrincipalKind"]
