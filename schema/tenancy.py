"""Tenant, Department and Agent types, inputs and payloads."""

from __future__ import annotations

from datetime import datetime

from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from domain.errors import Forbidden
from domain.tenancy import models
from domain.tenancy.services import load_agent_department_ids, load_departments
from schema.common import Node, UserError, to_global_id
from schema.enums import Role


@strawberry.type(description="A local authority (commune, or a grouping of communes) hosted by Guichet.")
class Tenant(Node):
    name: str
    slug: str
    insee_code: str | None = strawberry.field(description="INSEE / COG code of the commune.")
    timezone: str = strawberry.field(description="IANA time zone used for calendars, SLAs and indicators.")
    default_locale: str

    @classmethod
    def from_model(cls, m: models.Tenant) -> Tenant:
        return cls(
            id=to_global_id("Tenant", m.id),
            name=m.name,
            slug=m.slug,
            insee_code=m.insee_code,
            timezone=m.timezone,
            default_locale=m.default_locale,
        )


@strawberry.type(description="A municipal department (service), possibly under a parent department.")
class Department(Node):
    code: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    _model: strawberry.Private[models.Department]

    @strawberry.field
    async def parent(self, info: Info) -> Department | None:
        if self._model.parent_id is None:
            return None
        parent = await info.context.loader("department", load_departments).load(self._model.parent_id)
        return Department.from_model(parent) if parent else None

    @classmethod
    def from_model(cls, m: models.Department) -> Department:
        return cls(
            id=to_global_id("Department", m.id),
            code=m.code,
            name=m.name,
            version=m.version,
            created_at=m.created_at,
            updated_at=m.updated_at,
            _model=m,
        )


class StaffOnly(BasePermission):
    """Staff directory fields: a citizen reaching an Agent (assignee, message author) sees its name only."""

    message = "FORBIDDEN"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and not principal.is_citizen

    def on_unauthorized(self) -> None:
        raise Forbidden()


@strawberry.type(description="A member of staff of the local authority.")
class Agent(Node):
    email: str = strawberry.field(permission_classes=[StaffOnly], description="Staff only.")
    given_name: str
    family_name: str
    roles: list[Role] = strawberry.field(permission_classes=[StaffOnly], description="Staff only.")  # type: ignore[valid-type]
    active: bool = strawberry.field(permission_classes=[StaffOnly], description="Staff only.")
    version: int
    created_at: datetime
    _model: strawberry.Private[models.Agent]

    @strawberry.field
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @strawberry.field(description="Departments the agent belongs to (staff only).", permission_classes=[StaffOnly])
    async def departments(self, info: Info) -> list[Department]:
        ids = await info.context.loader("agent_department_ids", load_agent_department_ids).load(self._model.id)
        deps = await info.context.loader("department", load_departments).load_many(ids)
        return sorted((Department.from_model(d) for d in deps if d), key=lambda d: d.name)

    @classmethod
    def from_model(cls, m: models.Agent) -> Agent:
        return cls(
            id=to_global_id("Agent", m.id),
            email=m.email,
            given_name=m.given_name,
            family_name=m.family_name,
            roles=[Role(r) for r in m.roles],
            active=m.active,
            version=m.version,
            created_at=m.created_at,
            _model=m,
        )


@strawberry.input
class DepartmentCreateInput:
    name: str
    code: str | None = strawberry.field(default=strawberry.UNSET, description="Short identifier; derived from the name when omitted.")
    parent_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class DepartmentUpdateInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a stale version is refused with CONFLICT.")
    name: str | None = strawberry.UNSET
    code: str | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET


@strawberry.type
class DepartmentPayload:
    department: Department | None
    user_errors: list[UserError]


@strawberry.input
class AgentCreateInput:
    email: str
    given_name: str
    family_name: str
    roles: list[Role]  # type: ignore[valid-type]
    department_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class AgentUpdateInput:
    id: strawberry.ID
    version: int
    email: str | None = strawberry.UNSET
    given_name: str | None = strawberry.UNSET
    family_name: str | None = strawberry.UNSET
    roles: list[Role] | None = strawberry.UNSET  # type: ignore[valid-type]
    active: bool | None = strawberry.UNSET
    department_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.type
class AgentPayload:
    agent: Agent | None
    user_errors: list[UserError]


