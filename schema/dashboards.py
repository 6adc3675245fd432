"""Types of the request indicators (aggregates only: no personal data in any field)."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.dashboards import appointments as appointment_indicators
from domain.dashboards import reports as report_indicators
from domain.dashboards import services
from schema.request_enums import Channel

Granularity = strawberry.enum(services.Granularity, description="Period of each point: DAY, WEEK (ISO, Monday), MONTH, or TOTAL (one point).")
IndicatorDimension = strawberry.enum(services.Dimension, name="IndicatorDimension", description="Optional second grouping of the points.")
IndicatorSource = strawberry.enum(
    services.Source,
    name="IndicatorSource",
    description="ROLLUP: past days from the daily rollups, today raw (any period up to ten years, "
    "approximate percentiles). RAW: everything from the base tables with exact percentiles (short periods only).",
)


@strawberry.input(description="Which requests count. Dates are local days of the tenant's time zone, both included.")
class IndicatorFilter:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    procedure_codes: list[str] | None = None
    department_codes: list[str] | None = None
    categories: list[str] | None = None
    channels: list[Channel] | None = None  # type: ignore[valid-type]


@strawberry.type(description="A duration distribution in seconds; null when nothing was measured.")
class DurationStats:
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, d: dict) -> "DurationStats":
        return cls(count=d["count"], mean_seconds=d["mean"], median_seconds=d["median"], p90_seconds=d["p90"])


@strawberry.type(description="How many ratings of each value (1 to 5).")
class RatingCount:
    rating: int
    count: int


@strawberry.type(description="Requests still open, by age since submission in days (now, not the period).")
class AgingBucket:
    label: str = strawberry.field(description="0-7, 8-30, 31-90 or >90")
    count: int


@strawberry.type(description="Open requests now, within the filters (procedure, department, category, channel).")
class Backlog:
    open: int
    overdue: int = strawberry.field(description="Open requests past their SLA due date.")
    aging: list[AgingBucket]


@strawberry.type(
    description="One period (and dimension value). Requests count as submitted on their submission day, as "
    "closed/cancelled (with processing time, SLA outcome and rating) on their closure day, and as answered on "
    "the day of the first public agent action."
)
class IndicatorPoint:
    period_start: dt.date
    dimension_key: str | None = strawberry.field(description="Procedure or department code, channel, or category.")
    dimension_label: str | None
    suppressed: bool = strawberry.field(
        description="True when the group is smaller than the minimum group size (analysts): figures are then null."
    )
    submitted: int | None
    closed: int | None
    cancelled: int | None
    self_service_share: float | None = strawberry.field(description="Share of submissions made online (WEB + APP).")
    processing_time: DurationStats | None = strawberry.field(description="Submission to closure, of requests closed in the period.")
    first_response_time: DurationStats | None = strawberry.field(description="Submission to first public agent action.")
    sla_on_time_rate: float | None = strawberry.field(description="Closed on or before the due date / closed with a due date.")
    closed_with_due_date: int | None
    rated: int | None
    rating_average: float | None
    rating_response_rate: float | None = strawberry.field(description="Rated / closed.")
    rating_distribution: list[RatingCount] | None

    @classmethod
    def from_point(cls, p: services.Point) -> "IndicatorPoint":
        if p.suppressed:
            return cls(
                period_start=p.period_start, dimension_key=p.dimension_key, dimension_label=p.dimension_label,
                suppressed=True, submitted=None, closed=None, cancelled=None, self_service_share=None,
                processing_time=None, first_response_time=None, sla_on_time_rate=None, closed_with_due_date=None,
                rated=None, rating_average=None, rating_response_rate=None, rating_distribution=None,
            )
        c = p.counters

        return cls(
            period_start=p.period_start,
            dimension_key=p.dimension_key,
            dimension_label=p.dimension_label,
            suppressed=False,
            submitted=c["submitted"],
            closed=c["closed"],
            cancelled=c["cancelled"],
            self_service_share=p.self_service_share,
            processing_time=DurationStats.of(p.processing),
            first_response_time=DurationStats.of(p.first_response),
            sla_on_time_rate=p.ratio("on_time", "with_due"),
            closed_with_due_date=c["with_due"],
            rated=c["rated"],
            rating_average=p.rating_average,
            rating_response_rate=p.ratio("rated", "closed"),
            rating_distribution=[RatingCount(rating=i, count=c[f"rating_{i}"]) for i in range(1, 6)],
        )


@strawberry.type(description="Request indicators over a period.")
class RequestIndicators:
    granularity: Granularity  # type: ignore[valid-type]
    dimension: IndicatorDimension | None  # type: ignore[valid-type]
    source: IndicatorSource  # type: ignore[valid-type]
    exact_percentiles: bool = strawberry.field(description="False: medians and p90 come from duration buckets (error < 15 %).")
    rollups_refreshed_at: dt.datetime | None = strawberry.field(description="Last run of the rollup refresh for this tenant.")
    points: list[IndicatorPoint]
    backlog: Backlog

    @classmethod
    def from_result(cls, r: services.Indicators) -> "RequestIndicators":
        return cls(
            granularity=r.query.granularity,
            dimension=r.query.dimension,
            source=r.query.source,
            exact_percentiles=r.exact_percentiles,
            rollups_refreshed_at=r.refreshed_at,
            points=[IndicatorPoint.from_point(p) for p in r.points],
            # None only when the query did not select it (the resolver then skips computing it)
            backlog=Backlog(
                open=r.backlog.open,
                overdue=r.backlog.overdue,
                aging=[AgingBucket(label=label, count=n) for label, n in r.backlog.aging],
            )
            if r.backlog is not None
            else None,
        )


AppointmentDimension = strawberry.enum(appointment_indicators.AppointmentDimension, description="Optional grouping of appointment points.")


@strawberry.input(description="Which appointments count: those starting on these local days (both included).")
class AppointmentIndicatorFilter:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    department_codes: list[str] | None = None


@strawberry.type(description="Appointments starting in one period (and department or booking channel).")
class AppointmentIndicatorPoint:
    period_start: dt.date
    dimension_key: str | None
    suppressed: bool = strawberry.field(description="Analysts: fewer appointments than the minimum group size; figures null.")
    booked: int | None = strawberry.field(description="Every appointment starting in the period, whatever its outcome.")
    honoured: int | None
    no_show: int | None
    cancelled: int | None
    pending: int | None = strawberry.field(description="Still BOOKED (outcome not recorded yet).")
    no_show_rate: float | None = strawberry.field(description="No-show / (honoured + no-show).")
    seats_offered: int | None = strawberry.field(description="Slot units offered by the opening hours x capacity (null per channel).")
    seats_taken: int | None
    fill_rate: float | None = strawberry.field(description="Seats taken / seats offered.")

    @classmethod
    def from_point(cls, p: appointment_indicators.AppointmentPoint) -> "AppointmentIndicatorPoint":
        hidden = p.suppressed
        c = p.counts
        return cls(
            period_start=p.period_start,
            dimension_key=p.dimension_key,
            suppressed=hidden,
            booked=None if hidden else p.total,
            honoured=None if hidden else c["HONOURED"],
            no_show=None if hidden else c["NO_SHOW"],
            cancelled=None if hidden else c["CANCELLED"],
            pending=None if hidden else c["BOOKED"],
            no_show_rate=None if hidden else p.no_show_rate,
            seats_offered=p.seats_offered,
            seats_taken=None if hidden else p.seats_taken,
            fill_rate=None if hidden else p.fill_rate,
        )


ReportDimension = strawberry.enum(
    report_indicators.ReportDimension,
    description="Grouping of report points: the report's category, its top-level category, or its department.",
)


@strawberry.input(description="Which reports count. Dates are local days of the tenant's time zone, both included.")
class ReportIndicatorFilter:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    category_codes: list[str] | None = strawberry.field(default=None, description="A category and its subcategories.")
    department_codes: list[str] | None = None


@strawberry.type(
    description="Reports of one period (and category or department): submitted on their submission day, "
    "resolved (closed, not cancelled, not merged) on their closure day."
)
class ReportIndicatorPoint:
    period_start: dt.date
    dimension_key: str | None = strawberry.field(description="Category code, top-level category code, or department code.")
    dimension_label: str | None
    target_days: int | None = strawberry.field(description="groupBy CATEGORY: the category's target resolution time in days.")
    suppressed: bool = strawberry.field(description="Analysts: fewer reports than the minimum group size; figures null.")
    submitted: int | None
    resolved: int | None
    merged: int | None = strawberry.field(description="Duplicates merged into another report in the period (not resolutions).")
    resolution_time: DurationStats | None = strawberry.field(description="Submission to closure, of reports resolved in the period.")
    resolved_with_target: int | None = strawberry.field(description="Resolved reports whose category has a target.")
    resolved_within_target: int | None
    within_target_rate: float | None = strawberry.field(description="Resolved within target / resolved with a target.")

    @classmethod
    def from_point(cls, p: report_indicators.ReportPoint) -> "ReportIndicatorPoint":
        hidden = p.suppressed
        return cls(
            period_start=p.period_start,
            dimension_key=p.dimension_key,
            dimension_label=p.dimension_label,
            target_days=p.target_days,
            suppressed=hidden,
            submitted=None if hidden else p.submitted,
            resolved=None if hidden else p.resolved,
            merged=None if hidden else p.merged,
            resolution_time=None if hidden else DurationStats.of(p.resolution),
            resolved_with_target=None if hidden else p.with_target,
            resolved_within_target=None if hidden else p.within_target,
            within_target_rate=None if hidden else p.within_target_rate,
        )
