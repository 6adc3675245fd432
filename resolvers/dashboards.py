"""Request indicators (supervisors: their departments; admins and analysts: the tenant)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.dashboards import appointments as appointment_indicators
from domain.dashboards import reports as report_indicators
from domain.dashboards import services
from schema.common import selected_names
from schema.dashboards import (
    AppointmentDimension,
    AppointmentIndicatorFilter,
    AppointmentIndicatorPoint,
    Granularity,
    IndicatorDimension,
    IndicatorFilter,
    IndicatorSource,
    ReportDimension,
    ReportIndicatorFilter,
    ReportIndicatorPoint,
    RequestIndicators,
)


def limits_from(settings) -> services.Limits:
    return services.Limits(
        raw_max_days=settings.indicators_raw_max_days,
        max_days=settings.indicators_max_days,
        min_group_size=settings.export_min_group_size,
    )


def query_from(
    filter: IndicatorFilter, granularity, dimension, source
) -> services.IndicatorQuery:
    return services.IndicatorQuery(
        date_from=filter.from_,
        date_to=filter.to,
        granularity=services.Granularity(granularity.value),
        dimension=services.Dimension(dimension.value) if dimension else None,
        procedure_codes=list(filter.procedure_codes or []),
        department_codes=list(filter.department_codes or []),
        categories=list(filter.categories or []),
        channels=[c.value for c in filter.channels or []],
        source=services.Source(source.value),
    )


@strawberry.type
class DashboardQuery:
    @strawberry.field(
        description="Request indicators per period (and per dimension value): volumes, processing and first-response "
        "times, SLA, satisfaction, channel mix, and the open backlog now. SUPERVISOR (own departments), ADMIN, ANALYST."
    )
    async def request_indicators(
        self,
        info: Info,
        filter: IndicatorFilter,
        granularity: Granularity = services.Granularity.MONTH,  # type: ignore[valid-type]
        dimension: IndicatorDimension | None = None,  # type: ignore[valid-type]
        source: IndicatorSource = services.Source.ROLLUP,  # type: ignore[valid-type]
    ) -> RequestIndicators:
        ctx = info.context
        asked = selected_names(info.selected_fields)
        async with ctx.read() as s:
            result = await services.compute_indicators(
                s,
                ctx.principal,
                query_from(filter, granularity, dimension, source),
                limits_from(ctx.settings),
                # the duration histograms and the open backlog are the costly parts: only when selected
                percentiles=bool(asked & {"medianSeconds", "p90Seconds"}),
                backlog="backlog" in asked,
            )
        return RequestIndicators.from_result(result)

    @strawberry.field(
        description="Appointment indicators per period (and department or booking channel): outcomes, no-show rate, "
        "fill rate of the offered capacity. Read raw; at most 400 days. SUPERVISOR (own departments), ADMIN, ANALYST."
    )
    async def appointment_indicators(
        self,
        info: Info,
        filter: AppointmentIndicatorFilter,
        granularity: Granularity = services.Granularity.MONTH,  # type: ignore[valid-type]
        dimension: AppointmentDimension | None = None,  # type: ignore[valid-type]
    ) -> list[AppointmentIndicatorPoint]:
        ctx = info.context
        q = appointment_indicators.AppointmentQuery(
            date_from=filter.from_,
            date_to=filter.to,
            granularity=services.Granularity(granularity.value),
            dimension=appointment_indicators.AppointmentDimension(dimension.value) if dimension else None,
            department_codes=list(filter.department_codes or []),
        )
        async with ctx.read() as s:
            points = await appointment_indicators.compute_appointment_indicators(s, ctx.principal, q, limits_from(ctx.settings))
        return [AppointmentIndicatorPoint.from_point(p) for p in points]

    @strawberry.field(
        description="Report indicators per period and category (top categories first), top-level category or department: "
        "volumes, resolution time (mean, median, p90), share resolved within the category's target. Read raw; at most "
        "400 days. SUPERVISOR (own departments), ADMIN, ANALYST."
    )
    async def report_indicators(
        self,
        info: Info,
        filter: ReportIndicatorFilter,
        granularity: Granularity = services.Granularity.TOTAL,  # type: ignore[valid-type]
        group_by: ReportDimension | None = report_indicators.ReportDimension.CATEGORY,  # type: ignore[valid-type]
        top: int | None = None,
    ) -> list[ReportIndicatorPoint]:
        ctx = info.context
        q = report_indicators.ReportQuery(
            date_from=filter.from_,
            date_to=filter.to,
            granularity=services.Granularity(granularity.value),
            dimension=report_indicators.ReportDimension(group_by.value) if group_by else None,
            category_codes=list(filter.category_codes or []),
            department_codes=list(filter.department_codes or []),
            top=top,
        )
        async with ctx.read() as s:
            points = await report_indicators.compute_report_indicators(s, ctx.principal, q, limits_from(ctx.settings))
        return [ReportIndicatorPoint.from_point(p) for p in points]
