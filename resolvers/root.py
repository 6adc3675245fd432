"""The root Query and Mutation, merged from every context's resolvers."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from resolvers.appointments import AppointmentMutation, AppointmentQuery
from resolvers.auth import AuthMutation, AuthQuery
from resolvers.citizens import CitizenMutation, CitizenQuery
from resolvers.dashboards import DashboardQuery
from resolvers.node import fetch_node
from resolvers.procedures import ProcedureMutation, ProcedureQuery
from resolvers.requests import RequestMutation, RequestQuery
from resolvers.tenancy import TenancyMutation, TenancyQuery
from schema.common import Node

MAX_NODES = 100


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global ID; null when it does not exist or is not visible to you.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await fetch_node(info.context, id)

    @strawberry.field(description=f"Several objects by global ID (at most {MAX_NODES}), in the order asked.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        from domain.errors import DomainValidationError

        if len(ids) > MAX_NODES:
            raise DomainValidationError.single(("ids",), "INVALID_PAGE_SIZE", max=MAX_NODES)
        return [await fetch_node(info.context, i) for i in ids]


QUERY_TYPES: list[type] = [NodeQuery, AuthQuery, TenancyQuery, CitizenQuery, ProcedureQuery, RequestQuery, DashboardQuery, AppointmentQuery]
MUTATION_TYPES: list[type] = [AuthMutation, TenancyMutation, CitizenMutation, ProcedureMutation, RequestMutation, AppointmentMutation]

Query = merge_types("Query", tuple(QUERY_TYPES))
Mutation = merge_types("Mutation", tuple(MUTATION_TYPES))
