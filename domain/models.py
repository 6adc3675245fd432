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
from domain.clients.models import ApiClient
from domain.events.models import Event
from domain.dashboards.models import RequestDailyHistogram, RequestDailyRollup, RequestFact, RollupCursor
from domain.idempotency.models import IdempotencyKey
from domain.files.models import StoredFile
from domain.procedures.models import Procedure, ProcedureVersion
from domain.requests.models import Request, RequestCounter, RequestMessage
from domain.reports.models import ReportCategory, ReportDetails, ReportFollower, ReportSettings, ReportSupport
from domain.tenancy.models import Agent, AgentDepartment, Department, Tenant

metadata = SQLModel.metadata

__all__ = ["Agent", "AgentDepartment", "ApiClient", "Citizen", "CitizenExternalId", "Department", "Event", "IdempotencyKey", "Procedure", "ProcedureVersion", "ReportCategory", "ReportDetails", "ReportFollower", "ReportSettings", "ReportSupport", "Request", "RequestCounter", "RequestDailyHistogram", "RequestDailyRollup", "RequestFact", "RequestMessage", "RollupCursor", "StoredFile", "Tenant", "metadata"]
