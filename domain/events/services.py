"""Append domain events in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from domain.events.models import Event
from domain.security import Principal


def record_event(
    session: Any,
    *,
    tenant_id: uuid.UUID,
    type: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    actor: Principal | None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Add an event to the session; it is written with the change or not at all.

    Payloads must stay minimal: ids, codes and the names of changed fields,
    never the personal values themselves.
    """
    event = Event(
        tenant_id=tenant_id,
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        actor_type=actor.kind.value if actor else None,
        actor_id=actor.subject_id if actor else None,
        payload=payload or {},
    )
    session.add(event)
    return event
