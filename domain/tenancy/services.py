"""Tenants, departments and agents: reads for everyone in the tenant, writes for admins."""

from __future__ import annotations

import re
import uuid
from typing import Any, Sequence
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.citizens.rules import INSEE_RE, normalise_email
from domain.errors import Collector, DomainValidationError
from domain.events.services import record_event
from domain.locking import check_version, lock_row
from domain.pagination import Page, paginate
from domain.security import Principal, Role, require_any_agent, require_principal, require_role
from domain.tenancy.models import Agent, AgentDepartment, Department, Tenant
from domain.text import fold, prefix_tsquery

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# ---------------------------------------------------------------- tenants


async def get_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return (await session.execute(sa.select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()


async def current_tenant(session: AsyncSession, principal: Principal | None) -> Tenant:
    p = require_principal(principal)
    return (await session.execute(sa.select(Tenant).where(Tenant.id == p.tenant_id))).scalar_one()


def clean_tenant(data: dict[str, Any], errors: Collector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        name = " ".join((data["name"] or "").split())
        if not name:
            errors.add(("name",), "REQUIRED")
        out["name"] = name
    if "slug" in data:
        slug = (data["slug"] or "").strip()
        if not SLUG_RE.match(slug):
            errors.add(("slug",), "INVALID_SLUG")
        out["slug"] = slug
    if "insee_code" in data:
        code = (data["insee_code"] or "").strip().upper() or None
        if code and not INSEE_RE.match(code):
            errors.add(("insee_code",), "INVALID_INSEE_CODE")
        out["insee_code"] = code
    if "timezone" in data and data["timezone"] is not None:
        tz = data["timezone"]
        if tz not in available_timezones():
            errors.add(("timezone",), "INVALID_TIMEZONE", value=tz)
        else:
            ZoneInfo(tz)
        out["timezone"] = tz
    if "default_locale" in data and data["default_locale"] is not None:
        locale = str(data["default_locale"]).lower()
        if locale not in ("fr", "en"):
            errors.add(("default_locale",), "INVALID")
        out["default_locale"] = locale
    return out


async def create_tenant(session: AsyncSession, data: dict[str, Any]) -> Tenant:
    """Platform operation (command line, seeds): creates a local authority."""
    errors = Collector()
    values = clean_tenant({"timezone": "Europe/Paris", "default_locale": "fr", **data}, errors)
    if values.get("slug") and await get_tenant_by_slug(session, values["slug"]):
        errors.add(("slug",), "DUPLICATE")
    errors.raise_if_any()
    tenant = Tenant(**values)
    session.add(tenant)
    await session.flush()
    record_event(
        session, tenant_id=tenant.id, type="tenant.created", aggregate_type="Tenant", aggregate_id=tenant.id, actor=None
    )
    return tenant


# ---------------------------------------------------------------- departments


async def load_departments(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Department | None]:
    rows = (
        await session.execute(sa.select(Department).where(Department.tenant_id == tenant_id, Department.id.in_(list(ids))))
    ).scalars()
    by_id = {d.id: d for d in rows}
    return [by_id.get(i) for i in ids]


async def list_departments(session: AsyncSession, principal: Principal | None) -> list[Department]:
    """All departments of the tenant (a bounded list: a town has tens of services)."""
    p = require_any_agent(principal)
    rows = await session.execute(sa.select(Department).where(Department.tenant_id == p.tenant_id))
    # sorted in Python with accents folded: "Élections" sorts with the E's whatever the collation
    return sorted(rows.scalars(), key=lambda d: (fold(d.name), str(d.id)))


async def get_department(session: AsyncSession, principal: Principal | None, department_id: uuid.UUID) -> Department | None:
    p = require_any_agent(principal)
    (dep,) = await load_departments(session, p.tenant_id, [department_id])
    return dep


def _clean_department(data: dict[str, Any], errors: Collector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        name = " ".join((data["name"] or "").split())
        if not name:
            errors.add(("name",), "REQUIRED")
        elif len(name) > 200:
            errors.add(("name",), "TOO_LONG", max=200)
        out["name"] = name
    if "code" in data:
        code = (data["code"] or "").strip().lower()
        if not SLUG_RE.match(code):
            errors.add(("code",), "INVALID_SLUG")
        out["code"] = code
    return out


async def _check_parent(
    session: AsyncSession, tenant_id: uuid.UUID, parent_id: uuid.UUID | None, errors: Collector, moving: uuid.UUID | None = None
) -> None:
    if parent_id is None:
        return
    (parent,) = await load_departments(session, tenant_id, [parent_id])
    if parent is None:
        errors.add(("parent_id",), "NOT_FOUND")
        return
    if moving is None:
        return
    # walk up from the new parent: meeting the moved department means a cycle
    ancestors = (
        await session.execute(
            sa.text(
                """
                WITH RECURSIVE up(id, parent_id) AS (
                    SELECT id, parent_id FROM departments WHERE id = :start AND tenant_id = :tenant
                    UNION ALL
                    SELECT d.id, d.parent_id FROM departments d JOIN up ON d.id = up.parent_id
                )
                SELECT id FROM up
                """
            ),
            {"start": parent_id, "tenant": tenant_id},
        )
    ).scalars()
    if moving in set(ancestors):
        errors.add(("parent_id",), "CYCLE")


async def _check_department_code(
    session: AsyncSession, tenant_id: uuid.UUID, code: str | None, errors: Collector, exclude: uuid.UUID | None = None
) -> None:
    if not code:
        return
    stmt = sa.select(Department.id).where(Department.tenant_id == tenant_id, Department.code == code)
    if exclude:
        stmt = stmt.where(Department.id != exclude)
    if (await session.execute(stmt)).first():
        errors.add(("code",), "DUPLICATE")


async def create_department(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Department:
    p = require_role(principal, Role.ADMIN)
    errors = Collector()
    values = _clean_department({"name": data.get("name"), "code": data.get("code") or fold(data.get("name")).replace(" ", "-")}, errors)
    await _check_parent(session, p.tenant_id, data.get("parent_id"), errors)
    await _check_department_code(session, p.tenant_id, values.get("code"), errors)
    errors.raise_if_any()
    dep = Department(tenant_id=p.tenant_id, parent_id=data.get("parent_id"), **values)
    session.add(dep)
    await session.flush()
    record_event(
        session, tenant_id=p.tenant_id, type="department.created", aggregate_type="Department", aggregate_id=dep.id, actor=p
    )
    return dep


async def update_department(
    session: AsyncSession, principal: Principal | None, department_id: uuid.UUID, expected_version: int, data: dict[str, Any]
) -> Department:
    p = require_role(principal, Role.ADMIN)
    dep = await lock_row(session, Department, p.tenant_id, department_id)
    if dep is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    check_version(dep.version, expected_version)
    errors = Collector()
    values = _clean_department(data, errors)
    await _check_department_code(session, p.tenant_id, values.get("code"), errors, exclude=dep.id)
    if "parent_id" in data:
        if data["parent_id"] == dep.id:
            errors.add(("parent_id",), "CYCLE")
        else:
            await _check_parent(session, p.tenant_id, data["parent_id"], errors, moving=dep.id)
        values["parent_id"] = data["parent_id"]
    errors.raise_if_any()
    for key, value in values.items():
        setattr(dep, key, value)
    dep.version += 1
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="department.updated",
        aggregate_type="Department",
        aggregate_id=dep.id,
        actor=p,
        payload={"fields": sorted(values)},
    )
    await session.flush()
    return dep


# ---------------------------------------------------------------- agents


async def load_agents(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Agent | None]:
    rows = (await session.execute(sa.select(Agent).where(Agent.tenant_id == tenant_id, Agent.id.in_(list(ids))))).scalars()
    by_id = {a.id: a for a in rows}
    return [by_id.get(i) for i in ids]


async def load_agent_department_ids(
    session: AsyncSession, tenant_id: uuid.UUID, agent_ids: Sequence[uuid.UUID]
) -> list[list[uuid.UUID]]:
    rows = await session.execute(
        sa.select(AgentDepartment.agent_id, AgentDepartment.department_id).where(
            AgentDepartment.tenant_id == tenant_id, AgentDepartment.agent_id.in_(list(agent_ids))
        )
    )
    grouped: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in agent_ids}
    for agent_id, dep_id in rows:
        grouped[agent_id].append(dep_id)
    return [grouped[i] for i in agent_ids]


async def get_agent(session: AsyncSession, principal: Principal | None, agent_id: uuid.UUID) -> Agent | None:
    p = require_any_agent(principal)
    (agent,) = await load_agents(session, p.tenant_id, [agent_id])
    return agent


async def list_agents(
    session: AsyncSession,
    principal: Principal | None,
    search: str | None,
    department_id: uuid.UUID | None,
    first: int | None,
    after: str | None,
) -> Page[Agent]:
    p = require_any_agent(principal)
    stmt = sa.select(Agent).where(Agent.tenant_id == p.tenant_id)
    query = prefix_tsquery(search)
    if query:
        doc = sa.func.to_tsvector(
            sa.literal_column("'simple'::regconfig"),
            sa.func.translate(sa.func.lower(Agent.given_name + " " + Agent.family_name + " " + Agent.email), "@.-", "   "),
        )
        stmt = stmt.where(doc.op("@@")(sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)))
    if department_id:
        stmt = stmt.where(
            Agent.id.in_(sa.select(AgentDepartment.agent_id).where(AgentDepartment.department_id == department_id))
        )
    return await paginate(session, stmt, [Agent.family_name, Agent.given_name, Agent.id], first, after)


def _clean_agent(data: dict[str, Any], errors: Collector, creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("given_name", "family_name"):
        if name in data or creating:
            value = " ".join((data.get(name) or "").split())
            if not value:
                errors.add((name,), "REQUIRED")
            elif len(value) > 100:
                errors.add((name,), "TOO_LONG", max=100)
            out[name] = value
    if "email" in data or creating:
        email = normalise_email(data.get("email") or "")
        if email is None:
            errors.add(("email",), "INVALID_EMAIL")
        out["email"] = email
    if "roles" in data or creating:
        roles = []
        for index, role in enumerate(data.get("roles") or []):
            try:
                roles.append(Role(getattr(role, "value", role)).value)
            except ValueError:
                errors.add(("roles", str(index)), "INVALID")
        if not roles:
            errors.add(("roles",), "ROLE_REQUIRED")
        out["roles"] = sorted(set(roles))
    if "active" in data and data["active"] is not None:
        out["active"] = bool(data["active"])
    return out


async def _set_agent_departments(
    session: AsyncSession, agent: Agent, department_ids: list[uuid.UUID], errors: Collector
) -> None:
    found = await load_departments(session, agent.tenant_id, department_ids)
    for index, dep in enumerate(found):
        if dep is None:
            errors.add(("department_ids", str(index)), "NOT_FOUND")
    errors.raise_if_any()
    await session.execute(sa.delete(AgentDepartment).where(AgentDepartment.agent_id == agent.id))
    for dep_id in dict.fromkeys(department_ids):
        session.add(AgentDepartment(agent_id=agent.id, department_id=dep_id, tenant_id=agent.tenant_id))


async def _check_agent_email(
    session: AsyncSession, tenant_id: uuid.UUID, email: str | None, errors: Collector, exclude: uuid.UUID | None = None
) -> None:
    if not email:
        return
    stmt = sa.select(Agent.id).where(Agent.tenant_id == tenant_id, Agent.email == email)
    if exclude:
        stmt = stmt.where(Agent.id != exclude)
    if (await session.execute(stmt)).first():
        errors.add(("email",), "DUPLICATE")


async def create_agent(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Agent:
    p = require_role(principal, Role.ADMIN)
    errors = Collector()
    values = _clean_agent(data, errors, creating=True)
    await _check_agent_email(session, p.tenant_id, values.get("email"), errors)
    errors.raise_if_any()
    agent = Agent(tenant_id=p.tenant_id, password_hash=data.get("password_hash"), **values)
    session.add(agent)
    await session.flush()
    await _set_agent_departments(session, agent, list(data.get("department_ids") or []), errors)
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="agent.created",
        aggregate_type="Agent",
        aggregate_id=agent.id,
        actor=p,
        payload={"roles": agent.roles},
    )
    await session.flush()
    return agent


async def update_agent(
    session: AsyncSession, principal: Principal | None, agent_id: uuid.UUID, expected_version: int, data: dict[str, Any]
) -> Agent:
    p = require_role(principal, Role.ADMIN)
    agent = await lock_row(session, Agent, p.tenant_id, agent_id)
    if agent is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    check_version(agent.version, expected_version)
    errors = Collector()
    values = _clean_agent(data, errors, creating=False)
    await _check_agent_email(session, p.tenant_id, values.get("email"), errors, exclude=agent.id)
    errors.raise_if_any()
    for key, value in values.items():
        setattr(agent, key, value)
    changed = sorted(values)
    if "department_ids" in data:
        await _set_agent_departments(session, agent, list(data["department_ids"] or []), errors)
        changed.append("department_ids")
    agent.version += 1
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="agent.updated",
        aggregate_type="Agent",
        aggregate_id=agent.id,
        actor=p,
        payload={"fields": changed},
    )
    await session.flush()
    return agent
