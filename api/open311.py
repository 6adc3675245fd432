"""Open311 GeoReport v2 at ``/open311/v2/`` (JSON and XML). Parameters are parsed here,
the logic is in ``domain/reports/open311.py``. ``jurisdiction_id`` = tenant slug;
POST needs ``api_key`` (an API client key, see docs/integrations.md)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.api_keys import principal_from_api_key
from domain.errors import Forbidden, NotAuthenticated
from domain.files.signing import ORIGINAL
from domain.reports import open311

FORMATS = ("json", "xml")
# element name of each item in XML lists
XML_ITEM = {"services": "service", "service_requests": "request", "errors": "error", "values": "value", "attributes": "attribute"}


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, list):
        for item in value:
            _xml_value(child, XML_ITEM.get(name, "item"), item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(child, k, v)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def render(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    if fmt == "xml":
        element = ET.Element(root)
        items = body if isinstance(body, list) else None
        if items is None:
            for k, v in body.items():
                _xml_value(element, k, v)
        else:
            for item in items:
                _xml_value(element, XML_ITEM[root], item)
        data = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8")
        return Response(data, status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(body, status_code=status)


def error(fmt: str, status: int, description: str) -> Response:
    return render(fmt if fmt in FORMATS else "json", "errors", [{"code": status, "description": description}], status)


def _fmt(request: Request) -> str:
    fmt = request.path_params.get("fmt", "")
    if fmt not in FORMATS:
        raise open311.Open311Error(404, "format must be .json or .xml")
    return fmt


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            form = await request.form()
        except Exception:  # malformed body
            raise open311.Open311Error(400, "the body must be application/x-www-form-urlencoded") from None
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise open311.Open311Error(400, "files are not accepted: give media_url or upload through the GraphQL API")
            params[key] = value
    attributes = {k[len("attribute["):-1]: v for k, v in params.items() if k.startswith("attribute[") and k.endswith("]")}
    params["attributes"] = attributes
    return params


def _endpoint(handler):
    async def endpoint(request: Request) -> Response:
        fmt = request.path_params.get("fmt", "json")
        try:
            fmt = _fmt(request)
            params = await _params(request)
            async with request.app.state.sessionmaker() as session:
                tenant_id = await open311.tenant_for(session, params.get("jurisdiction_id"))
                root, body, status = await handler(request, session, tenant_id, params)
                await session.commit()
            return render(fmt, root, body, status)
        except open311.Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except NotAuthenticated:
            return error(fmt, 401, "api_key is required")
        except Forbidden:
            return error(fmt, 403, "this api_key may not submit requests")

    return endpoint


async def _services(request, session, tenant_id, params):
    return "services", await open311.service_list(session, tenant_id), 200


async def _service(request, session, tenant_id, params):
    return "service_definition", await open311.service_definition(session, tenant_id, request.path_params["code"]), 200


def _with_media(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    files = request.app.state.files
    for item in items:
        photos = item.pop("_photos", [])
        item["media_url"] = files.url(request, photos[0], ORIGINAL) if photos else None
    return items


async def _requests(request, session, tenant_id, params):
    if request.method == "POST":
        key = params.get("api_key")
        if not key:
            raise open311.Open311Error(401, "api_key is required")
        principal = await principal_from_api_key(session, key)
        if principal is None:
            raise open311.Open311Error(403, "invalid api_key")
        created = await open311.submit(session, principal, tenant_id, params)
        return "service_requests", [created], 201
    items = await open311.list_requests(session, tenant_id, open311.parse_filters(params))
    return "service_requests", _with_media(request, items), 200


async def _one_request(request, session, tenant_id, params):
    items = await open311.get_request(session, tenant_id, request.path_params["id"])
    return "service_requests", _with_media(request, items), 200


async def _token(request, session, tenant_id, params):
    return "service_requests", [await open311.by_token(session, tenant_id, request.path_params["token"])], 200


ROUTES = [
    Route("/open311/v2/services.{fmt}", _endpoint(_services), methods=["GET"]),
    Route("/open311/v2/services/{code}.{fmt}", _endpoint(_service), methods=["GET"]),
    Route("/open311/v2/requests.{fmt}", _endpoint(_requests), methods=["GET", "POST"]),
    Route("/open311/v2/requests/{id}.{fmt}", _endpoint(_one_request), methods=["GET"]),
    Route("/open311/v2/tokens/{token}.{fmt}", _endpoint(_token), methods=["GET"]),
]
