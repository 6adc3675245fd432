"""Open311 GeoReport v2 over reports: service list and definitions (from the street-issue
form), request submission, search and lookup. Plain data in, plain dicts out; the HTTP
layer (``api/open311.py``) only parses parameters and renders JSON or XML.

Choices where the specification leaves room:
* ``jurisdiction_id`` is the tenant slug and is required (one endpoint serves every tenant).
* ``service_request_id`` is the request reference (e.g. ``2026-000123``); POST answers
  with it at once (the request is created synchronously) and with a ``token`` (the
  request's UUID), which ``tokens/{token}`` resolves too.
* ``GET requests`` only lists public, non-merged reports (like the public map); with no
  dates it covers the last 90 days; ``page_size`` is 1..100 (default 50).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.base import utcnow
from domain.errors import DomainValidationError
from domain.procedures.models import Procedure, ProcedureVersion
from domain.reports import services
from domain.reports.models import REPORT_PROCEDURE, ReportCategory, ReportDetails
from domain.requests.models import Request, RequestStatus
from domain.security import Principal, require_staff
from domain.tenancy.models import Department

# Form fields that Open311's standard parameters already carry.
STANDARD_FIELDS = {"category", "description", "location", "latitude", "longitude", "photos", "reporterEmail"}
CLOSED = {RequestStatus.ACCEPTED.value, RequestStatus.REJECTED.value, RequestStatus.CLOSED.value, RequestStatus.CANCELLED.value}
DEFAULT_DAYS = 90
MAX_PAGE_SIZE = 100


class Open311Error(Exception):
    """An error in the Open311 format: HTTP status and description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


async def tenant_for(session: AsyncSession, jurisdiction_id: str | None) -> uuid.UUID:
    if not jurisdiction_id:
        raise Open311Error(400, "jurisdiction_id is required (the tenant slug)")
    try:
        return await services.tenant_by_slug(session, jurisdiction_id)
    except DomainValidationError:
        raise Open311Error(404, f"unknown jurisdiction_id: {jurisdiction_id[:63]}") from None


async def service_list(session: AsyncSession, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    cats = await services.list_categories(session, tenant_id)
    by_id = {c.id: c for c in cats}
    return [
        {
            "service_code": c.code,
            "service_name": c.label_fr,
            "description": c.label_en,
            "metadata": True,
            "type": "realtime",
            "keywords": c.code.replace("-", " "),
            "group": by_id[c.parent_id].label_fr if c.parent_id in by_id else c.label_fr,
        }
        for c in cats
    ]


async def _form(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any]:
    definition = (
        await session.execute(
            sa.select(ProcedureVersion.definition)
            .join(Procedure, Procedure.current_version_id == ProcedureVersion.id)
            .where(Procedure.tenant_id == tenant_id, Procedure.code == REPORT_PROCEDURE)
        )
    ).scalar_one_or_none()
    if definition is None:
        raise Open311Error(404, "reports are not open in this jurisdiction")
    return definition.get("form") or {}


def _datatype(prop: dict[str, Any]) -> tuple[str, list[dict[str, str]] | None]:
    if "enum" in prop:
        return "singlevaluelist", [{"key": str(v), "name": str(v)} for v in prop["enum"]]
    kind = prop.get("type")
    if kind == "boolean":
        return "singlevaluelist", [{"key": "true", "name": "true"}, {"key": "false", "name": "false"}]
    if kind in ("number", "integer"):
        return "number", None
    if kind == "string" and prop.get("format") in ("date", "date-time"):
        return "datetime", None
    if kind == "string" and (prop.get("maxLength") or 0) > 255:
        return "text", None
    return "string", None


def attributes_of(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Open311 attributes from the procedure's form (JSON Schema + ui hints), minus standard fields."""
    schema = form.get("schema") or {}
    ui = (form.get("ui") or {}).get("fields") or {}
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in STANDARD_FIELDS or not isinstance(prop, dict) or prop.get("type") in ("object", "array"):
            continue
        hints = ui.get(name) or {}
        datatype, values = _datatype(prop)
        label = (hints.get("label") or {}).get("fr") or name
        attr: dict[str, Any] = {
            "variable": True, "code": name, "datatype": datatype, "required": name in required,
            "datatype_description": (hints.get("label") or {}).get("en") or None,
            "order": int(hints.get("order") or len(out) + 1), "description": label,
        }
        if values is not None:
            options = hints.get("options") or {}
            attr["values"] = [{"key": v["key"], "name": (options.get(v["key"]) or {}).get("fr") or v["name"]} for v in values]
        out.append(attr)
    return sorted(out, key=lambda a: (a["order"], a["code"]))


async def service_definition(session: AsyncSession, tenant_id: uuid.UUID, code: str) -> dict[str, Any]:
    cats = {c.code for c in await services.list_categories(session, tenant_id)}
    if code not in cats:
        raise Open311Error(404, f"unknown service_code: {code[:63]}")
    return {"service_code": code, "attributes": attributes_of(await _form(session, tenant_id))}


def _attribute_answers(form: dict[str, Any], raw: dict[str, str]) -> dict[str, Any]:
    """Convert attribute[code] text values to the form's types (the form validates them after)."""
    props = (form.get("schema") or {}).get("properties") or {}
    out: dict[str, Any] = {}
    for code, text in raw.items():
        prop = props.get(code)
        if code in STANDARD_FIELDS or not isinstance(prop, dict):
            raise Open311Error(400, f"unknown attribute: {code[:63]}")
        kind = prop.get("type")
        try:
            if kind == "boolean":
                if text not in ("true", "false"):
                    raise ValueError
                out[code] = text == "true"
            elif kind == "number":
                out[code] = float(text)
            elif kind == "integer":
                out[code] = int(text)
            else:
                out[code] = text
        except ValueError:
            raise Open311Error(400, f"attribute[{code[:63]}]: not a valid {kind}") from None
    return out


def _float(value: str | None, name: str) -> float:
    if value is None or value == "":
        raise Open311Error(400, f"{name} is required (or address_string)") if name != "long" else Open311Error(400, "long is required")
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None


def _describe(exc: DomainValidationError) -> str:
    from domain.messages import translate

    parts = []
    for e in exc.errors:
        field = ".".join(e.field) if e.field else "request"
        parts.append(f"{field}: {translate(e.code, 'en', e.params)}")
    return "; ".join(parts)


async def submit(
    session: AsyncSession, principal: Principal | None, tenant_id: uuid.UUID, params: dict[str, Any]
) -> dict[str, Any]:
    """POST requests: an API client (key) relays a report; the reporter is anonymous (e-mail kept)."""
    p = require_staff(principal)
    if p.tenant_id != tenant_id:
        raise Open311Error(403, "this api_key does not belong to this jurisdiction_id")
    code = params.get("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    if params.get("lat") in (None, "") and params.get("long") in (None, ""):
        raise Open311Error(400, "lat and long are required (address_string alone cannot be located)")
    lat, lon = _float(params.get("lat"), "lat"), _float(params.get("long"), "long")
    form = await _form(session, tenant_id)
    data = {
        "category_code": code, "latitude": lat, "longitude": lon, "description": params.get("description") or "",
        "address": params.get("address_string") or None, "reporter_email": params.get("email") or None,
        "extra_answers": _attribute_answers(form, params.get("attributes") or {}),
    }
    try:
        result = await services.submit_report(session, p, data)
    except DomainValidationError as exc:
        if exc.errors[0].code == "UNKNOWN_CATEGORY":
            raise Open311Error(404, f"unknown service_code: {str(code)[:63]}") from None
        raise Open311Error(400, _describe(exc)) from None
    request = result.row.request
    return {"service_request_id": request.reference, "token": str(request.id), "service_notice": "", "account_id": None}


@dataclass
class Filters:
    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    page: int = 1
    page_size: int = 50


def _parse_dt(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time (e.g. 2026-11-01T00:00:00Z)") from None
    if dt.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone offset (e.g. Z)")
    return dt


def parse_filters(params: dict[str, str]) -> Filters:
    f = Filters()
    if params.get("service_request_id"):
        f.ids = [x.strip() for x in params["service_request_id"].split(",") if x.strip()][:MAX_PAGE_SIZE]
    if params.get("service_code"):
        f.service_codes = [x.strip() for x in params["service_code"].split(",") if x.strip()]
    f.start = _parse_dt(params.get("start_date"), "start_date")
    f.end = _parse_dt(params.get("end_date"), "end_date")
    if f.start and f.end and f.start > f.end:
        raise Open311Error(400, "start_date must be before end_date")
    status = params.get("status")
    if status:
        if status not in ("open", "closed"):
            raise Open311Error(400, "status must be open or closed")
        f.status = status
    for name, low, high in (("page", 1, 10_000), ("page_size", 1, MAX_PAGE_SIZE)):
        if params.get(name):
            try:
                value = int(params[name])
            except ValueError:
                raise Open311Error(400, f"{name} must be an integer") from None
            if not low <= value <= high:
                raise Open311Error(400, f"{name} must be between {low} and {high}")
            setattr(f, name, value)
    return f


def _public_stmt(tenant_id: uuid.UUID) -> sa.Select:
    d = ReportDetails
    return (
        sa.select(Request, d, ReportCategory.code, ReportCategory.label_fr, Department.name)
        .join(d, d.request_id == Request.id)
        .join(ReportCategory, ReportCategory.id == d.category_id)
        .outerjoin(Department, Department.id == Request.department_id)
        .where(
            d.tenant_id == tenant_id, Request.tenant_id == tenant_id, d.public.is_(True), d.merged_into_id.is_(None),
            Request.status.notin_([RequestStatus.DRAFT.value, RequestStatus.CANCELLED.value]),
        )
    )


def _render(row: Any) -> dict[str, Any]:
    request, d, code, name, department = row
    closed = request.status in CLOSED
    return {
        "service_request_id": request.reference,
        "status": "closed" if closed else "open",
        "status_notes": request.state,
        "service_name": name,
        "service_code": code,
        "description": (request.answers or {}).get("description"),
        "agency_responsible": department,
        "service_notice": None,
        "requested_datetime": _iso(request.submitted_at),
        "updated_datetime": _iso(request.updated_at),
        "expected_datetime": _iso(request.due_at),
        "address": d.address,
        "address_id": None,
        "zipcode": None,
        "lat": d.latitude,
        "long": d.longitude,
        "media_url": None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def list_requests(session: AsyncSession, tenant_id: uuid.UUID, f: Filters) -> list[dict[str, Any]]:
    stmt = _public_stmt(tenant_id)
    if f.ids:
        stmt = stmt.where(Request.reference.in_(f.ids))
    else:
        if f.start is None and f.end is None:
            f.start = utcnow() - timedelta(days=DEFAULT_DAYS)
        # reports are never drafts: created_at is the submission time, and (tenant_id, created_at, id) is indexed
        if f.start:
            stmt = stmt.where(Request.created_at >= f.start)
        if f.end:
            stmt = stmt.where(Request.created_at <= f.end)
    if f.service_codes:
        stmt = stmt.where(ReportCategory.code.in_(f.service_codes))
    if f.status == "open":
        stmt = stmt.where(Request.status.notin_(CLOSED))
    elif f.status == "closed":
        stmt = stmt.where(Request.status.in_(CLOSED))
    stmt = stmt.order_by(Request.created_at.desc(), Request.id.desc()).offset((f.page - 1) * f.page_size).limit(f.page_size)
    rows = (await session.execute(stmt)).all()
    photos = await services.published_photos(session, tenant_id, [r[0].id for r in rows])
    out = []
    for row in rows:
        item = _render(row)
        item["_photos"] = photos.get(row[0].id) or []
        out.append(item)
    return out


async def get_request(session: AsyncSession, tenant_id: uuid.UUID, service_request_id: str) -> list[dict[str, Any]]:
    rows = await list_requests(session, tenant_id, Filters(ids=[service_request_id]))
    if not rows:
        raise Open311Error(404, f"unknown service_request_id: {service_request_id[:40]}")
    return rows


async def by_token(session: AsyncSession, tenant_id: uuid.UUID, token: str) -> dict[str, Any]:
    try:
        request_id = uuid.UUID(token)
    except ValueError:
        raise Open311Error(404, "unknown token") from None
    reference = (
        await session.execute(
            sa.select(Request.reference)
            .join(ReportDetails, ReportDetails.request_id == Request.id)
            .where(Request.tenant_id == tenant_id, Request.id == request_id)
        )
    ).scalar_one_or_none()
    if reference is None:
        raise Open311Error(404, "unknown token")
    return {"service_request_id": reference, "token": token}
