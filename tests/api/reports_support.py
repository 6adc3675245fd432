"""Set-up shared by the report tests: departments, the street-issue procedure, the category tree."""

from __future__ import annotations

import uuid

from domain.procedures.services import import_procedure_file
from domain.reports.services import seed_categories
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.services import create_department
from seeds.catalogue import CATALOGUE_DIR

# A square around central Paris (lon 2.25..2.42, lat 48.81..48.90)
PARIS = {"type": "Polygon", "coordinates": [[[2.25, 48.81], [2.42, 48.81], [2.42, 48.90], [2.25, 48.90], [2.25, 48.81]]]}
HOTEL_DE_VILLE = (48.8566, 2.3522)

SUBMIT = """
mutation($input: ReportSubmitInput!) {
  reportSubmit(input: $input) {
    report { id reference status public supportCount address location { latitude longitude } category { code }
             reporterEmail request { id reference state { code } department { code } procedure { code } citizen { familyName } } }
    possibleDuplicates { id distanceMeters }
    userErrors { field code message }
  }
}
"""


async def setup_reports(app, tenant) -> dict[str, uuid.UUID]:
    """Departments voirie/proprete/espaces-verts, street-issue published, default categories."""
    async with app.state.sessionmaker() as session:
        admin = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
        deps = {}
        for code, name in [("voirie", "Voirie"), ("proprete", "Propreté"), ("espaces-verts", "Espaces verts")]:
            deps[code] = (await create_department(session, admin, {"code": code, "name": name})).id
        await import_procedure_file(session, admin, CATALOGUE_DIR / "street-issue.yaml")
        await seed_categories(session, tenant.id)
        await session.commit()
    return deps


def report_input(category: str = "nid-de-poule", at: tuple[float, float] = HOTEL_DE_VILLE, **more):
    return {
        "categoryCode": category,
        "location": {"latitude": at[0], "longitude": at[1]},
        "description": "Un trou profond sur la chaussée",
        **more,
    }


def offset(at: tuple[float, float], north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    """A point ``north_m`` / ``east_m`` metres away (small distances)."""
    import math

    lat = at[0] + north_m / 111_195.0
    lon = at[1] + east_m / (111_195.0 * math.cos(math.radians(at[0])))
    return lat, lon
