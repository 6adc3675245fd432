"""GraphQL types of reports (signalements): a request of the street-issue procedure with a place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.reports import models
from domain.reports.services import ReportRow
from schema.common import Node, UserError, to_global_id
from schema.procedures import LocalizedText
from schema.request_enums import Channel, RequestStatus
from schema.requests import Request


@strawberry.type(description="A node of the tenant's report category tree (e.g. Voirie › Nid-de-poule).")
class ReportCategory(Node):
    code: str
    label: LocalizedText
    parent_code: str | None
    duplicate_radius_meters: int = strawberry.field(description="Open reports of this category closer than this are possible duplicates.")
    target_resolution_days: int | None

    @classmethod
    def from_model(cls, m: models.ReportCategory, parent_code: str | None = None) -> ReportCategory:
        return cls(
            id=to_global_id("ReportCategory", m.id), code=m.code, label=LocalizedText(fr=m.label_fr, en=m.label_en),
            parent_code=parent_code, duplicate_radius_meters=m.duplicate_radius_m,
            target_resolution_days=m.target_resolution_days,
        )


@strawberry.type(description="A point in WGS 84 degrees.")
class GeoPoint:
    latitude: float
    longitude: float


@strawberry.type(description="A report: its request (workflow, timeline, assignment...) and its place.")
class Report(Node):
    reference: str | None
    status: RequestStatus  # type: ignore[valid-type]
    location: GeoPoint
    address: str | None
    public: bool
    support_count: int
    submitted_at: datetime | None
    merged_into_id: strawberry.ID | None = strawberry.field(description="The report this one was merged into (closed).")
    distance_meters: float | None = strawberry.field(description="Distance to the searched point (nearby searches only).")
    _row: strawberry.Private[ReportRow]

    @strawberry.field(description="The category (code and labels).")
    async def category(self, info: Info) -> ReportCategory:
        from domain.reports.services import load_categories

        ctx = info.context
        if ctx.principal is None:  # anonymous submitter: no tenant-scoped loader
            async with ctx.read() as s:
                (cat,) = await load_categories(s, self._row.details.tenant_id, [self._row.details.category_id])
        else:
            cat = await ctx.loader("report_categories", load_categories).load(self._row.details.category_id)
        return ReportCategory.from_model(cat)

    @strawberry.field(
        description="The underlying request (workflow, timeline, messages, assignment, SLA): staff and the "
        "reporter only; null for other citizens (someone else's public report) and anonymous callers."
    )
    def request(self, info: Info) -> Request | None:
        p = info.context.principal
        if p is None or (p.is_citizen and p.subject_id != self._row.request.citizen_id) or not (p.is_citizen or p.is_staff):
            return None
        return Request.from_model(self._row.request)

    @strawberry.field(description="E-mail given by an anonymous reporter (staff only; null for others).")
    def reporter_email(self, info: Info) -> str | None:
        p = info.context.principal
        return self._row.details.reporter_email if p is not None and p.is_staff else None

    @classmethod
    def from_row(cls, row: ReportRow) -> Report:
        r, d = row.request, row.details
        return cls(
            id=to_global_id("Report", r.id), reference=r.reference, status=RequestStatus(r.status),
            location=GeoPoint(latitude=d.latitude, longitude=d.longitude), address=d.address, public=d.public,
            support_count=d.support_count, submitted_at=r.submitted_at,
            merged_into_id=to_global_id("Report", d.merged_into_id) if d.merged_into_id else None,
            distance_meters=round(row.distance_m, 1) if row.distance_m is not None else None, _row=row,
        )


@strawberry.type(description="A photo published by an agent (public feeds only show these).")
class PublicPhoto:
    url: str
    thumbnail_url: str | None


@strawberry.type(description="A report as shown on the public map: no personal data.")
class PublicReport:
    id: strawberry.ID
    reference: str | None
    category_code: str
    category_label: LocalizedText
    status: RequestStatus  # type: ignore[valid-type]
    state_code: str
    location: GeoPoint
    address: str | None
    support_count: int
    submitted_at: datetime | None
    closed_at: datetime | None
    photos: list[PublicPhoto]


@strawberry.input(description="A point in WGS 84 degrees.")
class LocationInput:
    latitude: float
    longitude: float


@strawberry.input(
    description="Report a problem at a place. Citizens (WEB/APP); agents on behalf of `citizenId` or of nobody "
    "(PHONE default, COUNTER, EMAIL, POST); without authentication give `tenant` (slug) and optionally `reporterEmail`."
)
class ReportSubmitInput:
    category_code: str
    location: LocationInput
    description: str
    address: str | None = strawberry.UNSET
    reporter_email: str | None = strawberry.UNSET
    citizen_id: strawberry.ID | None = strawberry.UNSET
    channel: Channel | None = strawberry.UNSET  # type: ignore[valid-type]
    public: bool | None = strawberry.field(default=strawberry.UNSET, description="Shown on the public map (default true).")
    tenant: str | None = strawberry.field(default=strawberry.UNSET, description="Tenant slug (anonymous submissions only).")
    photo_ids: list[strawberry.ID] | None = strawberry.field(default=strawberry.UNSET, description="Uploaded files (purpose PHOTO).")


@strawberry.input
class ReportIdInput:
    id: strawberry.ID


@strawberry.input(description="Merge `duplicateId` into `keepId` (agents).")
class ReportMergeInput:
    keep_id: strawberry.ID
    duplicate_id: strawberry.ID


@strawberry.input(description="Resolve many reports at once (agents); each one is checked on its own.")
class ReportsCloseInput:
    ids: list[strawberry.ID]
    resolution_note: str


@strawberry.input(description="The territory as a GeoJSON Polygon ([lon, lat] positions), or null to remove the check.")
class ReportTerritorySetInput:
    polygon: JSON | None


@strawberry.input(description="Publish (or unpublish) a photo of a report on the public map (agents).")
class ReportPhotoPublishInput:
    file_id: strawberry.ID
    published: bool = True


@strawberry.input(description="Create (new code) or change (existing code) a report category (administrators). Omitted fields are kept.")
class ReportCategorySaveInput:
    code: str
    label_fr: str | None = strawberry.UNSET
    label_en: str | None = strawberry.UNSET
    parent_code: str | None = strawberry.field(default=strawberry.UNSET, description="null = a root category.")
    department_code: str | None = strawberry.field(default=strawberry.UNSET, description="Department its reports are routed to (null = the procedure's routing).")
    duplicate_radius_meters: int | None = strawberry.UNSET
    target_resolution_days: int | None = strawberry.UNSET
    form_category: str | None = strawberry.field(default=strawberry.UNSET, description="Value of the street-issue form's `category` answer.")
    active: bool | None = strawberry.UNSET


@strawberry.type
class ReportCategoryPayload:
    category: ReportCategory | None
    user_errors: list[UserError]


@strawberry.type
class ReportPayload:
    report: Report | None
    user_errors: list[UserError]


@strawberry.type
class ReportSubmitPayload:
    report: Report | None
    possible_duplicates: list[Report] = strawberry.field(description="Open reports of the same category nearby, closest first (at most 5).")
    user_errors: list[UserError]


@strawberry.type
class ReportsClosePayload:
    reports: list[Report] = strawberry.field(description="The reports that were closed (the others have userErrors at [\"ids\", index]).")
    user_errors: list[UserError]


@strawberry.type
class ReportTerritoryPayload:
    polygon: JSON | None
    user_errors: list[UserError]
