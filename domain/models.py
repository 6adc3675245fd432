"""Imports every table so that ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from domain.appointments.models import (
    Agenda,
    Appointment,
    AppointmentCitizenSeat,
    AppointmentSeat,
    AppointmentType,
    OpeningException,
    OpeningRule,
    Place,
)
from domain.citizens.models import Citizen, CitizenExternalId
from domain.events.models import Event
from domain.dashboards.models import RequestDailyHistogram, RequestDailyRollup, RequestFact, RollupCursor
from domain.procedures.models import Procedure, ProcedureVersion
from domain.requests.models import Request, RequestCounter, RequestMessage
from domain.tenancy.models import Agent, AgentDepartment, Department, Tenant

metadata = SQLModel.metadata

__all__ = [
    "Agent",
    "AgentDepartment",
    "Citizen",
    "CitizenExternalId",
    "Department",
    "Event",
    "Procedure",
    "RequestDailyHistogram", "RequestDailyRollup", "RequestFact", "RollupCursor",
    "ProcedureVersion",
    "Request",
    "RequestCounter",
    "RequestMessage",
    "Tenant",
    "metadata",
]
