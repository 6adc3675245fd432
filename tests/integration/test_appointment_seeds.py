"""The demo seed creates realistic agendas, is idempotent, and its agendas offer slots."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from domain.appointments import services
from domain.appointments.models import Agenda, Appointment, AppointmentType, OpeningRule, Place
from domain.base import utcnow
from domain.tenancy.models import Tenant
from seeds.demo import seed_demo, system_principal


async def _counts(session, tenant_id):
    out = []
    for model in (Place, Agenda, AppointmentType, OpeningRule, Appointment):
        out.append((await session.execute(sa.select(sa.func.count()).select_from(model).where(model.tenant_id == tenant_id))).scalar_one())
    return out


async def test_demo_seed_has_appointments_and_is_idempotent(app):
    async with app.state.sessionmaker() as session:
        await seed_demo(session, citizens=20)
        tenant = (await session.execute(sa.select(Tenant).where(Tenant.slug == "demo"))).scalar_one()
        first = await _counts(session, tenant.id)
        await seed_demo(session, citizens=20)
        assert await _counts(session, tenant.id) == first
        places, agendas, types, rules, bookings = first
        assert places == 2 and agendas == 4 and types >= 8 and rules > 20 and bookings > 0
        names = set((await session.execute(sa.select(Agenda.name).where(Agenda.tenant_id == tenant.id))).scalars())
        assert "Permanence de Madame la Maire" in names
        permanence = (await session.execute(sa.select(Agenda).where(Agenda.tenant_id == tenant.id, Agenda.requires_subject))).scalar_one()
        assert permanence.capacity == 1
        p = system_principal(tenant.id)
        central = (
            await session.execute(sa.select(Agenda).where(Agenda.tenant_id == tenant.id, Agenda.name.like("Passeports%centrale")))
        ).scalar_one()
        passport = (
            await session.execute(sa.select(AppointmentType).where(AppointmentType.agenda_id == central.id, AppointmentType.procedure_code == "PASSPORT"))
        ).scalar_one()
        slots = await services.availability(session, p, central.id, passport.id, utcnow(), utcnow() + timedelta(days=14))
        assert slots and all(s.capacity == 3 for s in slots)
