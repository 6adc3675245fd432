"""API client types, inputs and payloads (the key itself appears only in ApiClientCreatePayload)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.clients import models
from domain.clients.services import is_active
from domain.tenancy.services import load_agents, load_departments
from schema.common import Node, UserError, to_global_id
from schema.enums import Role
from schema.tenancy import Agent, Department


@strawberry.type(description="A credential issued to an external system (API key). The secret is never readable again.")
class ApiClient(Node):
    name: str
    roles: list[Role]  # type: ignore[valid-type]
    key_prefix: str = strawberry.field(
        description="The 8 characters after `gk_live_` in the key, to recognise it (not a secret, not enough to authenticate)."
    )
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(description="Last authenticated use (refreshed at most once a minute).")
    revoked_at: datetime | None
    expires_at: datetime | None
    version: int = strawberry.field(description="Pass it back to apiClientRevoke (optimistic locking).")
    _model: strawberry.Private[models.ApiClient]

    @strawberry.field(description="False once revoked or expired: the key is then refused.")
    def active(self) -> bool:
        return is_active(self._model)

    @strawberry.field(description="Departments the client acts for (empty: no department scope).")
    async def departments(self, info: Info) -> list[Department]:
        deps = await info.context.loader("department", load_departments).load_many(self._model.department_ids)
        return sorted((Department.from_model(d) for d in deps if d), key=lambda d: d.name)

    @strawberry.field(description="The admin who issued the key (null when issued from the command line).")
    async def created_by(self, info: Info) -> Agent | None:
        if self._model.created_by is None:
            return None
        agent = await info.context.loader("agent", load_agents).load(self._model.created_by)
        return Agent.from_model(agent) if agent else None

    @classmethod
    def from_model(cls, m: models.ApiClient) -> ApiClient:
        return cls(
            id=to_global_id("ApiClient", m.id),
            name=m.name,
            roles=[Role(r) for r in m.roles],
            key_prefix=m.key_prefix,
            created_at=m.created_at,
            last_used_at=m.last_used_at,
            revoked_at=m.revoked_at,
            expires_at=m.expires_at,
            version=m.version,
            _model=m,
        )


@strawberry.input(description="A new API client. Give only the roles the integration needs.")
class ApiClientCreateInput:
    name: str = strawberry.field(description="What the key is for, e.g. `Open311 gateway` (unique among live keys).")
    roles: list[Role]  # type: ignore[valid-type]
    department_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Optional department scope."
    )
    expires_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="Optional expiry (with offset).")


@strawberry.input
class ApiClientRevokeInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a stale version is refused with CONFLICT.")


@strawberry.type
class ApiClientCreatePayload:
    api_client: ApiClient | None
    key: str | None = strawberry.field(
        description="The API key (`gk_live_...`), shown ONCE: store it now in the integration's secret store."
    )
    user_errors: list[UserError]


@strawberry.type
class ApiClientPayload:
    api_client: ApiClient | None
    user_errors: list[UserError]
