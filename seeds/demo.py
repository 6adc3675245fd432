"""Demo data: "Ville de Démo" and "Commune Voisine". Idempotent: run it as often as you like."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.ext.asyncio import AsyncSession

from auth.passwords import hash_password
from domain.citizens.models import Citizen
from domain.citizens.rules import normalise_phone
from domain.citizens.services import create_citizen
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.models import Agent, Department, Tenant
from domain.tenancy.services import create_agent, create_department, create_tenant, get_tenant_by_slug
from seeds.integrations import seed_demo_api_clients
from seeds.appointments import seed_appointments

log = logging.getLogger("guichet.seeds")

DEMO_PASSWORD = "guichet-demo"
SYSTEM_ID = uuid.UUID(int=0)

TENANTS = [
    {"slug": "demo", "name": "Ville de Démo", "insee_code": "75056"},
    {"slug": "voisine", "name": "Commune Voisine", "insee_code": "92012"},
]

DEPARTMENTS = [
    ("accueil", "Accueil", None),
    ("etat-civil", "État civil", "accueil"),
    ("elections", "Élections", "accueil"),
    ("enfance-jeunesse", "Enfance-Jeunesse", None),
    ("voirie", "Voirie", "services-techniques"),
    ("urbanisme", "Urbanisme", None),
    ("proprete", "Propreté", "services-techniques"),
]
PARENTS = [("services-techniques", "Services techniques", None)]


@dataclass(frozen=True)
class DemoAccount:
    tenant: str
    email: str
    given_name: str
    family_name: str
    roles: tuple[str, ...]
    departments: tuple[str, ...]


AGENTS = [
    DemoAccount("demo", "admin@ville-demo.fr", "Alice", "Administratrice", ("ADMIN",), ("accueil",)),
    DemoAccount("demo", "accueil@ville-demo.fr", "Bruno", "Accueil", ("AGENT",), ("accueil",)),
    DemoAccount("demo", "etat-civil@ville-demo.fr", "Chloé", "Officier", ("AGENT",), ("etat-civil",)),
    DemoAccount("demo", "superviseur@ville-demo.fr", "David", "Superviseur", ("SUPERVISOR",), ("etat-civil", "elections")),
    DemoAccount("demo", "voirie@ville-demo.fr", "Emma", "Voirie", ("AGENT",), ("voirie", "proprete")),
    DemoAccount("demo", "analyste@ville-demo.fr", "Farid", "Analyste", ("ANALYST",), ()),
    DemoAccount("voisine", "admin@commune-voisine.fr", "Gaëlle", "Voisine", ("ADMIN",), ("accueil",)),
]
DEMO_CITIZEN = {
    "given_names": "Camille",
    "family_name": "Martin",
    "email": "camille.martin@example.fr",
    "phone": "06 12 34 56 78",
    "birth_date": None,
    "address": {"number": "12", "street": "rue de la Mairie", "postcode": "75001", "city": "Paris", "insee_code": "75056"},
}


def system_principal(tenant_id: uuid.UUID) -> Principal:
    return Principal(kind=PrincipalKind.CLIENT, subject_id=SYSTEM_ID, tenant_id=tenant_id, roles=frozenset({Role.ADMIN}))


async def _ensure_tenant(session: AsyncSession, spec: dict) -> Tenant:
    tenant = await get_tenant_by_slug(session, spec["slug"])
    return tenant or await create_tenant(session, spec)


async def _ensure_departments(session: AsyncSession, tenant: Tenant) -> dict[str, uuid.UUID]:
    p = system_principal(tenant.id)
    existing = {
        d.code: d.id for d in (await session.execute(sa.select(Department).where(Department.tenant_id == tenant.id))).scalars()
    }
    for code, name, parent in PARENTS + DEPARTMENTS:
        if code not in existing:
            dep = await create_department(session, p, {"code": code, "name": name, "parent_id": existing.get(parent) if parent else None})
            existing[code] = dep.id
    return existing


async def _ensure_agents(session: AsyncSession, tenant: Tenant, departments: dict[str, uuid.UUID], password_hash: str) -> None:
    p = system_principal(tenant.id)
    for account in AGENTS:
        if account.tenant != tenant.slug:
            continue
        found = (
            await session.execute(sa.select(Agent.id).where(Agent.tenant_id == tenant.id, Agent.email == account.email))
        ).first()
        if found:
            continue
        await create_agent(
            session,
            p,
            {
                "email": account.email,
                "given_name": account.given_name,
                "family_name": account.family_name,
                "roles": list(account.roles),
                "department_ids": [departments[d] for d in account.departments],
                "password_hash": password_hash,
            },
        )


def _mobile(rng: random.Random) -> str:
    while True:
        number = f"0{rng.choice('67')}{rng.randrange(10**8):08d}"
        if normalise_phone(number):
            return number


def fake_citizen(fake: Faker, rng: random.Random, index: int) -> dict:
    gender = rng.choice(["FEMALE", "MALE"])
    given = fake.first_name_female() if gender == "FEMALE" else fake.first_name_male()
    family = fake.last_name()
    data = {
        "given_names": given,
        "family_name": family,
        "gender": gender,
        "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=95),
        "email": f"{given}.{family}.{index}@example.org".lower().replace(" ", "-"),
        "phone": _mobile(rng),
        "address": {
            "number": str(rng.randint(1, 120)),
            "street": fake.street_name(),
            "postcode": "75001",
            "city": "Paris",
            "insee_code": "75056",
        },
        "preferred_channel": rng.choice(["EMAIL", "EMAIL", "SMS", "POST", "APP"]),
    }
    if gender == "FEMALE" and rng.random() < 0.3:
        data["birth_name"] = fake.last_name()
    return data


async def _ensure_citizens(session: AsyncSession, tenant: Tenant, count: int, password_hash: str) -> None:
    p = system_principal(tenant.id)
    have = (await session.execute(sa.select(sa.func.count()).select_from(Citizen).where(Citizen.tenant_id == tenant.id))).scalar_one()
    if tenant.slug == "demo":
        found = (
            await session.execute(sa.select(Citizen).where(Citizen.tenant_id == tenant.id, Citizen.email == DEMO_CITIZEN["email"]))
        ).scalar_one_or_none()
        if found is None:
            citizen = await create_citizen(session, p, DEMO_CITIZEN)
            citizen.password_hash = password_hash
            have += 1
    fake = Faker("fr_FR")
    fake.seed_instance(sum(map(ord, tenant.slug)))
    rng = random.Random(sum(map(ord, tenant.slug)))
    index = 0
    while have < count:
        data = fake_citizen(fake, rng, index)
        index += 1
        exists = (
            await session.execute(sa.select(Citizen.id).where(Citizen.tenant_id == tenant.id, Citizen.email == data["email"]))
        ).first()
        if exists:
            continue
        await create_citizen(session, p, data)
        have += 1


async def seed_demo(session: AsyncSession, citizens: int = 300) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    for spec in TENANTS:
        tenant = await _ensure_tenant(session, spec)
        departments = await _ensure_departments(session, tenant)
        await _ensure_agents(session, tenant, departments, password_hash)
        await _ensure_citizens(session, tenant, citizens if spec["slug"] == "demo" else citizens // 5, password_hash)
        if spec["slug"] == "demo":
            await seed_appointments(session, system_principal(tenant.id), departments)
            from seeds.catalogue import seed_demo_requests, seed_procedures

            await seed_procedures(session, tenant)
            await seed_demo_requests(session, tenant, DEMO_CITIZEN["email"])
            from seeds.reports import seed_reports

            await seed_reports(session, tenant)
            from seeds.dashboards import seed_dashboards

            await seed_dashboards(session, tenant.id)
    await seed_demo_api_clients(session)
    await session.commit()
    log.info("demo data ready")
