"""Queries and mutations of requests: submission, drafts, workflow, inbox, dialogue, satisfaction."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from domain.requests import services
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.common import Connection, decode_id, input_to_data
from schema.request_enums import InboxOrderField, OrderDirection, RequestStatus
from schema.requests import (
    InboxFilter,
    InboxOrder,
    Request,
    RequestAssignInput,
    RequestMarkReadInput,
    RequestMessage,
    RequestMessagePayload,
    RequestMessagePostInput,
    RequestPayload,
    RequestRateInput,
    RequestSaveDraftInput,
    RequestsAssignInput,
    RequestSetPriorityInput,
    RequestsPayload,
    RequestSubmitInput,
    RequestTransitionInput,
    request_connection,
)


@register_node("Request")
async def _request_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        request = await services.get_request(s, ctx.principal, raw_id)
    return Request.from_model(request) if request else None


def _ids(values: list[str] | None, type_name: str, field: str) -> list[uuid.UUID] | None:
    if values is None:
        return None
    return [decode_id(v, type_name, (field, str(i))) for i, v in enumerate(values)]


def _inbox_filter(f: InboxFilter | None) -> services.InboxFilter:
    if f is None:
        return services.InboxFilter()
    data = input_to_data(f)
    data["statuses"] = data.pop("status", None)
    data["department_ids"] = _ids(data.get("department_ids"), "Department", "department_ids")
    data["assignee_ids"] = _ids(data.get("assignee_ids"), "Agent", "assignee_ids")
    return services.InboxFilter(**data)


@strawberry.type
class RequestQuery:
    @strawberry.field(description="A request by ID or by reference. Citizens only see their own (FORBIDDEN otherwise).")
    async def request(self, info: Info, id: strawberry.ID | None = None, reference: str | None = None) -> Request | None:
        ctx = info.context
        if id is not None:
            return await _request_node(ctx, decode_id(id, "Request"))
        if reference is None:
            return None
        async with ctx.read() as s:
            found = await services.get_request_by_reference(s, ctx.principal, reference)
        return Request.from_model(found) if found else None

    @strawberry.field(description="The authenticated citizen's requests and drafts, newest first.")
    async def my_requests(
        self,
        info: Info,
        status: list[RequestStatus] | None = None,  # type: ignore[valid-type]
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Request]:
        ctx = info.context
        statuses = [s.value for s in status] if status else None
        async with ctx.read() as s:
            page = await services.my_requests(s, ctx.principal, statuses, first, after)
        return await request_connection(info, page)

    @strawberry.field(description="The agents' inbox across every channel (drafts excluded). Default order: due date ascending.")
    async def inbox(
        self,
        info: Info,
        filter: InboxFilter | None = None,
        order_by: InboxOrder | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Request]:
        ctx = info.context
        order = order_by or InboxOrder()
        f = _inbox_filter(filter)
        async with ctx.read() as s:
            page = await services.inbox(
                s, ctx.principal, f, InboxOrderField(order.field).value, order.direction == OrderDirection.DESC, first, after
            )
        return await request_connection(info, page)


@strawberry.type
class RequestMutation:
    @strawberry.mutation(description="Submit a request (citizen on WEB/APP, or agent on behalf of a citizen).")
    async def request_submit(self, info: Info, input: RequestSubmitInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            if data.get("citizen_id"):
                data["citizen_id"] = decode_id(data["citizen_id"], "Citizen", ("citizen_id",))
            if data.get("draft_id"):
                data["draft_id"] = decode_id(data["draft_id"], "Request", ("draft_id",))
            return await services.submit_request(s, ctx.principal, data)

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)

    @strawberry.mutation(description="Save a draft (citizens), to resume later and submit with requestSubmit(draftId).")
    async def request_save_draft(self, info: Info, input: RequestSaveDraftInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            if data.get("id"):
                data["id"] = decode_id(data["id"], "Request")
            return await services.save_draft(s, ctx.principal, data)

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)

    @strawberry.mutation(description="Take a workflow transition; checks role, state, required inputs and version.")
    async def request_transition(self, info: Info, input: RequestTransitionInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            return await services.transition_request(
                s, ctx.principal, decode_id(input.id, "Request"), input.version, input.transition, input.inputs, input.answers
            )

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)

    @strawberry.mutation(description="Assign, reassign or unassign a request, or move it to another department (staff).")
    async def request_assign(self, info: Info, input: RequestAssignInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            data = input_to_data(input)
            request_id = decode_id(data.pop("id"), "Request")
            version = data.pop("version")
            if data.get("assignee_id") is not None:
                data["assignee_id"] = decode_id(data["assignee_id"], "Agent", ("assignee_id",))
            if data.get("department_id") is not None:
                data["department_id"] = decode_id(data["department_id"], "Department", ("department_id",))
            return await services.assign_request(s, ctx.principal, request_id, version, data)

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)

    @strawberry.mutation(description="Raise or lower a request's priority (staff).")
    async def request_set_priority(self, info: Info, input: RequestSetPriorityInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            return await services.set_priority(
                s, ctx.principal, decode_id(input.id, "Request"), input.version, input.priority.value
            )

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)

    @strawberry.mutation(description="Bulk assignment (staff): all the requests or none.")
    async def requests_assign(self, info: Info, input: RequestsAssignInput) -> RequestsPayload:
        ctx = info.context

        async def action(s):
            ids = _ids(input.ids, "Request", "ids") or []
            assignee = decode_id(input.assignee_id, "Agent", ("assignee_id",)) if input.assignee_id else None
            return await services.assign_requests(s, ctx.principal, ids, assignee)

        return await run_mutation(ctx, action, RequestsPayload, "requests", lambda rows: [Request.from_model(r) for r in rows])

    @strawberry.mutation(description="The citizen rates their closed request (1-5 and a comment), once.")
    async def request_rate(self, info: Info, input: RequestRateInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            return await services.rate_request(s, ctx.principal, decode_id(input.id, "Request"), input.rating, input.comment)

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)

    @strawberry.mutation(description="Post a message to the other side, or an internal note (agents).")
    async def request_message_post(self, info: Info, input: RequestMessagePostInput) -> RequestMessagePayload:
        ctx = info.context

        async def action(s):
            return await services.post_message(s, ctx.principal, decode_id(input.id, "Request"), input.body, input.internal)

        return await run_mutation(ctx, action, RequestMessagePayload, "message", RequestMessage.from_model)

    @strawberry.mutation(description="Mark the thread as read for the caller's side (resets unreadCount).")
    async def request_mark_read(self, info: Info, input: RequestMarkReadInput) -> RequestPayload:
        ctx = info.context

        async def action(s):
            return await services.mark_read(s, ctx.principal, decode_id(input.id, "Request"))

        return await run_mutation(ctx, action, RequestPayload, "request", Request.from_model)
