"""The demo procedure catalogue: every ``seeds/procedures/*.yaml`` published for a tenant (idempotent)."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from domain.procedures.models import Procedure
from domain.procedures.services import import_procedure_file
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.models import Tenant

log = logging.getLogger("guichet.seeds")

CATALOGUE_DIR = Path(__file__).resolve().parent / "procedures"
SYSTEM_ID = uuid.UUID(int=0)


def catalogue_files() -> list[Path]:
    return sorted(CATALOGUE_DIR.glob("*.yaml"))


async def seed_procedures(session: AsyncSession, tenant: Tenant) -> list[Procedure]:
    """Publish the catalogue; an unchanged file publishes nothing (no new version)."""
    admin = Principal(kind=PrincipalKind.CLIENT, subject_id=SYSTEM_ID, tenant_id=tenant.id, roles=frozenset({Role.ADMIN}))
    published = [await import_procedure_file(session, admin, path) for path in catalogue_files()]
    log.info("procedure catalogue ready for %s (%d procedures)", tenant.slug, len(published))
    return published


DEMO_REQUESTS = [
    ("contact", {"topic": "roads", "subject": "Trottoir abîmé", "message": "Bonjour, le trottoir devant le 12 rue de la Mairie est abîmé."}, []),
    (
        "street-issue",
        {"category": "street-light", "description": "Lampadaire éteint depuis trois jours", "location": {"street": "rue de la Mairie", "city": "Paris"}},
        ["acknowledge"],
    ),
    (
        "civil-status-certificate",
        {
            "certificateType": "birth", "documentType": "extract-without-parentage", "relationship": "self",
            "personFamilyName": "Martin", "personGivenNames": "Camille", "eventDate": "1988-04-02",
            "deliveryMode": "online", "copies": 1,
        },
        ["take", "issue"],
    ),
]


async def seed_demo_requests(session: AsyncSession, tenant: Tenant, citizen_email: str) -> None:
    """A few requests of the demo citizen in various states (only when they have none)."""
    import sqlalchemy as sa

    from domain.citizens.models import Citizen
    from domain.requests.models import Request
    from domain.requests.services import submit_request, transition_request

    citizen = (
        await session.execute(sa.select(Citizen).where(Citizen.tenant_id == tenant.id, Citizen.email == citizen_email))
    ).scalar_one_or_none()
    if citizen is None:
        return
    have = (await session.execute(sa.select(Request.id).where(Request.citizen_id == citizen.id).limit(1))).first()
    if have:
        return
    me = Principal(kind=PrincipalKind.CITIZEN, subject_id=citizen.id, tenant_id=tenant.id)
    agent = Principal(kind=PrincipalKind.CLIENT, subject_id=SYSTEM_ID, tenant_id=tenant.id, roles=frozenset({Role.SUPERVISOR}))
    for code, answers, steps in DEMO_REQUESTS:
        request = await submit_request(session, me, {"procedure_code": code, "answers": answers, "channel": "WEB"})
        for step in steps:
            request = await transition_request(session, agent, request.id, request.version, step, {})
