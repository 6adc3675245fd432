"""Request indicators: who may see what, input checks, and the computation.

Periods are local dates (inclusive) in the tenant's time zone. With ``source=ROLLUP`` (default)
past days are read from ``request_daily_rollups`` and only today is computed raw from the base
tables; ``source=RAW`` computes everything from the base tables (exact percentiles with
``percentile_cont``) and is limited to ``raw_max_days``.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dashboards import buckets
from domain.dashboards.rollups import day_bounds, local_today
from domain.dashboards.sql import COUNTERS, FACTS_FROM_BASE, KEY, WINDOW_CANDIDATES, contributions_sql, histograms_sql
from domain.errors import Collector, Forbidden
from domain.requests.models import CITIZEN_CHANNELS, Channel
from domain.security import Principal, Role, require_role
from domain.tenancy.models import Department, Tenant

OPEN_STATUSES = ("SUBMITTED", "IN_PROGRESS", "WAITING_FOR_CITIZEN")
AGING_BUCKETS = (("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), (">90", 91, None))


class Granularity(str, enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    TOTAL = "TOTAL"


class Dimension(str, enum.Enum):
    PROCEDURE = "PROCEDURE"
    DEPARTMENT = "DEPARTMENT"
    CHANNEL = "CHANNEL"
    CATEGORY = "CATEGORY"


class Source(str, enum.Enum):
    ROLLUP = "ROLLUP"
    RAW = "RAW"


MAX_POINTS = {Granularity.DAY: 400, Granularity.WEEK: 600, Granularity.MONTH: 600, Granularity.TOTAL: 1}


@dataclass(frozen=True)
class Limits:
    raw_max_days: int = 93
    max_days: int = 3 * 366 + 366 * 7  # ten years
    min_group_size: int = 5


@dataclass
class IndicatorQuery:
    date_from: date
    date_to: date
    granularity: Granularity = Granularity.MONTH
    dimension: Dimension | None = None
    procedure_codes: list[str] = field(default_factory=list)
    department_codes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    source: Source = Source.ROLLUP


@dataclass
class Point:
    period_start: date
    dimension_key: str | None
    dimension_label: str | None
    counters: dict[str, int]
    processing: dict[str, float | None]
    first_response: dict[str, float | None]
    suppressed: bool = False

    @property
    def population(self) -> int:
        c = self.counters
        return max(c["submitted"], c["closed"] + c["cancelled"], c["first_responses"])

    def ratio(self, num: str, den: str) -> float | None:
        d = self.counters[den]
        return self.counters[num] / d if d else None

    @property
    def self_service_share(self) -> float | None:
        return self.ratio("self_service", "submitted")

    @property
    def rating_average(self) -> float | None:
        return self.ratio("rating_sum", "rated")


@dataclass
class Backlog:
    open: int
    overdue: int
    aging: list[tuple[str, int]]


@dataclass
class Indicators:
    query: IndicatorQuery
    points: list[Point]
    backlog: Backlog | None  # None when not asked for
    refreshed_at: datetime | None
    exact_percentiles: bool


# ---------------------------------------------------------------- access and input


def require_indicator_reader(principal: Principal | None) -> Principal:
    return require_role(principal, Role.SUPERVISOR, Role.ADMIN, Role.ANALYST)


def department_scope(p: Principal) -> frozenset[uuid.UUID] | None:
    """``None`` = the whole tenant (admins, analysts); else the supervisor's departments."""
    if p.has_role(Role.ADMIN, Role.ANALYST):
        return None
    return p.departments


async def _resolve_codes(session: AsyncSession, tenant_id: uuid.UUID, q: IndicatorQuery, errors: Collector):
    procs: list[uuid.UUID] = []
    if q.procedure_codes:
        rows = dict(
            (
                await session.execute(
                    sa.text("SELECT code, id FROM procedures WHERE tenant_id = :t AND code = ANY(:c)").bindparams(
                        sa.bindparam("c", type_=ARRAY(sa.String))
                    ),
                    {"t": tenant_id, "c": q.procedure_codes},
                )
            ).all()
        )
        for i, code in enumerate(q.procedure_codes):
            if code not in rows:
                errors.add(("filter", "procedure_codes", str(i)), "UNKNOWN_PROCEDURE")
        procs = list(rows.values())
    deps: list[uuid.UUID] = []
    if q.department_codes:
        rows = dict(
            (
                await session.execute(
                    sa.select(Department.code, Department.id).where(
                        Department.tenant_id == tenant_id, Department.code.in_(q.department_codes)
                    )
                )
            ).all()
        )
        for i, code in enumerate(q.department_codes):
            if code not in rows:
                errors.add(("filter", "department_codes", str(i)), "UNKNOWN_DEPARTMENT", department=code)
        deps = list(rows.values())
    for i, channel in enumerate(q.channels):
        if channel not in Channel.__members__:
            errors.add(("filter", "channels", str(i)), "UNKNOWN_CHANNEL", value=channel)
    return procs, deps


def validate_period(q: IndicatorQuery, limits: Limits, errors: Collector) -> None:
    if q.date_from > q.date_to:
        errors.add(("filter", "from"), "PERIOD_INVERTED")
        return
    days = (q.date_to - q.date_from).days + 1
    if q.source is Source.RAW and days > limits.raw_max_days:
        errors.add(("filter", "to"), "RANGE_TOO_LARGE_FOR_RAW", max=limits.raw_max_days)
    elif days > limits.max_days:
        errors.add(("filter", "to"), "RANGE_TOO_LARGE", max=limits.max_days)
    points = {Granularity.DAY: days, Granularity.WEEK: days // 7 + 2, Granularity.MONTH: days // 28 + 2}.get(q.granularity, 1)
    if points > MAX_POINTS[q.granularity]:
        errors.add(("granularity",), "TOO_MANY_POINTS", max=MAX_POINTS[q.granularity])


# ---------------------------------------------------------------- computation


def _period_sql(g: Granularity, day: str = "day") -> str:
    if g is Granularity.TOTAL:
        return "CAST(:date_from AS date)"
    return {"DAY": day, "WEEK": f"date_trunc('week', {day})::date", "MONTH": f"date_trunc('month', {day})::date"}[g.value]


def _dimension_sql(d: Dimension | None) -> tuple[str, str]:
    """(key expression, label expression) over x (rows) p (procedures) dep (departments)."""
    if d is None:
        return "NULL::text", "NULL::text"
    return {
        Dimension.PROCEDURE: ("p.code", "p.title_fr"),
        Dimension.DEPARTMENT: ("dep.code", "dep.name"),
        Dimension.CHANNEL: ("x.channel", "x.channel"),
        Dimension.CATEGORY: ("p.category", "p.category"),
    }[d]


class _Scope:
    """Filters shared by every query, as SQL over x (rows) and p (procedures) plus parameters."""

    def __init__(self, tenant_id, q: IndicatorQuery, procs, deps, scope_deps):
        self.params: dict[str, Any] = {"tenant_id": tenant_id, "date_from": q.date_from}
        self.conds: list[str] = []
        self.binds: list[sa.BindParameter] = []
        if q.procedure_codes:
            self._any("x.procedure_id", "procs", procs, sa.Uuid)
        if q.department_codes:
            self._any("x.department_id", "deps", deps, sa.Uuid)
        if scope_deps is not None:
            self._any("x.department_id", "scope_deps", list(scope_deps), sa.Uuid)
        if q.channels:
            self._any("x.channel", "channels", q.channels, sa.String)
        if q.categories:
            self._any("p.category", "categories", q.categories, sa.String)
        # only the category filter reads the procedures table (p)
        self.needs_procedures = bool(q.categories)

    def _any(self, column: str, name: str, values: list, type_) -> None:
        self.conds.append(f"{column} = ANY(:{name})")
        self.params[name] = values
        self.binds.append(sa.bindparam(name, type_=ARRAY(type_)))

    @property
    def where(self) -> str:
        return " AND ".join(self.conds) or "true"

    def text(self, sql: str) -> sa.TextClause:
        return sa.text(sql).bindparams(*self.binds) if self.binds else sa.text(sql)


def _next_month(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1)


def _rollup_ranges(first: date, last: date, g: Granularity) -> list[tuple[str, date, date]]:
    """(grain, from, to) ranges covering local days first..last: whole calendar months from the
    month rows when the points are months (or one total), the partial edges from the day rows."""
    if g not in (Granularity.MONTH, Granularity.TOTAL):
        return [("D", first, last)]
    m0 = first if first.day == 1 else _next_month(first)
    end = _next_month(last) - timedelta(days=1) == last
    m_last = last.replace(day=1) if end else last.replace(day=1) - timedelta(days=1)
    m_last = m_last.replace(day=1)
    if m0 > m_last:
        return [("D", first, last)]
    ranges = [("M", m0, m_last)]
    if first < m0:
        ranges.append(("D", first, m0 - timedelta(days=1)))
    tail = _next_month(m_last)
    if tail <= last:
        ranges.append(("D", tail, last))
    return ranges


def _histogram_grains(q: IndicatorQuery, scope_deps) -> dict[str, str]:
    """For day ('D') and month ('M') ranges, the coarsest histograms that still carry every
    dimension the query filters or groups on (see ``rollups.COMPACT_HISTOGRAMS``)."""
    if q.channels or q.dimension is Dimension.CHANNEL:
        return {"D": "D", "M": "M"}
    if q.department_codes or scope_deps is not None or q.dimension is Dimension.DEPARTMENT:
        return {"D": "c", "M": "C"}
    return {"D": "p", "M": "P"}


def _sources(q: IndicatorQuery, tz: str, today: date, histograms: dict[str, str] | None = None) -> tuple[str, str, dict[str, Any]]:
    """(rollup-shaped rows, histogram rows, params) for the period, from rollups and/or raw."""
    params: dict[str, Any] = {}
    raw_from = q.date_from if q.source is Source.RAW else max(q.date_from, today)
    parts_rows: list[str] = []
    parts_hist: list[str] = []
    cols = ", ".join(COUNTERS)
    if q.source is Source.ROLLUP and q.date_from < today:
        for i, (grain, first, last) in enumerate(_rollup_ranges(q.date_from, min(q.date_to, today - timedelta(days=1)), q.granularity)):
            params.update({f"g{i}": grain, f"h{i}": (histograms or {}).get(grain, grain), f"a{i}": first, f"b{i}": last})
            where = f"WHERE tenant_id = :tenant_id AND grain = :g{i} AND day BETWEEN :a{i} AND :b{i}"
            parts_rows.append(f"SELECT day, {KEY}, {cols} FROM request_daily_rollups {where}")
            where = f"WHERE tenant_id = :tenant_id AND grain = :h{i} AND day BETWEEN :a{i} AND :b{i}"
            parts_hist.append(f"SELECT day, {KEY}, kind, bucket, count FROM request_daily_histograms {where}")
    if raw_from <= q.date_to:
        t0, t1 = day_bounds(raw_from, q.date_to, tz)
        params.update(t0=t0, t1=t1, raw_from=raw_from, raw_to=q.date_to)
        facts = FACTS_FROM_BASE.format(where=WINDOW_CANDIDATES)
        day_filter = "{day} BETWEEN :raw_from AND :raw_to"
        parts_rows.append(f"SELECT day, {KEY}, {cols} FROM ({contributions_sql(facts, day_filter)}) c")
        parts_hist.append(f"SELECT day, {KEY}, kind, bucket, count FROM ({histograms_sql(facts, day_filter)}) h")
    return " UNION ALL ".join(parts_rows), " UNION ALL ".join(parts_hist), params


async def compute_indicators(
    session: AsyncSession,
    principal: Principal | None,
    q: IndicatorQuery,
    limits: Limits = Limits(),
    *,
    percentiles: bool = True,
    backlog: bool = True,
) -> Indicators:
    """The indicators of ``q``. ``percentiles=False`` skips the duration histograms (medians and
    p90 come back None; counts, means and rates do not need them) and ``backlog=False`` the open
    backlog: the GraphQL resolver passes what the query selected, so a volume or channel-mix chart
    over years does not pay for the most expensive part."""
    p = require_indicator_reader(principal)
    scope_deps = department_scope(p)
    errors = Collector()
    validate_period(q, limits, errors)
    procs, deps = await _resolve_codes(session, p.tenant_id, q, errors)
    errors.raise_if_any()
    if scope_deps is not None and q.department_codes and not set(deps) <= scope_deps:
        raise Forbidden()
    tenant = await session.get(Tenant, p.tenant_id)
    tz = tenant.timezone if tenant else "Europe/Paris"
    today = local_today(tz)
    scope = _Scope(p.tenant_id, q, procs, deps, scope_deps)
    rows_sql, hist_sql, source_params = _sources(q, tz, today, _histogram_grains(q, scope_deps))
    params = {**scope.params, **source_params}
    period = _period_sql(q.granularity)
    key, label = _dimension_sql(q.dimension)
    joins = "JOIN procedures p ON p.id = x.procedure_id LEFT JOIN departments dep ON dep.id = x.department_id"
    points: list[Point] = []
    if rows_sql:
        sums = ", ".join(f"sum(x.{c})::bigint AS {c}" for c in COUNTERS)
        self_service = "sum(CASE WHEN x.channel IN ({}) THEN x.submitted ELSE 0 END)::bigint AS self_service".format(
            ", ".join(f"'{c.value}'" for c in sorted(CITIZEN_CHANNELS))
        )
        counters = (
            await session.execute(
                scope.text(
                    f"SELECT {period} AS period, {key} AS dkey, min({label}) AS dlabel, {sums}, {self_service} "
                    f"FROM ({rows_sql}) x {joins} WHERE {scope.where} GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                params,
            )
        ).mappings().all()
        hist = []
        if percentiles:
            hist = (
                await session.execute(
                    scope.text(
                        f"SELECT {period} AS period, {key} AS dkey, x.kind, x.bucket, sum(x.count)::bigint AS n "
                        f"FROM ({hist_sql}) x {joins} WHERE {scope.where} GROUP BY 1, 2, 3, 4"
                    ),
                    params,
                )
            ).all()
        histos: dict[tuple, dict[int, int]] = defaultdict(dict)
        for period_start, dkey, kind, bucket, n in hist:
            histos[(period_start, dkey, kind)][bucket] = n
        exact = (
            await _exact_percentiles(session, scope, q, params, key, joins) if q.source is Source.RAW and percentiles else {}
        )
        points = []
        for row in counters:
            c = {name: int(row[name] or 0) for name in (*COUNTERS, "self_service")}
            durations = {}
            for kind, total_name, sum_name in (
                ("processing", "closed", "processing_seconds_sum"),
                ("first_response", "first_responses", "first_response_seconds_sum"),
            ):
                hk = (row["period"], row["dkey"], kind)
                n = c[total_name]
                values = {
                    "count": n,
                    "mean": c[sum_name] / n if n else None,
                    "median": buckets.percentile(histos.get(hk, {}), 0.5) if percentiles else None,
                    "p90": buckets.percentile(histos.get(hk, {}), 0.9) if percentiles else None,
                }
                if hk in exact:
                    values["median"], values["p90"] = exact[hk]
                durations[kind] = values
            points.append(Point(row["period"], row["dkey"], row["dlabel"], c, durations["processing"], durations["first_response"]))
    if p.has_role(Role.ANALYST) and not p.has_role(Role.ADMIN, Role.SUPERVISOR):
        for point in points:
            point.suppressed = point.population < limits.min_group_size
    open_now = await compute_backlog(session, scope, tz) if backlog else None
    refreshed = (
        await session.execute(sa.text("SELECT refreshed_at FROM rollup_cursors WHERE tenant_id = :t"), {"t": p.tenant_id})
    ).scalar_one_or_none()
    return Indicators(q, points, open_now, refreshed, q.source is Source.RAW)


async def _exact_percentiles(session, scope: _Scope, q: IndicatorQuery, params, key, joins) -> dict[tuple, tuple[float, float]]:
    facts = FACTS_FROM_BASE.format(where=WINDOW_CANDIDATES)
    out: dict[tuple, tuple[float, float]] = {}
    for kind, day_col, value_col in (
        ("processing", "closed_day", "processing_seconds"),
        ("first_response", "first_response_day", "first_response_seconds"),
    ):
        rows = await session.execute(
            scope.text(
                f"WITH f AS ({facts}) SELECT {_period_sql(q.granularity, 'x.' + day_col)} AS period, "
                f"{key} AS dkey, percentile_cont(0.5) WITHIN GROUP (ORDER BY x.{value_col}), "
                f"percentile_cont(0.9) WITHIN GROUP (ORDER BY x.{value_col}) "
                f"FROM f x {joins} WHERE x.{value_col} IS NOT NULL AND x.{day_col} BETWEEN :raw_from AND :raw_to "
                f"AND {scope.where} GROUP BY 1, 2"
            ),
            params,
        )
        for period_start, dkey, median, p90 in rows:
            out[(period_start, dkey, kind)] = (float(median), float(p90))
    return out


async def compute_backlog(session: AsyncSession, scope: _Scope, tz: str) -> Backlog:
    """Open requests now, read raw through the partial index of open requests: its cost grows with
    the number of *open* requests, not with the history. Age = local days since submission; each
    aging bucket is a range of ``submitted_at`` between local midnights computed once here, so
    no row needs a time-zone conversion."""
    today = local_today(tz)
    bounds: dict[str, Any] = {}
    aging = []
    for i, (name, lo, hi) in enumerate(AGING_BUCKETS):
        conds = []
        if hi is not None:  # age <= hi  <=>  submitted on or after the start of day (today - hi)
            bounds[f"after{i}"] = day_bounds(today - timedelta(days=hi), today - timedelta(days=hi), tz)[0]
            conds.append(f"x.submitted_at >= :after{i}")
        if lo > 0:  # age >= lo  <=>  submitted before the start of day (today - lo + 1)
            bounds[f"before{i}"] = day_bounds(today - timedelta(days=lo - 1), today - timedelta(days=lo - 1), tz)[0]
            conds.append(f"x.submitted_at < :before{i}")
        aging.append(f"count(*) FILTER (WHERE {' AND '.join(conds)}) AS \"{name}\"")
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    join = "JOIN procedures p ON p.id = x.procedure_id" if scope.needs_procedures else ""
    row = (
        await session.execute(
            scope.text(
                f"SELECT count(*) AS open, count(*) FILTER (WHERE x.due_at < now()) AS overdue, {', '.join(aging)} "
                f"FROM requests x {join} WHERE x.tenant_id = :tenant_id AND x.status IN ({statuses}) "
                f"AND x.submitted_at IS NOT NULL AND {scope.where}"
            ),
            {**scope.params, **bounds},
        )
    ).mappings().one()
    return Backlog(int(row["open"]), int(row["overdue"]), [(name, int(row[name])) for name, _, _ in AGING_BUCKETS])
