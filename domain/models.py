"""Imports every table so that ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from domain.citizens.models import Citizen, CitizenExternalId
from domain.events.models import Event
from domain.files.models import StoredFile
from domain.tenancy.models import Agent, AgentDepartment, Department, Tenant

metadata = SQLModel.metadata

__all__ = ["Agent", "AgentDepartment", "Citizen", "CitizenExternalId", "Department", "Event", "StoredFile", "Tenant", "metadata"]
