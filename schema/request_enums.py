"""Enums of requests (SCREAMING_CASE)."""

from __future__ import annotations

import enum

import strawberry

from domain.requests import models

RequestStatus = strawberry.enum(
    models.RequestStatus, description="Generic status of a request, shared by every procedure (DRAFT until submitted)."
)
Channel = strawberry.enum(models.Channel, description="Where a request came from.")
Priority = strawberry.enum(models.Priority)


@strawberry.enum(description="Sort keys of the inbox.")
class InboxOrderField(enum.Enum):
    DUE_DATE = "DUE_DATE"
    PRIORITY = "PRIORITY"
    CREATED = "CREATED"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"
