"""Helpers shared by the appointment API tests: build an agenda through the admin API."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schema.common import to_global_id

PARIS = ZoneInfo("Europe/Paris")

PLACE_CREATE = """
mutation($input: PlaceCreateInput!) { placeCreate(input: $input) { place { id name } userErrors { field code } } }
"""
AGENDA_CREATE = """
mutation($input: AgendaCreateInput!) {
  agendaCreate(input: $input) { agenda { id version capacity } userErrors { field code message } }
}
"""
RULE_ADD = """
mutation($input: OpeningRuleAddInput!) {
  agendaOpeningRuleAdd(input: $input) { agenda { id openingRules { weekday startTime endTime } } userErrors { field code } }
}
"""
EXCEPTION_ADD = """
mutation($input: OpeningExceptionAddInput!) {
  agendaOpeningExceptionAdd(input: $input) { agenda { id openingExceptions { kind onDate } } userErrors { field code } }
}
"""
TYPE_CREATE = """
mutation($input: AppointmentTypeCreateInput!) {
  appointmentTypeCreate(input: $input) { appointmentType { id durationMinutes } userErrors { field code message } }
}
"""
CITIZEN_CREATE = """
mutation($input: CitizenCreateInput!) { citizenCreate(input: $input) { citizen { id } userErrors { code } } }
"""
BOOK = """
mutation($input: AppointmentBookInput!) {
  appointmentBook(input: $input) {
    appointment { id code status startsAt endsAt channel version overrides answers subject requestId
                  citizen { id familyName } agenda { id } appointmentType { id } }
    userErrors { field code message }
  }
}
"""
AVAILABILITY = """
query($agenda: ID!, $type: ID!, $from: DateTime!, $to: DateTime!, $full: Boolean! = false) {
  availability(agendaId: $agenda, appointmentTypeId: $type, from: $from, to: $to, includeFull: $full) {
    startsAt endsAt remaining capacity
  }
}
"""
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]

QUESTIONS = {
    "type": "object",
    "properties": {
        "persons": {"type": "integer", "minimum": 1, "maximum": 4},
        "renewal": {"type": "boolean"},
    },
    "required": ["persons"],
    "additionalProperties": False,
}


def raw_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().split(":", 1)[1])


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """A Paris wall-clock time as an aware datetime."""
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS)


def iso(value: datetime) -> str:
    return value.isoformat()


def days_ahead(n: int) -> date:
    return datetime.now(PARIS).date() + timedelta(days=n)


async def ok(result, field: str) -> dict:
    assert result.status == 200, result.body
    assert not result.errors, result.errors
    payload = result.data[field]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def make_agenda(
    gql,
    tenant,
    *,
    capacity: int = 3,
    slot_minutes: int = 15,
    duration: int = 15,
    notice: int = 0,
    horizon: int = 400,
    max_per_citizen: int = 5,
    deadline: int = 1440,
    holidays_open: bool = True,
    requires_subject: bool = False,
    ranges: tuple[tuple[str, str], ...] = (("08:00:00", "18:00:00"),),
    questions: dict | None = None,
) -> dict:
    admin = tenant.tokens["ADMIN"]
    place = await ok(await gql(PLACE_CREATE, {"input": {"name": "Mairie", "address": "1 place de la Mairie"}}, token=admin), "placeCreate")
    agenda = await ok(
        await gql(
            AGENDA_CREATE,
            {
                "input": {
                    "departmentId": to_global_id("Department", tenant.department_id),
                    "placeId": place["place"]["id"],
                    "agentId": to_global_id("Agent", tenant.agents["AGENT"]),
                    "name": "Passeports",
                    "capacity": capacity,
                    "slotMinutes": slot_minutes,
                    "minNoticeMinutes": notice,
                    "horizonDays": horizon,
                    "maxActivePerCitizen": max_per_citizen,
                    "cancellationDeadlineMinutes": deadline,
                    "openOnPublicHolidays": holidays_open,
                    "requiresSubject": requires_subject,
                }
            },
            token=admin,
        ),
        "agendaCreate",
    )
    agenda_id = agenda["agenda"]["id"]
    for weekday in WEEKDAYS:
        for start, end in ranges:
            await ok(
                await gql(RULE_ADD, {"input": {"agendaId": agenda_id, "weekday": weekday, "startTime": start, "endTime": end}}, token=admin),
                "agendaOpeningRuleAdd",
            )
    atype = await ok(
        await gql(
            TYPE_CREATE,
            {
                "input": {
                    "agendaId": agenda_id,
                    "labelFr": "Dépôt de passeport",
                    "labelEn": "Passport application",
                    "durationMinutes": duration,
                    "questions": questions,
                    "documentsToBring": ["Photo d'identité", "Justificatif de domicile"],
                    "procedureCode": "PASSPORT",
                }
            },
            token=admin,
        ),
        "appointmentTypeCreate",
    )
    return {"agenda": agenda_id, "type": atype["appointmentType"]["id"], "place": place["place"]["id"]}


async def make_citizen(gql, tenant, family: str = "Martin") -> str:
    result = await gql(CITIZEN_CREATE, {"input": {"givenNames": "Camille", "familyName": family}}, token=tenant.tokens["AGENT"])
    return result.data["citizenCreate"]["citizen"]["id"]


async def book_as_citizen(gql, tenant, ids: dict, citizen_gid: str, starts_at: datetime, lang: str | None = None, **extra):
    token = tenant.citizen_token(raw_id(citizen_gid))
    data = {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(starts_at), **extra}
    return await gql(BOOK, {"input": data}, token=token, lang=lang)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
