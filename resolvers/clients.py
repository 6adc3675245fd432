"""API clients: issue, list and revoke keys (ADMIN agents)."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from domain.clients import services
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.clients import ApiClient, ApiClientCreateInput, ApiClientCreatePayload, ApiClientPayload, ApiClientRevokeInput
from schema.common import Connection, connection_from_page, decode_id, input_to_data


@register_node("ApiClient")
async def _api_client_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        client = await services.get_api_client(s, ctx.principal, raw_id)
    return ApiClient.from_model(client) if client else None


@strawberry.type
class ClientQuery:
    @strawberry.field(description="API clients of the tenant, by name (ADMIN). Revoked ones only with `includeRevoked`.")
    async def api_clients(
        self, info: Info, first: int | None = 20, after: str | None = None, include_revoked: bool = False
    ) -> Connection[ApiClient]:
        ctx = info.context
        async with ctx.read() as s:
            page = await services.list_api_clients(s, ctx.principal, first, after, include_revoked)
        return connection_from_page(page, ApiClient.from_model)

    @strawberry.field(description="One API client of the tenant (ADMIN agents).")
    async def api_client(self, info: Info, id: strawberry.ID) -> ApiClient | None:
        return await _api_client_node(info.context, decode_id(id, "ApiClient"))


@strawberry.type
class ClientMutation:
    @strawberry.mutation(description="Issue an API key (ADMIN agents). The key is in the payload, this once only.")
    async def api_client_create(self, info: Info, input: ApiClientCreateInput) -> ApiClientCreatePayload:
        ctx = info.context
        issued: list[services.IssuedClient] = []

        async def action(s):
            data = input_to_data(input)
            data["department_ids"] = [
                decode_id(gid, "Department", ("department_ids", str(i))) for i, gid in enumerate(data.get("department_ids") or [])
            ]
            result = await services.create_api_client(s, ctx.principal, data)
            issued.append(result)
            return result.client

        payload = await run_mutation(
            ctx, action, lambda **kw: ApiClientCreatePayload(key=None, **kw), "api_client", ApiClient.from_model
        )
        if payload.api_client is not None:
            payload.key = issued[0].key
        return payload

    @strawberry.mutation(description="Revoke an API key at once (ADMIN agents): requests with it get 401.")
    async def api_client_revoke(self, info: Info, input: ApiClientRevokeInput) -> ApiClientPayload:
        ctx = info.context

        async def action(s):
            return await services.revoke_api_client(s, ctx.principal, decode_id(input.id, "ApiClient"), input.version)

        return await run_mutation(ctx, action, ApiClientPayload, "api_client", ApiClient.from_model)
