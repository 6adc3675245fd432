"""Use cases of the citizen repository. Every query is scoped to the principal's tenant."""

from __future__ import annotations

import re
import uuid
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.citizens.models import AssuranceLevel, Citizen, CitizenExternalId
from domain.citizens.rules import IDENTITY_FIELDS, clean_citizen_fields, clean_external_ids, search_fields
from domain.errors import Collector, DomainValidationError, Forbidden
from domain.events.services import record_event
from domain.locking import check_version, lock_row
from domain.pagination import Page, paginate
from domain.security import Principal, require_citizen, require_principal, require_staff
from domain.text import prefix_tsquery


_PHONE_LIKE = re.compile(r"^[+\d][\d .\-()/]*$")


def citizen_tsquery(search: str | None) -> str | None:
    """Words are prefixes; a phone number typed with spaces or dots is one token."""
    if search and _PHONE_LIKE.match(search.strip()):
        digits = re.sub(r"\D", "", search)
        return f"{digits}:*" if digits else None
    return prefix_tsquery(search)


def can_read_citizen(principal: Principal, citizen: Citizen) -> bool:
    if citizen.tenant_id != principal.tenant_id:
        return False
    if principal.is_citizen:
        return citizen.id == principal.subject_id
    return principal.is_staff


async def load_citizens(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Citizen | None]:
    """DataLoader batch function: citizens by id within one tenant, in the order asked."""
    rows = (
        await session.execute(sa.select(Citizen).where(Citizen.tenant_id == tenant_id, Citizen.id.in_(list(ids))))
    ).scalars()
    by_id = {c.id: c for c in rows}
    return [by_id.get(i) for i in ids]


async def load_external_ids(
    session: AsyncSession, tenant_id: uuid.UUID, citizen_ids: Sequence[uuid.UUID]
) -> list[list[CitizenExternalId]]:
    rows = (
        await session.execute(
            sa.select(CitizenExternalId)
            .where(CitizenExternalId.tenant_id == tenant_id, CitizenExternalId.citizen_id.in_(list(citizen_ids)))
            .order_by(CitizenExternalId.source, CitizenExternalId.external_id)
        )
    ).scalars()
    grouped: dict[uuid.UUID, list[CitizenExternalId]] = {i: [] for i in citizen_ids}
    for row in rows:
        grouped[row.citizen_id].append(row)
    return [grouped[i] for i in citizen_ids]


async def get_citizen(session: AsyncSession, principal: Principal | None, citizen_id: uuid.UUID) -> Citizen | None:
    """A citizen visible to the principal, or ``None`` (never reveals other tenants' rows)."""
    p = require_principal(principal)
    if p.is_citizen:
        if citizen_id != p.subject_id:
            raise Forbidden()
    else:
        require_staff(p)
    (citizen,) = await load_citizens(session, p.tenant_id, [citizen_id])
    return citizen


async def search_citizens(
    session: AsyncSession, principal: Principal | None, search: str | None, first: int | None, after: str | None
) -> Page[Citizen]:
    p = require_staff(principal)
    stmt = sa.select(Citizen).where(Citizen.tenant_id == p.tenant_id)
    query = citizen_tsquery(search)
    if query:
        stmt = stmt.where(Citizen.search_vector.op("@@")(sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)))
    return await paginate(session, stmt, [Citizen.sort_name, Citizen.id], first, after)


def _apply_search_fields(citizen: Citizen) -> None:
    citizen.sort_name, citizen.search_document = search_fields(
        citizen.given_names, citizen.family_name, citizen.birth_name, citizen.email, citizen.phone
    )


async def _check_unique_email(
    session: AsyncSession, tenant_id: uuid.UUID, email: str | None, errors: Collector, exclude: uuid.UUID | None = None
) -> None:
    if not email:
        return
    stmt = sa.select(Citizen.id).where(Citizen.tenant_id == tenant_id, Citizen.email == email)
    if exclude:
        stmt = stmt.where(Citizen.id != exclude)
    if (await session.execute(stmt.limit(1))).first():
        errors.add(("email",), "DUPLICATE")


async def _replace_external_ids(
    session: AsyncSession, citizen: Citizen, pairs: list[tuple[str, str]], errors: Collector
) -> None:
    if pairs:
        taken = (
            await session.execute(
                sa.select(CitizenExternalId.source, CitizenExternalId.external_id).where(
                    CitizenExternalId.tenant_id == citizen.tenant_id,
                    CitizenExternalId.citizen_id != citizen.id,
                    sa.tuple_(CitizenExternalId.source, CitizenExternalId.external_id).in_(pairs),
                )
            )
        ).all()
        for source, ext in taken:
            index = pairs.index((source, ext))
            errors.add(("external_ids", str(index)), "DUPLICATE_EXTERNAL_ID", source=source, external_id=ext)
    errors.raise_if_any()
    await session.execute(
        sa.delete(CitizenExternalId).where(
            CitizenExternalId.tenant_id == citizen.tenant_id, CitizenExternalId.citizen_id == citizen.id
        )
    )
    for source, ext in pairs:
        session.add(CitizenExternalId(tenant_id=citizen.tenant_id, citizen_id=citizen.id, source=source, external_id=ext))


async def create_citizen(session: AsyncSession, principal: Principal | None, data: dict[str, Any]) -> Citizen:
    p = require_staff(principal)
    errors = Collector()
    values = clean_citizen_fields(data, errors, creating=True)
    pairs = clean_external_ids(data.get("external_ids") or [], errors)
    await _check_unique_email(session, p.tenant_id, values.get("email"), errors)
    errors.raise_if_any()
    citizen = Citizen(tenant_id=p.tenant_id, **values)
    _apply_search_fields(citizen)
    session.add(citizen)
    await session.flush()
    await _replace_external_ids(session, citizen, pairs, errors)
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="citizen.created",
        aggregate_type="Citizen",
        aggregate_id=citizen.id,
        actor=p,
        payload={"fields": sorted(k for k in data if data[k] is not None)},
    )
    await session.flush()
    return citizen


async def _update(
    session: AsyncSession, p: Principal, citizen: Citizen, expected_version: int, data: dict[str, Any], event_type: str
) -> Citizen:
    check_version(citizen.version, expected_version)
    errors = Collector()
    values = clean_citizen_fields(data, errors, creating=False)
    if "email" in values:
        await _check_unique_email(session, p.tenant_id, values["email"], errors, exclude=citizen.id)
    pairs = clean_external_ids(data["external_ids"] or [], errors) if "external_ids" in data else None
    errors.raise_if_any()
    changed = sorted(k for k, v in values.items() if getattr(citizen, k) != v)
    for key, value in values.items():
        setattr(citizen, key, value)
    if pairs is not None:
        await _replace_external_ids(session, citizen, pairs, errors)
        changed.append("external_ids")
    if changed:
        _apply_search_fields(citizen)
        citizen.version += 1
        record_event(
            session,
            tenant_id=p.tenant_id,
            type=event_type,
            aggregate_type="Citizen",
            aggregate_id=citizen.id,
            actor=p,
            payload={"fields": changed, "version": citizen.version},
        )
    await session.flush()
    return citizen


async def update_citizen(
    session: AsyncSession, principal: Principal | None, citizen_id: uuid.UUID, expected_version: int, data: dict[str, Any]
) -> Citizen:
    p = require_staff(principal)
    citizen = await lock_row(session, Citizen, p.tenant_id, citizen_id)
    if citizen is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    return await _update(session, p, citizen, expected_version, data, "citizen.updated")


async def update_my_profile(
    session: AsyncSession, principal: Principal | None, expected_version: int, data: dict[str, Any]
) -> Citizen:
    """A citizen edits their own record. Identity fields certified at the counter or
    by FranceConnect can only be changed by an agent."""
    p = require_citizen(principal)
    citizen = await lock_row(session, Citizen, p.tenant_id, p.subject_id)
    if citizen is None:
        raise Forbidden()
    if citizen.assurance_level != AssuranceLevel.DECLARED.value:
        locked = sorted(IDENTITY_FIELDS & set(data))
        if locked:
            raise DomainValidationError.single((locked[0],), "IDENTITY_LOCKED")
    data = {k: v for k, v in data.items() if k not in ("assurance_level", "external_ids")}
    return await _update(session, p, citizen, expected_version, data, "citizen.profile_updated")
