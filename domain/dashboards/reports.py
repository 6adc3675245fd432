"""Report indicators: volumes by category (top categories), resolution time, share resolved
within the category's target.

Read raw from ``requests`` + ``report_details`` + ``report_categories`` through the
``(tenant_id, submitted_at)`` and ``(tenant_id, closed_at)`` indexes, over at most
``REPORT_MAX_DAYS`` local days. A report counts as **submitted** on the local day it was submitted
and as **resolved** on the day it was closed (ACCEPTED, REJECTED or CLOSED; cancellations and
merged duplicates are not resolutions: duplicates are counted apart as ``merged``). Resolution
time = closure - submission; *within target* = closed at most ``target_resolution_days`` x 24 h
after submission, for reports whose category has a target.
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

from domain.dashboards.appointments import check_raw_query
from domain.dashboards.rollups import day_bounds
from domain.dashboards.services import Granularity, Limits, _period_sql, department_scope, require_indicator_reader
from domain.errors import Collector, Forbidden
from domain.reports.models import ReportCategory
from domain.security import Principal, Role
from domain.tenancy.models import Tenant

REPORT_MAX_DAYS = 400
MAX_TOP = 100
RESOLVED_STATUSES = ("ACCEPTED", "REJECTED", "CLOSED")


class ReportDimension(str, enum.Enum):
    CATEGORY = "CATEGORY"
    PARENT_CATEGORY = "PARENT_CATEGORY"
    DEPARTMENT = "DEPARTMENT"


# key and label SQL over c (category), pc (parent category), dep (department)
_DIMENSION_SQL = {
    None: ("NULL::text", "NULL::text"),
    ReportDimension.CATEGORY: ("c.code", "c.label_fr"),
    ReportDimension.PARENT_CATEGORY: ("coalesce(pc.code, c.code)", "coalesce(pc.label_fr, c.label_fr)"),
    ReportDimension.DEPARTMENT: ("dep.code", "dep.name"),
}


@dataclass
class ReportQuery:
    date_from: date
    date_to: date
    granularity: Granularity = Granularity.TOTAL
    dimension: ReportDimension | None = ReportDimension.CATEGORY
    category_codes: list[str] = field(default_factory=list)
    department_codes: list[str] = field(default_factory=list)
    top: int | None = None


@dataclass
class ReportPoint:
    period_start: date
    dimension_key: str | None
    dimension_label: str | None
    target_days: int | None = None
    submitted: int = 0
    resolved: int = 0
    merged: int = 0
    resolution: dict[str, float | None] = field(default_factory=lambda: {"count": 0, "mean": None, "median": None, "p90": None})
    with_target: int = 0
    within_target: int = 0
    suppressed: bool = False

    @property
    def population(self) -> int:
        return max(self.submitted, self.resolved + self.merged)

    @property
    def within_target_rate(self) -> float | None:
        return self.within_target / self.with_target if self.with_target else None


def _descendants(categories: list[ReportCategory], roots: set[uuid.UUID]) -> set[uuid.UUID]:
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c.id)
    out, todo = set(), list(roots)
    while todo:
        cid = todo.pop()
        if cid not in out:
            out.add(cid)
            todo.extend(children.get(cid, []))
    return out


async def compute_report_indicators(
    session: AsyncSession, principal: Principal | None, q: ReportQuery, limits: Limits = Limits()
) -> list[ReportPoint]:
    p = require_indicator_reader(principal)
    scope = department_scope(p)
    errors = Collector()
    deps = await check_raw_query(session, p, q.date_from, q.date_to, q.granularity, q.department_codes, REPORT_MAX_DAYS, errors)
    if q.top is not None and not 1 <= q.top <= MAX_TOP:
        errors.add(("top",), "OUT_OF_RANGE", min=1, max=MAX_TOP)
    categories = list(
        (await session.execute(sa.select(ReportCategory).where(ReportCategory.tenant_id == p.tenant_id))).scalars()
    )
    by_code = {c.code: c for c in categories}
    for i, code in enumerate(q.category_codes):
        if code not in by_code:
            errors.add(("filter", "category_codes", str(i)), "UNKNOWN_CATEGORY", category=code)
    errors.raise_if_any()
    if scope is not None and not set(deps.values()) <= scope:
        raise Forbidden()

    tenant = await session.get(Tenant, p.tenant_id)
    tz = tenant.timezone if tenant else "Europe/Paris"
    t0, t1 = day_bounds(q.date_from, q.date_to, tz)
    params: dict = {"tenant_id": p.tenant_id, "t0": t0, "t1": t1, "tz": tz, "date_from": q.date_from}
    conds, binds = [], []

    def any_of(column: str, name: str, values: list) -> None:
        conds.append(f"{column} = ANY(:{name})")
        params[name] = values
        binds.append(sa.bindparam(name, type_=ARRAY(sa.Uuid)))

    if q.category_codes:
        any_of("x.category_id", "cats", list(_descendants(categories, {by_code[c].id for c in q.category_codes})))
    if deps:
        any_of("r.department_id", "deps", list(deps.values()))
    if scope is not None:
        any_of("r.department_id", "scope", list(scope))
    where = " AND ".join(conds) or "true"
    key, label = _DIMENSION_SQL[q.dimension]
    base = (
        "FROM requests r JOIN report_details x ON x.request_id = r.id JOIN report_categories c ON c.id = x.category_id "
        "LEFT JOIN report_categories pc ON pc.id = c.parent_id LEFT JOIN departments dep ON dep.id = r.department_id "
    )

    def stmt(sql: str) -> sa.TextClause:
        return sa.text(sql).bindparams(*binds) if binds else sa.text(sql)

    points: dict[tuple, ReportPoint] = {}

    def point(period: date, k: str | None, lab: str | None) -> ReportPoint:
        if (period, k) not in points:
            target = by_code[k].target_resolution_days if q.dimension is ReportDimension.CATEGORY and k in by_code else None
            points[(period, k)] = ReportPoint(period, k, lab, target)
        return points[(period, k)]

    submitted_day = "(r.submitted_at AT TIME ZONE :tz)::date"
    rows = await session.execute(stmt(
        f"SELECT {_period_sql(q.granularity, submitted_day)}, {key}, min({label}), count(*) {base}"
        f"WHERE r.tenant_id = :tenant_id AND r.submitted_at >= :t0 AND r.submitted_at < :t1 AND {where} GROUP BY 1, 2"
    ), params)
    for period, k, lab, n in rows:
        point(period, k, lab).submitted = n

    closed_day = "(r.closed_at AT TIME ZONE :tz)::date"
    seconds = "extract(epoch FROM r.closed_at - r.submitted_at)"
    resolved = "x.merged_into_id IS NULL"
    rows = await session.execute(stmt(
        f"SELECT {_period_sql(q.granularity, closed_day)}, {key}, min({label}), "
        f"count(*) FILTER (WHERE {resolved}), count(*) FILTER (WHERE NOT {resolved}), "
        f"avg({seconds}) FILTER (WHERE {resolved}), "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}) FILTER (WHERE {resolved}), "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {seconds}) FILTER (WHERE {resolved}), "
        f"count(*) FILTER (WHERE {resolved} AND c.target_resolution_days IS NOT NULL), "
        f"count(*) FILTER (WHERE {resolved} AND r.closed_at <= r.submitted_at + make_interval(days => c.target_resolution_days)) "
        f"{base}WHERE r.tenant_id = :tenant_id AND r.closed_at >= :t0 AND r.closed_at < :t1 "
        f"AND r.status IN {RESOLVED_STATUSES!r} AND r.submitted_at IS NOT NULL AND {where} GROUP BY 1, 2"
    ), params)
    for period, k, lab, n, merged, mean, median, p90, with_target, within in rows:
        pt = point(period, k, lab)
        pt.resolved, pt.merged, pt.with_target, pt.within_target = n, merged, with_target, within
        pt.resolution = {"count": n, "mean": _f(mean), "median": _f(median), "p90": _f(p90)}

    result = sorted(points.values(), key=lambda x: (x.period_start, -x.submitted, -x.resolved, x.dimension_key or ""))
    if q.top is not None:
        rank: dict[date, int] = defaultdict(int)
        kept = []
        for x in result:
            rank[x.period_start] += 1
            if rank[x.period_start] <= q.top:
                kept.append(x)
        result = kept
    if p.has_role(Role.ANALYST) and not p.has_role(Role.ADMIN, Role.SUPERVISOR):
        for pt in result:
            pt.suppressed = 0 < pt.population < limits.min_group_size
    return result


def _f(value) -> float | None:
    return None if value is None else float(value)
