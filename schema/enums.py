"""Enums of the public contract (SCREAMING_CASE values)."""

from __future__ import annotations

import strawberry

from domain.citizens import models as citizen_models
from domain import security

Role = strawberry.enum(security.Role, description="What an agent or API client may do.")
Gender = strawberry.enum(citizen_models.Gender)
ContactChannel = strawberry.enum(citizen_models.ContactChannel, description="How the citizen prefers to be contacted.")
Language = strawberry.enum(citizen_models.Language, description="The citizen's preferred language.")
AssuranceLevel = strawberry.enum(
    citizen_models.AssuranceLevel,
    description="How well the identity is established: declared, checked at a counter, or FranceConnect.",
)


PrincipalKind = strawberry.enum(security.PrincipalKind, description="The kind of principal behind a token.")
