"""Request types, inputs and payloads. Nested objects come from DataLoaders (no N+1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.base import utcnow
from domain.citizens.services import load_citizens
from domain.events.models import Event
from domain.procedures.rules import state_of
from domain.procedures.services import load_procedure_versions, load_procedures
from domain.requests import models
from domain.requests import services
from domain.requests.appointments import load_request_appointments
from domain.requests.attachments import load_request_attachments
from domain.requests.models import RANK_PRIORITY
from domain.security import require_principal
from domain.tenancy.services import load_agents, load_departments
from schema.appointments import Appointment
from schema.citizens import Citizen
from schema.files import StoredFile
from schema.common import Connection, Node, UserError, connection_from_page, selected_fields, to_global_id
from schema.procedures import Procedure, ProcedureVersion, WorkflowState, WorkflowTransition
from schema.request_enums import Channel, InboxOrderField, OrderDirection, Priority, RequestStatus
from schema.tenancy import Agent, Department

_KIND = {
    "request.draft_saved": "DRAFT_SAVED",
    "request.submitted": "SUBMITTED",
    "request.transitioned": "TRANSITION",
    "request.assigned": "ASSIGNMENT",
    "request.message_posted": "MESSAGE",
    "request.note_added": "NOTE",
    "request.rated": "RATED",
    "request.priority_changed": "PRIORITY",
    "request.attachment_added": "ATTACHMENT",
    "request.appointment_booked": "APPOINTMENT",
    "request.appointment_rescheduled": "APPOINTMENT",
    "request.appointment_cancelled": "APPOINTMENT",
    "request.appointment_honoured": "APPOINTMENT",
    "request.appointment_no_show": "APPOINTMENT",
}


@strawberry.type(description="One entry of a request's history (read from the domain event log).")
class TimelineEntry:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="DRAFT_SAVED, SUBMITTED, TRANSITION, ASSIGNMENT, PRIORITY, MESSAGE, NOTE, RATED, ATTACHMENT, "
        "APPOINTMENT (booked, rescheduled, cancelled, honoured, no_show: see eventType) (or the event type)."
    )
    event_type: str
    occurred_at: datetime
    actor_type: str | None = strawberry.field(description="citizen, agent or client (who acted).")
    public: bool = strawberry.field(description="Shown to the citizen. Agents see every entry.")
    transition: str | None
    from_state: str | None
    to_state: str | None
    status: RequestStatus | None  # type: ignore[valid-type]
    inputs: JSON | None = strawberry.field(description="Inputs of a transition, e.g. {reason: ...} for a rejection.")
    data: JSON = strawberry.field(description="The event payload (ids, codes, names of changed fields).")

    @classmethod
    def from_model(cls, e: Event) -> TimelineEntry:
        payload = e.payload or {}
        status = payload.get("status")
        return cls(
            id=to_global_id("TimelineEntry", e.id),
            kind=_KIND.get(e.type, e.type),
            event_type=e.type,
            occurred_at=e.occurred_at,
            actor_type=e.actor_type,
            public=bool(payload.get("public")),
            transition=payload.get("transition"),
            from_state=payload.get("from_state"),
            to_state=payload.get("to_state"),
            status=RequestStatus(status) if status else None,
            inputs=payload.get("inputs"),
            data=payload,
        )


@strawberry.type(description="The citizen's rating of a closed request.")
class Satisfaction:
    rating: int
    comment: str | None
    rated_at: datetime


@strawberry.type(description="A message of the citizen<->agents thread, or an internal note (agents only).")
class RequestMessage(Node):
    body: str
    internal: bool
    author_type: str = strawberry.field(description="citizen, agent or client.")
    created_at: datetime
    _model: strawberry.Private[models.RequestMessage]

    @strawberry.field(description="The agent who wrote it (null for the citizen's messages).")
    async def author_agent(self, info: Info) -> Agent | None:
        if self._model.author_type == "citizen" or self._model.author_id is None:
            return None
        agent = await info.context.loader("agent", load_agents).load(self._model.author_id)
        return Agent.from_model(agent) if agent else None

    @classmethod
    def from_model(cls, m: models.RequestMessage) -> RequestMessage:
        return cls(
            id=to_global_id("RequestMessage", m.id), body=m.body, internal=m.internal,
            author_type=m.author_type, created_at=m.created_at, _model=m,
        )


@strawberry.type(description="A citizen's request (demande) for a procedure, from any channel, tracked end to end.")
class Request(Node):
    reference: str | None = strawberry.field(description="Human reference, unique per tenant and year (2026-000123); null for drafts.")
    status: RequestStatus  # type: ignore[valid-type]
    channel: Channel  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    answers: JSON
    submitted_at: datetime | None
    due_at: datetime | None = strawberry.field(description="End of the SLA's last business day (tenant time zone).")
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description="Pass it back to mutations (optimistic locking).")
    _model: strawberry.Private[models.Request]
    # Related rows fetched for a whole page at once (see prefetch_page): resolved synchronously.
    _pre: strawberry.Private[dict[str, dict[Any, Any]] | None] = None

    def _related(self, info: Info, name: str, batch: Any, key: Any, to_type: Callable[[Any], Any]) -> Any:
        """The related object from the page's prefetch (no await), else through the DataLoader."""
        if key is None:
            return None
        if self._pre is not None and name in self._pre:
            row = self._pre[name].get(key)
            return to_type(row) if row is not None else None

        async def later() -> Any:
            row = await info.context.loader(name, batch).load(key)
            return to_type(row) if row is not None else None

        return later()

    def _with_version(self, info: Info, fn: Callable[[Any], Any]) -> Any:
        return self._related(info, "procedure_version", load_procedure_versions, self._model.procedure_version_id, fn)

    @strawberry.field(description="True when the due date has passed and the request is still open.")
    def overdue(self) -> bool:
        m = self._model
        return bool(m.due_at and m.due_at < utcnow() and m.status in services.OPEN_STATUSES)

    @strawberry.field(description="The workflow state (code, labels, generic status); null for drafts.")
    def state(self, info: Info) -> WorkflowState | None:
        if not self._model.state:
            return None

        def of(version: Any) -> WorkflowState | None:
            found = state_of(version.definition, self._model.state)
            return WorkflowState.of(found) if found else None

        return self._with_version(info, of)

    @strawberry.field(description="What the caller may do now (pass `name` to requestTransition).")
    def available_transitions(self, info: Info) -> list[WorkflowTransition]:
        principal = info.context.principal
        return self._with_version(
            info,
            lambda v: [WorkflowTransition.of(t) for t in services.available_transitions(v.definition, self._model, principal)],
        )

    @strawberry.field
    def procedure(self, info: Info) -> Procedure:
        return self._related(info, "procedure", load_procedures, self._model.procedure_id, Procedure.from_model)

    @strawberry.field(description="The version of the procedure this request was submitted under.")
    def procedure_version(self, info: Info) -> ProcedureVersion:
        return self._with_version(info, ProcedureVersion.from_model)

    @strawberry.field
    def citizen(self, info: Info) -> Citizen | None:
        return self._related(info, "citizen", load_citizens, self._model.citizen_id, Citizen.from_model)

    @strawberry.field(description="The department in charge (routing at submission, or reassigned).")
    def department(self, info: Info) -> Department | None:
        return self._related(info, "department", load_departments, self._model.department_id, Department.from_model)

    @strawberry.field
    def assignee(self, info: Info) -> Agent | None:
        return self._related(info, "agent", load_agents, self._model.assignee_id, Agent.from_model)

    @strawberry.field(description="History: public entries for the citizen, every entry for agents; oldest first.")
    async def timeline(self, info: Info, first: int | None = 50, after: str | None = None) -> Connection[TimelineEntry]:
        ctx = info.context
        async with ctx.read() as s:
            page = await services.timeline(s, ctx.principal, self._model, first, after)
        return connection_from_page(page, TimelineEntry.from_model)

    @strawberry.field(description="The latest entry of the timeline visible to the caller.")
    def last_timeline_entry(self, info: Info) -> TimelineEntry | None:
        name, batch = _last_event_loader(info.context.principal)
        return self._related(info, name, batch, self._model.id, TimelineEntry.from_model)

    @strawberry.field(description="Documents joined to the request (form `file` answers and requestAttach), oldest first.")
    def attachments(self, info: Info) -> list[StoredFile]:
        return self._related_list(info, "request_attachments", load_request_attachments, StoredFile.from_model)

    @strawberry.field(description="Appointments booked for this request (appointmentBook with requestId), by start time.")
    def appointments(self, info: Info) -> list[Appointment]:
        return self._related_list(info, "request_appointments", load_request_appointments, Appointment.from_model)

    def _related_list(self, info: Info, name: str, batch: Any, to_type: Callable[[Any], Any]) -> Any:
        """Like _related, for one-to-many relations (a list per request, empty when none)."""
        if self._pre is not None and name in self._pre:
            return [to_type(r) for r in self._pre[name].get(self._model.id, [])]

        async def later() -> Any:
            return [to_type(r) for r in await info.context.loader(name, batch).load(self._model.id)]

        return later()

    @strawberry.field
    def satisfaction(self) -> Satisfaction | None:
        m = self._model
        if m.rating is None:
            return None
        return Satisfaction(rating=m.rating, comment=m.rating_comment, rated_at=m.rated_at)

    @strawberry.field(description="The dialogue: messages (and, for agents, internal notes), oldest first.")
    async def messages(self, info: Info, first: int | None = 50, after: str | None = None) -> Connection[RequestMessage]:
        ctx = info.context
        async with ctx.read() as s:
            page = await services.list_messages(s, ctx.principal, self._model, first, after)
        return connection_from_page(page, RequestMessage.from_model)

    @strawberry.field(description="Messages from the other side not read yet by the caller's side.")
    async def unread_count(self, info: Info) -> int:
        principal = info.context.principal
        for_citizen = bool(principal and principal.is_citizen)
        return await info.context.loader("request_unread", services.load_unread_counts).load((self._model.id, for_citizen))

    @classmethod
    def from_model(cls, m: models.Request, pre: dict[str, dict[Any, Any]] | None = None) -> Request:
        return cls(
            _pre=pre,
            id=to_global_id("Request", m.id),
            reference=m.reference,
            status=RequestStatus(m.status),
            channel=Channel(m.channel),
            priority=Priority(RANK_PRIORITY[m.priority].value),
            answers=m.answers,
            submitted_at=m.submitted_at,
            due_at=m.due_at,
            closed_at=m.closed_at,
            created_at=m.created_at,
            updated_at=m.updated_at,
            version=m.version,
            _model=m,
        )


def _last_event_loader(principal: Any) -> tuple[str, Any]:
    if principal is not None and principal.is_citizen:
        return "request_last_public_event", services.load_last_public_events
    return "request_last_event", services.load_last_events


def _selected_node_fields(info: Info) -> set[str]:
    """GraphQL names of the fields asked under `edges { node { ... } }` / `nodes { ... }` (fragments included)."""
    out: set[str] = set()
    flatten = selected_fields
    for top in flatten(info.selected_fields):
        for sel in flatten(top.selections):
            if sel.name == "nodes":
                out.update(f.name for f in flatten(sel.selections))
            elif sel.name == "edges":
                for edge_field in flatten(sel.selections):
                    if edge_field.name == "node":
                        out.update(f.name for f in flatten(edge_field.selections))
    return out


async def prefetch_page(info: Info, rows: list[models.Request]) -> dict[str, dict[Any, Any]]:
    """Load, in one statement each, the related rows a page of requests asks for.

    The nested resolvers then answer synchronously (no per-item await), which matters
    for large inbox pages; a field not prefetched here still goes through its DataLoader.
    """
    ctx = info.context
    wanted = _selected_node_fields(info)
    tenant_id = require_principal(ctx.principal).tenant_id
    plans: list[tuple[str, Any, list[Any]]] = []

    def plan(name: str, batch: Any, keys: Any) -> None:
        plans.append((name, batch, sorted({k for k in keys if k is not None}, key=str)))

    if "citizen" in wanted:
        plan("citizen", load_citizens, (r.citizen_id for r in rows))
    if "procedure" in wanted:
        plan("procedure", load_procedures, (r.procedure_id for r in rows))
    if wanted & {"state", "procedureVersion", "availableTransitions"}:
        plan("procedure_version", load_procedure_versions, (r.procedure_version_id for r in rows))
    if "department" in wanted:
        plan("department", load_departments, (r.department_id for r in rows))
    if "assignee" in wanted:
        plan("agent", load_agents, (r.assignee_id for r in rows))
    if "attachments" in wanted:
        plan("request_attachments", load_request_attachments, (r.id for r in rows))
    if "appointments" in wanted:
        plan("request_appointments", load_request_appointments, (r.id for r in rows))
    if "lastTimelineEntry" in wanted:
        name, batch = _last_event_loader(ctx.principal)
        plan(name, batch, (r.id for r in rows))
    out: dict[str, dict[Any, Any]] = {}
    async with ctx.read() as session:
        for name, batch, keys in plans:
            found = await batch(session, tenant_id, keys) if keys else []
            out[name] = {k: v for k, v in zip(keys, found) if v is not None}
    return out


async def request_connection(info: Info, page: Any) -> Connection[Request]:
    """A connection of requests whose nested objects are prefetched for the whole page."""
    pre = await prefetch_page(info, page.items)
    return connection_from_page(page, lambda m: Request.from_model(m, pre))


# ---------------------------------------------------------------- inputs and payloads


@strawberry.input(description="Submit a request. Citizens: channel WEB (default) or APP. Agents: on behalf of `citizenId`, channel COUNTER (default), PHONE, EMAIL or POST.")
class RequestSubmitInput:
    procedure_code: str | None = strawberry.field(default=None, description="Required unless `draftId` is given.")
    answers: JSON | None = strawberry.field(default=None, description="Form answers `{field: value}`; prefilled fields may be omitted.")
    channel: Channel | None = None  # type: ignore[valid-type]
    citizen_id: strawberry.ID | None = strawberry.field(default=None, description="Agents only: the citizen the request is for.")
    priority: Priority | None = strawberry.field(default=None, description="Agents only (default: the procedure's, else NORMAL).")  # type: ignore[valid-type]
    draft_id: strawberry.ID | None = strawberry.field(default=None, description="Submit this draft (its answers unless `answers` is sent).")


@strawberry.input(description="Save a draft (citizens): create one (procedureCode) or update yours (id + version).")
class RequestSaveDraftInput:
    answers: JSON
    procedure_code: str | None = None
    id: strawberry.ID | None = None
    version: int | None = None
    channel: Channel | None = None  # type: ignore[valid-type]


@strawberry.input(description="Take a workflow transition (see `Request.availableTransitions`).")
class RequestTransitionInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; stale -> CONFLICT.")
    transition: str = strawberry.field(description="Transition name, e.g. accept, reject, cancel, answer.")
    inputs: JSON | None = strawberry.field(default=None, description="Required inputs of the transition, e.g. {reason: ...}; `comment` is always kept.")
    answers: JSON | None = strawberry.field(default=None, description="Citizens answering a WAITING_FOR_CITIZEN state: the answers to change (merged; null removes one).")


@strawberry.input(description="Join documents to a request: its citizen, or an agent of the tenant. Upload them first with fileUpload (purpose ATTACHMENT).")
class RequestAttachInput:
    request_id: strawberry.ID
    file_ids: list[strawberry.ID] = strawberry.field(description="StoredFile IDs from fileUpload (at most 20).")
    version: int | None = strawberry.field(default=None, description="The version you read (optional); stale -> CONFLICT.")


@strawberry.input(description="Assign (assigneeId null = unassign) and/or move to a department.")
class RequestAssignInput:
    id: strawberry.ID
    version: int
    assignee_id: strawberry.ID | None = strawberry.UNSET
    department_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input(description="Change a request's priority (staff).")
class RequestSetPriorityInput:
    id: strawberry.ID
    version: int
    priority: Priority  # type: ignore[valid-type]


@strawberry.input(description="Assign many requests to one agent (or unassign with null), all or nothing.")
class RequestsAssignInput:
    ids: list[strawberry.ID]
    assignee_id: strawberry.ID | None = None


@strawberry.input(description="The citizen rates a closed request, once.")
class RequestRateInput:
    id: strawberry.ID
    rating: int = strawberry.field(description="1 (bad) to 5 (very good).")
    comment: str | None = None


@strawberry.input(description="A message to the other side, or (agents) an internal note.")
class RequestMessagePostInput:
    id: strawberry.ID
    body: str
    internal: bool = False


@strawberry.input
class RequestMarkReadInput:
    id: strawberry.ID


@strawberry.input(description="Inbox filters (combined with AND; the assignee filters with OR between them).")
class InboxFilter:
    status: list[RequestStatus] | None = None  # type: ignore[valid-type]
    procedure_codes: list[str] | None = None
    department_ids: list[strawberry.ID] | None = None
    assignee_ids: list[strawberry.ID] | None = None
    unassigned: bool | None = None
    mine: bool | None = strawberry.field(default=None, description="Assigned to the calling agent.")
    channels: list[Channel] | None = None  # type: ignore[valid-type]
    overdue: bool | None = None
    priorities: list[Priority] | None = None  # type: ignore[valid-type]
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Full text on reference, citizen name and answers (French stemming, accents ignored, prefixes)."
    )


@strawberry.input
class InboxOrder:
    field: InboxOrderField = InboxOrderField.DUE_DATE
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class RequestPayload:
    request: Request | None
    user_errors: list[UserError]


@strawberry.type
class RequestsPayload:
    requests: list[Request] | None
    user_errors: list[UserError]


@strawberry.type
class RequestMessagePayload:
    message: RequestMessage | None
    user_errors: list[UserError]


