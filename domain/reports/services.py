"""Use cases of reports. A report is a request of the ``street-issue`` procedure
submitted through :func:`domain.requests.services.submit_request` (same workflow,
routing, SLA, timeline, inbox) plus one ``report_details`` row with the place.

Anonymous reporters: the request engine needs a citizen; every anonymous report of a
tenant belongs to one shared "anonymous reporter" citizen record (created on first
use, id kept in ``report_settings``); the optional e-mail is stored on the report
(``reporter_email``) and as a follower, never merged into a citizen record, so
nobody can attach reports to someone else's account by typing their address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.base import utcnow
from domain.citizens.models import Citizen
from domain.citizens.rules import normalise_email
from domain.errors import Collector, DomainValidationError, Forbidden
from domain.events.services import record_event
from domain.pagination import Page, paginate
from domain.reports.models import (
    DEFAULT_RADIUS_M,
    REPORT_PROCEDURE,
    ReportCategory,
    ReportDetails,
    ReportFollower,
    ReportSettings,
    ReportSupport,
)
from domain.reports.rules import EARTH_RADIUS_M, BBox, box_around, check_point, point_in_polygon, validate_polygon
from domain.requests.models import Channel, Request, RequestStatus
from domain.requests import services as requests
from domain.security import Principal, PrincipalKind, Role, require_principal, require_role, require_staff
from domain.tenancy.models import Department

OPEN_STATUSES = (RequestStatus.SUBMITTED.value, RequestStatus.IN_PROGRESS.value, RequestStatus.WAITING_FOR_CITIZEN.value)
NEARBY_LIMIT = 5

# code, parent, fr, en, department code, form category (street-issue enum), target days
SEED_CATEGORIES: list[tuple[str, str | None, str, str, str | None, str, int | None]] = [
    ("voirie", None, "Voirie", "Roads", "voirie", "other", None),
    ("nid-de-poule", "voirie", "Nid-de-poule", "Pothole", "voirie", "pothole", 10),
    ("eclairage", None, "Éclairage public", "Street lighting", "voirie", "street-light", None),
    ("lampadaire-eteint", "eclairage", "Lampadaire éteint", "Street light out", "voirie", "street-light", 5),
    ("proprete", None, "Propreté", "Cleanliness", "proprete", "litter", None),
    ("depot-sauvage", "proprete", "Dépôt sauvage", "Fly-tipping", "proprete", "fly-tipping", 3),
    ("espaces-verts", None, "Espaces verts", "Green spaces", "espaces-verts", "other", None),
    ("arbre-tombe", "espaces-verts", "Arbre tombé", "Fallen tree", "espaces-verts", "other", 2),
    ("mobilier-urbain", None, "Mobilier urbain", "Street furniture", "voirie", "street-furniture", None),
    ("banc-endommage", "mobilier-urbain", "Banc endommagé", "Damaged bench", "voirie", "street-furniture", 15),
    ("graffiti", None, "Graffiti / Tags", "Graffiti", "proprete", "graffiti", 7),
]


def _event(session: AsyncSession, p: Principal | None, tenant_id: uuid.UUID, request_id: uuid.UUID, type: str, **payload: Any) -> None:
    # Reports events belong to the request aggregate: they are the request's timeline.
    record_event(
        session, tenant_id=tenant_id, type=type, aggregate_type=requests.AGGREGATE, aggregate_id=request_id,
        actor=p, payload={"public": True, **payload},
    )


# ---------------------------------------------------------------- categories and settings


async def seed_categories(session: AsyncSession, tenant_id: uuid.UUID) -> list[ReportCategory]:
    """Create the default tree (idempotent: existing codes are left as configured)."""
    existing = {
        c.code: c
        for c in (await session.execute(sa.select(ReportCategory).where(ReportCategory.tenant_id == tenant_id))).scalars()
    }
    departments = dict(
        (await session.execute(sa.select(Department.code, Department.id).where(Department.tenant_id == tenant_id))).all()
    )
    for code, parent, fr, en, dept, form, days in SEED_CATEGORIES:
        if code in existing:
            continue
        cat = ReportCategory(
            tenant_id=tenant_id, code=code, label_fr=fr, label_en=en,
            parent_id=existing[parent].id if parent else None, department_id=departments.get(dept or ""),
            form_category=form, target_resolution_days=days, duplicate_radius_m=DEFAULT_RADIUS_M,
        )
        session.add(cat)
        await session.flush()
        existing[code] = cat
    return list(existing.values())


async def list_categories(session: AsyncSession, tenant_id: uuid.UUID) -> list[ReportCategory]:
    return list(
        (
            await session.execute(
                sa.select(ReportCategory)
                .where(ReportCategory.tenant_id == tenant_id, ReportCategory.active.is_(True))
                .order_by(ReportCategory.code)
            )
        ).scalars()
    )


async def load_categories(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[ReportCategory | None]:
    rows = {
        c.id: c
        for c in (
            await session.execute(sa.select(ReportCategory).where(ReportCategory.tenant_id == tenant_id, ReportCategory.id.in_(ids)))
        ).scalars()
    }
    return [rows.get(i) for i in ids]


async def _category(session: AsyncSession, tenant_id: uuid.UUID, code: Any, field: tuple[str, ...]) -> ReportCategory:
    cat = None
    if isinstance(code, str):
        cat = (
            await session.execute(
                sa.select(ReportCategory).where(
                    ReportCategory.tenant_id == tenant_id, ReportCategory.code == code, ReportCategory.active.is_(True)
                )
            )
        ).scalar_one_or_none()
    if cat is None:
        raise DomainValidationError.single(field, "UNKNOWN_CATEGORY", category=str(code)[:63])
    return cat


async def _settings(session: AsyncSession, tenant_id: uuid.UUID, lock: bool = False) -> ReportSettings:
    stmt = sa.select(ReportSettings).where(ReportSettings.tenant_id == tenant_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if row is None and lock:
        await session.execute(pg_insert(ReportSettings).values(tenant_id=tenant_id).on_conflict_do_nothing())
        row = (await session.execute(stmt.with_for_update())).scalar_one()
    return row or ReportSettings(tenant_id=tenant_id)


async def set_territory(session: AsyncSession, principal: Principal | None, polygon: Any) -> ReportSettings:
    """Administrators set (or clear with null) the tenant's territory polygon."""
    p = require_role(principal, Role.ADMIN)
    value = None if polygon is None else validate_polygon(polygon)
    settings = await _settings(session, p.tenant_id, lock=True)
    settings.territory = value
    settings.updated_at = utcnow()
    record_event(session, tenant_id=p.tenant_id, type="report.territory_set", aggregate_type="ReportSettings",
                 aggregate_id=p.tenant_id, actor=p, payload={"cleared": value is None})
    await session.flush()
    return settings


async def get_territory(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    return (await _settings(session, tenant_id)).territory


async def _anonymous_citizen(session: AsyncSession, tenant_id: uuid.UUID) -> uuid.UUID:
    settings = await _settings(session, tenant_id, lock=True)
    if settings.anonymous_citizen_id is None:
        citizen = Citizen(tenant_id=tenant_id, given_names="Signalement", family_name="Anonyme", sort_name="anonyme signalement")
        session.add(citizen)
        await session.flush()
        settings.anonymous_citizen_id = citizen.id
        record_event(session, tenant_id=tenant_id, type="citizen.created", aggregate_type="Citizen",
                     aggregate_id=citizen.id, actor=None, payload={"anonymous_reporter": True})
        await session.flush()
    return settings.anonymous_citizen_id


# ---------------------------------------------------------------- nearby


@dataclass
class ReportRow:
    """A report as read: its request, its place and (nearby searches) the distance."""

    request: Request
    details: ReportDetails
    distance_m: float | None = None


def _distance_sql(lat: float, lon: float) -> sa.ColumnElement[float]:
    """Great-circle distance (haversine) in metres, in SQL (no PostGIS)."""
    d = ReportDetails
    a = sa.func.power(sa.func.sin(sa.func.radians(d.latitude - lat) / 2), 2) + sa.func.cos(sa.func.radians(lat)) * sa.func.cos(
        sa.func.radians(d.latitude)
    ) * sa.func.power(sa.func.sin(sa.func.radians(d.longitude - lon) / 2), 2)
    return 2 * EARTH_RADIUS_M * sa.func.asin(sa.func.least(1.0, sa.func.sqrt(a)))


async def nearby(
    session: AsyncSession, tenant_id: uuid.UUID, category: ReportCategory, lat: float, lon: float,
    exclude: uuid.UUID | None = None, limit: int = NEARBY_LIMIT, public_only: bool = False,
) -> list[ReportRow]:
    """Open reports of ``category`` within its radius, closest first: an index range scan on
    (tenant, category, latitude, longitude) inside the circle's bounding box, then haversine."""
    d = ReportDetails
    box = box_around(lat, lon, category.duplicate_radius_m)
    distance = _distance_sql(lat, lon).label("distance")
    stmt = (
        sa.select(Request, d, distance)
        .join(d, d.request_id == Request.id)
        .where(
            d.tenant_id == tenant_id, d.category_id == category.id,
            d.latitude.between(box.min_lat, box.max_lat), d.longitude.between(box.min_lon, box.max_lon),
            d.merged_into_id.is_(None), Request.tenant_id == tenant_id, Request.status.in_(OPEN_STATUSES),
            distance <= category.duplicate_radius_m,
        )
        .order_by(distance, Request.id)
        .limit(limit)
    )
    if exclude is not None:
        stmt = stmt.where(Request.id != exclude)
    if public_only:  # citizens and anonymous callers only learn about public reports
        stmt = stmt.where(d.public.is_(True))
    return [ReportRow(r, det, float(dist)) for r, det, dist in (await session.execute(stmt)).all()]


async def reports_nearby(
    session: AsyncSession, principal: Principal | None, latitude: Any, longitude: Any, category_code: Any,
    tenant_id: uuid.UUID | None = None,
) -> list[ReportRow]:
    """Authenticated callers search their tenant; anonymous ones give ``tenant_id`` (public reports only)."""
    if principal is not None or tenant_id is None:
        tenant_id = require_principal(principal).tenant_id
    errors = Collector()
    point = check_point(latitude, longitude, errors, ("location",))
    errors.raise_if_any()
    category = await _category(session, tenant_id, category_code, ("category",))
    staff = principal is not None and principal.is_staff
    return await nearby(session, tenant_id, category, point[0], point[1], public_only=not staff)  # type: ignore[index]


# ---------------------------------------------------------------- submission


@dataclass
class Submitted:
    row: ReportRow
    possible_duplicates: list[ReportRow]


async def submit_report(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Submitted:
    """A citizen (WEB/APP), an agent on behalf of a citizen or of nobody (COUNTER, PHONE, ...),
    an API client, or anyone without an account (principal None: ``tenant_id`` in data)."""
    tenant_id = principal.tenant_id if principal else data["tenant_id"]
    errors = Collector()
    point = check_point(data.get("latitude"), data.get("longitude"), errors, ("location",))
    email = data.get("reporter_email")
    if email is not None:
        email = normalise_email(email) if isinstance(email, str) else None
        if email is None:
            errors.add(("reporter_email",), "INVALID_EMAIL")
    address = data.get("address")
    if address is not None and (not isinstance(address, str) or len(address) > 300):
        errors.add(("address",), "TOO_LONG", max=300)
    errors.raise_if_any()
    category = await _category(session, tenant_id, data.get("category_code"), ("category_code",))
    lat, lon = point  # type: ignore[misc]
    territory = await get_territory(session, tenant_id)
    if territory is not None and not point_in_polygon(lat, lon, territory):
        raise DomainValidationError.single(("location",), "OUTSIDE_TERRITORY")

    location_text = address.strip() if isinstance(address, str) and address.strip() else f"{lat:.6f}, {lon:.6f}"
    answers = {
        **(data.get("extra_answers") or {}),
        "category": category.form_category,
        "description": data.get("description"),
        "location": {"street": location_text, "city": "-"},
        "latitude": lat,
        "longitude": lon,
    }
    if email:
        answers["reporterEmail"] = email
    request_data: dict[str, Any] = {"procedure_code": REPORT_PROCEDURE, "answers": answers}
    submitter = principal
    if principal is None or (principal.kind is PrincipalKind.CLIENT and data.get("citizen_id") is None):
        # anonymous reporter (or an API client relaying a citizen app): the shared anonymous citizen
        anon = await _anonymous_citizen(session, tenant_id)
        submitter = Principal(kind=PrincipalKind.CITIZEN, subject_id=anon, tenant_id=tenant_id)
        request_data["channel"] = Channel.APP.value if principal else Channel.WEB.value
    elif principal.is_citizen:
        request_data["channel"] = data.get("channel") or Channel.WEB.value
    else:
        require_staff(principal)
        request_data["channel"] = data.get("channel") or Channel.PHONE.value
        request_data["citizen_id"] = data.get("citizen_id") or await _anonymous_citizen(session, tenant_id)
    try:
        request = await requests.submit_request(session, submitter, request_data)
    except DomainValidationError as exc:
        raise DomainValidationError([_input_field(e) for e in exc.errors]) from None
    if category.department_id is not None:
        request.department_id = category.department_id  # routing by category
    details = ReportDetails(
        request_id=request.id, tenant_id=tenant_id, category_id=category.id, latitude=lat, longitude=lon,
        address=address.strip() if isinstance(address, str) and address.strip() else None,
        reporter_email=email, public=data.get("public", True) is not False,
    )
    session.add(details)
    if email:
        session.add(ReportFollower(tenant_id=tenant_id, request_id=request.id, email=email))
    await session.flush()
    photos = await claim_photos(session, principal, request.id, data["photo_ids"]) if data.get("photo_ids") else 0
    _event(session, principal, tenant_id, request.id, "report.submitted", category=category.code, photos=photos,
           api_client=bool(principal and principal.kind is PrincipalKind.CLIENT))
    duplicates = await nearby(session, tenant_id, category, lat, lon, exclude=request.id,
                              public_only=principal is None or not principal.is_staff)
    await session.flush()
    return Submitted(ReportRow(request, details), duplicates)


# form answers -> the reportSubmit input fields they come from
_ANSWER_FIELDS = {"description": ("description",), "location": ("address",), "reporterEmail": ("reporter_email",),
                  "latitude": ("location", "latitude"), "longitude": ("location", "longitude")}


def _input_field(e: Any) -> Any:
    field = e.field or ()
    if len(field) >= 2 and field[0] == "answers" and field[1] in _ANSWER_FIELDS:
        return type(e)(_ANSWER_FIELDS[field[1]], e.code, e.params)
    return e


# ---------------------------------------------------------------- reads


async def load_rows(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[ReportRow | None]:
    rows = {
        r.id: ReportRow(r, d)
        for r, d in (
            await session.execute(
                sa.select(Request, ReportDetails)
                .join(ReportDetails, ReportDetails.request_id == Request.id)
                .where(Request.tenant_id == tenant_id, Request.id.in_(ids))
            )
        ).all()
    }
    return [rows.get(i) for i in ids]


async def get_report(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID) -> ReportRow | None:
    p = require_principal(principal)
    (row,) = await load_rows(session, p.tenant_id, [request_id])
    if row is None:
        return None
    if p.is_citizen and row.request.citizen_id != p.subject_id:
        # other people's reports: only the public ones (as on the map)
        return row if row.details.public and row.details.merged_into_id is None else None
    if not p.is_citizen:
        require_staff(p)
    return row


def _area_stmt(tenant_id: uuid.UUID, box: BBox, category_ids: list[uuid.UUID] | None, statuses: list[str] | None) -> sa.Select:
    d = ReportDetails
    stmt = (
        sa.select(Request)
        .join(d, d.request_id == Request.id)
        .where(
            d.tenant_id == tenant_id, Request.tenant_id == tenant_id,
            d.latitude.between(box.min_lat, box.max_lat), d.longitude.between(box.min_lon, box.max_lon),
        )
    )
    if category_ids is not None:
        stmt = stmt.where(d.category_id.in_(category_ids))
    if statuses:
        stmt = stmt.where(Request.status.in_(statuses))
    return stmt


async def _category_ids(session: AsyncSession, tenant_id: uuid.UUID, codes: list[str] | None) -> list[uuid.UUID] | None:
    """Codes of the filter; a parent code includes its children."""
    if not codes:
        return None
    cats = await list_categories(session, tenant_id)
    by_code = {c.code: c for c in cats}
    errors = Collector()
    wanted: set[uuid.UUID] = set()
    for i, code in enumerate(codes):
        if code not in by_code:
            errors.add(("categories", str(i)), "UNKNOWN_CATEGORY", category=str(code)[:63])
            continue
        wanted.add(by_code[code].id)
        wanted.update(c.id for c in cats if c.parent_id == by_code[code].id)
    errors.raise_if_any()
    return sorted(wanted)


def _check_statuses(statuses: list[str] | None) -> list[str] | None:
    if not statuses:
        return None
    allowed = {s.value for s in RequestStatus} - {RequestStatus.DRAFT.value}
    errors = Collector()
    for i, s in enumerate(statuses):
        if s not in allowed:
            errors.add(("statuses", str(i)), "INVALID_CHOICE", choices=", ".join(sorted(allowed)))
    errors.raise_if_any()
    return statuses


async def public_reports(
    session: AsyncSession, tenant_id: uuid.UUID, box: BBox, categories: list[str] | None, statuses: list[str] | None,
    first: int | None, after: str | None,
) -> Page[ReportRow]:
    """The public map: public, not merged, submitted reports in the box (no personal data is read out)."""
    stmt = _area_stmt(tenant_id, box, await _category_ids(session, tenant_id, categories), _check_statuses(statuses)).where(
        ReportDetails.public.is_(True), ReportDetails.merged_into_id.is_(None),
        Request.status.notin_([RequestStatus.DRAFT.value, RequestStatus.CANCELLED.value]),
    )
    page = await paginate(session, stmt, [Request.created_at, Request.id], first, after, descending=True)
    return await _rows(session, tenant_id, page)


async def _rows(session: AsyncSession, tenant_id: uuid.UUID, page: Page[Any]) -> Page[ReportRow]:
    """Attach the place of each request of the page (one query)."""
    ids = [r.id for r in page.items]
    details = {
        d.request_id: d
        for d in (
            await session.execute(sa.select(ReportDetails).where(ReportDetails.tenant_id == tenant_id, ReportDetails.request_id.in_(ids)))
        ).scalars()
    }
    page.items = [ReportRow(r, details[r.id]) for r in page.items]  # type: ignore[misc]
    return page  # type: ignore[return-value]


async def reports_in_area(
    session: AsyncSession, principal: Principal | None, box: BBox, categories: list[str] | None,
    statuses: list[str] | None, first: int | None, after: str | None,
) -> Page[ReportRow]:
    """Field work (agents): every report of the area, open ones by default."""
    p = require_staff(principal)
    stmt = _area_stmt(p.tenant_id, box, await _category_ids(session, p.tenant_id, categories), _check_statuses(statuses) or list(OPEN_STATUSES))
    return await _rows(session, p.tenant_id, await paginate(session, stmt, [Request.created_at, Request.id], first, after, descending=True))


# ---------------------------------------------------------------- support, follow, merge, close


async def _lock_report(session: AsyncSession, tenant_id: uuid.UUID, request_id: uuid.UUID, field: tuple[str, ...]) -> ReportDetails:
    details = (
        await session.execute(
            sa.select(ReportDetails)
            .where(ReportDetails.tenant_id == tenant_id, ReportDetails.request_id == request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if details is None:
        raise DomainValidationError.single(field, "NOT_FOUND")
    return details


async def _visible_report(session: AsyncSession, p: Principal, request_id: uuid.UUID, field: tuple[str, ...]) -> ReportDetails:
    row = await get_report(session, p, request_id)
    if row is None:
        raise DomainValidationError.single(field, "NOT_FOUND")
    return await _lock_report(session, p.tenant_id, request_id, field)


async def support_report(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID) -> ReportRow:
    """A citizen says "me too" (once per person: unique constraint)."""
    p = require_principal(principal)
    if not p.is_citizen:
        raise Forbidden()
    details = await _visible_report(session, p, request_id, ("id",))
    if details.merged_into_id is not None:
        raise DomainValidationError.single(("id",), "REPORT_MERGED")
    inserted = (
        await session.execute(
            pg_insert(ReportSupport)
            .values(id=uuid.uuid4(), tenant_id=p.tenant_id, request_id=request_id, citizen_id=p.subject_id)
            .on_conflict_do_nothing(constraint="uq_report_supports_person")
            .returning(ReportSupport.id)
        )
    ).first()
    if inserted is None:
        raise DomainValidationError.single(("id",), "ALREADY_SUPPORTED")
    details.support_count += 1
    details.updated_at = utcnow()
    _event(session, p, p.tenant_id, request_id, "report.supported")
    await session.flush()
    (row,) = await load_rows(session, p.tenant_id, [request_id])
    return row  # type: ignore[return-value]


async def follow_report(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID) -> ReportRow:
    """A citizen follows a report's progress (idempotent)."""
    p = require_principal(principal)
    if not p.is_citizen:
        raise Forbidden()
    details = await _visible_report(session, p, request_id, ("id",))
    inserted = (
        await session.execute(
            pg_insert(ReportFollower)
            .values(id=uuid.uuid4(), tenant_id=p.tenant_id, request_id=details.request_id, citizen_id=p.subject_id)
            .on_conflict_do_nothing(index_elements=["request_id", "citizen_id"], index_where=sa.text("citizen_id IS NOT NULL"))
            .returning(ReportFollower.id)
        )
    ).first()
    if inserted is not None:
        _event(session, p, p.tenant_id, request_id, "report.followed")
    await session.flush()
    (row,) = await load_rows(session, p.tenant_id, [request_id])
    return row  # type: ignore[return-value]


async def is_following(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID) -> bool:
    if principal is None or not principal.is_citizen:
        return False
    return (
        await session.execute(
            sa.select(ReportFollower.id).where(
                ReportFollower.tenant_id == principal.tenant_id, ReportFollower.request_id == request_id,
                ReportFollower.citizen_id == principal.subject_id,
            )
        )
    ).first() is not None


async def merge_reports(session: AsyncSession, principal: Principal | None, keep_id: uuid.UUID, duplicate_id: uuid.UUID) -> ReportRow:
    """Agents: the duplicate's supporters, followers and files move to the kept report; the
    duplicate is closed (workflow-independent, state ``merged``) and both timelines say so."""
    p = require_staff(principal)
    if keep_id == duplicate_id:
        raise DomainValidationError.single(("duplicate_id",), "REPORT_MERGE_SAME")
    # lock in a stable order (two agents merging A<-B and B<-A cannot deadlock)
    locked = {}
    for rid, field in sorted([(keep_id, ("keep_id",)), (duplicate_id, ("duplicate_id",))], key=lambda x: x[0]):
        locked[rid] = await _lock_report(session, p.tenant_id, rid, field)
    keep, dup = locked[keep_id], locked[duplicate_id]
    if dup.merged_into_id is not None:
        raise DomainValidationError.single(("duplicate_id",), "REPORT_MERGED")
    if keep.merged_into_id is not None:
        raise DomainValidationError.single(("keep_id",), "REPORT_MERGED")
    dup_request = await requests._lock(session, p, duplicate_id, "duplicate_id")
    keep_request = await requests._lock(session, p, keep_id, "keep_id")
    if keep_request.status not in OPEN_STATUSES:
        raise DomainValidationError.single(("keep_id",), "REPORT_CLOSED")
    # supporters: the ones not already supporting the kept report move; the duplicate's reporter supports it
    moved = (
        await session.execute(
            sa.update(ReportSupport)
            .where(
                ReportSupport.request_id == duplicate_id,
                ReportSupport.citizen_id.notin_(sa.select(ReportSupport.citizen_id).where(ReportSupport.request_id == keep_id)),
            )
            .values(request_id=keep_id)
        )
    ).rowcount
    await session.execute(sa.delete(ReportSupport).where(ReportSupport.request_id == duplicate_id))
    await session.execute(
        pg_insert(ReportSupport)
        .values(id=uuid.uuid4(), tenant_id=p.tenant_id, request_id=keep_id, citizen_id=dup_request.citizen_id)
        .on_conflict_do_nothing(constraint="uq_report_supports_person")
    )
    keep.support_count = (
        await session.execute(sa.select(sa.func.count()).where(ReportSupport.request_id == keep_id))
    ).scalar_one()
    dup.support_count = 0
    # followers (citizens and e-mails), the duplicate's reporter included
    await session.execute(
        pg_insert(ReportFollower).from_select(
            ["id", "tenant_id", "request_id", "citizen_id", "email"],
            sa.select(sa.func.gen_random_uuid(), ReportFollower.tenant_id, sa.literal(keep_id), ReportFollower.citizen_id, ReportFollower.email)
            .where(ReportFollower.request_id == duplicate_id),
        ).on_conflict_do_nothing()
    )
    await session.execute(
        pg_insert(ReportFollower).values(id=uuid.uuid4(), tenant_id=p.tenant_id, request_id=keep_id, citizen_id=dup_request.citizen_id)
        .on_conflict_do_nothing()
    )
    files = await _move_files(session, p, duplicate_id, keep_id)
    dup.merged_into_id = keep_id
    now = utcnow()
    dup.updated_at = keep.updated_at = now
    previous = dup_request.state
    if dup_request.status in OPEN_STATUSES:
        dup_request.status = RequestStatus.CLOSED.value
        dup_request.state = "merged"
        dup_request.closed_at = now
    dup_request.version += 1
    keep_request.version += 1
    _event(session, p, p.tenant_id, duplicate_id, "report.merged_into", keep_id=str(keep_id), from_state=previous,
           status=dup_request.status, moved_supports=moved, moved_files=files)
    _event(session, p, p.tenant_id, keep_id, "report.merged_from", duplicate_id=str(duplicate_id),
           moved_supports=moved, moved_files=files)
    await session.flush()
    (row,) = await load_rows(session, p.tenant_id, [keep_id])
    return row  # type: ignore[return-value]


async def _move_files(session: AsyncSession, p: Principal, from_id: uuid.UUID, to_id: uuid.UUID) -> int:
    from domain.files.models import StoredFile

    result = await session.execute(
        sa.update(StoredFile)
        .where(StoredFile.tenant_id == p.tenant_id, StoredFile.owner_type == "Request", StoredFile.owner_id == from_id)
        .values(owner_id=to_id)
    )
    return result.rowcount or 0


@dataclass
class ItemResult:
    index: int
    row: ReportRow | None
    error: DomainValidationError | None


async def close_reports(
    session: AsyncSession, principal: Principal | None, ids: list[uuid.UUID], resolution_note: Any
) -> list[ItemResult]:
    """Close many reports at once (transition ``resolve``). NOT all-or-nothing: each one is
    checked on its own in a savepoint; the valid ones close, the others report their error."""
    p = require_staff(principal)
    if not isinstance(resolution_note, str) or not resolution_note.strip():
        raise DomainValidationError.single(("resolution_note",), "REQUIRED")
    if not ids or len(ids) > 100:
        raise DomainValidationError.single(("ids",), "INVALID_PAGE_SIZE", max=100)
    results: list[ItemResult] = []
    for i, rid in enumerate(ids):
        try:
            async with session.begin_nested():
                await _lock_report(session, p.tenant_id, rid, ("id",))
                request = await requests._lock(session, p, rid)
                await requests.transition_request(session, p, rid, request.version, "resolve", {"comment": resolution_note.strip()})
                _event(session, p, p.tenant_id, rid, "report.closed", bulk=True)
                await session.flush()
            (row,) = await load_rows(session, p.tenant_id, [rid])
            results.append(ItemResult(i, row, None))
        except DomainValidationError as exc:
            results.append(ItemResult(i, None, exc))
    return results


# ---------------------------------------------------------------- photos


async def published_photos(session: AsyncSession, tenant_id: uuid.UUID, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Photos agents published, per report (public feeds show only these)."""
    from domain.files.models import FilePurpose, StoredFile

    out: dict[uuid.UUID, list[Any]] = {i: [] for i in request_ids}
    if not request_ids:
        return out
    files = (
        await session.execute(
            sa.select(StoredFile)
            .where(
                StoredFile.tenant_id == tenant_id, StoredFile.owner_type == "Request", StoredFile.owner_id.in_(list(request_ids)),
                StoredFile.purpose == FilePurpose.PHOTO.value, StoredFile.published.is_(True),
            )
            .order_by(StoredFile.created_at, StoredFile.id)
        )
    ).scalars()
    for f in files:
        out[f.owner_id].append(f)  # type: ignore[index]
    return out


async def claim_photos(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID, file_ids: list[uuid.UUID]) -> int:
    from domain.files.models import FilePurpose
    from domain.files.services import claim_files

    files = await claim_files(session, principal, file_ids, FilePurpose.PHOTO, owner_type="Request", owner_id=request_id, field=("photo_ids",))
    return len(files)


async def publish_photo(session: AsyncSession, principal: Principal | None, file_id: uuid.UUID, published: bool) -> ReportRow:
    """Agents publish (or withdraw) a photo of a report for the public map."""
    from domain.files.models import StoredFile
    from domain.files.services import set_published

    p = require_staff(principal)
    owner = (
        await session.execute(
            sa.select(StoredFile.owner_id).where(
                StoredFile.tenant_id == p.tenant_id, StoredFile.id == file_id, StoredFile.owner_type == "Request"
            )
        )
    ).scalar_one_or_none()
    row = (await load_rows(session, p.tenant_id, [owner]))[0] if owner else None
    if row is None:
        raise DomainValidationError.single(("file_id",), "NOT_FOUND")
    try:
        await set_published(session, p, file_id, published)
    except DomainValidationError as exc:
        raise DomainValidationError([type(e)(("file_id",), e.code, e.params) for e in exc.errors]) from None
    _event(session, p, p.tenant_id, row.request.id, "report.photo_published" if published else "report.photo_unpublished",
           file_id=str(file_id))
    await session.flush()
    return row


async def tenant_by_slug(session: AsyncSession, slug: Any, field: tuple[str, ...] = ("tenant",)) -> uuid.UUID:
    from domain.tenancy.models import Tenant

    tenant_id = None
    if isinstance(slug, str):
        tenant_id = (await session.execute(sa.select(Tenant.id).where(Tenant.slug == slug))).scalar_one_or_none()
    if tenant_id is None:
        raise DomainValidationError.single(field, "NOT_FOUND")
    return tenant_id


# ---------------------------------------------------------------- category configuration

CODE_RE = __import__("re").compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


async def save_category(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> ReportCategory:
    """Administrators create (new code) or change (existing code) a category of the tree."""
    p = require_role(principal, Role.ADMIN)
    errors = Collector()
    code = data.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise DomainValidationError.single(("code",), "INVALID_SLUG")
    cat = (
        await session.execute(
            sa.select(ReportCategory).where(ReportCategory.tenant_id == p.tenant_id, ReportCategory.code == code).with_for_update()
        )
    ).scalar_one_or_none()
    creating = cat is None
    if creating:
        cat = ReportCategory(tenant_id=p.tenant_id, code=code, label_fr="", label_en="")
    for key, column in (("label_fr", "label_fr"), ("label_en", "label_en")):
        if key in data or creating:
            value = (data.get(key) or "").strip() if isinstance(data.get(key), str) else ""
            if not value:
                errors.add((key,), "REQUIRED")
            elif len(value) > 150:
                errors.add((key,), "TOO_LONG", max=150)
            else:
                setattr(cat, column, value)
    if "duplicate_radius_meters" in data:
        r = data["duplicate_radius_meters"]
        if r is None or not 1 <= r <= 1000:
            errors.add(("duplicate_radius_meters",), "OUT_OF_RANGE", min=1, max=1000)
        else:
            cat.duplicate_radius_m = r
    if "target_resolution_days" in data:
        d = data["target_resolution_days"]
        if d is not None and not 1 <= d <= 365:
            errors.add(("target_resolution_days",), "OUT_OF_RANGE", min=1, max=365)
        else:
            cat.target_resolution_days = d
    if "active" in data and data["active"] is not None:
        cat.active = bool(data["active"])
    if "department_code" in data:
        dept = data["department_code"]
        if dept is None:
            cat.department_id = None
        else:
            dep_id = (
                await session.execute(sa.select(Department.id).where(Department.tenant_id == p.tenant_id, Department.code == dept))
            ).scalar_one_or_none()
            if dep_id is None:
                errors.add(("department_code",), "UNKNOWN_DEPARTMENT", department=str(dept)[:63])
            cat.department_id = dep_id
    if "parent_code" in data:
        parent_code = data["parent_code"]
        if parent_code is None:
            cat.parent_id = None
        else:
            cats = {c.code: c for c in (await session.execute(sa.select(ReportCategory).where(ReportCategory.tenant_id == p.tenant_id))).scalars()}
            parent = cats.get(parent_code)
            if parent is None:
                errors.add(("parent_code",), "UNKNOWN_CATEGORY", category=str(parent_code)[:63])
            else:
                by_id = {c.id: c for c in cats.values()}
                node: ReportCategory | None = parent
                while node is not None:  # the new parent may not be the category itself or one of its descendants
                    if node.code == code:
                        errors.add(("parent_code",), "CYCLE")
                        break
                    node = by_id.get(node.parent_id) if node.parent_id else None
                if not errors:
                    cat.parent_id = parent.id
    if "form_category" in data and data["form_category"] is not None:
        cat.form_category = str(data["form_category"])[:63]
    errors.raise_if_any()
    cat.updated_at = utcnow()
    if creating:
        session.add(cat)
    await session.flush()
    record_event(session, tenant_id=p.tenant_id, type="report.category_created" if creating else "report.category_updated",
                 aggregate_type="ReportCategory", aggregate_id=cat.id, actor=p, payload={"code": code, "fields": sorted(data)})
    await session.flush()
    return cat
