"""Appointment indicators: volumes by outcome, no-show rate, fill rate of the offered capacity.

Read raw (appointments are orders of magnitude fewer than requests, and every query goes through
the ``(agenda_id, starts_at)`` index), over at most ``APPOINTMENT_MAX_DAYS``. An appointment
counts on the local day it starts. Offered capacity = slot units the agenda's opening hours
offer in the period (``domain.appointments.rules.slots_between``: weekly hours, exceptions,
public holidays) x the agenda's capacity; taken = seats held (cancelled appointments release
theirs, honoured and no-show keep them).
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appointments import rules
from domain.appointments.models import Agenda
from domain.appointments.services import load_schedule
from domain.dashboards.rollups import day_bounds
from domain.dashboards.services import Granularity, Limits, department_scope, require_indicator_reader
from domain.errors import Collector, Forbidden
from domain.security import Principal, Role
from domain.tenancy.models import Department, Tenant

APPOINTMENT_MAX_DAYS = 400
STATUSES = ("BOOKED", "HONOURED", "NO_SHOW", "CANCELLED")


class AppointmentDimension(str, enum.Enum):
    DEPARTMENT = "DEPARTMENT"
    CHANNEL = "CHANNEL"


@dataclass
class AppointmentQuery:
    date_from: date
    date_to: date
    granularity: Granularity = Granularity.MONTH
    dimension: AppointmentDimension | None = None
    department_codes: list[str] = field(default_factory=list)


@dataclass
class AppointmentPoint:
    period_start: date
    dimension_key: str | None
    counts: dict[str, int]
    seats_offered: int | None
    seats_taken: int | None
    suppressed: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def no_show_rate(self) -> float | None:
        seen = self.counts["HONOURED"] + self.counts["NO_SHOW"]
        return self.counts["NO_SHOW"] / seen if seen else None

    @property
    def fill_rate(self) -> float | None:
        return self.seats_taken / self.seats_offered if self.seats_offered else None


def _period(g: Granularity, day: date, date_from: date) -> date:
    if g is Granularity.TOTAL:
        return date_from
    if g is Granularity.WEEK:
        return date.fromordinal(day.toordinal() - day.weekday())
    if g is Granularity.MONTH:
        return day.replace(day=1)
    return day


async def check_raw_query(
    session: AsyncSession, p: Principal, date_from: date, date_to: date, granularity: Granularity,
    department_codes: list[str], max_days: int, errors: Collector,
) -> dict[str, uuid.UUID]:
    """Period checks of the raw-read indicators and the department codes resolved to ids
    (errors are collected; the caller raises them, then applies the supervisor's scope)."""
    days = (date_to - date_from).days + 1
    if date_from > date_to:
        errors.add(("filter", "from"), "PERIOD_INVERTED")
    elif days > max_days:
        errors.add(("filter", "to"), "RANGE_TOO_LARGE", max=max_days)
    if granularity is Granularity.DAY and days > 400:
        errors.add(("granularity",), "TOO_MANY_POINTS", max=400)
    deps: dict[str, uuid.UUID] = {}
    if department_codes:
        deps = dict((await session.execute(
            sa.select(Department.code, Department.id).where(Department.tenant_id == p.tenant_id, Department.code.in_(department_codes))
        )).all())
        for i, code in enumerate(department_codes):
            if code not in deps:
                errors.add(("filter", "department_codes", str(i)), "UNKNOWN_DEPARTMENT", department=code)
    return deps


async def compute_appointment_indicators(
    session: AsyncSession, principal: Principal | None, q: AppointmentQuery, limits: Limits = Limits()
) -> list[AppointmentPoint]:
    p = require_indicator_reader(principal)
    scope = department_scope(p)
    errors = Collector()
    deps = await check_raw_query(session, p, q.date_from, q.date_to, q.granularity, q.department_codes, APPOINTMENT_MAX_DAYS, errors)
    errors.raise_if_any()
    if scope is not None and not set(deps.values()) <= scope:
        raise Forbidden()

    stmt = sa.select(Agenda, Department.code).join(Department, Department.id == Agenda.department_id).where(Agenda.tenant_id == p.tenant_id)
    if scope is not None:
        stmt = stmt.where(Agenda.department_id.in_(list(scope)))
    if deps:
        stmt = stmt.where(Agenda.department_id.in_(list(deps.values())))
    agendas = (await session.execute(stmt)).all()
    tenant = await session.get(Tenant, p.tenant_id)
    tz = tenant.timezone if tenant else "Europe/Paris"
    t0, t1 = day_bounds(q.date_from, q.date_to, tz)
    dep_of = {a.id: code for a, code in agendas}
    by_department = q.dimension is AppointmentDimension.DEPARTMENT
    points: dict[tuple, AppointmentPoint] = {}

    def point(day: date, key: str | None) -> AppointmentPoint:
        k = (_period(q.granularity, day, q.date_from), key)
        if k not in points:
            per_channel = q.dimension is AppointmentDimension.CHANNEL
            points[k] = AppointmentPoint(k[0], key, {s: 0 for s in STATUSES}, None if per_channel else 0, None if per_channel else 0)
        return points[k]

    if agendas:
        ids = sa.bindparam("ids", type_=ARRAY(sa.Uuid))
        params = {"tenant_id": p.tenant_id, "ids": list(dep_of), "t0": t0, "t1": t1, "tz": tz}
        rows = await session.execute(
            sa.text(
                "SELECT (starts_at AT TIME ZONE :tz)::date AS day, agenda_id, channel, status, count(*) FROM appointments "
                "WHERE tenant_id = :tenant_id AND agenda_id = ANY(:ids) AND starts_at >= :t0 AND starts_at < :t1 "
                "GROUP BY 1, 2, 3, 4"
            ).bindparams(ids),
            params,
        )
        for day, agenda_id, channel, status, n in rows:
            key = dep_of[agenda_id] if by_department else channel if q.dimension else None
            point(day, key).counts[status] = point(day, key).counts.get(status, 0) + n
        if q.dimension is not AppointmentDimension.CHANNEL:
            taken = await session.execute(
                sa.text(
                    "SELECT (starts_at AT TIME ZONE :tz)::date AS day, agenda_id, count(*) FROM appointment_seats "
                    "WHERE tenant_id = :tenant_id AND agenda_id = ANY(:ids) AND starts_at >= :t0 AND starts_at < :t1 "
                    "GROUP BY 1, 2"
                ).bindparams(ids),
                params,
            )
            for day, agenda_id, n in taken:
                pt = point(day, dep_of[agenda_id] if by_department else None)
                pt.seats_taken = (pt.seats_taken or 0) + n
            for agenda, code in agendas:
                schedule = await load_schedule(session, agenda)
                offered: dict[date, int] = defaultdict(int)
                for slot in rules.slots_between(schedule, t0, t1, agenda.slot_minutes):
                    offered[slot.starts_at.astimezone(schedule.tz).date()] += agenda.capacity
                for day, n in offered.items():
                    pt = point(day, code if by_department else None)
                    pt.seats_offered = (pt.seats_offered or 0) + n
    result = sorted(points.values(), key=lambda x: (x.period_start, x.dimension_key or ""))
    if p.has_role(Role.ANALYST) and not p.has_role(Role.ADMIN, Role.SUPERVISOR):
        for pt in result:
            pt.suppressed = 0 < pt.total < limits.min_group_size
    return result
