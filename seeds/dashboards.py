"""A generator of request history (requests + their outbox events) for dashboards.

Used by the demo seed (months of history for meaningful curves), the rollup tests and the
benchmark. It writes rows directly (bulk inserts), with the same statuses and event shapes as
the requests service: ``request.submitted``, public ``request.transitioned`` by an agent (first
response, closure), ``request.transitioned`` by the citizen (cancellation), ``request.rated``.
Self-service (WEB/APP) grows over the period, so the channel-shift curve has a trend.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events.models import Event
from domain.requests.models import Request

AGENT_CHANNELS = ("COUNTER", "PHONE", "EMAIL", "POST")
ONLINE = ("WEB", "APP")


@dataclass(frozen=True)
class ProcedureRef:
    id: uuid.UUID
    version_id: uuid.UUID
    sla_days: int = 10
    # generic status -> the workflow state that carries it (from the published definition);
    # empty for bare test procedures, where the lowercased status is used
    states: tuple[tuple[str, str], ...] = ()

    def state_for(self, status: str) -> str | None:
        for generic, code in self.states:
            if generic == status:
                return code
        return None if self.states else status.lower()


def states_of(definition: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """First state of each generic status in a procedure definition's workflow."""
    found: dict[str, str] = {}
    for state in (definition.get("workflow") or {}).get("states") or []:
        if isinstance(state, dict) and state.get("status") and state.get("code"):
            found.setdefault(state["status"], state["code"])
    return tuple(found.items())


def _event(tenant_id, request_id, type_, actor_type, actor_id, at, **payload) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "tenant_id": tenant_id, "type": type_, "aggregate_type": "Request",
        "aggregate_id": request_id, "actor_type": actor_type, "actor_id": actor_id, "payload": payload,
        "occurred_at": at,
    }


def generate(
    rng: random.Random,
    tenant_id: uuid.UUID,
    procedures: list[ProcedureRef],
    departments: list[uuid.UUID | None],
    citizens: list[uuid.UUID],
    agent_id: uuid.UUID,
    start: datetime,
    end: datetime,
    count: int,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` requests submitted between ``start`` and ``end`` (UTC) and their events."""
    requests: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    span = (end - start).total_seconds()
    for _ in range(count):
        rid = uuid.uuid4()
        offset = rng.random()
        submitted = start + timedelta(seconds=offset * span)
        online_share = 0.35 + 0.4 * offset  # self-service grows over the period
        channel = rng.choice(ONLINE) if rng.random() < online_share else rng.choice(AGENT_CHANNELS)
        proc = rng.choice(procedures)
        citizen = rng.choice(citizens)
        submitter = ("citizen", citizen) if channel in ONLINE else ("agent", agent_id)
        row = {
            "id": rid, "tenant_id": tenant_id, "reference": None, "procedure_id": proc.id,
            "procedure_version_id": proc.version_id, "citizen_id": citizen, "channel": channel,
            "status": "SUBMITTED", "state": "submitted", "priority": 2, "department_id": rng.choice(departments),
            "answers": {}, "created_by_type": submitter[0], "created_by_id": submitter[1],
            "submitted_at": submitted, "due_at": submitted + timedelta(days=proc.sla_days), "closed_at": None,
            "rating": None, "rated_at": None, "search_document": "", "version": 1,
            "created_at": submitted, "updated_at": submitted,
        }
        events.append(_event(tenant_id, rid, "request.submitted", submitter[0], submitter[1], submitted,
                             public=True, channel=channel, status="SUBMITTED", to_state="submitted"))
        submitted_state = proc.state_for("SUBMITTED") or "submitted"
        row["state"] = submitted_state
        events[-1]["payload"]["to_state"] = submitted_state
        first = submitted + timedelta(hours=rng.lognormvariate(2.5, 1.2))
        working = proc.state_for("IN_PROGRESS")
        if working and first < now and rng.random() < 0.9:
            row.update(status="IN_PROGRESS", state=working, version=2)
            events.append(_event(tenant_id, rid, "request.transitioned", "agent", agent_id, first, public=True,
                                 transition="take", from_state=submitted_state, to_state=working, status="IN_PROGRESS"))
            closed = first + timedelta(days=rng.lognormvariate(1.8, 0.9))
            outcomes = [s for s in ("CLOSED", "ACCEPTED", "ACCEPTED", "REJECTED") if proc.state_for(s)]
            if outcomes and closed < now and rng.random() < 0.85:
                status = rng.choice(outcomes)
                final = proc.state_for(status)
                row.update(status=status, state=final, closed_at=closed, version=3)
                events.append(_event(tenant_id, rid, "request.transitioned", "agent", agent_id, closed, public=True,
                                     transition="close", from_state=working, to_state=final, status=status))
                rated = closed + timedelta(hours=rng.uniform(1, 72))
                if rated < now and rng.random() < 0.4:
                    rating = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 5))[0]
                    row.update(rating=rating, rated_at=rated)
                    events.append(_event(tenant_id, rid, "request.rated", "citizen", citizen, rated, public=False,
                                         rating=rating, has_comment=False))
        elif proc.state_for("CANCELLED") and rng.random() < 0.1:
            cancelled = submitted + timedelta(hours=rng.uniform(1, 48))
            if cancelled < now:
                final = proc.state_for("CANCELLED")
                row.update(status="CANCELLED", state=final, closed_at=cancelled, version=2)
                events.append(_event(tenant_id, rid, "request.transitioned", "citizen", citizen, cancelled,
                                     public=True, transition="cancel", to_state=final, status="CANCELLED"))
        requests.append(row)
    events.sort(key=lambda e: e["occurred_at"])
    return requests, events


async def insert_history(session: AsyncSession, requests: list[dict], events: list[dict], chunk: int = 2000) -> None:
    for i in range(0, len(requests), chunk):
        await session.execute(sa.insert(Request.__table__), requests[i : i + chunk])
    for i in range(0, len(events), chunk):
        await session.execute(sa.insert(Event.__table__), events[i : i + chunk])


async def seed_request_history(session: AsyncSession, tenant_id: uuid.UUID, months: int = 18, count: int = 6000) -> int:
    """Months of history for the demo tenant's dashboards, once (skipped when procedures are
    missing or a history exists). Returns the number of requests generated."""
    from domain.citizens.models import Citizen
    from domain.procedures.models import Procedure
    from domain.tenancy.models import Agent, Department

    from domain.procedures.models import ProcedureVersion

    # the history is months old; the demo's own requests are recent
    already = (
        await session.execute(
            sa.select(Request.id).where(
                Request.tenant_id == tenant_id, Request.submitted_at < datetime.now().astimezone() - timedelta(days=60)
            ).limit(1)
        )
    ).first()
    procs = (
        await session.execute(
            sa.select(Procedure.id, Procedure.current_version_id, ProcedureVersion.definition)
            .join(ProcedureVersion, ProcedureVersion.id == Procedure.current_version_id)
            .where(Procedure.tenant_id == tenant_id)
        )
    ).all()
    if already or not procs:
        return 0
    departments = list((await session.execute(sa.select(Department.id).where(Department.tenant_id == tenant_id))).scalars())
    names = {
        cid: [given, family]
        for cid, given, family in await session.execute(
            sa.select(Citizen.id, Citizen.given_names, Citizen.family_name).where(Citizen.tenant_id == tenant_id)
        )
    }
    citizens = list(names)
    agent = (await session.execute(sa.select(Agent.id).where(Agent.tenant_id == tenant_id).limit(1))).scalar_one_or_none()
    if not citizens or agent is None:
        return 0
    rng = random.Random(20261129)
    now = datetime.now().astimezone()
    start = now - timedelta(days=30 * months)
    refs = [ProcedureRef(pid, vid, rng.choice((5, 10, 15, 30)), states_of(definition)) for pid, vid, definition in procs]
    requests, events = generate(rng, tenant_id, refs, departments, citizens, agent, start, now, count, now)
    await _give_references(session, tenant_id, requests, names)
    await insert_history(session, requests, events)
    return len(requests)


async def _give_references(
    session: AsyncSession, tenant_id: uuid.UUID, requests: list[dict[str, Any]], names: dict[uuid.UUID, list[str]]
) -> None:
    """Human references ``YYYY-NNNNNN`` in submission order, taken from the same per-tenant-year
    counter as the requests service, so later submissions never collide."""
    from domain.requests.models import RequestCounter
    from domain.requests.rules import format_reference, search_document

    by_year: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(requests, key=lambda r: r["submitted_at"]):
        by_year.setdefault(row["submitted_at"].year, []).append(row)
    for year, rows in by_year.items():
        stmt = (
            sa.dialects.postgresql.insert(RequestCounter.__table__)
            .values(tenant_id=tenant_id, year=year, last_value=len(rows))
            .on_conflict_do_update(
                index_elements=["tenant_id", "year"],
                set_={"last_value": RequestCounter.__table__.c.last_value + len(rows)},
            )
            .returning(RequestCounter.__table__.c.last_value)
        )
        last = (await session.execute(stmt)).scalar_one()
        for number, row in enumerate(rows, start=last - len(rows) + 1):
            row["reference"] = format_reference(year, number)
            row["search_document"] = search_document(row["reference"], names.get(row["citizen_id"], []), {})


async def seed_dashboards(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Demo: 18 months of request history (once), then the rollups rebuilt (which commits)."""
    from domain.dashboards.rollups import rebuild_rollups

    await seed_request_history(session, tenant_id)
    await session.commit()
    await rebuild_rollups(session, tenant_id)


async def bare_procedures(session: AsyncSession, tenant_id: uuid.UUID, specs: list[tuple[str, str, int]]) -> list[ProcedureRef]:
    """Minimal procedures (code, category, SLA days) with an empty published version, for generated
    history in tests and benchmarks (the workflow is not exercised there)."""
    from domain.procedures.models import Procedure, ProcedureVersion

    refs = []
    for code, category, sla in specs:
        proc = Procedure(tenant_id=tenant_id, code=code, category=category, title_fr=code, title_en=code)
        session.add(proc)
        await session.flush()
        version = ProcedureVersion(tenant_id=tenant_id, procedure_id=proc.id, number=1, definition={})
        session.add(version)
        await session.flush()
        proc.current_version_id = version.id
        refs.append(ProcedureRef(proc.id, version.id, sla))
    return refs
