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
