"""Generated request history for the dashboard tests (procedures, departments, citizens, requests)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from domain.citizens.models import Citizen
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.services import create_department
from seeds.dashboards import bare_procedures, generate, insert_history


@dataclass
class History:
    procedures: dict[str, uuid.UUID]
    departments: dict[str, uuid.UUID]
    requests: list[dict]
    events: list[dict]


async def make_history(app, tenant, count: int = 300, days: int = 150, seed: int = 7) -> History:
    rng = random.Random(seed)
    system = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
    async with app.state.sessionmaker() as s:
        other = await create_department(s, system, {"name": "Voirie", "code": "voirie"})
        specs = [("permit", "voirie", 10), ("certificate", "etat-civil", 5)]
        refs = await bare_procedures(s, tenant.id, specs)
        procs = {code: ref.id for (code, _, _), ref in zip(specs, refs)}
        citizens = []
        for i in range(12):
            c = Citizen(tenant_id=tenant.id, given_names=f"C{i}", family_name="Test")
            s.add(c)
            citizens.append(c)
        await s.flush()
        now = datetime.now(timezone.utc)
        requests, events = generate(
            rng, tenant.id, refs, [tenant.department_id, other.id, None], [c.id for c in citizens],
            tenant.agents["AGENT"], now - timedelta(days=days), now - timedelta(hours=1), count, now,
        )
        await insert_history(s, requests, events)
        await s.commit()
    return History(procs, {"accueil": tenant.department_id, "voirie": other.id}, requests, events)


async def refreshed_world(app, make_tenant, prefix: str, count: int, days: int, seed: int):
    """A tenant with generated history, folded into the rollups: (tenant, history)."""
    from domain.dashboards.rollups import refresh_rollups

    tenant = await make_tenant(prefix)
    history = await make_history(app, tenant, count=count, days=days, seed=seed)
    async with app.state.sessionmaker() as s:
        await refresh_rollups(s, tenant.id)
    return tenant, history


def period(days_back: int) -> dict[str, str]:
    """Local days from ``days_back`` days ago to today (Europe/Paris, the fixtures' time zone)."""
    from domain.dashboards.rollups import local_today

    today = local_today("Europe/Paris")
    return {"from": (today - timedelta(days=days_back)).isoformat(), "to": today.isoformat()}


async def assert_refused(conn, tables) -> None:
    """The reporting role may not read any of ``tables``."""
    for table in tables:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute("SET LOCAL ROLE guichet_reporting")
                await conn.fetchval(f"SELECT count(*) FROM {table}")
