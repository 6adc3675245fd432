"""Demo reports: the default category tree, the Paris territory and a few reports on the map (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.reports.models import ReportDetails, ReportSettings
from domain.reports.services import seed_categories, submit_report
from domain.tenancy.models import Tenant

# A rough box around Paris (the demo tenant's INSEE code is 75056), [lon, lat].
PARIS_TERRITORY = {"type": "Polygon", "coordinates": [[[2.224, 48.815], [2.47, 48.815], [2.47, 48.902], [2.224, 48.902], [2.224, 48.815]]]}
DEMO_REPORTS = [
    ("nid-de-poule", 48.8566, 2.3522, "Trou profond devant l'Hôtel de Ville", "Place de l'Hôtel de Ville"),
    ("lampadaire-eteint", 48.8530, 2.3499, "Lampadaire éteint sur le quai", "Quai de Corse"),
    ("depot-sauvage", 48.8606, 2.3376, "Matelas abandonné sur le trottoir", "Rue de Rivoli"),
    ("graffiti", 48.8867, 2.3431, "Tag sur la façade de l'école", "Rue Lepic"),
]


async def seed_reports(session: AsyncSession, tenant: Tenant) -> None:
    await seed_categories(session, tenant.id)
    settings = await session.get(ReportSettings, tenant.id)
    if settings is None:
        session.add(ReportSettings(tenant_id=tenant.id, territory=PARIS_TERRITORY))
        await session.flush()
    have = (await session.execute(sa.select(ReportDetails.request_id).where(ReportDetails.tenant_id == tenant.id).limit(1))).first()
    if have:
        return
    for code, lat, lon, text, address in DEMO_REPORTS:
        await submit_report(
            session, None,
            {"tenant_id": tenant.id, "category_code": code, "latitude": lat, "longitude": lon, "description": text, "address": address},
        )
