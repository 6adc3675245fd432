"""Appointments that belong to a request: the check at booking, the request's timeline, booking as a
workflow step of the seeded passport procedure (triggered transitions), Request.appointments, the foreign key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.appointments.models import Appointment
from domain.procedures.services import load_definition_file
from domain.requests.models import Request
from seeds.catalogue import catalogue_files
from tests.api.appointments_support import BOOK, days_ahead, iso, local, make_agenda, ok, raw_id
from tests.api.test_appointments_booking import CANCEL, HONOURED, RESCHEDULE
from tests.api.test_appointments_lifecycle import _set_start
from tests.procedure_fixtures import add_department, make_citizen, publish

SUBMIT = """
mutation($input: RequestSubmitInput!) {
  requestSubmit(input: $input) { request { id version state { code } } userErrors { field code } }
}
"""
SAVE_DRAFT = """
mutation($input: RequestSaveDraftInput!) { requestSaveDraft(input: $input) { request { id } userErrors { field code } } }
"""
TRANSITION = """
mutation($input: RequestTransitionInput!) {
  requestTransition(input: $input) { request { id state { code } } userErrors { field code } }
}
"""
REQUEST = """
query($id: ID!) {
  request(id: $id) {
    id version status closedAt state { code }
    availableTransitions { name trigger }
    procedureVersion { workflow { transitions { name trigger roles } } }
    appointments { id code status startsAt }
    timeline { nodes { kind eventType public transition toState data } }
  }
}
"""
ANSWERS = {"document": "passport", "reason": "renewal", "people": 1}


def passport_definition() -> dict:
    (path,) = [f for f in catalogue_files() if f.name == "passport-appointment.yaml"]
    return load_definition_file(path)


async def _passport(gql, app, tenant):
    await add_department(app, tenant, "etat-civil", "État civil")
    assert (await publish(gql, tenant, passport_definition()))["userErrors"] == []


async def _submit(gql, token, **extra) -> dict:
    result = await gql(SUBMIT, {"input": {"procedureCode": "passport-appointment", "answers": ANSWERS, **extra}}, token=token)
    payload = result.data["requestSubmit"]
    assert payload["userErrors"] == [], payload
    return payload["request"]


async def _request(gql, request_id: str, token: str) -> dict:
    result = await gql(REQUEST, {"id": request_id}, token=token)
    assert not result.errors, result.errors
    return result.data["request"]


def _book_input(ids: dict, when: datetime, **extra) -> dict:
    return {"input": {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(when), **extra}}


def _trail(request: dict) -> list[tuple[str, str | None]]:
    return [(n["eventType"], n["toState"]) for n in request["timeline"]["nodes"]]


async def test_booking_is_a_step_of_the_passport_workflow(gql, app, make_tenant):
    tenant = await make_tenant("passport-link")
    await _passport(gql, app, tenant)
    ids = await make_agenda(gql, tenant)
    _, _, token = await make_citizen(gql, tenant)
    agent = tenant.tokens["AGENT"]
    request = await _submit(gql, token)
    assert request["state"]["code"] == "submitted"
    # the triggered transitions are in the definition but nobody can take them by hand
    seen = await _request(gql, request["id"], agent)
    triggered = {t["name"]: t for t in seen["procedureVersion"]["workflow"]["transitions"] if t["trigger"]}
    assert triggered["appointment-booked"] == {"name": "appointment-booked", "trigger": "APPOINTMENT_BOOKED", "roles": []}
    assert {t["name"] for t in seen["availableTransitions"]} == {"reject", "cancel"}
    by_hand = await gql(TRANSITION, {"input": {"id": request["id"], "version": request["version"], "transition": "appointment-booked"}}, token=agent)
    assert [e["code"] for e in by_hand.data["requestTransition"]["userErrors"]] == ["TRANSITION_NOT_ALLOWED"]

    # when the citizen books an appointment for the request
    booked = (await ok(await gql(BOOK, _book_input(ids, local(days_ahead(6), 10), requestId=request["id"]), token=token), "appointmentBook"))["appointment"]
    assert booked["requestId"] == request["id"]
    # then the request moved to appointment-booked, and its citizen sees both steps on the timeline
    mine = await _request(gql, request["id"], token)
    assert (mine["state"]["code"], mine["status"]) == ("appointment-booked", "IN_PROGRESS")
    assert mine["version"] == request["version"] + 1
    assert _trail(mine)[-2:] == [("request.appointment_booked", None), ("request.transitioned", "appointment-booked")]
    entry = mine["timeline"]["nodes"][-2]
    assert (entry["kind"], entry["public"], entry["data"]["code"]) == ("APPOINTMENT", True, booked["code"])
    assert mine["timeline"]["nodes"][-1]["data"]["trigger"] == "APPOINTMENT_BOOKED"
    assert [a["id"] for a in mine["appointments"]] == [booked["id"]]

    # when it is rescheduled: on the timeline, the state stays
    moved = await gql(RESCHEDULE, {"input": {"id": booked["id"], "version": booked["version"], "startsAt": iso(local(days_ahead(7), 11))}}, token=token)
    moved = (await ok(moved, "appointmentReschedule"))["appointment"]
    after_move = await _request(gql, request["id"], token)
    assert _trail(after_move)[-1] == ("request.appointment_rescheduled", None)
    assert after_move["state"]["code"] == "appointment-booked"

    # when the citizen cancels it: the request goes back to submitted
    cancelled = await gql(CANCEL, {"input": {"id": booked["id"], "version": moved["version"]}}, token=token)
    assert (await ok(cancelled, "appointmentCancel"))["appointment"]["status"] == "CANCELLED"
    after_cancel = await _request(gql, request["id"], token)
    assert after_cancel["state"]["code"] == "submitted"
    assert _trail(after_cancel)[-2:] == [("request.appointment_cancelled", None), ("request.transitioned", "submitted")]

    # an appointment booked without the request changes nothing on it
    trail_before = _trail(after_cancel)
    await ok(await gql(BOOK, _book_input(ids, local(days_ahead(8), 9)), token=token), "appointmentBook")
    assert _trail(await _request(gql, request["id"], token)) == trail_before

    # when an agent books again for the citizen (on the phone) and marks the appointment honoured
    again_input = _book_input(ids, local(days_ahead(9), 9), requestId=request["id"], citizenId=booked["citizen"]["id"], channel="PHONE")
    again = (await ok(await gql(BOOK, again_input, token=agent), "appointmentBook"))["appointment"]
    assert (await _request(gql, request["id"], agent))["state"]["code"] == "appointment-booked"
    await _set_start(app, again["id"], datetime.now(UTC) - timedelta(hours=1))
    await ok(await gql(HONOURED, {"input": {"id": again["id"], "version": again["version"]}}, token=agent), "appointmentMarkHonoured")
    # then the request is closed (done), and it lists both its appointments by start time
    done = await _request(gql, request["id"], token)
    assert (done["state"]["code"], done["status"]) == ("done", "CLOSED") and done["closedAt"]
    assert [(a["id"], a["status"]) for a in done["appointments"]] == [(again["id"], "HONOURED"), (booked["id"], "CANCELLED")]
    assert _trail(done)[-2:] == [("request.appointment_honoured", None), ("request.transitioned", "done")]


async def test_the_request_must_exist_and_be_the_citizens(gql, app, make_tenant):
    tenant = await make_tenant("link-checks")
    other_tenant = await make_tenant("link-other")
    await _passport(gql, app, tenant)
    await _passport(gql, app, other_tenant)
    ids = await make_agenda(gql, tenant)
    owner_gid, _, owner_token = await make_citizen(gql, tenant)
    other_gid, _, other_token = await make_citizen(gql, tenant, givenNames="Autre")
    request = await _submit(gql, owner_token)
    _, _, foreign_token = await make_citizen(gql, other_tenant)
    foreign = await _submit(gql, foreign_token)
    draft = (await gql(SAVE_DRAFT, {"input": {"procedureCode": "passport-appointment", "answers": {}}}, token=owner_token)).data["requestSaveDraft"]["request"]
    agent = tenant.tokens["AGENT"]
    when = local(days_ahead(6), 10)
    cases = [
        (other_token, {"requestId": request["id"]}, "REQUEST_CITIZEN_MISMATCH"),  # a citizen, with someone else's request
        (agent, {"requestId": request["id"], "citizenId": other_gid}, "REQUEST_CITIZEN_MISMATCH"),  # an agent, for the wrong citizen
        (owner_token, {"requestId": foreign["id"]}, "NOT_FOUND"),  # another tenant's request
        (owner_token, {"requestId": draft["id"]}, "NOT_FOUND"),  # a draft
    ]
    for token, extra, code in cases:
        # when booking names a request that does not fit
        result = await gql(BOOK, _book_input(ids, when, **extra), token=token)
        # then a precise error on requestId, and no appointment is written
        assert [(e["field"], e["code"]) for e in result.data["appointmentBook"]["userErrors"]] == [(["requestId"], code)], extra
    async with app.state.sessionmaker() as s:
        count = (await s.execute(sa.select(sa.func.count()).select_from(Appointment).where(Appointment.tenant_id == tenant.id))).scalar_one()
        assert count == 0
    assert (await _request(gql, request["id"], owner_token))["state"]["code"] == "submitted"
    # the agent acting for the request's citizen may link it
    linked = await gql(BOOK, _book_input(ids, when, requestId=request["id"], citizenId=owner_gid), token=agent)
    assert (await ok(linked, "appointmentBook"))["appointment"]["requestId"] == request["id"]


async def test_deleting_a_request_keeps_its_appointments_unlinked(gql, app, make_tenant):
    tenant = await make_tenant("link-fk")
    await _passport(gql, app, tenant)
    ids = await make_agenda(gql, tenant)
    _, _, token = await make_citizen(gql, tenant)
    request = await _submit(gql, token)
    booked = (await ok(await gql(BOOK, _book_input(ids, local(days_ahead(6), 10), requestId=request["id"]), token=token), "appointmentBook"))["appointment"]
    # when the request row is deleted (e.g. a retention purge)
    async with app.state.sessionmaker() as s:
        await s.execute(sa.delete(Request).where(Request.id == raw_id(request["id"])))
        await s.commit()
    # then the appointment stays, without its request (ON DELETE SET NULL)
    async with app.state.sessionmaker() as s:
        row = (await s.execute(sa.select(Appointment).where(Appointment.id == raw_id(booked["id"])))).scalar_one()
    assert row.request_id is None and row.status == "BOOKED"
