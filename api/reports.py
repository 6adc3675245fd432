"""The public reports map as GeoJSON: ``GET /public/{tenant}/reports.geojson?bbox=minLon,minLat,maxLon,maxLat``
(optional ``categories=a,b``, ``statuses=SUBMITTED,IN_PROGRESS``, ``first``, ``after``). No authentication,
no personal data; photos only once published by an agent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.errors import DomainValidationError
from domain.files.signing import ORIGINAL, THUMBNAIL
from domain.messages import negotiate_locale, translate
from domain.reports import services
from domain.reports.rules import parse_bbox


def _list(value: str | None) -> list[str] | None:
    return [x for x in value.split(",") if x] if value else None


async def reports_geojson(request: Request) -> Response:
    locale = negotiate_locale(request.headers.get("accept-language"))
    q = request.query_params
    try:
        box = parse_bbox(q.get("bbox") or "", ("bbox",))
        first = int(q["first"]) if q.get("first") else 100
        async with request.app.state.sessionmaker() as session:
            tenant_id = await services.tenant_by_slug(session, request.path_params["tenant"])
            page = await services.public_reports(session, tenant_id, box, _list(q.get("categories")), _list(q.get("statuses")), first, q.get("after"))
            cats = {c.id: c for c in await services.list_categories(session, tenant_id)}
            photos = await services.published_photos(session, tenant_id, [row.request.id for row in page.items])
    except ValueError:
        return JSONResponse({"error": {"code": "INVALID_PAGE_SIZE", "field": ["first"], "message": translate("INVALID_PAGE_SIZE", locale, {"max": 100})}}, status_code=400)
    except DomainValidationError as exc:
        e = exc.errors[0]
        status = 404 if e.code == "NOT_FOUND" else 400
        return JSONResponse(
            {"error": {"code": e.code, "field": list(e.field or ()), "message": translate(e.code, locale, e.params)}}, status_code=status
        )
    files = request.app.state.files
    features = []
    for row, cursor in zip(page.items, page.cursors):
        r, d = row.request, row.details
        cat = cats[d.category_id]
        features.append(
            {
                "type": "Feature",
                "id": str(r.id),
                "geometry": {"type": "Point", "coordinates": [d.longitude, d.latitude]},
                "properties": {
                    "reference": r.reference, "category": cat.code, "categoryLabel": {"fr": cat.label_fr, "en": cat.label_en},
                    "status": r.status, "state": r.state, "address": d.address, "supportCount": d.support_count,
                    "submittedAt": r.submitted_at.isoformat() if r.submitted_at else None,
                    "closedAt": r.closed_at.isoformat() if r.closed_at else None,
                    "photos": [
                        {"url": files.url(request, f, ORIGINAL), "thumbnailUrl": files.url(request, f, THUMBNAIL) if f.thumbnail_key else None}
                        for f in photos[r.id]
                    ],
                    "cursor": cursor,
                },
            }
        )
    body = {
        "type": "FeatureCollection",
        "features": features,
        "pageInfo": {"hasNextPage": page.has_next_page, "endCursor": page.cursors[-1] if page.cursors else None},
    }
    return JSONResponse(body, media_type="application/geo+json")
