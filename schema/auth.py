"""Login and viewer types."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.common import UserError
from schema.enums import PrincipalKind, Role


@strawberry.input(description="Development password login of demo agents and citizens (disabled in production).")
class LoginInput:
    tenant: str = strawberry.field(description="Slug of the local authority, e.g. `demo`.")
    kind: PrincipalKind  # type: ignore[valid-type]
    email: str
    password: str


@strawberry.type
class LoginPayload:
    access_token: str | None = strawberry.field(description="Send it as `Authorization: Bearer <token>`.")
    token_type: str | None
    expires_at: dt.datetime | None
    user_errors: list[UserError]


@strawberry.type(description="Who the token belongs to.")
class Viewer:
    kind: PrincipalKind  # type: ignore[valid-type]
    subject_id: strawberry.ID = strawberry.field(description="Global ID of the Agent, Citizen or ApiClient.")
    roles: list[Role]  # type: ignore[valid-type]
    department_ids: list[strawberry.ID]
    token_expires_at: dt.datetime | None = None
