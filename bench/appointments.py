"""Appointments benchmark: availability over 60 days and booking throughput, next to raw SQL.

    python -m bench.appointments [--server postgresql://postgres@127.0.0.1:5432/postgres]
                                 [--bookings 10000] [--rounds 40] [--clients 50]

Creates (and drops) its own database on the server, applies the migrations,
loads an agenda with ``--bookings`` existing bookings, then measures:

1. ``availability`` over 60 days through the GraphQL API (in-process ASGI, HTTP
   semantics), through the domain service, and the same work as one raw SQL query
   over asyncpg (p50/p95 over ``--rounds`` calls);
2. booking throughput: ``--clients`` concurrent clients booking random slots of
   the same day (capacity 3) through the domain service, each in its own
   transaction and connection, until the day is full; then the same with raw
   SQL over asyncpg (same rows written: appointment, seat, citizen seat, event).

Self-contained on purpose (own small helpers); results are printed as Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time as clock
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from api import db
from api.app import create_app
from api.settings import Settings
from bench.runner import pct
from auth.tokens import issue_token
from domain.appointments import admin, services
from domain.appointments.models import Agenda
from domain.errors import DomainValidationError
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.services import create_department, create_tenant
from schema.common import to_global_id

PARIS = ZoneInfo("Europe/Paris")
AVAILABILITY = """
query($a: ID!, $t: ID!, $from: DateTime!, $to: DateTime!) {
  availability(agendaId: $a, appointmentTypeId: $t, from: $from, to: $to) { startsAt remaining }
}
"""

# Raw-SQL equivalent of availability: weekly rules expanded in SQL (in the tenant's
# time zone), seat counts joined. It ignores holidays, exceptions and dated rules,
# so it does less than the service: a lower bound.
RAW_AVAILABILITY = """
WITH days AS (
  SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d
), ranges AS (
  SELECT days.day, r.start_time, r.end_time
  FROM days JOIN agenda_opening_rules r
    ON r.agenda_id = $1 AND r.weekday = extract(isodow FROM days.day) AND r.valid_from IS NULL
), slots AS (
  SELECT ((ranges.day + ranges.start_time + n * make_interval(mins => $6::int)) AT TIME ZONE 'Europe/Paris') AS starts_at
  FROM ranges,
       generate_series(0, (extract(epoch FROM ranges.end_time - ranges.start_time) / 60 / $6::int)::int - 1) AS n
), counts AS (
  SELECT starts_at, count(*) AS used FROM appointment_seats
  WHERE agenda_id = $1 AND starts_at >= $4 AND starts_at < $5 GROUP BY starts_at
)
SELECT s.starts_at, $7::int - coalesce(c.used, 0) AS remaining
FROM slots s LEFT JOIN counts c USING (starts_at)
WHERE s.starts_at >= $4 AND s.starts_at < $5 AND coalesce(c.used, 0) < $7::int
ORDER BY s.starts_at
"""


def ms(values: list[float]) -> tuple[float, float]:
    return pct(values, 0.5) * 1000, pct(values, 0.95) * 1000


async def admin_sql(server: str, sql: str) -> None:
    conn = await asyncpg.connect(db.to_plain_url(server))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def make_agenda(session, p: Principal, department_id, place_id, name: str, capacity: int) -> tuple[Agenda, uuid.UUID]:
    agenda = await admin.create_agenda(
        session, p,
        {"name": name, "department_id": department_id, "place_id": place_id, "capacity": capacity, "slot_minutes": 15,
         "min_notice_minutes": 0, "horizon_days": 90, "max_active_per_citizen": 50, "open_on_public_holidays": True},
    )
    for weekday in range(1, 8):
        for start, end in ((time(8), time(12)), (time(13), time(18))):
            await admin.add_opening_rule(session, p, {"agenda_id": agenda.id, "weekday": weekday, "start_time": start, "end_time": end})
    atype = await admin.create_appointment_type(
        session, p, {"agenda_id": agenda.id, "label_fr": "Passeport", "label_en": "Passport", "duration_minutes": 15}
    )
    return agenda, atype.id


async def bulk_bookings(conn: asyncpg.Connection, tenant_id, agenda: Agenda, type_id, citizens: list[uuid.UUID], count: int, first_day: date) -> int:
    """Fill ``count`` seats of the agenda over 60 days (fast path: bulk COPY, same rows as the service writes)."""
    units = []
    for d in range(60):
        day = first_day + timedelta(days=d)
        for start, end in ((8 * 60, 12 * 60), (13 * 60, 18 * 60)):
            for m in range(start, end, 15):
                units.append(datetime.combine(day, time(m // 60, m % 60), tzinfo=PARIS).astimezone(UTC))
    rng = random.Random(42)
    seats_per_unit = {u: 0 for u in units}
    appointments, seats = [], []
    while len(appointments) < count:
        unit = rng.choice(units)
        if seats_per_unit[unit] >= agenda.capacity:
            continue
        seats_per_unit[unit] += 1
        aid = uuid.uuid4()
        citizen = citizens[len(appointments) % len(citizens)]
        code = f"B{len(appointments):07d}"
        appointments.append((aid, tenant_id, agenda.id, type_id, citizen, code, unit, unit + timedelta(minutes=15), "COUNTER", "agent", uuid.UUID(int=0), 1))
        seats.append((agenda.id, unit, seats_per_unit[unit], agenda.capacity, aid, tenant_id))
    await conn.copy_records_to_table(
        "appointments", records=appointments,
        columns=["id", "tenant_id", "agenda_id", "appointment_type_id", "citizen_id", "code", "starts_at", "ends_at", "channel", "booked_by_type", "booked_by_id", "version"],
    )
    await conn.copy_records_to_table(
        "appointment_seats", records=seats, columns=["agenda_id", "starts_at", "seat_no", "capacity", "appointment_id", "tenant_id"]
    )
    await conn.execute("ANALYZE appointments; ANALYZE appointment_seats")
    return len(appointments)


async def bench_availability(app, sessionmaker, pool, tenant, agenda: Agenda, type_id, rounds: int) -> dict:
    p = Principal(PrincipalKind.CITIZEN, uuid.uuid4(), tenant.id)
    now = datetime.now(UTC)
    start, end = now, now + timedelta(days=60)
    results: dict[str, list[float]] = {"graphql": [], "service": [], "raw": []}
    token = issue_token(app.state.keys, kind=PrincipalKind.CITIZEN, subject_id=uuid.uuid4(), tenant_id=tenant.id)
    variables = {"a": to_global_id("Agenda", agenda.id), "t": to_global_id("AppointmentType", type_id), "from": start.isoformat(), "to": end.isoformat()}
    sizes = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for i in range(rounds + 3):  # 3 warm-up rounds
            t0 = clock.perf_counter()
            r = await client.post("/graphql", json={"query": AVAILABILITY, "variables": variables}, headers={"Authorization": f"Bearer {token}"})
            t1 = clock.perf_counter()
            sizes["graphql"] = len(r.json()["data"]["availability"])
            async with sessionmaker() as s:
                t2 = clock.perf_counter()
                slots = await services.availability(s, p, agenda.id, type_id, start, end)
                t3 = clock.perf_counter()
            sizes["service"] = len(slots)
            async with pool.acquire() as conn:
                t4 = clock.perf_counter()
                rows = await conn.fetch(
                    RAW_AVAILABILITY, agenda.id, start.astimezone(PARIS).date(), end.astimezone(PARIS).date(), start, end, 15, agenda.capacity
                )
                t5 = clock.perf_counter()
            sizes["raw"] = len(rows)
            if i >= 3:
                results["graphql"].append(t1 - t0)
                results["service"].append(t3 - t2)
                results["raw"].append(t5 - t4)
    return {"timings": {k: ms(v) for k, v in results.items()}, "slots": sizes}


def day_units(day: date) -> list[datetime]:
    """The 15-minute units of the benchmark agendas' opening hours on ``day`` (UTC)."""
    return [datetime.combine(day, time(m // 60, m % 60), tzinfo=PARIS).astimezone(UTC)
            for a, b in ((480, 720), (780, 1080)) for m in range(a, b, 15)]


async def contend(units: list[datetime], capacity: int, citizens, clients: int, try_book) -> dict:
    """``clients`` concurrent loops booking random not-yet-full units until the day is full.

    ``try_book(unit, citizen_id)`` returns "OK", "SLOT_FULL" or another code.
    """
    outcome = {"OK": 0, "SLOT_FULL": 0, "other": 0}
    full: set[datetime] = set()
    rng = random.Random(7)

    async def client(n: int) -> None:
        while len(full) < len(units):
            unit = rng.choice([u for u in units if u not in full] or units)
            citizen = citizens[(n * 997 + outcome["OK"] + outcome["SLOT_FULL"]) % len(citizens)]
            code = await try_book(unit, citizen)
            outcome[code if code in outcome else "other"] += 1
            if code == "SLOT_FULL":
                full.add(unit)

    t0 = clock.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return {"seats": len(units) * capacity, "elapsed": clock.perf_counter() - t0, **outcome}


async def bench_booking_service(sessionmaker, tenant_id, agenda: Agenda, type_id, citizens, day: date, clients: int) -> dict:
    async def try_book(unit: datetime, citizen_id) -> str:
        p = Principal(PrincipalKind.CITIZEN, citizen_id, tenant_id)
        async with sessionmaker() as s:
            try:
                async with s.begin():
                    await services.book(s, p, {"agenda_id": agenda.id, "appointment_type_id": type_id, "starts_at": unit})
                return "OK"
            except DomainValidationError as exc:
                return exc.errors[0].code

    return await contend(day_units(day), agenda.capacity, citizens, clients, try_book)


RAW_TAKE_SEAT = """
INSERT INTO appointment_seats (agenda_id, starts_at, seat_no, capacity, appointment_id, tenant_id)
SELECT $1, $2, n, $3, $4, $5 FROM generate_series(1, $3) AS n
WHERE NOT EXISTS (SELECT 1 FROM appointment_seats s WHERE s.agenda_id = $1 AND s.starts_at = $2 AND s.seat_no = n)
ORDER BY n LIMIT 1
ON CONFLICT DO NOTHING RETURNING seat_no
"""


async def bench_booking_raw(pool, tenant_id, agenda: Agenda, type_id, citizens, day: date, clients: int) -> dict:
    async def attempt(conn, unit, citizen) -> bool:
        async with conn.transaction():
            aid = uuid.uuid4()
            await conn.execute(
                "INSERT INTO appointments (id, tenant_id, agenda_id, appointment_type_id, citizen_id, code, starts_at, ends_at, channel,"
                " booked_by_type, booked_by_id, version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'WEB','citizen',$5,1)",
                aid, tenant_id, agenda.id, type_id, citizen, uuid.uuid4().hex[:8].upper(), unit, unit + timedelta(minutes=15),
            )
            await conn.execute(
                "INSERT INTO appointment_citizen_seats (agenda_id, citizen_id, seat_no, max_active, appointment_id, ends_at, tenant_id)"
                " SELECT $1, $2, n, $3, $4, $5, $6 FROM generate_series(1, $3) n WHERE NOT EXISTS (SELECT 1 FROM appointment_citizen_seats"
                " WHERE agenda_id = $1 AND citizen_id = $2 AND seat_no = n) ORDER BY n LIMIT 1 ON CONFLICT DO NOTHING",
                agenda.id, citizen, agenda.max_active_per_citizen, aid, unit + timedelta(minutes=15), tenant_id,
            )
            for _ in range(5):
                if await conn.fetchval(RAW_TAKE_SEAT, agenda.id, unit, agenda.capacity, aid, tenant_id) is not None:
                    break
                used = await conn.fetchval("SELECT count(*) FROM appointment_seats WHERE agenda_id = $1 AND starts_at = $2", agenda.id, unit)
                if used >= agenda.capacity:
                    raise LookupError("SLOT_FULL")
            else:
                raise LookupError("SLOT_FULL")
            await conn.execute(
                "INSERT INTO events (id, tenant_id, type, aggregate_type, aggregate_id, actor_type, actor_id, payload)"
                " VALUES ($1, $2, 'appointment.booked', 'Appointment', $3, 'citizen', $4, '{}'::jsonb)",
                uuid.uuid4(), tenant_id, aid, citizen,
            )
        return True

    async def try_book(unit: datetime, citizen_id) -> str:
        async with pool.acquire() as conn:
            try:
                await attempt(conn, unit, citizen_id)
                return "OK"
            except LookupError:
                return "SLOT_FULL"

    return await contend(day_units(day), agenda.capacity, citizens, clients, try_book)


async def run(server: str, bookings: int, rounds: int, clients: int) -> str:
    name = f"guichet_bench_appt_{uuid.uuid4().hex[:8]}"
    await admin_sql(server, f'CREATE DATABASE "{name}"')
    url = db.with_database(server, name)
    try:
        await asyncio.to_thread(db.migrate, url)
        settings = Settings(environment="test", database_url=None, log_level="WARNING", db_pool_size=clients, db_max_overflow=0)
        app = create_app(settings, database_url=url)
        sessionmaker = app.state.sessionmaker
        async with app.router.lifespan_context(app):
            async with sessionmaker() as s:
                tenant = await create_tenant(s, {"name": "Bench", "slug": f"bench-{uuid.uuid4().hex[:6]}"})
                p = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
                dep = await create_department(s, p, {"name": "État civil", "code": "etat-civil"})
                place = await admin.create_place(s, p, {"name": "Mairie"})
                big, big_type = await make_agenda(s, p, dep.id, place.id, "Availability", capacity=10)
                svc, svc_type = await make_agenda(s, p, dep.id, place.id, "Booking (service)", capacity=3)
                raw, raw_type = await make_agenda(s, p, dep.id, place.id, "Booking (raw SQL)", capacity=3)
                await s.commit()
            pool = await asyncpg.create_pool(db.to_plain_url(url), min_size=4, max_size=clients)
            try:
                async with pool.acquire() as conn:
                    citizens = [uuid.uuid4() for _ in range(2000)]
                    await conn.copy_records_to_table(
                        "citizens", records=[(c, tenant.id, "Bench", f"Citizen {i}", f"citizen {i} bench", 1) for i, c in enumerate(citizens)],
                        columns=["id", "tenant_id", "given_names", "family_name", "sort_name", "version"],
                    )
                    tomorrow = datetime.now(PARIS).date() + timedelta(days=1)
                    loaded = await bulk_bookings(conn, tenant.id, big, big_type, citizens, bookings, tomorrow)
                avail = await bench_availability(app, sessionmaker, pool, tenant, big, big_type, rounds)
                day = datetime.now(PARIS).date() + timedelta(days=3)
                service = await bench_booking_service(sessionmaker, tenant.id, svc, svc_type, citizens, day, clients)
                rawb = await bench_booking_raw(pool, tenant.id, raw, raw_type, citizens, day, clients)
                async with pool.acquire() as conn:
                    held = {
                        label: await conn.fetchval("SELECT count(*) FROM appointment_seats WHERE agenda_id = $1", a.id)
                        for label, a in (("service", svc), ("raw", raw))
                    }
            finally:
                await pool.close()
        return report(loaded, avail, service, rawb, held, rounds, clients)
    finally:
        await admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(loaded, avail, service, rawb, held, rounds, clients) -> str:
    t = avail["timings"]
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"PostgreSQL on the same machine (loopback).",
        "",
        f"### Availability over 60 days ({loaded} existing bookings in the agenda, capacity 10, 15-minute grid, "
        f"2 ranges a day, 7 days a week; {rounds} calls after 3 warm-up calls)",
        "",
        "| path | p50 (ms) | p95 (ms) | slots returned | ratio p50 to raw SQL |",
        "|---|---|---|---|---|",
    ]
    for key, label in (("graphql", "GraphQL over HTTP (ASGI, auth, serialisation)"), ("service", "domain service"), ("raw", "raw SQL (asyncpg, one query)")):
        p50, p95 = t[key]
        lines.append(f"| {label} | {p50:.1f} | {p95:.1f} | {avail['slots'][key]} | {p50 / t['raw'][0]:.1f}x |")
    lines += [
        "",
        f"### Booking throughput: {clients} concurrent clients on the same day (capacity 3, {service['seats'] // 3} slot units = {service['seats']} seats), until full",
        "",
        "| path | bookings | SLOT_FULL answers | seconds | bookings/s | attempts/s | seats held (must equal seats) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r, h in (("domain service (SQLAlchemy, one transaction each)", service, held["service"]), ("raw SQL (asyncpg)", rawb, held["raw"])):
        attempts = r["OK"] + r["SLOT_FULL"] + r["other"]
        lines.append(
            f"| {label} | {r['OK']} | {r['SLOT_FULL']} | {r['elapsed']:.2f} | {r['OK'] / r['elapsed']:.0f} | {attempts / r['elapsed']:.0f} | {h} / {r['seats']} |"
        )
    ratio = (rawb["OK"] / rawb["elapsed"]) / (service["OK"] / service["elapsed"])
    lines += ["", f"Raw SQL books {ratio:.1f}x faster than the service path."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("GUICHET_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    print(asyncio.run(run(args.server, args.bookings, args.rounds, args.clients)))


if __name__ == "__main__":
    main()
