"""Domain errors.

``DomainValidationError`` carries one ``FieldError`` per faulty input field;
the API layer turns each into a ``UserError`` with a message in the caller's
language (see :mod:`domain.messages`). ``NotAuthenticated`` and ``Forbidden``
become top-level GraphQL errors (``UNAUTHENTICATED`` / ``FORBIDDEN``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: tuple[str, ...] | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """Base class of every expected (non-bug) error raised by the domain."""


class DomainValidationError(DomainError):
    def __init__(self, errors: list[FieldError]):
        super().__init__(", ".join(f"{'.'.join(e.field or ())}:{e.code}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field: tuple[str, ...] | None, code: str, **params: Any) -> DomainValidationError:
        return cls([FieldError(field, code, params)])


class NotAuthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Collector:
    """Accumulates field errors so that one call reports every faulty field."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: tuple[str, ...] | None, code: str, **params: Any) -> None:
        self.errors.append(FieldError(field, code, params))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise DomainValidationError(self.errors)


# Unique constraints that a concurrent writer may hit after the friendly
# pre-check passed: mapped to the same user error as the pre-check.
CONSTRAINT_FIELDS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "uq_citizens_tenant_email": (("email",), "DUPLICATE"),
    "uq_citizen_external_ids": (("external_ids",), "DUPLICATE"),
    "uq_agents_tenant_email": (("email",), "DUPLICATE"),
    "uq_departments_tenant_code": (("code",), "DUPLICATE"),
    "tenants_slug_key": (("slug",), "DUPLICATE"),
    "uq_api_clients_tenant_name": (("name",), "DUPLICATE"),
    "uq_procedures_tenant_code": (("definition", "code"), "DUPLICATE"),
    "uq_procedure_versions_number": (("definition", "code"), "DUPLICATE"),
}


def register_constraint(name: str, field: tuple[str, ...] | None, code: str) -> None:
    CONSTRAINT_FIELDS[name] = (field, code)


def constraint_error(exc: Exception) -> DomainValidationError | None:
    """Map a database integrity error on a known constraint to a user error."""
    orig = getattr(exc, "orig", None)
    name = getattr(orig, "constraint_name", None) or getattr(getattr(orig, "__cause__", None), "constraint_name", None)
    if name and name in CONSTRAINT_FIELDS:
        field, code = CONSTRAINT_FIELDS[name]
        return DomainValidationError.single(field, code)
    return None
