"""Demo appointments: passports and ID cards at two places, civil status, the mayor's permanence.

Idempotent: places and agendas are found by name and created only when missing;
demo bookings are added only to an agenda that has none.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import date, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appointments import admin, services
from domain.appointments.models import Agenda, Appointment, Place
from domain.base import utcnow
from domain.citizens.models import Citizen
from domain.errors import DomainValidationError
from domain.security import Principal
from domain.tenancy.models import Agent

log = logging.getLogger("guichet.seeds")

PLACES = {
    "centrale": ("Mairie centrale", "1 place de l'Hôtel de Ville, 75001 Paris"),
    "annexe": ("Mairie annexe", "12 avenue des Lilas, 75020 Paris"),
}

MON_FRI = (1, 2, 3, 4, 5)

PASSPORT_QUESTIONS = {
    "type": "object",
    "properties": {
        "persons": {"type": "integer", "minimum": 1, "maximum": 4, "title": "Nombre de personnes (une demande chacune)"},
        "minor": {"type": "boolean", "title": "Une des personnes est mineure"},
        "predemande": {"type": "string", "pattern": "^[A-Z0-9]{10}$", "title": "Numéro de pré-demande ANTS"},
    },
    "required": ["persons"],
    "additionalProperties": False,
}
ID_DOCUMENTS = [
    "Numéro de pré-demande ANTS",
    "Photo d'identité de moins de 6 mois",
    "Justificatif de domicile de moins d'un an",
    "Ancien titre (en cas de renouvellement)",
]

AGENDAS: list[dict[str, Any]] = [
    {
        "name": "Passeports et cartes d'identité – Mairie centrale",
        "place": "centrale",
        "department": "etat-civil",
        "settings": {"capacity": 3, "slot_minutes": 15, "min_notice_minutes": 1440, "horizon_days": 60,
                     "max_active_per_citizen": 2, "cancellation_deadline_minutes": 1440},
        "weekly": [(d, "08:30", "12:00") for d in MON_FRI] + [(d, "13:30", "17:00") for d in MON_FRI] + [(6, "09:00", "12:00")],
        "summer": [(d, "09:00", "12:00") for d in MON_FRI],
        "types": [
            ("Demande de passeport", "Passport application", 30, PASSPORT_QUESTIONS, ID_DOCUMENTS, "PASSPORT"),
            ("Demande de carte d'identité", "Identity card application", 30, PASSPORT_QUESTIONS, ID_DOCUMENTS, "ID_CARD"),
            ("Remise de titre d'identité", "Collection of an identity document", 15, None, ["Récépissé de dépôt", "Ancien titre"], None),
        ],
    },
    {
        "name": "Passeports et cartes d'identité – Mairie annexe",
        "place": "annexe",
        "department": "etat-civil",
        "settings": {"capacity": 1, "slot_minutes": 15, "min_notice_minutes": 1440, "horizon_days": 60,
                     "max_active_per_citizen": 2, "cancellation_deadline_minutes": 1440},
        "weekly": [(2, "09:00", "12:00"), (2, "14:00", "17:30"), (4, "09:00", "12:00"), (4, "14:00", "19:00")],
        "summer": [],
        "types": [
            ("Demande de passeport", "Passport application", 30, PASSPORT_QUESTIONS, ID_DOCUMENTS, "PASSPORT"),
            ("Demande de carte d'identité", "Identity card application", 30, PASSPORT_QUESTIONS, ID_DOCUMENTS, "ID_CARD"),
        ],
    },
    {
        "name": "État civil – Mairie centrale",
        "place": "centrale",
        "department": "etat-civil",
        "agent": "etat-civil@ville-demo.fr",
        "settings": {"capacity": 2, "slot_minutes": 20, "min_notice_minutes": 1440, "horizon_days": 90,
                     "max_active_per_citizen": 2, "cancellation_deadline_minutes": 2880},
        "weekly": [(d, "09:00", "12:00") for d in MON_FRI] + [(d, "14:00", "16:40") for d in (1, 3, 5)],
        "summer": [],
        "types": [
            ("Dépôt d'un dossier de mariage", "Marriage application", 40,
             {"type": "object", "properties": {"wedding_date": {"type": "string", "format": "date", "title": "Date souhaitée"}},
              "additionalProperties": False},
             ["Pièces d'identité des futurs époux", "Actes de naissance de moins de 3 mois", "Justificatifs de domicile"], "MARRIAGE"),
            ("Reconnaissance anticipée", "Acknowledgement of paternity/maternity", 20, None, ["Pièce d'identité", "Justificatif de domicile"], None),
            ("Demande de livret de famille", "Family record book", 20, None, ["Pièce d'identité"], None),
        ],
    },
    {
        "name": "Permanence de Madame la Maire",
        "place": "centrale",
        "department": "accueil",
        "settings": {"capacity": 1, "slot_minutes": 20, "min_notice_minutes": 3 * 1440, "horizon_days": 45,
                     "max_active_per_citizen": 1, "cancellation_deadline_minutes": 1440, "requires_subject": True},
        "weekly": [(3, "17:00", "19:00"), (6, "09:00", "11:00")],
        "summer": [],
        "types": [("Rencontre avec Madame la Maire", "Meeting with the Mayor", 20, None, [], None)],
    },
]


def _t(value: str) -> time:
    return time.fromisoformat(value)


async def _place(session: AsyncSession, p: Principal, key: str) -> Place:
    name, address = PLACES[key]
    found = (await session.execute(sa.select(Place).where(Place.tenant_id == p.tenant_id, Place.name == name))).scalar_one_or_none()
    return found or await admin.create_place(session, p, {"name": name, "address": address})


async def _agenda(session: AsyncSession, p: Principal, spec: dict[str, Any], departments: dict[str, uuid.UUID]) -> Agenda:
    found = (
        await session.execute(sa.select(Agenda).where(Agenda.tenant_id == p.tenant_id, Agenda.name == spec["name"]))
    ).scalar_one_or_none()
    if found:
        return found
    place = await _place(session, p, spec["place"])
    agent_id = None
    if spec.get("agent"):
        agent_id = (await session.execute(sa.select(Agent.id).where(Agent.tenant_id == p.tenant_id, Agent.email == spec["agent"]))).scalar()
    agenda = await admin.create_agenda(
        session, p,
        {"name": spec["name"], "place_id": place.id, "department_id": departments[spec["department"]], "agent_id": agent_id, **spec["settings"]},
    )
    for weekday, start, end in spec["weekly"]:
        await admin.add_opening_rule(session, p, {"agenda_id": agenda.id, "weekday": weekday, "start_time": _t(start), "end_time": _t(end)})
    today = date.today()
    for year in (today.year, today.year + 1):
        for weekday, start, end in spec["summer"]:  # summer hours: 15 July - 15 August
            await admin.add_opening_rule(
                session, p,
                {"agenda_id": agenda.id, "weekday": weekday, "start_time": _t(start), "end_time": _t(end),
                 "valid_from": date(year, 7, 15), "valid_to": date(year, 8, 15)},
            )
    christmas_eve = date(today.year, 12, 24) if today <= date(today.year, 12, 24) else date(today.year + 1, 12, 24)
    await admin.add_opening_exception(
        session, p,
        {"agenda_id": agenda.id, "on_date": christmas_eve, "kind": "CLOSURE", "start_time": time(12), "end_time": time(23, 59),
         "reason": "Fermeture exceptionnelle le 24 décembre après-midi"},
    )
    for label_fr, label_en, minutes, questions, documents, procedure in spec["types"]:
        await admin.create_appointment_type(
            session, p,
            {"agenda_id": agenda.id, "label_fr": label_fr, "label_en": label_en, "duration_minutes": minutes,
             "questions": questions, "documents_to_bring": documents, "procedure_code": procedure},
        )
    return agenda


async def _demo_bookings(session: AsyncSession, p: Principal, agenda: Agenda, count: int) -> None:
    has = (await session.execute(sa.select(Appointment.id).where(Appointment.agenda_id == agenda.id).limit(1))).first()
    if has:
        return
    types = await services.load_types_of_agendas(session, p.tenant_id, [agenda.id])
    citizens = list(
        (await session.execute(sa.select(Citizen.id).where(Citizen.tenant_id == p.tenant_id).order_by(Citizen.sort_name).limit(count * 2))).scalars()
    )
    if not types[0] or not citizens:
        return
    rng = random.Random(agenda.name)
    atype = types[0][-1]
    now = utcnow()
    slots = await services.availability(session, p, agenda.id, atype.id, now, now + timedelta(days=21))
    answers = {"persons": 1} if atype.questions and "persons" in atype.questions.get("properties", {}) else None
    for citizen_id in rng.sample(citizens, min(count, len(citizens))):
        if not slots:
            break
        slot = slots.pop(rng.randrange(len(slots)))
        data = {"agenda_id": agenda.id, "appointment_type_id": atype.id, "starts_at": slot.starts_at, "citizen_id": citizen_id,
                "channel": rng.choice(["COUNTER", "PHONE", "COUNTER"]), "answers": answers,
                "subject": "Demande de rendez-vous" if agenda.requires_subject else None}
        try:
            async with session.begin_nested():
                await services.book(session, p, data)
        except DomainValidationError:
            continue  # e.g. the citizen limit: skip that citizen


async def seed_appointments(session: AsyncSession, principal: Principal, departments: dict[str, uuid.UUID], bookings: bool = True) -> None:
    for spec in AGENDAS:
        agenda = await _agenda(session, principal, spec, departments)
        if bookings:
            await _demo_bookings(session, principal, agenda, 8)
    log.info("demo appointments ready")
