"""Who is acting, and the permission rules every service applies.

A ``Principal`` is built by the ``auth`` package from a verified token; the
domain only reads it. Every service takes one and scopes every read and
write to ``principal.tenant_id``.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Forbidden, NotAuthenticated


class PrincipalKind(str, enum.Enum):
    CITIZEN = "citizen"
    AGENT = "agent"
    CLIENT = "client"


class Role(str, enum.Enum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    ADMIN = "ADMIN"
    ANALYST = "ANALYST"


STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    subject_id: uuid.UUID
    tenant_id: uuid.UUID
    roles: frozenset[Role] = frozenset()
    departments: frozenset[uuid.UUID] = field(default_factory=frozenset)
    token_id: str | None = None
    expires_at: datetime | None = None  # of the access token (None: API key, CLI, seeds)

    @property
    def is_citizen(self) -> bool:
        return self.kind is PrincipalKind.CITIZEN

    @property
    def is_staff(self) -> bool:
        """Agents and API clients with a role that may see personal data."""
        return self.kind is not PrincipalKind.CITIZEN and bool(self.roles & STAFF_ROLES)

    def has_role(self, *roles: Role) -> bool:
        return self.kind is not PrincipalKind.CITIZEN and bool(self.roles & set(roles))


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


def require_staff(principal: Principal | None) -> Principal:
    """Agents, supervisors and admins (personal data allowed); not analysts, not citizens."""
    p = require_principal(principal)
    if not p.is_staff:
        raise Forbidden()
    return p


def require_role(principal: Principal | None, *roles: Role) -> Principal:
    p = require_principal(principal)
    if not p.has_role(*roles):
        raise Forbidden()
    return p


def require_citizen(principal: Principal | None) -> Principal:
    p = require_principal(principal)
    if not p.is_citizen:
        raise Forbidden()
    return p


def require_any_agent(principal: Principal | None) -> Principal:
    """Any non-citizen principal with at least one role (analysts included)."""
    p = require_principal(principal)
    if p.is_citizen or not p.roles:
        raise Forbidden()
    return p
