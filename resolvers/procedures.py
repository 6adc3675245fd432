"""Queries and mutations of the procedure catalogue."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from domain.procedures import services
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.common import decode_id
from schema.procedures import Procedure, ProcedurePayload, ProcedurePublishInput, ProcedureSetActiveInput, ProcedureVersion


@register_node("Procedure")
async def _procedure_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        procedure = await services.get_procedure_by_id(s, ctx.principal, raw_id)
    return Procedure.from_model(procedure) if procedure else None


@register_node("ProcedureVersion")
async def _procedure_version_node(ctx, raw_id: uuid.UUID):
    from domain.security import require_principal

    tenant_id = require_principal(ctx.principal).tenant_id
    async with ctx.read() as s:
        (version,) = await services.load_procedure_versions(s, tenant_id, [raw_id])
    return ProcedureVersion.from_model(version) if version else None


@strawberry.type
class ProcedureQuery:
    @strawberry.field(description="The tenant's catalogue of active procedures (citizens and staff), by category and code.")
    async def procedures(self, info: Info, category: str | None = None) -> list[Procedure]:
        ctx = info.context
        async with ctx.read() as s:
            return [Procedure.from_model(p) for p in await services.list_procedures(s, ctx.principal, category)]

    @strawberry.field(description="A procedure by code (e.g. civil-status-certificate).")
    async def procedure(self, info: Info, code: str) -> Procedure | None:
        ctx = info.context
        async with ctx.read() as s:
            found = await services.get_procedure(s, ctx.principal, code)
        return Procedure.from_model(found) if found else None

    @strawberry.field(description="A procedure version by ID (requests point at the version they were submitted under).")
    async def procedure_version(self, info: Info, id: strawberry.ID) -> ProcedureVersion | None:
        return await _procedure_version_node(info.context, decode_id(id, "ProcedureVersion"))


@strawberry.type
class ProcedureMutation:
    @strawberry.mutation(
        description="Publish a procedure definition (ADMIN). New code: version 1; changed definition: a new version "
        "(existing requests keep theirs); unchanged: no-op. Refused with userErrors pointing at the faulty place."
    )
    async def procedure_publish(self, info: Info, input: ProcedurePublishInput) -> ProcedurePayload:
        ctx = info.context

        async def action(s):
            return await services.publish_procedure(s, ctx.principal, input.definition)

        return await run_mutation(ctx, action, ProcedurePayload, "procedure", Procedure.from_model)

    @strawberry.mutation(
        description="Withdraw a procedure from the catalogue or offer it again (ADMIN). A withdrawn procedure refuses "
        "new submissions (UNKNOWN_PROCEDURE); its requests go on."
    )
    async def procedure_set_active(self, info: Info, input: ProcedureSetActiveInput) -> ProcedurePayload:
        ctx = info.context

        async def action(s):
            return await services.set_procedure_active(s, ctx.principal, input.code, input.active)

        return await run_mutation(ctx, action, ProcedurePayload, "procedure", Procedure.from_model)
