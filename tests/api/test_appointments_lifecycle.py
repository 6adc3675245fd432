"""After booking: reschedule, cancel, attendance, planning, confirmation codes, iCalendar, admin rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from icalendar import Calendar

from domain.appointments.models import Appointment
from domain.events.models import Event
from schema.common import to_global_id
from tests.api.appointments_support import (
    AVAILABILITY,
    BOOK,
    PARIS,
    book_as_citizen,
    days_ahead,
    iso,
    local,
    make_agenda,
    make_citizen,
    ok,
    raw_id,
    utc,
)
from tests.api.test_appointments_booking import CANCEL, HONOURED, NO_SHOW, RESCHEDULE

PLANNING = """
query($agenda: ID!, $from: Date!, $days: Int!, $cancelled: Boolean! = false) {
  agendaPlanning(agendaId: $agenda, from: $from, days: $days, includeCancelled: $cancelled) {
    id code status startsAt answers citizen { familyName } appointmentType { label }
  }
}
"""
AGENT_PLANNING = """
query($from: Date!, $days: Int!) { agentPlanning(from: $from, days: $days) { id startsAt } }
"""
BY_CODE = """
query($code: String!) { appointmentByCode(code: $code) { id code status citizen { familyName } } }
"""
ICS = """
query($id: ID!) { node(id: $id) { ... on Appointment { id version ics } } }
"""
AGENDA_UPDATE = """
mutation($input: AgendaUpdateInput!) { agendaUpdate(input: $input) { agenda { id version capacity } userErrors { field code } } }
"""
MY = """
query { myAppointments { edges { node { id code startsAt } } } }
"""


async def _booked(gql, tenant, ids, family="Martin", when=None, **extra):
    citizen = await make_citizen(gql, tenant, family)
    result = await book_as_citizen(gql, tenant, ids, citizen, when or local(days_ahead(6), 10), **extra)
    return citizen, (await ok(result, "appointmentBook"))["appointment"]


async def _set_start(app, appointment_gid: str, starts_at: datetime) -> None:
    """Test set-up only: move a booking in time (as if the days had passed)."""
    async with app.state.sessionmaker() as s:
        await s.execute(
            sa.update(Appointment)
            .where(Appointment.id == raw_id(appointment_gid))
            .values(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=15))
        )
        await s.commit()


async def test_reschedule_moves_the_seat_and_bumps_version_and_sequence(gql, tenant, app):
    ids = await make_agenda(gql, tenant, capacity=1)
    citizen, appointment = await _booked(gql, tenant, ids)
    token = tenant.citizen_token(raw_id(citizen))
    new_start = local(days_ahead(6), 14)
    # when the citizen moves the appointment
    moved = await gql(RESCHEDULE, {"input": {"id": appointment["id"], "version": 1, "startsAt": iso(new_start)}}, token=token)
    payload = (await ok(moved, "appointmentReschedule"))["appointment"]
    # then it is at the new time, version 2, and its iCalendar SEQUENCE is 1 with the same UID
    assert utc(payload["startsAt"]) == new_start and payload["version"] == 2
    event = Calendar.from_ical(payload["ics"]).walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == 1 and str(event["UID"]).startswith(str(raw_id(appointment["id"])))
    # and the old slot is free again while the new one is full (capacity 1)
    slots = await gql(
        AVAILABILITY,
        {"agenda": ids["agenda"], "type": ids["type"], "from": iso(local(days_ahead(6), 0)), "to": iso(local(days_ahead(7), 0)), "full": True},
        token=token,
    )
    remaining = {utc(s["startsAt"]): s["remaining"] for s in slots.data["availability"]}
    assert remaining[local(days_ahead(6), 10)] == 1 and remaining[new_start] == 0
    # and the outbox says where it moved, with the new reminder times
    async with app.state.sessionmaker() as s:
        event = (
            await s.execute(sa.select(Event).where(Event.type == "appointment.rescheduled", Event.aggregate_id == raw_id(appointment["id"])))
        ).scalar_one()
    assert utc(event.payload["previous_starts_at"]) == local(days_ahead(6), 10)
    assert [utc(r["due_at"]) for r in event.payload["reminders"]] == [new_start - timedelta(hours=48), new_start - timedelta(hours=2)]
    # a stale version is a CONFLICT and changes nothing
    stale = await gql(RESCHEDULE, {"input": {"id": appointment["id"], "version": 1, "startsAt": iso(local(days_ahead(6), 15))}}, token=token)
    assert [e["code"] for e in stale.data["appointmentReschedule"]["userErrors"]] == ["CONFLICT"]
    # another citizen cannot book the now-full slot
    other = await make_citizen(gql, tenant, "Autre")
    full = await book_as_citizen(gql, tenant, ids, other, new_start)
    assert [e["code"] for e in full.data["appointmentBook"]["userErrors"]] == ["SLOT_FULL"]


async def test_citizen_cancels_before_the_deadline_and_frees_the_seat(gql, tenant, app):
    ids = await make_agenda(gql, tenant, capacity=1, deadline=1440)
    citizen, appointment = await _booked(gql, tenant, ids)
    token = tenant.citizen_token(raw_id(citizen))
    result = await gql(CANCEL, {"input": {"id": appointment["id"], "version": 1}}, token=token)
    cancelled = (await ok(result, "appointmentCancel"))["appointment"]
    assert cancelled["status"] == "CANCELLED" and cancelled["version"] == 2
    cal = Calendar.from_ical(cancelled["ics"])
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(cal.walk("VEVENT")[0]["STATUS"]) == "CANCELLED" and int(cal.walk("VEVENT")[0]["SEQUENCE"]) == 1
    # the seat is free for someone else
    _, again = await _booked(gql, tenant, ids, "Suivant")
    assert again["status"] == "BOOKED"
    # cancelling twice is refused
    twice = await gql(CANCEL, {"input": {"id": appointment["id"], "version": 2}}, token=token)
    assert [e["code"] for e in twice.data["appointmentCancel"]["userErrors"]] == ["INVALID_STATUS"]
    async with app.state.sessionmaker() as s:
        types = (await s.execute(sa.select(Event.type).where(Event.aggregate_id == raw_id(appointment["id"])).order_by(Event.sequence))).scalars().all()
    assert types == ["appointment.booked", "appointment.cancelled"]


async def test_after_the_deadline_only_an_agent_cancels_with_a_reason(gql, tenant):
    # given a 7-day cancellation deadline and a booking 6 days ahead
    ids = await make_agenda(gql, tenant, deadline=7 * 1440)
    citizen, appointment = await _booked(gql, tenant, ids)
    token = tenant.citizen_token(raw_id(citizen))
    late = await gql(CANCEL, {"input": {"id": appointment["id"], "version": 1}}, token=token)
    assert [(e["field"], e["code"]) for e in late.data["appointmentCancel"]["userErrors"]] == [(["id"], "CANCELLATION_DEADLINE_PASSED")]
    moved = await gql(RESCHEDULE, {"input": {"id": appointment["id"], "version": 1, "startsAt": iso(local(days_ahead(6), 11))}}, token=token)
    assert [e["code"] for e in moved.data["appointmentReschedule"]["userErrors"]] == ["CANCELLATION_DEADLINE_PASSED"]
    no_reason = await gql(CANCEL, {"input": {"id": appointment["id"], "version": 1}}, token=tenant.tokens["AGENT"])
    assert [(e["field"], e["code"]) for e in no_reason.data["appointmentCancel"]["userErrors"]] == [(["reason"], "REQUIRED")]
    done = await gql(CANCEL, {"input": {"id": appointment["id"], "version": 1, "reason": "Service fermé"}}, token=tenant.tokens["AGENT"])
    cancelled = (await ok(done, "appointmentCancel"))["appointment"]
    assert cancelled["cancellationReason"] == "Service fermé"
    assert cancelled["overrides"] == ["CANCELLATION_DEADLINE"]


async def test_acting_on_someone_elses_booking_is_forbidden(gql, tenant, make_tenant):
    ids = await make_agenda(gql, tenant)
    _, appointment = await _booked(gql, tenant, ids)
    intruder = await make_citizen(gql, tenant, "Intrus")
    token = tenant.citizen_token(raw_id(intruder))
    for query, field, extra in (
        (CANCEL, "appointmentCancel", {}),
        (RESCHEDULE, "appointmentReschedule", {"startsAt": iso(local(days_ahead(6), 11))}),
    ):
        result = await gql(query, {"input": {"id": appointment["id"], "version": 1, **extra}}, token=token)
        assert result.error_codes == ["FORBIDDEN"] and result.status == 403
    read = await gql(ICS, {"id": appointment["id"]}, token=token)
    assert read.error_codes == ["FORBIDDEN"]
    # a citizen cannot mark attendance, nor book for someone else
    marked = await gql(HONOURED, {"input": {"id": appointment["id"], "version": 1}}, token=token)
    assert marked.error_codes == ["FORBIDDEN"]
    other = await book_as_citizen(gql, tenant, ids, intruder, local(days_ahead(6), 12), citizenId=to_global_id("Citizen", raw_id(appointment["citizen"]["id"])))
    assert other.error_codes == ["FORBIDDEN"]
    # an agent of another tenant does not even see it
    stranger = await make_tenant("other")
    foreign = await gql(CANCEL, {"input": {"id": appointment["id"], "version": 1, "reason": "x"}}, token=stranger.tokens["AGENT"])
    assert [e["code"] for e in foreign.data["appointmentCancel"]["userErrors"]] == ["NOT_FOUND"]
    assert (await gql(BY_CODE, {"code": appointment["code"]}, token=stranger.tokens["AGENT"])).data["appointmentByCode"] is None


async def test_attendance_is_recorded_from_the_appointment_day(gql, tenant, app):
    ids = await make_agenda(gql, tenant)
    _, first = await _booked(gql, tenant, ids, "Present")
    _, second = await _booked(gql, tenant, ids, "Absent")
    agent = tenant.tokens["AGENT"]
    early = await gql(HONOURED, {"input": {"id": first["id"], "version": 1}}, token=agent)
    assert [e["code"] for e in early.data["appointmentMarkHonoured"]["userErrors"]] == ["APPOINTMENT_NOT_YET"]
    past = datetime.now(UTC) - timedelta(hours=1)
    await _set_start(app, first["id"], past)
    await _set_start(app, second["id"], past)
    honoured = await gql(HONOURED, {"input": {"id": first["id"], "version": 1}}, token=agent)
    assert (await ok(honoured, "appointmentMarkHonoured"))["appointment"]["status"] == "HONOURED"
    absent = await gql(NO_SHOW, {"input": {"id": second["id"], "version": 1}}, token=agent)
    assert (await ok(absent, "appointmentMarkNoShow"))["appointment"]["status"] == "NO_SHOW"
    async with app.state.sessionmaker() as s:
        types = set((await s.execute(sa.select(Event.type).where(Event.aggregate_id.in_([raw_id(first["id"]), raw_id(second["id"])])))).scalars())
    assert {"appointment.honoured", "appointment.no_show"} <= types


async def test_plannings_and_search_by_code(gql, tenant):
    ids = await make_agenda(gql, tenant)
    day = days_ahead(6)
    _, a = await _booked(gql, tenant, ids, "Dupont", local(day, 9))
    _, b = await _booked(gql, tenant, ids, "Durand", local(day, 9, 30))
    _, later = await _booked(gql, tenant, ids, "Lemoine", local(day + timedelta(days=3), 9))
    agent = tenant.tokens["AGENT"]
    dayview = await gql(PLANNING, {"agenda": ids["agenda"], "from": day.isoformat(), "days": 1}, token=agent)
    assert [x["citizen"]["familyName"] for x in dayview.data["agendaPlanning"]] == ["Dupont", "Durand"]
    assert dayview.data["agendaPlanning"][0]["appointmentType"]["label"] == "Dépôt de passeport"
    week = await gql(PLANNING, {"agenda": ids["agenda"], "from": day.isoformat(), "days": 7}, token=agent)
    assert [x["id"] for x in week.data["agendaPlanning"]] == [a["id"], b["id"], later["id"]]
    # the agenda is held by the AGENT of the fixture: it is in their own planning
    mine = await gql(AGENT_PLANNING, {"from": day.isoformat(), "days": 7}, token=agent)
    assert len(mine.data["agentPlanning"]) == 3
    too_long = await gql(PLANNING, {"agenda": ids["agenda"], "from": day.isoformat(), "days": 8}, token=agent)
    assert too_long.errors[0]["extensions"]["reason"] == "OUT_OF_RANGE"
    citizen_view = await gql(PLANNING, {"agenda": ids["agenda"], "from": day.isoformat(), "days": 1}, token=tenant.citizen_token(raw_id(a["citizen"]["id"])))
    assert citizen_view.error_codes == ["FORBIDDEN"]
    # search by confirmation code, typed in lower case with a space
    code = b["code"]
    found = await gql(BY_CODE, {"code": f"{code[:4].lower()} {code[4:]}"}, token=agent)
    assert found.data["appointmentByCode"]["id"] == b["id"]
    # the citizen sees their own upcoming appointments
    mine_c = await gql(MY, token=tenant.citizen_token(raw_id(a["citizen"]["id"])))
    assert [e["node"]["id"] for e in mine_c.data["myAppointments"]["edges"]] == [a["id"]]


async def test_slots_keep_local_wall_clock_times_across_daylight_saving(gql, tenant):
    # given an agenda open 09:00-10:00 every day, and the next daylight-saving change in Paris
    ids = await make_agenda(gql, tenant, ranges=(("09:00:00", "10:00:00"),), horizon=400)
    day = days_ahead(2)
    while datetime.combine(day, datetime.min.time(), PARIS).utcoffset() == datetime.combine(day + timedelta(days=1), datetime.min.time(), PARIS).utcoffset():
        day += timedelta(days=1)
    start, end = local(day - timedelta(days=3), 0), local(day + timedelta(days=4), 0)
    result = await gql(
        AVAILABILITY, {"agenda": ids["agenda"], "type": ids["type"], "from": iso(start), "to": iso(end)}, token=tenant.tokens["AGENT"]
    )
    slots = [utc(s["startsAt"]) for s in result.data["availability"]]
    # then every day has the same 4 local slots, 09:00 to 09:45, whatever the UTC offset
    assert len(slots) == 7 * 4
    assert {s.astimezone(PARIS).strftime("%H:%M") for s in slots} == {"09:00", "09:15", "09:30", "09:45"}
    utc_hours = {s.astimezone(PARIS).date(): s.hour for s in slots if s.astimezone(PARIS).minute == 0}
    # and the UTC hour of 09:00 changes by one hour across the change
    assert len(set(utc_hours.values())) == 2
    assert utc_hours[day - timedelta(days=1)] != utc_hours[day + timedelta(days=2)]


async def test_availability_range_is_bounded_and_typed(gql, tenant):
    ids = await make_agenda(gql, tenant)
    start = local(days_ahead(1), 0)
    result = await gql(
        AVAILABILITY, {"agenda": ids["agenda"], "type": ids["type"], "from": iso(start), "to": iso(start + timedelta(days=63))}, token=tenant.tokens["AGENT"]
    )
    assert result.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result.errors[0]["extensions"]["reason"] == "RANGE_TOO_LONG" and result.errors[0]["extensions"]["field"] == ["to"]
    reversed_ = await gql(
        AVAILABILITY, {"agenda": ids["agenda"], "type": ids["type"], "from": iso(start), "to": iso(start - timedelta(days=1))}, token=tenant.tokens["AGENT"]
    )
    assert reversed_.errors[0]["extensions"]["reason"] == "INVALID_DATE_RANGE"
    anonymous = await gql(AVAILABILITY, {"agenda": ids["agenda"], "type": ids["type"], "from": iso(start), "to": iso(start + timedelta(days=1))})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]


async def test_availability_honours_notice_horizon_closures_and_extra_openings(gql, tenant):
    from tests.api.appointments_support import EXCEPTION_ADD

    ids = await make_agenda(gql, tenant, ranges=(("09:00:00", "10:00:00"),), horizon=10)
    admin = tenant.tokens["ADMIN"]
    closed, partial, extra = days_ahead(3), days_ahead(4), days_ahead(5)
    await ok(await gql(EXCEPTION_ADD, {"input": {"agendaId": ids["agenda"], "onDate": closed.isoformat(), "reason": "Inventaire"}}, token=admin), "agendaOpeningExceptionAdd")
    await ok(
        await gql(EXCEPTION_ADD, {"input": {"agendaId": ids["agenda"], "onDate": partial.isoformat(), "startTime": "09:30:00", "endTime": "10:00:00"}}, token=admin),
        "agendaOpeningExceptionAdd",
    )
    await ok(
        await gql(
            EXCEPTION_ADD,
            {"input": {"agendaId": ids["agenda"], "onDate": extra.isoformat(), "kind": "EXTRA_OPENING", "startTime": "14:00:00", "endTime": "14:30:00"}},
            token=admin,
        ),
        "agendaOpeningExceptionAdd",
    )
    result = await gql(
        AVAILABILITY,
        {"agenda": ids["agenda"], "type": ids["type"], "from": iso(local(days_ahead(3), 0)), "to": iso(local(days_ahead(30), 0))},
        token=admin,
    )
    by_day: dict = {}
    for s in result.data["availability"]:
        t = utc(s["startsAt"]).astimezone(PARIS)
        by_day.setdefault(t.date(), []).append(t.strftime("%H:%M"))
    assert closed not in by_day
    assert by_day[partial] == ["09:00", "09:15"]
    assert by_day[extra] == ["09:00", "09:15", "09:30", "09:45", "14:00", "14:15"]
    # nothing after the 10-day horizon
    assert max(by_day) == days_ahead(10)


async def test_agent_override_is_recorded_and_capacity_changes_are_checked(gql, tenant, app):
    ids = await make_agenda(gql, tenant, capacity=1, notice=3 * 1440)
    agent = tenant.tokens["AGENT"]
    citizen = await make_citizen(gql, tenant)
    soon = local(days_ahead(1), 10)
    base = {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "citizenId": citizen, "channel": "COUNTER"}
    refused = await gql(BOOK, {"input": {**base, "startsAt": iso(soon)}}, token=agent)
    assert [e["code"] for e in refused.data["appointmentBook"]["userErrors"]] == ["TOO_LATE_NOTICE"]
    forced = await gql(BOOK, {"input": {**base, "startsAt": iso(soon), "overrideRules": True}}, token=agent)
    assert (await ok(forced, "appointmentBook"))["appointment"]["overrides"] == ["NOTICE"]
    other = await make_citizen(gql, tenant, "Second")
    squeezed = await gql(BOOK, {"input": {**base, "citizenId": other, "startsAt": iso(soon), "overrideRules": True}}, token=agent)
    assert (await ok(squeezed, "appointmentBook"))["appointment"]["overrides"] == ["NOTICE", "CAPACITY"]
    # a citizen may not override
    as_citizen = await book_as_citizen(gql, tenant, ids, other, soon, overrideRules=True)
    assert as_citizen.error_codes == ["FORBIDDEN"]
    # capacity: raising it is fine; lowering below what future bookings use is refused
    update = await gql(AGENDA_UPDATE, {"input": {"id": ids["agenda"], "version": 1, "capacity": 2}}, token=tenant.tokens["ADMIN"])
    assert (await ok(update, "agendaUpdate"))["agenda"]["capacity"] == 2
    c1, c2 = await make_citizen(gql, tenant, "C1"), await make_citizen(gql, tenant, "C2")
    await ok(await book_as_citizen(gql, tenant, ids, c1, local(days_ahead(6), 10)), "appointmentBook")
    await ok(await book_as_citizen(gql, tenant, ids, c2, local(days_ahead(6), 10)), "appointmentBook")
    lower = await gql(AGENDA_UPDATE, {"input": {"id": ids["agenda"], "version": 2, "capacity": 1}}, token=tenant.tokens["ADMIN"])
    assert [(e["field"], e["code"]) for e in lower.data["agendaUpdate"]["userErrors"]] == [(["capacity"], "CAPACITY_IN_USE")]
    not_admin = await gql(AGENDA_UPDATE, {"input": {"id": ids["agenda"], "version": 2, "capacity": 5}}, token=agent)
    assert not_admin.error_codes == ["FORBIDDEN"]


async def test_subject_is_required_for_a_permanence(gql, tenant):
    ids = await make_agenda(gql, tenant, requires_subject=True, duration=30)
    citizen = await make_citizen(gql, tenant)
    missing = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(6), 10))
    assert [(e["field"], e["code"]) for e in missing.data["appointmentBook"]["userErrors"]] == [(["subject"], "REQUIRED")]
    given = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(6), 10), subject="Stationnement rue Haute")
    assert (await ok(given, "appointmentBook"))["appointment"]["subject"] == "Stationnement rue Haute"


async def test_agenda_calendar_feed_for_agents(gql, tenant, client):
    ids = await make_agenda(gql, tenant)
    _, appointment = await _booked(gql, tenant, ids)
    url = f"/calendars/agendas/{ids['agenda']}.ics"
    by_query = await client.get(url, params={"token": tenant.tokens["AGENT"]})
    assert by_query.status_code == 200 and by_query.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(by_query.text)
    events = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{raw_id(appointment['id'])}@appointments.guichet"]
    assert events[0].decoded("DTSTART") == utc(appointment["startsAt"])
    by_header = await client.get(url, headers={"Authorization": f"Bearer {tenant.tokens['SUPERVISOR']}"})
    assert by_header.status_code == 200 and by_header.text == by_query.text
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, params={"token": "garbage"})).status_code == 401
    assert (await client.get(url, params={"token": tenant.citizen_token(raw_id(appointment["citizen"]["id"]))})).status_code == 403
    assert (await client.get(url, params={"token": tenant.tokens["ANALYST"]})).status_code == 403
    assert (await client.get("/calendars/agendas/nope.ics", params={"token": tenant.tokens["AGENT"]})).status_code == 404
    # the agent holding the agenda has a personal feed with the same event
    agent_url = f"/calendars/agents/{to_global_id('Agent', tenant.agents['AGENT'])}.ics"
    personal = await client.get(agent_url, params={"token": tenant.tokens["AGENT"]})
    assert personal.status_code == 200
    assert [str(e["UID"]) for e in Calendar.from_ical(personal.text).walk("VEVENT")] == [str(events[0]["UID"])]
    assert str(Calendar.from_ical(personal.text)["X-WR-CALNAME"]) == "Agent Test"
    assert (await client.get(f"/calendars/agents/{to_global_id('Agent', tenant.id)}.ics", params={"token": tenant.tokens["AGENT"]})).status_code == 404


async def test_cancelling_gives_the_citizen_a_booking_back(gql, tenant):
    ids = await make_agenda(gql, tenant, max_per_citizen=1)
    citizen, first = await _booked(gql, tenant, ids)
    second = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(6), 11))
    assert [(e["field"], e["code"]) for e in second.data["appointmentBook"]["userErrors"]] == [(["citizenId"], "CITIZEN_LIMIT_REACHED")]
    await ok(await gql(CANCEL, {"input": {"id": first["id"], "version": 1}}, token=tenant.citizen_token(raw_id(citizen))), "appointmentCancel")
    again = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(6), 11))
    assert (await ok(again, "appointmentBook"))["appointment"]["status"] == "BOOKED"


async def test_the_slot_grid_cannot_change_under_upcoming_bookings(gql, tenant):
    ids = await make_agenda(gql, tenant, duration=30)
    admin = tenant.tokens["ADMIN"]
    uneven = await gql(AGENDA_UPDATE, {"input": {"id": ids["agenda"], "version": 1, "slotMinutes": 20}}, token=admin)
    assert [(e["field"], e["code"]) for e in uneven.data["agendaUpdate"]["userErrors"]] == [(["slotMinutes"], "DURATION_NOT_MULTIPLE")]
    await _booked(gql, tenant, ids)
    busy = await gql(AGENDA_UPDATE, {"input": {"id": ids["agenda"], "version": 1, "slotMinutes": 30}}, token=admin)
    assert [(e["field"], e["code"]) for e in busy.data["agendaUpdate"]["userErrors"]] == [(["slotMinutes"], "GRID_IN_USE")]


async def test_planning_reads_a_fixed_number_of_statements(gql, tenant, app):
    """DataLoaders: nested citizen, type, agenda and place cost the same for 2 or 6 appointments."""
    from sqlalchemy import event

    ids = await make_agenda(gql, tenant)
    day = days_ahead(8)
    query = """
    query($agenda: ID!, $from: Date!) {
      agendaPlanning(agendaId: $agenda, from: $from, days: 1) {
        id citizen { familyName } appointmentType { label } agenda { name place { name } } ics
      }
    }"""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    async def measure() -> int:
        statements.clear()
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
        try:
            result = await gql(query, {"agenda": ids["agenda"], "from": day.isoformat()}, token=tenant.tokens["AGENT"])
        finally:
            event.remove(app.state.engine.sync_engine, "before_cursor_execute", count)
        assert not result.errors, result.errors
        return len(result.data["agendaPlanning"]), len(statements)

    for i in range(2):
        await _booked(gql, tenant, ids, f"Famille {i}", local(day, 9 + i // 4, 15 * (i % 4)))
    few = await measure()
    for i in range(2, 6):
        await _booked(gql, tenant, ids, f"Famille {i}", local(day, 9 + i // 4, 15 * (i % 4)))
    many = await measure()
    assert few[0] == 2 and many[0] == 6
    assert many[1] == few[1]
