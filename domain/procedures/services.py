"""Use cases of the procedure catalogue: publish (versioned), list, read, prefill, import a file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Sequence

import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from domain.citizens.models import Citizen
from domain.errors import DomainValidationError, Forbidden
from domain.events.services import record_event
from domain.procedures.models import Procedure, ProcedureVersion
from domain.procedures.rules import prefill_values, validate_definition
from domain.security import Principal, Role, require_principal, require_role
from domain.tenancy.models import Department


async def department_codes(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = await session.execute(sa.select(Department.code, Department.id).where(Department.tenant_id == tenant_id))
    return {code: dep_id for code, dep_id in rows.all()}


async def publish_procedure(session: AsyncSession, principal: Principal | None, definition: Any) -> Procedure:
    """Validate and publish a definition. A changed definition becomes a new version; an
    unchanged one is a no-op (imports are idempotent). Existing requests keep their version."""
    p = require_role(principal, Role.ADMIN)
    validate_definition(definition, set(await department_codes(session, p.tenant_id)))
    procedure = (
        await session.execute(
            sa.select(Procedure)
            .where(Procedure.tenant_id == p.tenant_id, Procedure.code == definition["code"])
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if procedure is not None:
        current = await session.get(ProcedureVersion, procedure.current_version_id)
        if current is not None and current.definition == definition:
            if not procedure.active:
                await _set_active(session, p, procedure, True)
            return procedure
        number = procedure.current_version + 1
    else:
        procedure = Procedure(
            tenant_id=p.tenant_id,
            code=definition["code"],
            category=definition["category"],
            title_fr=definition["title"]["fr"],
            title_en=definition["title"]["en"],
            current_version=0,
        )
        session.add(procedure)
        await session.flush()
        number = 1
    version = ProcedureVersion(
        tenant_id=p.tenant_id,
        procedure_id=procedure.id,
        number=number,
        definition=definition,
        published_by_type=p.kind.value,
        published_by_id=p.subject_id,
    )
    session.add(version)
    await session.flush()
    procedure.category = definition["category"]
    procedure.title_fr = definition["title"]["fr"]
    procedure.title_en = definition["title"]["en"]
    procedure.current_version = number
    procedure.current_version_id = version.id
    procedure.active = True
    if number > 1:
        procedure.version += 1
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="procedure.published",
        aggregate_type="Procedure",
        aggregate_id=procedure.id,
        actor=p,
        payload={"code": procedure.code, "version": number},
    )
    await session.flush()
    return procedure


async def _set_active(session: AsyncSession, p: Principal, procedure: Procedure, active: bool) -> None:
    procedure.active = active
    procedure.version += 1
    record_event(
        session,
        tenant_id=p.tenant_id,
        type="procedure.activated" if active else "procedure.deactivated",
        aggregate_type="Procedure",
        aggregate_id=procedure.id,
        actor=p,
        payload={"code": procedure.code},
    )
    await session.flush()


async def set_procedure_active(session: AsyncSession, principal: Principal | None, code: str, active: bool) -> Procedure:
    """Withdraw a procedure from the catalogue (no new submissions; existing requests go on) or offer it again."""
    p = require_role(principal, Role.ADMIN)
    procedure = (
        await session.execute(
            sa.select(Procedure)
            .where(Procedure.tenant_id == p.tenant_id, Procedure.code == code)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if procedure is None:
        raise DomainValidationError.single(("code",), "UNKNOWN_PROCEDURE")
    if procedure.active != active:
        await _set_active(session, p, procedure, active)
    return procedure


def load_definition_file(path: Path) -> Any:
    """A definition from a YAML (.yaml/.yml) or JSON file."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix.lower() == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


async def import_procedure_file(session: AsyncSession, principal: Principal | None, path: Path) -> Procedure:
    try:
        definition = load_definition_file(path)
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DomainValidationError.single(("definition",), "INVALID_DEFINITION", detail=str(exc)) from exc
    return await publish_procedure(session, principal, definition)


async def list_procedures(
    session: AsyncSession, principal: Principal | None, category: str | None = None
) -> list[Procedure]:
    """The tenant's active catalogue, visible to citizens and staff (a bounded list)."""
    p = require_principal(principal)
    stmt = sa.select(Procedure).where(Procedure.tenant_id == p.tenant_id, Procedure.active.is_(True))
    if category:
        stmt = stmt.where(Procedure.category == category)
    return list((await session.execute(stmt.order_by(Procedure.category, Procedure.code))).scalars())


async def get_procedure(session: AsyncSession, principal: Principal | None, code: str) -> Procedure | None:
    p = require_principal(principal)
    return (
        await session.execute(sa.select(Procedure).where(Procedure.tenant_id == p.tenant_id, Procedure.code == code))
    ).scalar_one_or_none()


async def get_procedure_by_id(session: AsyncSession, principal: Principal | None, procedure_id: uuid.UUID) -> Procedure | None:
    p = require_principal(principal)
    (procedure,) = await load_procedures(session, p.tenant_id, [procedure_id])
    return procedure


async def load_procedures(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Procedure | None]:
    rows = (
        await session.execute(sa.select(Procedure).where(Procedure.tenant_id == tenant_id, Procedure.id.in_(list(ids))))
    ).scalars()
    by_id = {r.id: r for r in rows}
    return [by_id.get(i) for i in ids]


async def load_procedure_versions(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[ProcedureVersion | None]:
    rows = (
        await session.execute(
            sa.select(ProcedureVersion).where(ProcedureVersion.tenant_id == tenant_id, ProcedureVersion.id.in_(list(ids)))
        )
    ).scalars()
    by_id = {r.id: r for r in rows}
    return [by_id.get(i) for i in ids]


async def list_versions(session: AsyncSession, principal: Principal | None, procedure_id: uuid.UUID) -> list[ProcedureVersion]:
    p = require_principal(principal)
    return list(
        (
            await session.execute(
                sa.select(ProcedureVersion)
                .where(ProcedureVersion.tenant_id == p.tenant_id, ProcedureVersion.procedure_id == procedure_id)
                .order_by(ProcedureVersion.number)
            )
        ).scalars()
    )


def citizen_profile(c: Citizen) -> dict[str, Any]:
    """The citizen record as prefill sources (names of the GraphQL `Citizen` fields)."""
    address = {
        "number": c.address_number,
        "street": c.address_street,
        "complement": c.address_complement,
        "postcode": c.address_postcode,
        "city": c.address_city,
        "inseeCode": c.address_insee,
    }
    birth_place = {"inseeCode": c.birth_place_insee, "label": c.birth_place_label}
    return {
        "givenNames": c.given_names,
        "familyName": c.family_name,
        "birthName": c.birth_name,
        "birthDate": c.birth_date,
        "birthPlace": {k: v for k, v in birth_place.items() if v} or None,
        "gender": c.gender,
        "email": c.email,
        "phone": c.phone,
        "address": {k: v for k, v in address.items() if v} or None,
        "displayName": f"{c.given_names} {c.family_name}",
    }


async def prefill_for(
    session: AsyncSession, principal: Principal | None, version: ProcedureVersion, citizen_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """Prefilled answers for the current citizen, or for ``citizen_id`` (staff filling in on their behalf)."""
    p = require_principal(principal)
    if p.is_citizen:
        if citizen_id not in (None, p.subject_id):
            raise Forbidden()
        citizen_id = p.subject_id
    elif citizen_id is None:
        return {}
    elif not p.is_staff:
        raise Forbidden()
    citizen = (
        await session.execute(sa.select(Citizen).where(Citizen.tenant_id == p.tenant_id, Citizen.id == citizen_id))
    ).scalar_one_or_none()
    if citizen is None:
        return {}
    return prefill_values(version.definition, citizen_profile(citizen))
