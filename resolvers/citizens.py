"""Queries and mutations of the citizen repository."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from domain.citizens import services
from domain.security import require_citizen
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.citizens import Citizen, CitizenCreateInput, CitizenPayload, CitizenUpdateInput, MyProfileUpdateInput
from schema.common import Connection, connection_from_page, decode_id, input_to_data


@register_node("Citizen")
async def _citizen_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        citizen = await services.get_citizen(s, ctx.principal, raw_id)
    return Citizen.from_model(citizen) if citizen else None


@strawberry.type
class CitizenQuery:
    @strawberry.field(description="A citizen of the tenant (agents), or yourself (citizens).")
    async def citizen(self, info: Info, id: strawberry.ID) -> Citizen | None:
        return await _citizen_node(info.context, decode_id(id, "Citizen"))

    @strawberry.field(
        description="Citizens by family then given names. `search` matches names, birth name, e-mail and phone, "
        "ignoring accents and case; each word is a prefix (\"dup jea\" finds Jean Dupont)."
    )
    async def citizens(
        self, info: Info, search: str | None = None, first: int | None = 20, after: str | None = None
    ) -> Connection[Citizen]:
        ctx = info.context
        async with ctx.read() as s:
            page = await services.search_citizens(s, ctx.principal, search, first, after)
        return connection_from_page(page, Citizen.from_model)

    @strawberry.field(description="The authenticated citizen's own record.")
    async def me(self, info: Info) -> Citizen | None:
        ctx = info.context
        p = require_citizen(ctx.principal)
        return await _citizen_node(ctx, p.subject_id)


@strawberry.type
class CitizenMutation:
    @strawberry.mutation(description="Register a citizen (agents: counter, phone, mail).")
    async def citizen_create(self, info: Info, input: CitizenCreateInput) -> CitizenPayload:
        ctx = info.context

        async def action(s):
            return await services.create_citizen(s, ctx.principal, input_to_data(input))

        return await run_mutation(ctx, action, CitizenPayload, "citizen", Citizen.from_model)

    @strawberry.mutation(description="Change a citizen's record (agents). Send the version you read.")
    async def citizen_update(self, info: Info, input: CitizenUpdateInput) -> CitizenPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            citizen_id = decode_id(data.pop("id"), "Citizen")
            return await services.update_citizen(s, ctx.principal, citizen_id, data.pop("version"), data)

        return await run_mutation(ctx, action, CitizenPayload, "citizen", Citizen.from_model)

    @strawberry.mutation(description="The authenticated citizen changes their own profile.")
    async def my_profile_update(self, info: Info, input: MyProfileUpdateInput) -> CitizenPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            return await services.update_my_profile(s, ctx.principal, data.pop("version"), data)

        return await run_mutation(ctx, action, CitizenPayload, "citizen", Citizen.from_model)
