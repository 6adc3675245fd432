"""Booking through the public API: availability, book, reschedule, cancel, attendance, bad input."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from domain.appointments.models import Appointment, AppointmentSeat
from domain.events.models import Event
from tests.api.appointments_support import (
    AVAILABILITY,
    BOOK,
    QUESTIONS,
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

RESCHEDULE = """
mutation($input: AppointmentRescheduleInput!) {
  appointmentReschedule(input: $input) { appointment { id startsAt version status ics } userErrors { field code message } }
}
"""
CANCEL = """
mutation($input: AppointmentCancelInput!) {
  appointmentCancel(input: $input) { appointment { id status version cancellationReason overrides ics } userErrors { field code message } }
}
"""
HONOURED = """
mutation($input: AppointmentMarkInput!) {
  appointmentMarkHonoured(input: $input) { appointment { id status version } userErrors { field code } }
}
"""
NO_SHOW = """
mutation($input: AppointmentMarkInput!) {
  appointmentMarkNoShow(input: $input) { appointment { id status version } userErrors { field code } }
}
"""


async def _count(app, agenda_gid: str) -> tuple[int, int, int]:
    agenda_id = raw_id(agenda_gid)
    async with app.state.sessionmaker() as s:
        appointments = (await s.execute(sa.select(sa.func.count()).select_from(Appointment).where(Appointment.agenda_id == agenda_id))).scalar_one()
        seats = (await s.execute(sa.select(sa.func.count()).select_from(AppointmentSeat).where(AppointmentSeat.agenda_id == agenda_id))).scalar_one()
        events = (
            await s.execute(
                sa.select(sa.func.count()).select_from(Event).where(Event.type.like("appointment.%"), Event.payload["agenda_id"].astext == str(agenda_id))
            )
        ).scalar_one()
    return appointments, seats, events


async def test_availability_lists_local_slots_and_remaining_seats(gql, tenant):
    # given an agenda open 09:00-12:00 and 13:30-17:00, capacity 3, 15-minute grid, 30-minute appointments
    ids = await make_agenda(gql, tenant, duration=30, ranges=(("09:00:00", "12:00:00"), ("13:30:00", "17:00:00")))
    day = days_ahead(5)
    citizen = await make_citizen(gql, tenant)
    # and one booking at 09:15-09:45
    booked = await book_as_citizen(gql, tenant, ids, citizen, local(day, 9, 15), answers=None)
    await ok(booked, "appointmentBook")
    # when a citizen asks for that day's availability
    result = await gql(
        AVAILABILITY,
        {"agenda": ids["agenda"], "type": ids["type"], "from": iso(local(day, 0)), "to": iso(local(day + timedelta(days=1), 0))},
        token=tenant.citizen_token(raw_id(citizen)),
    )
    slots = result.data["availability"]
    starts = [utc(s["startsAt"]).astimezone(local(day, 0).tzinfo).strftime("%H:%M") for s in slots]
    # then slots follow the 15-minute grid inside each range, a 30-minute slot never straddling the lunch break
    assert starts[0] == "09:00" and starts[-1] == "16:30"
    assert "11:30" in starts and "11:45" not in starts and "13:15" not in starts and "13:30" in starts
    remaining = {s: slot["remaining"] for s, slot in zip(starts, slots)}
    # and the slots overlapping the booking have one seat less
    assert remaining["09:00"] == 2 and remaining["09:15"] == 2 and remaining["09:30"] == 2
    assert remaining["08:45" if "08:45" in remaining else "09:45"] == 3
    assert all(slot["capacity"] == 3 for slot in slots)


async def test_citizen_books_with_answers_and_gets_a_code_and_events(gql, tenant, app):
    # given an agenda whose type asks questions
    ids = await make_agenda(gql, tenant, questions=QUESTIONS)
    citizen = await make_citizen(gql, tenant)
    starts = local(days_ahead(4), 10, 30)
    # when the citizen books with valid answers
    result = await book_as_citizen(gql, tenant, ids, citizen, starts, answers={"persons": 2, "renewal": True})
    appointment = (await ok(result, "appointmentBook"))["appointment"]
    # then the booking is stored with a short unambiguous code, channel WEB, answers as given
    assert len(appointment["code"]) == 8 and not set(appointment["code"]) & set("01OIL")
    assert appointment["status"] == "BOOKED" and appointment["channel"] == "WEB" and appointment["version"] == 1
    assert utc(appointment["startsAt"]) == starts and utc(appointment["endsAt"]) == starts + timedelta(minutes=15)
    assert appointment["answers"] == {"persons": 2, "renewal": True}
    assert appointment["citizen"]["id"] == citizen
    # and a booked event with reminder times 48 h and 2 h before is in the outbox
    async with app.state.sessionmaker() as s:
        event = (
            await s.execute(sa.select(Event).where(Event.type == "appointment.booked", Event.aggregate_id == raw_id(appointment["id"])))
        ).scalar_one()
    assert [r["kind"] for r in event.payload["reminders"]] == ["48H", "2H"]
    assert utc(event.payload["reminders"][0]["due_at"]) == starts - timedelta(hours=48)
    assert event.payload["code"] == appointment["code"] and event.actor_type == "citizen"


async def test_agent_books_on_behalf_by_phone_and_the_request_is_kept(gql, tenant):
    ids = await make_agenda(gql, tenant)
    citizen = await make_citizen(gql, tenant)
    request_gid = "UmVxdWVzdDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwNDI"  # Request:...0042
    result = await gql(
        BOOK,
        {
            "input": {
                "agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(local(days_ahead(5), 11)),
                "citizenId": citizen, "channel": "PHONE", "requestId": request_gid,
            }
        },
        token=tenant.tokens["AGENT"],
    )
    appointment = (await ok(result, "appointmentBook"))["appointment"]
    assert appointment["channel"] == "PHONE"
    assert appointment["requestId"] == request_gid
    # an analyst may not book
    refused = await gql(
        BOOK,
        {"input": {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(local(days_ahead(5), 11)), "citizenId": citizen}},
        token=tenant.tokens["ANALYST"],
    )
    assert refused.error_codes == ["FORBIDDEN"]


async def test_bad_slots_get_precise_errors_and_nothing_is_written(gql, tenant, app):
    # given an agenda open 09:00-12:00, closed on public holidays, 3 days' notice, 30-day horizon
    ids = await make_agenda(
        gql, tenant, ranges=(("09:00:00", "12:00:00"),), notice=3 * 1440, horizon=30, holidays_open=False, questions=QUESTIONS
    )
    citizen = await make_citizen(gql, tenant)
    today = days_ahead(0)
    christmas = today.replace(month=12, day=25) if today <= today.replace(month=12, day=25) else today.replace(year=today.year + 1, month=12, day=25)
    # the horizon is moved away for the holiday checks by a second agenda
    far = await make_agenda(gql, tenant, ranges=(("09:00:00", "12:00:00"),), horizon=700, holidays_open=False)
    bastille = today.replace(month=7, day=14)
    if bastille <= today:
        bastille = bastille.replace(year=today.year + 1)
    good = {"persons": 1}
    cases = [
        (ids, local(days_ahead(-1), 10), good, "IN_THE_PAST"),
        (ids, local(days_ahead(5), 8, 45), good, "OUTSIDE_OPENING_HOURS"),
        (ids, local(days_ahead(5), 12), good, "OUTSIDE_OPENING_HOURS"),
        (ids, local(days_ahead(5), 10, 5), good, "SLOT_NOT_ALIGNED"),
        (ids, local(days_ahead(40), 10), good, "BEYOND_HORIZON"),
        (far, local(christmas, 10), None, "HOLIDAY"),
        (far, local(bastille, 10), None, "HOLIDAY"),
    ]
    for target, starts, answers, code in cases:
        result = await book_as_citizen(gql, tenant, target, citizen, starts, answers=answers)
        payload = result.data["appointmentBook"]
        assert payload["appointment"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["startsAt"], code)], (starts, payload)
    # inside the notice period (2 days ahead is always less than 3 days away)
    soon = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(2), 10), answers=good)
    assert [(e["field"], e["code"]) for e in soon.data["appointmentBook"]["userErrors"]] == [(["startsAt"], "TOO_LATE_NOTICE")]
    # wrong length
    wrong = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(5), 10), answers=good, endsAt=iso(local(days_ahead(5), 10, 30)))
    assert [(e["field"], e["code"]) for e in wrong.data["appointmentBook"]["userErrors"]] == [(["endsAt"], "WRONG_DURATION")]
    # answers that do not match the questions: each problem has its own path
    bad = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(5), 10), answers={"persons": 9, "pet": "cat"}, lang="en")
    errors = {(tuple(e["field"]), e["code"]) for e in bad.data["appointmentBook"]["userErrors"]}
    assert errors == {(("answers", "persons"), "INVALID_ANSWER"), (("answers", "pet"), "UNEXPECTED_ANSWERS")}
    missing = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(5), 10), answers={})
    assert [(e["field"], e["code"]) for e in missing.data["appointmentBook"]["userErrors"]] == [(["answers", "persons"], "REQUIRED")]
    # and nothing was written: no appointment, no seat, no event
    assert await _count(app, ids["agenda"]) == (0, 0, 0)
    assert await _count(app, far["agenda"]) == (0, 0, 0)


async def test_messages_are_translated(gql, tenant):
    ids = await make_agenda(gql, tenant)
    citizen = await make_citizen(gql, tenant)
    for lang, text in (("fr", "Ce créneau est déjà passé."), ("en", "This slot is in the past.")):
        result = await gql(
            BOOK,
            {"input": {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(local(days_ahead(-2), 10))}},
            token=tenant.citizen_token(raw_id(citizen)),
            lang=lang,
        )
        assert result.data["appointmentBook"]["userErrors"][0]["message"] == text
