"""Queries and mutations of tenants, departments and agents."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from auth.agent_check import forget_agent
from domain.tenancy import services
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.common import Connection, connection_from_page, decode_id, input_to_data
from schema.tenancy import (
    Agent,
    AgentCreateInput,
    AgentPayload,
    AgentUpdateInput,
    Department,
    DepartmentCreateInput,
    DepartmentPayload,
    DepartmentUpdateInput,
    Tenant,
)


@register_node("Department")
async def _department_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        dep = await services.get_department(s, ctx.principal, raw_id)
    return Department.from_model(dep) if dep else None


@register_node("Agent")
async def _agent_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        agent = await services.get_agent(s, ctx.principal, raw_id)
    return Agent.from_model(agent) if agent else None


@register_node("Tenant")
async def _tenant_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        tenant = await services.current_tenant(s, ctx.principal)
    return Tenant.from_model(tenant) if tenant.id == raw_id else None


def _department_data(data: dict) -> dict:
    if data.get("parent_id") is not None:
        data["parent_id"] = decode_id(data["parent_id"], "Department", ("parent_id",))
    return data


def _agent_data(data: dict) -> dict:
    if data.get("department_ids") is not None:
        data["department_ids"] = [
            decode_id(gid, "Department", ("department_ids", str(i))) for i, gid in enumerate(data["department_ids"])
        ]
    return data


@strawberry.type
class TenancyQuery:
    @strawberry.field(description="The local authority of the authenticated principal.")
    async def tenant(self, info: Info) -> Tenant:
        ctx = info.context
        async with ctx.read() as s:
            return Tenant.from_model(await services.current_tenant(s, ctx.principal))

    @strawberry.field(description="Every department of the tenant, sorted by name (a bounded list).")
    async def departments(self, info: Info) -> list[Department]:
        ctx = info.context
        async with ctx.read() as s:
            return [Department.from_model(d) for d in await services.list_departments(s, ctx.principal)]

    @strawberry.field
    async def department(self, info: Info, id: strawberry.ID) -> Department | None:
        return await _department_node(info.context, decode_id(id, "Department"))

    @strawberry.field(description="Agents of the tenant, by family name; `search` matches names and e-mail.")
    async def agents(
        self,
        info: Info,
        search: str | None = None,
        department_id: strawberry.ID | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Agent]:
        ctx = info.context
        dep = decode_id(department_id, "Department", ("department_id",)) if department_id else None
        async with ctx.read() as s:
            page = await services.list_agents(s, ctx.principal, search, dep, first, after)
        return connection_from_page(page, Agent.from_model)

    @strawberry.field
    async def agent(self, info: Info, id: strawberry.ID) -> Agent | None:
        return await _agent_node(info.context, decode_id(id, "Agent"))


@strawberry.type
class TenancyMutation:
    @strawberry.mutation(description="Create a department (ADMIN).")
    async def department_create(self, info: Info, input: DepartmentCreateInput) -> DepartmentPayload:
        ctx = info.context

        async def action(s):
            return await services.create_department(s, ctx.principal, _department_data(input_to_data(input)))

        return await run_mutation(ctx, action, DepartmentPayload, "department", Department.from_model)

    @strawberry.mutation(description="Rename or move a department (ADMIN).")
    async def department_update(self, info: Info, input: DepartmentUpdateInput) -> DepartmentPayload:
        ctx = info.context

        async def action(s):
            data = _department_data(input_to_data(input))
            dep_id = decode_id(data.pop("id"), "Department")
            return await services.update_department(s, ctx.principal, dep_id, data.pop("version"), data)

        return await run_mutation(ctx, action, DepartmentPayload, "department", Department.from_model)

    @strawberry.mutation(description="Create an agent with roles and departments (ADMIN).")
    async def agent_create(self, info: Info, input: AgentCreateInput) -> AgentPayload:
        ctx = info.context

        async def action(s):
            return await services.create_agent(s, ctx.principal, _agent_data(input_to_data(input)))

        return await run_mutation(ctx, action, AgentPayload, "agent", Agent.from_model)

    @strawberry.mutation(description="Change an agent's identity, roles, departments or deactivate them (ADMIN).")
    async def agent_update(self, info: Info, input: AgentUpdateInput) -> AgentPayload:
        ctx = info.context

        async def action(s):
            data = _agent_data(input_to_data(input))
            agent_id = decode_id(data.pop("id"), "Agent")
            agent = await services.update_agent(s, ctx.principal, agent_id, data.pop("version"), data)
            forget_agent(agent.tenant_id, agent.id)  # this process honours the change at once
            return agent

        return await run_mutation(ctx, action, AgentPayload, "agent", Agent.from_model)
