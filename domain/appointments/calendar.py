"""iCalendar (RFC 5545) output with the ``icalendar`` library.

Times are written in UTC (``...Z``), so no VTIMEZONE is needed. The UID is the
appointment id (stable); SEQUENCE is ``version - 1`` so every change (reschedule,
cancellation, attendance) bumps it; a cancelled appointment is published with
``METHOD:CANCEL`` and ``STATUS:CANCELLED``.
"""

from __future__ import annotations

from datetime import UTC
from typing import Iterable

from icalendar import Calendar, Event

from domain.appointments.models import Appointment, AppointmentStatus, AppointmentType, Place

PRODID = "-//Guichet//Appointments//FR"
UID_DOMAIN = "appointments.guichet"


def appointment_uid(appointment: Appointment) -> str:
    return f"{appointment.id}@{UID_DOMAIN}"


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _event(appointment: Appointment, atype: AppointmentType, place: Place | None, locale: str) -> Event:
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", appointment.updated_at.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("sequence", appointment.version - 1)
    label = atype.label_en if locale == "en" else atype.label_fr
    event.add("summary", label)
    if place is not None:
        event.add("location", ", ".join(x for x in (place.name, place.address) if x))
    ref = "Confirmation code" if locale == "en" else "Code de confirmation"
    lines = [f"{ref}: {appointment.code}"]
    if atype.documents_to_bring:
        lines.append(("Documents to bring: " if locale == "en" else "Pièces à apporter : ") + "; ".join(atype.documents_to_bring))
    event.add("description", "\n".join(lines))
    cancelled = appointment.status == AppointmentStatus.CANCELLED.value
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def appointment_ics(appointment: Appointment, atype: AppointmentType, place: Place | None, locale: str = "fr") -> str:
    """One appointment as a VCALENDAR (METHOD:REQUEST, or METHOD:CANCEL once cancelled)."""
    cancelled = appointment.status == AppointmentStatus.CANCELLED.value
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_event(appointment, atype, place, locale))
    return cal.to_ical().decode()


def feed_ics(name: str, rows: Iterable[tuple[Appointment, AppointmentType, Place]], locale: str = "fr") -> str:
    """A subscription feed (agenda or agent): every appointment, cancelled ones with STATUS:CANCELLED."""
    cal = _calendar("PUBLISH", name)
    for appointment, atype, place in rows:
        cal.add_component(_event(appointment, atype, place, locale))
    return cal.to_ical().decode()
