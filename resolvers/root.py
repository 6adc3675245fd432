"""The root Query and Mutation, merged from every context's resolvers."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from resolvers.appointments import AppointmentMutation, AppointmentQuery
from resolvers.auth import AuthMutation, AuthQuery
from resolvers.citizens import CitizenMutation, CitizenQuery
from resolvers.clients import ClientMutation, ClientQuery
from resolvers.dashboards import DashboardQuery
from resolvers.files import FileMutation, FileQuery
from resolvers.node import fetch_node
from resolvers.procedures import ProcedureMutation, ProcedureQuery
from resolvers.reports import ReportMutation, ReportQuery
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
        # one awaitable per item: an object the caller may not see becomes null with
        # its own error at ["nodes", index], the others are still returned
        return [fetch_node(info.context, i) for i in ids]  # type: ignore[misc]


QUERY_TYPES: list[type] = [NodeQuery, AuthQuery, TenancyQuery, CitizenQuery, ClientQuery, FileQuery, AppointmentQuery, ProcedureQuery, RequestQuery, ReportQuery, DashboardQuery]
MUTATION_TYPES: list[type] = [AuthMutation, TenancyMutation, CitizenMutation, ClientMutation, FileMutation, AppointmentMutation, ProcedureMutation, RequestMutation, ReportMutation]

Query = merge_types("Query", tuple(QUERY_TYPES))
Mutation = merge_types("Mutation", tuple(MUTATION_TYPES))
