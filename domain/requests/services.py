"""Use cases of requests: submit (any channel), drafts, workflow transitions, assignment,
satisfaction, dialogue; reads: one request, my requests, the agent inbox, the timeline.

Every query is scoped to the principal's tenant; every change records a domain
event in the same transaction (the events table is the request's timeline).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from domain.base import utcnow
from domain.citizens.models import Citizen
from domain.errors import Collector, DomainValidationError, Forbidden
from domain.events.models import Event
from domain.events.services import record_event
from domain.pagination import Page, paginate
from domain.procedures.calendar import due_at as sla_due_at
from domain.procedures.models import Procedure, ProcedureVersion
from domain.procedures.rules import (
    initial_state,
    prefill_values,
    role_allowed,
    route,
    sla_days,
    state_of,
    transitions_from,
)
from domain.procedures.services import citizen_profile
from domain.requests.models import (
    AGENT_CHANNELS,
    CITIZEN_CHANNELS,
    PRIORITY_RANK,
    RANK_PRIORITY,
    Channel,
    Priority,
    Request,
    RequestCounter,
    RequestMessage,
    RequestStatus,
)
from domain.requests.rules import ASSURANCE_ORDER, format_reference, search_document, validate_answers
from domain.security import Principal, require_principal, require_staff
from domain.tenancy.models import Agent, Department, Tenant
from domain.text import prefix_tsquery

AGGREGATE = "Request"
TERMINAL_RATEABLE = {RequestStatus.ACCEPTED.value, RequestStatus.REJECTED.value, RequestStatus.CLOSED.value}


# ---------------------------------------------------------------- helpers


def _event(session: AsyncSession, p: Principal | None, request: Request, type: str, public: bool, **payload: Any) -> Event:
    return record_event(
        session,
        tenant_id=request.tenant_id,
        type=type,
        aggregate_type=AGGREGATE,
        aggregate_id=request.id,
        actor=p,
        payload={"public": public, **payload},
    )


async def next_reference(session: AsyncSession, tenant_id: uuid.UUID, year: int) -> str:
    """Atomically take the next number of (tenant, year): one upsert, row-locked until commit."""
    stmt = (
        pg_insert(RequestCounter)
        .values(tenant_id=tenant_id, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[RequestCounter.tenant_id, RequestCounter.year],
            set_={"last_value": RequestCounter.last_value + 1},
        )
        .returning(RequestCounter.last_value)
    )
    number = (await session.execute(stmt)).scalar_one()
    return format_reference(year, number)


async def _procedure_by_code(session: AsyncSession, tenant_id: uuid.UUID, code: str | None) -> tuple[Procedure, ProcedureVersion]:
    row = (
        await session.execute(
            sa.select(Procedure, ProcedureVersion)
            .join(ProcedureVersion, ProcedureVersion.id == Procedure.current_version_id)
            .where(Procedure.tenant_id == tenant_id, Procedure.code == (code or ""), Procedure.active.is_(True))
        )
    ).first()
    if row is None:
        raise DomainValidationError.single(("procedure_code",), "UNKNOWN_PROCEDURE")
    return row[0], row[1]


async def _citizen(session: AsyncSession, tenant_id: uuid.UUID, citizen_id: uuid.UUID) -> Citizen | None:
    return (
        await session.execute(sa.select(Citizen).where(Citizen.tenant_id == tenant_id, Citizen.id == citizen_id))
    ).scalar_one_or_none()


async def _lock(session: AsyncSession, p: Principal, request_id: uuid.UUID, field: str = "id") -> Request:
    request = (
        await session.execute(
            sa.select(Request)
            .where(Request.tenant_id == p.tenant_id, Request.id == request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if request is None or not _can_see(p, request):
        raise DomainValidationError.single((field,), "NOT_FOUND")
    return request


def _can_see(p: Principal, request: Request) -> bool:
    """Citizens see their own requests (another citizen's: FORBIDDEN); staff see every
    submitted request of the tenant, but not the drafts citizens have not sent yet."""
    if p.is_citizen:
        if request.citizen_id != p.subject_id:
            raise Forbidden()
        return True
    require_staff(p)
    return request.status != RequestStatus.DRAFT.value


def _check_can_see(p: Principal, request: Request) -> None:
    if not _can_see(p, request):
        raise Forbidden()


def _check_version(request: Request, expected: int | None) -> None:
    if expected is not None and request.version != expected:
        raise DomainValidationError.single(("version",), "CONFLICT", current=request.version, expected=expected)


async def _department_id(session: AsyncSession, tenant_id: uuid.UUID, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    return (
        await session.execute(sa.select(Department.id).where(Department.tenant_id == tenant_id, Department.code == code))
    ).scalar_one_or_none()


def _reindex(request: Request, citizen: Citizen) -> None:
    request.search_document = search_document(
        request.reference, [citizen.given_names, citizen.family_name, citizen.birth_name], request.answers
    )


# ---------------------------------------------------------------- drafts and submission


async def save_draft(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Request:
    """A citizen saves unfinished answers (not validated yet) and resumes later."""
    p = require_principal(principal)
    if not p.is_citizen:
        raise Forbidden()
    answers = data.get("answers") or {}
    if not isinstance(answers, dict):
        raise DomainValidationError.single(("answers",), "INVALID_ANSWER", detail="an object is expected")
    if data.get("id"):
        draft = await _lock(session, p, data["id"])
        if draft.status != RequestStatus.DRAFT.value:
            raise DomainValidationError.single(("id",), "NOT_A_DRAFT")
        _check_version(draft, data.get("version"))
        draft.answers = answers
        draft.version += 1
        _event(session, p, draft, "request.draft_saved", True)
        await session.flush()
        return draft
    procedure, version = await _procedure_by_code(session, p.tenant_id, data.get("procedure_code"))
    draft = Request(
        tenant_id=p.tenant_id,
        procedure_id=procedure.id,
        procedure_version_id=version.id,
        citizen_id=p.subject_id,
        channel=(data.get("channel") or Channel.WEB.value),
        status=RequestStatus.DRAFT.value,
        state="",
        answers=answers,
        created_by_type=p.kind.value,
        created_by_id=p.subject_id,
    )
    if Channel(draft.channel) not in CITIZEN_CHANNELS:
        raise DomainValidationError.single(("channel",), "CHANNEL_NOT_ACCEPTED", channel=draft.channel)
    session.add(draft)
    await session.flush()
    _event(session, p, draft, "request.draft_saved", True, procedure=procedure.code)
    await session.flush()
    return draft


async def submit_request(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Request:
    """Submit a request: a citizen on WEB/APP, or an agent on behalf of a citizen (COUNTER,
    PHONE, EMAIL, POST). Answers are prefilled from the profile (tell us once), then
    validated against the form of the procedure's current version."""
    p = require_principal(principal)
    errors = Collector()
    draft: Request | None = None
    if data.get("draft_id"):
        draft = await _lock(session, p, data["draft_id"], "draft_id")
        if draft.status != RequestStatus.DRAFT.value:
            raise DomainValidationError.single(("draft_id",), "NOT_A_DRAFT")
        code = (
            await session.execute(sa.select(Procedure.code).where(Procedure.id == draft.procedure_id))
        ).scalar_one()
        procedure, version = await _procedure_by_code(session, p.tenant_id, code)
    else:
        procedure, version = await _procedure_by_code(session, p.tenant_id, data.get("procedure_code"))
    definition = version.definition

    if p.is_citizen:
        channel = Channel(data.get("channel") or (draft.channel if draft else Channel.WEB.value))
        citizen_id = p.subject_id
        if channel not in CITIZEN_CHANNELS:
            errors.add(("channel",), "CHANNEL_NOT_ACCEPTED", channel=channel.value)
        if data.get("citizen_id") not in (None, p.subject_id):
            raise Forbidden()
        if data.get("priority"):
            raise Forbidden()
    else:
        require_staff(p)
        if draft is not None:
            raise Forbidden()  # drafts belong to the citizen who saves them
        channel = Channel(data.get("channel") or Channel.COUNTER.value)
        citizen_id = data.get("citizen_id")
        if channel not in AGENT_CHANNELS:
            errors.add(("channel",), "CHANNEL_NOT_ACCEPTED", channel=channel.value)
        if citizen_id is None:
            errors.add(("citizen_id",), "REQUIRED")
    accepted = definition.get("channels")
    if accepted and channel.value not in accepted and not errors:
        errors.add(("channel",), "CHANNEL_NOT_ACCEPTED", channel=channel.value)
    errors.raise_if_any()

    citizen = await _citizen(session, p.tenant_id, citizen_id)
    if citizen is None:
        raise DomainValidationError.single(("citizen_id",), "NOT_FOUND")
    required_level = definition.get("assuranceLevel", "DECLARED")
    if ASSURANCE_ORDER.get(citizen.assurance_level, 0) < ASSURANCE_ORDER[required_level]:
        raise DomainValidationError.single(None, "ASSURANCE_LEVEL_TOO_LOW", required=required_level)

    given = data["answers"] if data.get("answers") is not None else (draft.answers if draft else {})
    if not isinstance(given, dict):
        raise DomainValidationError.single(("answers",), "INVALID_ANSWER", detail="an object is expected")
    answers = {**prefill_values(definition, citizen_profile(citizen)), **given}
    answers = validate_answers(definition, answers)

    tenant = await session.get(Tenant, p.tenant_id)
    now = utcnow()
    state_code = initial_state(definition)
    state = state_of(definition, state_code)
    priority = Priority(data.get("priority") or definition.get("priority") or Priority.NORMAL.value)
    request = draft or Request(tenant_id=p.tenant_id, created_by_type=p.kind.value, created_by_id=p.subject_id)
    request.procedure_id = procedure.id
    request.procedure_version_id = version.id
    request.citizen_id = citizen.id
    request.channel = channel.value
    request.status = state["status"]
    request.state = state_code
    request.priority = PRIORITY_RANK[priority]
    request.department_id = await _department_id(session, p.tenant_id, route(definition, answers))
    request.answers = answers
    request.submitted_at = now
    request.due_at = sla_due_at(now, sla_days(definition), tenant.timezone if tenant else "Europe/Paris")
    if state.get("terminal"):
        request.closed_at = now
    request.reference = await next_reference(session, p.tenant_id, _local_year(now, tenant))
    _reindex(request, citizen)
    if draft is not None:
        request.version += 1
    else:
        session.add(request)
    await session.flush()
    _event(
        session,
        p,
        request,
        "request.submitted",
        True,
        reference=request.reference,
        procedure=procedure.code,
        procedure_version=version.number,
        channel=channel.value,
        to_state=state_code,
        status=request.status,
    )
    await session.flush()
    return request


def _local_year(now: datetime, tenant: Tenant | None) -> int:
    return now.astimezone(ZoneInfo(tenant.timezone if tenant else "Europe/Paris")).year


# ---------------------------------------------------------------- workflow


async def _definition(session: AsyncSession, request: Request) -> dict[str, Any]:
    version = await session.get(ProcedureVersion, request.procedure_version_id)
    assert version is not None
    return version.definition


def available_transitions(definition: dict[str, Any], request: Request, principal: Principal) -> list[dict[str, Any]]:
    """Transitions the principal may take now (the request's own citizen, or staff by role)."""
    if request.status == RequestStatus.DRAFT.value:
        return []
    if principal.is_citizen and principal.subject_id != request.citizen_id:
        return []
    roles = [r.value for r in principal.roles]
    return [
        t for t in transitions_from(definition, request.state) if role_allowed(t["roles"], principal.is_citizen, roles)
    ]


async def transition_request(
    session: AsyncSession,
    principal: Principal | None,
    request_id: uuid.UUID,
    expected_version: int,
    name: str,
    inputs: dict[str, Any] | None,
    answers: dict[str, Any] | None = None,
) -> Request:
    """Move a request along its workflow. The row is locked: of two agents racing with the
    same version, the second waits, then sees the new version and gets CONFLICT."""
    p = require_principal(principal)
    request = await _lock(session, p, request_id)
    _check_version(request, expected_version)
    definition = await _definition(session, request)
    candidates = [t for t in definition["workflow"]["transitions"] if t["name"] == name]
    if not candidates:
        raise DomainValidationError.single(("transition",), "UNKNOWN_TRANSITION", transition=name)
    allowed = [t for t in available_transitions(definition, request, p) if t["name"] == name]
    if not allowed:
        raise DomainValidationError.single(("transition",), "TRANSITION_NOT_ALLOWED", transition=name, state=request.state)
    transition = allowed[0]
    inputs = inputs or {}
    if not isinstance(inputs, dict):
        raise DomainValidationError.single(("inputs",), "INVALID_ANSWER", detail="an object is expected")
    errors = Collector()
    for needed in transition.get("requiredInputs") or []:
        value = inputs.get(needed)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.add(("inputs", needed), "MISSING_TRANSITION_INPUT", name=needed)
    errors.raise_if_any()
    changed_answers = False
    if answers is not None:
        # The citizen completes their answers when asked (WAITING_FOR_CITIZEN).
        if not (p.is_citizen and request.status == RequestStatus.WAITING_FOR_CITIZEN.value):
            raise DomainValidationError.single(("answers",), "TRANSITION_NOT_ALLOWED", transition=name, state=request.state)
        if not isinstance(answers, dict):
            raise DomainValidationError.single(("answers",), "INVALID_ANSWER", detail="an object is expected")
        # Only the fields sent are changed (null removes an answer); the whole is validated again.
        merged = {k: v for k, v in {**request.answers, **answers}.items() if v is not None}
        request.answers = validate_answers(definition, merged)
        changed_answers = True
    target = state_of(definition, transition["to"])
    previous = request.state
    request.state = target["code"]
    request.status = target["status"]
    request.closed_at = utcnow() if target.get("terminal") else None
    request.version += 1
    if changed_answers:
        citizen = await _citizen(session, p.tenant_id, request.citizen_id)
        _reindex(request, citizen)
    _event(
        session,
        p,
        request,
        "request.transitioned",
        True,
        transition=name,
        from_state=previous,
        to_state=target["code"],
        status=target["status"],
        notify_citizen=bool(transition.get("notifyCitizen")),
        inputs={k: v for k, v in inputs.items() if k in (transition.get("requiredInputs") or []) or k == "comment"},
        answers_updated=changed_answers,
    )
    await session.flush()
    return request


# ---------------------------------------------------------------- assignment


async def _active_agent(session: AsyncSession, tenant_id: uuid.UUID, agent_id: uuid.UUID) -> bool:
    return (
        await session.execute(
            sa.select(Agent.id).where(Agent.tenant_id == tenant_id, Agent.id == agent_id, Agent.active.is_(True))
        )
    ).first() is not None


async def assign_request(
    session: AsyncSession,
    principal: Principal | None,
    request_id: uuid.UUID,
    expected_version: int,
    data: dict[str, Any],
) -> Request:
    """Assign (or unassign with null) an agent, and/or move the request to another department."""
    p = require_staff(principal)
    request = await _lock(session, p, request_id)
    _check_version(request, expected_version)
    errors = Collector()
    if data.get("assignee_id") is not None and not await _active_agent(session, p.tenant_id, data["assignee_id"]):
        errors.add(("assignee_id",), "INVALID_ASSIGNEE")
    if data.get("department_id") is not None:
        found = (
            await session.execute(
                sa.select(Department.id).where(Department.tenant_id == p.tenant_id, Department.id == data["department_id"])
            )
        ).first()
        if not found:
            errors.add(("department_id",), "NOT_FOUND")
    errors.raise_if_any()
    changed = []
    for key in ("assignee_id", "department_id"):
        if key in data and getattr(request, key) != data[key]:
            setattr(request, key, data[key])
            changed.append(key)
    if changed:
        request.version += 1
        _event(
            session,
            p,
            request,
            "request.assigned",
            False,
            fields=changed,
            assignee_id=str(request.assignee_id) if request.assignee_id else None,
            department_id=str(request.department_id) if request.department_id else None,
        )
    await session.flush()
    return request


async def assign_requests(
    session: AsyncSession, principal: Principal | None, request_ids: list[uuid.UUID], assignee_id: uuid.UUID | None
) -> list[Request]:
    """Bulk assignment: all or nothing. Rows are locked in id order (no deadlock between two bulk calls)."""
    p = require_staff(principal)
    errors = Collector()
    if not request_ids:
        errors.add(("ids",), "REQUIRED")
    if len(request_ids) > 100:
        errors.add(("ids",), "INVALID_PAGE_SIZE", max=100)
    if assignee_id is not None and not await _active_agent(session, p.tenant_id, assignee_id):
        errors.add(("assignee_id",), "INVALID_ASSIGNEE")
    errors.raise_if_any()
    rows = {
        r.id: r
        for r in (
            await session.execute(
                sa.select(Request)
                .where(Request.tenant_id == p.tenant_id, Request.id.in_(request_ids))
                .order_by(Request.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    }
    for index, rid in enumerate(request_ids):
        if rid not in rows or rows[rid].status == RequestStatus.DRAFT.value:
            errors.add(("ids", str(index)), "NOT_FOUND")
    errors.raise_if_any()
    for rid in request_ids:
        request = rows[rid]
        if request.assignee_id != assignee_id:
            request.assignee_id = assignee_id
            request.version += 1
            _event(
                session, p, request, "request.assigned", False,
                fields=["assignee_id"], assignee_id=str(assignee_id) if assignee_id else None, bulk=True,
            )
    await session.flush()
    return [rows[rid] for rid in request_ids]


async def set_priority(
    session: AsyncSession, principal: Principal | None, request_id: uuid.UUID, expected_version: int, priority: str
) -> Request:
    """Staff raise or lower a request's priority (inbox order PRIORITY)."""
    p = require_staff(principal)
    request = await _lock(session, p, request_id)
    _check_version(request, expected_version)
    rank = PRIORITY_RANK[Priority(priority)]
    if request.priority != rank:
        previous = RANK_PRIORITY[request.priority].value
        request.priority = rank
        request.version += 1
        _event(session, p, request, "request.priority_changed", False, from_priority=previous, to_priority=priority)
    await session.flush()
    return request


# ---------------------------------------------------------------- satisfaction


async def rate_request(
    session: AsyncSession, principal: Principal | None, request_id: uuid.UUID, rating: int, comment: str | None
) -> Request:
    p = require_principal(principal)
    if not p.is_citizen:
        raise Forbidden()
    request = await _lock(session, p, request_id)
    if request.closed_at is None or request.status not in TERMINAL_RATEABLE:
        raise DomainValidationError.single(("id",), "NOT_CLOSED")
    if request.rating is not None:
        raise DomainValidationError.single(("id",), "ALREADY_RATED")
    errors = Collector()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        errors.add(("rating",), "INVALID_RATING")
    comment = (comment or "").strip() or None
    if comment and len(comment) > 2000:
        errors.add(("comment",), "TOO_LONG", max=2000)
    errors.raise_if_any()
    request.rating = rating
    request.rating_comment = comment
    request.rated_at = utcnow()
    request.version += 1
    _event(session, p, request, "request.rated", False, rating=rating, has_comment=comment is not None)
    await session.flush()
    return request


# ---------------------------------------------------------------- dialogue


async def post_message(
    session: AsyncSession, principal: Principal | None, request_id: uuid.UUID, body: str, internal: bool
) -> RequestMessage:
    """A message of the thread (citizen or agent), or an internal note (agents only)."""
    p = require_principal(principal)
    request = await _lock(session, p, request_id)
    if p.is_citizen and internal:
        raise Forbidden()
    if request.status == RequestStatus.DRAFT.value:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    text = (body or "").strip()
    errors = Collector()
    if not text:
        errors.add(("body",), "BLANK")
    elif len(text) > 10000:
        errors.add(("body",), "TOO_LONG", max=10000)
    errors.raise_if_any()
    message = RequestMessage(
        tenant_id=p.tenant_id, request_id=request.id, author_type=p.kind.value, author_id=p.subject_id,
        internal=internal, body=text,
    )
    session.add(message)
    now = utcnow()
    if p.is_citizen:
        request.citizen_read_at = now
    else:
        request.agents_read_at = now
    await session.flush()
    _event(
        session, p, request, "request.note_added" if internal else "request.message_posted", not internal,
        message_id=str(message.id),
    )
    await session.flush()
    return message


async def mark_read(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID) -> Request:
    p = require_principal(principal)
    request = await _lock(session, p, request_id)
    if p.is_citizen:
        request.citizen_read_at = utcnow()
    else:
        request.agents_read_at = utcnow()
    await session.flush()
    return request


async def list_messages(
    session: AsyncSession, principal: Principal | None, request: Request, first: int | None, after: str | None
) -> Page[RequestMessage]:
    p = require_principal(principal)
    _check_can_see(p, request)
    stmt = sa.select(RequestMessage).where(RequestMessage.tenant_id == p.tenant_id, RequestMessage.request_id == request.id)
    if p.is_citizen:
        stmt = stmt.where(RequestMessage.internal.is_(False))
    return await paginate(session, stmt, [RequestMessage.created_at, RequestMessage.id], first, after)


async def load_unread_counts(
    session: AsyncSession, tenant_id: uuid.UUID, keys: Sequence[tuple[uuid.UUID, bool]]
) -> list[int]:
    """Unread messages per (request id, for_citizen): messages of the other side after the read mark."""
    ids = list({k[0] for k in keys})
    rows = await session.execute(
        sa.select(
            RequestMessage.request_id,
            sa.func.count().filter(
                RequestMessage.author_type != "citizen",
                RequestMessage.internal.is_(False),
                sa.or_(Request.citizen_read_at.is_(None), RequestMessage.created_at > Request.citizen_read_at),
            ),
            sa.func.count().filter(
                RequestMessage.author_type == "citizen",
                sa.or_(Request.agents_read_at.is_(None), RequestMessage.created_at > Request.agents_read_at),
            ),
        )
        .join(Request, Request.id == RequestMessage.request_id)
        .where(RequestMessage.tenant_id == tenant_id, RequestMessage.request_id.in_(ids))
        .group_by(RequestMessage.request_id)
    )
    counts = {rid: (for_citizen, for_agents) for rid, for_citizen, for_agents in rows.all()}
    return [counts.get(rid, (0, 0))[0 if for_citizen else 1] for rid, for_citizen in keys]


# ---------------------------------------------------------------- reads


def select_requests() -> sa.Select:
    """Requests without their search columns (large, never shown)."""
    return sa.select(Request).options(defer(Request.search_document), defer(Request.search_vector))


async def get_request(session: AsyncSession, principal: Principal | None, request_id: uuid.UUID) -> Request | None:
    p = require_principal(principal)
    request = (
        await session.execute(select_requests().where(Request.tenant_id == p.tenant_id, Request.id == request_id))
    ).scalar_one_or_none()
    return request if request is not None and _can_see(p, request) else None


async def get_request_by_reference(session: AsyncSession, principal: Principal | None, reference: str) -> Request | None:
    p = require_principal(principal)
    request = (
        await session.execute(
            select_requests().where(Request.tenant_id == p.tenant_id, Request.reference == reference.strip())
        )
    ).scalar_one_or_none()
    return request if request is not None and _can_see(p, request) else None


async def my_requests(
    session: AsyncSession, principal: Principal | None, statuses: list[str] | None, first: int | None, after: str | None
) -> Page[Request]:
    """The citizen's requests and drafts, newest first."""
    p = require_principal(principal)
    if not p.is_citizen:
        raise Forbidden()
    stmt = select_requests().where(Request.tenant_id == p.tenant_id, Request.citizen_id == p.subject_id)
    if statuses:
        stmt = stmt.where(Request.status.in_(statuses))
    return await paginate(session, stmt, [Request.created_at, Request.id], first, after, descending=True)


@dataclass
class InboxFilter:
    statuses: list[str] | None = None
    procedure_codes: list[str] | None = None
    department_ids: list[uuid.UUID] | None = None
    assignee_ids: list[uuid.UUID] | None = None
    unassigned: bool | None = None
    mine: bool | None = None
    channels: list[str] | None = None
    overdue: bool | None = None
    priorities: list[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None


INBOX_ORDERS = {
    "DUE_DATE": [Request.due_at, Request.id],
    "PRIORITY": [Request.priority, Request.due_at, Request.id],
    "CREATED": [Request.created_at, Request.id],
}
OPEN_STATUSES = (
    RequestStatus.SUBMITTED.value,
    RequestStatus.IN_PROGRESS.value,
    RequestStatus.WAITING_FOR_CITIZEN.value,
)


def inbox_statement(p: Principal, f: InboxFilter, now: datetime) -> sa.Select:
    stmt = select_requests().where(Request.tenant_id == p.tenant_id, Request.status != RequestStatus.DRAFT.value)
    if f.statuses:
        stmt = stmt.where(Request.status.in_(f.statuses))
    if f.procedure_codes:
        stmt = stmt.where(
            Request.procedure_id.in_(
                sa.select(Procedure.id).where(Procedure.tenant_id == p.tenant_id, Procedure.code.in_(f.procedure_codes))
            )
        )
    if f.department_ids:
        stmt = stmt.where(Request.department_id.in_(f.department_ids))
    assignee_conditions = []
    if f.assignee_ids:
        assignee_conditions.append(Request.assignee_id.in_(f.assignee_ids))
    if f.mine:
        assignee_conditions.append(Request.assignee_id == p.subject_id)
    if f.unassigned:
        assignee_conditions.append(Request.assignee_id.is_(None))
    if assignee_conditions:
        stmt = stmt.where(sa.or_(*assignee_conditions))
    if f.channels:
        stmt = stmt.where(Request.channel.in_(f.channels))
    if f.overdue is True:
        stmt = stmt.where(Request.due_at < now, Request.status.in_(OPEN_STATUSES))
    elif f.overdue is False:
        stmt = stmt.where(sa.or_(Request.due_at >= now, Request.status.not_in(OPEN_STATUSES)))
    if f.priorities:
        stmt = stmt.where(Request.priority.in_([PRIORITY_RANK[Priority(v)] for v in f.priorities]))
    if f.created_after:
        stmt = stmt.where(Request.created_at >= f.created_after)
    if f.created_before:
        stmt = stmt.where(Request.created_at < f.created_before)
    query = prefix_tsquery(f.search)
    if query:
        stmt = stmt.where(
            Request.search_vector.op("@@")(sa.func.to_tsquery(sa.literal_column("'french'::regconfig"), query))
        )
    return stmt


async def inbox(
    session: AsyncSession,
    principal: Principal | None,
    f: InboxFilter,
    order: str,
    descending: bool,
    first: int | None,
    after: str | None,
) -> Page[Request]:
    """The agents' inbox across every channel (drafts excluded), keyset-paginated."""
    p = require_staff(principal)
    stmt = inbox_statement(p, f, utcnow())
    return await paginate(session, stmt, INBOX_ORDERS[order], first, after, descending=descending)


# ---------------------------------------------------------------- timeline


def _timeline_stmt(tenant_id: uuid.UUID, public_only: bool) -> sa.Select:
    stmt = sa.select(Event).where(Event.tenant_id == tenant_id, Event.aggregate_type == AGGREGATE)
    if public_only:
        stmt = stmt.where(Event.payload["public"].as_boolean().is_(True))
    return stmt


async def timeline(
    session: AsyncSession, principal: Principal | None, request: Request, first: int | None, after: str | None
) -> Page[Event]:
    """The request's events in order: public ones for the citizen, all for agents."""
    p = require_principal(principal)
    _check_can_see(p, request)
    stmt = _timeline_stmt(p.tenant_id, p.is_citizen).where(Event.aggregate_id == request.id)
    return await paginate(session, stmt, [Event.sequence], first, after)


async def _last_events(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID], public_only: bool) -> list[Event | None]:
    stmt = (
        _timeline_stmt(tenant_id, public_only)
        .where(Event.aggregate_id.in_(list(ids)))
        .distinct(Event.aggregate_id)
        .order_by(Event.aggregate_id, Event.sequence.desc())
    )
    by_id = {e.aggregate_id: e for e in (await session.execute(stmt)).scalars()}
    return [by_id.get(i) for i in ids]


async def load_last_public_events(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Event | None]:
    return await _last_events(session, tenant_id, ids, True)


async def load_last_events(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Event | None]:
    return await _last_events(session, tenant_id, ids, False)
