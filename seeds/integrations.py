"""Demo API keys: well-known keys for the demo tenants, so integrators can try at once.

Like the demo passwords, these keys are public: they exist only where the demo
data is loaded (``guichet serve --demo`` / ``guichet seed --demo``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clients.keys import hash_key, parse_prefix
from domain.clients.models import ApiClient
from domain.clients.services import issue_api_client
from domain.tenancy.services import get_tenant_by_slug

# (tenant slug, name, roles, key)
DEMO_API_CLIENTS = [
    ("demo", "Démo intégration", ["AGENT"], "gk_live_demo0001_demo-only-never-in-production-guichet-00001"),
    ("voisine", "Démo intégration", ["AGENT"], "gk_live_voisin01_demo-only-never-in-production-guichet-00002"),
]


async def seed_demo_api_clients(session: AsyncSession) -> None:
    """Create the demo keys that are missing (idempotent)."""
    for slug, name, roles, key in DEMO_API_CLIENTS:
        tenant = await get_tenant_by_slug(session, slug)
        prefix = parse_prefix(key)
        if tenant is None or prefix is None:
            continue
        if (await session.execute(sa.select(ApiClient.id).where(ApiClient.key_prefix == prefix))).first():
            continue
        issued = await issue_api_client(session, tenant.id, {"name": name, "roles": roles}, None)
        issued.client.key_prefix = prefix
        issued.client.key_hash = hash_key(key)
        await session.flush()
