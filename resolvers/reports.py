"""Queries and mutations of reports (signalements)."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from domain.errors import DomainValidationError, FieldError
from domain.files.signing import ORIGINAL, THUMBNAIL
from domain.reports import services
from domain.reports.rules import parse_bbox
from domain.security import require_principal
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.common import Connection, UserError, connection_from_page, decode_id, input_to_data, user_errors
from schema.procedures import LocalizedText
from schema.request_enums import RequestStatus
from schema.reports import (
    GeoPoint,
    LocationInput,
    PublicPhoto,
    PublicReport,
    Report,
    ReportCategory,
    ReportCategoryPayload,
    ReportCategorySaveInput,
    ReportIdInput,
    ReportMergeInput,
    ReportPayload,
    ReportPhotoPublishInput,
    ReportsCloseInput,
    ReportsClosePayload,
    ReportSubmitInput,
    ReportSubmitPayload,
    ReportTerritoryPayload,
    ReportTerritorySetInput,
)


@register_node("Report")
async def _report_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        row = await services.get_report(s, ctx.principal, raw_id)
    return Report.from_row(row) if row else None


def public_report(request: Any, row: services.ReportRow, category: Any, photos: list[Any]) -> PublicReport:
    """The public view of a report (shared by GraphQL and the GeoJSON feed): no personal data."""
    r, d = row.request, row.details
    files = request.app.state.files
    return PublicReport(
        id=strawberry.ID(str(r.id)), reference=r.reference, category_code=category.code,
        category_label=LocalizedText(fr=category.label_fr, en=category.label_en), status=RequestStatus(r.status),
        state_code=r.state, location=GeoPoint(latitude=d.latitude, longitude=d.longitude), address=d.address,
        support_count=d.support_count, submitted_at=r.submitted_at, closed_at=r.closed_at,
        photos=[
            PublicPhoto(url=files.url(request, f, ORIGINAL), thumbnail_url=files.url(request, f, THUMBNAIL) if f.thumbnail_key else None)
            for f in photos
        ],
    )


async def public_page(session, request, tenant_id, box, categories, statuses, first, after):
    page = await services.public_reports(session, tenant_id, box, categories, statuses, first, after)
    ids = [row.request.id for row in page.items]
    photos = await services.published_photos(session, tenant_id, ids)
    cats = {c.id: c for c in await services.list_categories(session, tenant_id)}
    return page, lambda row: public_report(request, row, cats[row.details.category_id], photos[row.request.id])


def _ids(values: list[strawberry.ID], field: str) -> list[uuid.UUID]:
    return [decode_id(v, "Report", (field, str(i))) for i, v in enumerate(values)]


@strawberry.type
class ReportQuery:
    @strawberry.field(description="The report categories of a tenant (yours, or `tenant` slug without authentication).")
    async def report_categories(self, info: Info, tenant: str | None = None) -> list[ReportCategory]:
        ctx = info.context
        async with ctx.read() as s:
            tenant_id = await services.tenant_by_slug(s, tenant) if tenant is not None else require_principal(ctx.principal).tenant_id
            cats = await services.list_categories(s, tenant_id)
        codes = {c.id: c.code for c in cats}
        return [ReportCategory.from_model(c, codes.get(c.parent_id)) for c in cats]

    @strawberry.field(description="A report (agents: any; citizens: theirs and public ones).")
    async def report(self, info: Info, id: strawberry.ID) -> Report | None:
        return await _report_node(info.context, decode_id(id, "Report"))

    @strawberry.field(
        description="Open reports of `category` within its duplicate radius of `location`, closest first (at most 5). "
        "Without authentication give `tenant` (slug); citizens and anonymous callers only see public reports."
    )
    async def reports_nearby(self, info: Info, location: LocationInput, category: str, tenant: str | None = None) -> list[Report]:
        ctx = info.context
        async with ctx.read() as s:
            tenant_id = await services.tenant_by_slug(s, tenant) if ctx.principal is None and tenant is not None else None
            rows = await services.reports_nearby(s, ctx.principal, location.latitude, location.longitude, category, tenant_id)
        return [Report.from_row(r) for r in rows]

    @strawberry.field(
        description="The public map (no authentication): public reports inside `boundingBox` [minLon, minLat, maxLon, maxLat], "
        "newest first, without personal data; photos only once published by an agent."
    )
    async def public_reports(
        self, info: Info, tenant: str, bounding_box: list[float], categories: list[str] | None = None,
        statuses: list[RequestStatus] | None = None, first: int | None = 20, after: str | None = None,  # type: ignore[valid-type]
    ) -> Connection[PublicReport]:
        ctx = info.context
        box = parse_bbox(bounding_box)
        async with ctx.read() as s:
            tenant_id = await services.tenant_by_slug(s, tenant)
            page, mapper = await public_page(
                s, ctx.request, tenant_id, box, categories, [st.value for st in statuses] if statuses else None, first, after
            )
        return connection_from_page(page, mapper)

    @strawberry.field(description="Field work (agents): reports inside `boundingBox` [minLon, minLat, maxLon, maxLat]; open ones unless `statuses`.")
    async def reports_in_area(
        self, info: Info, bounding_box: list[float], categories: list[str] | None = None,
        statuses: list[RequestStatus] | None = None, first: int | None = 20, after: str | None = None,  # type: ignore[valid-type]
    ) -> Connection[Report]:
        ctx = info.context
        box = parse_bbox(bounding_box)
        async with ctx.read() as s:
            page = await services.reports_in_area(
                s, ctx.principal, box, categories, [st.value for st in statuses] if statuses else None, first, after
            )
        return connection_from_page(page, Report.from_row)


@strawberry.type
class ReportMutation:
    @strawberry.mutation(description="Report a problem at a place; the answer lists possible duplicates nearby.")
    async def report_submit(self, info: Info, input: ReportSubmitInput) -> ReportSubmitPayload:
        ctx = info.context
        data = input_to_data(input)
        loc = data.pop("location")
        data.update(latitude=loc["latitude"], longitude=loc["longitude"])
        try:
            if data.get("citizen_id"):
                data["citizen_id"] = decode_id(data["citizen_id"], "Citizen", ("citizen_id",))
            if data.get("photo_ids"):
                data["photo_ids"] = [decode_id(v, "StoredFile", ("photo_ids", str(i))) for i, v in enumerate(data["photo_ids"])]
            async with ctx.write() as s:
                if ctx.principal is None:
                    data["tenant_id"] = await services.tenant_by_slug(s, data.get("tenant"))
                result = await services.submit_report(s, ctx.principal, data)
        except DomainValidationError as exc:
            return ReportSubmitPayload(report=None, possible_duplicates=[], user_errors=user_errors(exc, ctx.locale))
        return ReportSubmitPayload(
            report=Report.from_row(result.row), possible_duplicates=[Report.from_row(r) for r in result.possible_duplicates], user_errors=[]
        )

    @strawberry.mutation(description="Say \"me too\" on a report (citizens, once each).")
    async def report_support(self, info: Info, input: ReportIdInput) -> ReportPayload:
        ctx = info.context

        async def action(s):
            return await services.support_report(s, ctx.principal, decode_id(input.id, "Report"))

        return await run_mutation(ctx, action, ReportPayload, "report", Report.from_row)

    @strawberry.mutation(description="Follow a report's progress (citizens; idempotent).")
    async def report_follow(self, info: Info, input: ReportIdInput) -> ReportPayload:
        ctx = info.context

        async def action(s):
            return await services.follow_report(s, ctx.principal, decode_id(input.id, "Report"))

        return await run_mutation(ctx, action, ReportPayload, "report", Report.from_row)

    @strawberry.mutation(description="Merge a duplicate into the kept report (agents): supporters, followers and photos move; the duplicate closes.")
    async def report_merge(self, info: Info, input: ReportMergeInput) -> ReportPayload:
        ctx = info.context

        async def action(s):
            keep = decode_id(input.keep_id, "Report", ("keep_id",))
            dup = decode_id(input.duplicate_id, "Report", ("duplicate_id",))
            return await services.merge_reports(s, ctx.principal, keep, dup)

        return await run_mutation(ctx, action, ReportPayload, "report", Report.from_row)

    @strawberry.mutation(description="Publish (or withdraw) a photo of a report on the public map (agents).")
    async def report_photo_publish(self, info: Info, input: ReportPhotoPublishInput) -> ReportPayload:
        ctx = info.context

        async def action(s):
            return await services.publish_photo(s, ctx.principal, decode_id(input.file_id, "StoredFile", ("file_id",)), input.published)

        return await run_mutation(ctx, action, ReportPayload, "report", Report.from_row)

    @strawberry.mutation(
        description="Resolve many reports (agents). Not all-or-nothing: each report is checked on its own; the valid ones "
        "close, each refused one has userErrors whose field starts with [\"ids\", index]."
    )
    async def reports_close(self, info: Info, input: ReportsCloseInput) -> ReportsClosePayload:
        ctx = info.context
        errors: list[UserError] = []
        closed: list[Report] = []
        ids: list[uuid.UUID | None] = []
        bad: list[DomainValidationError] = []
        for i, v in enumerate(input.ids):
            try:
                ids.append(decode_id(v, "Report", ("ids", str(i))))
            except DomainValidationError as exc:
                ids.append(None)
                bad.append(exc)
        for exc in bad:
            errors.extend(user_errors(exc, ctx.locale))
        valid = [(i, x) for i, x in enumerate(ids) if x is not None]
        try:
            async with ctx.write() as s:
                results = await services.close_reports(s, ctx.principal, [x for _, x in valid], input.resolution_note)
        except DomainValidationError as exc:
            return ReportsClosePayload(reports=[], user_errors=user_errors(exc, ctx.locale))
        for res in results:
            index = valid[res.index][0]
            if res.error is not None:
                shifted = DomainValidationError(
                    [FieldError(("ids", str(index)) + tuple(e.field or ()), e.code, e.params) for e in res.error.errors]
                )
                errors.extend(user_errors(shifted, ctx.locale))
            else:
                closed.append(Report.from_row(res.row))
        return ReportsClosePayload(reports=closed, user_errors=errors)

    @strawberry.mutation(description="Set the tenant's territory polygon (administrators); reports outside it are refused.")
    async def report_territory_set(self, info: Info, input: ReportTerritorySetInput) -> ReportTerritoryPayload:
        ctx = info.context

        async def action(s):
            return (await services.set_territory(s, ctx.principal, input.polygon)).territory

        return await run_mutation(ctx, action, ReportTerritoryPayload, "polygon", lambda x: x)

    @strawberry.mutation(description="Create or change a report category (administrators).")
    async def report_category_save(self, info: Info, input: ReportCategorySaveInput) -> ReportCategoryPayload:
        ctx = info.context

        async def action(s):
            cat = await services.save_category(s, ctx.principal, input_to_data(input))
            parent = (await services.load_categories(s, cat.tenant_id, [cat.parent_id]))[0] if cat.parent_id else None
            return cat, parent.code if parent else None

        return await run_mutation(ctx, action, ReportCategoryPayload, "category", lambda r: ReportCategory.from_model(*r))
