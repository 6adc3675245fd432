"""Helpers shared by resolvers: run a mutation, turn domain errors into userErrors."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Context
from domain.errors import DomainValidationError
from schema.common import user_errors

P = TypeVar("P")


async def run_mutation(
    ctx: Context,
    action: Callable[[AsyncSession], Awaitable[Any]],
    payload: Callable[..., P],
    field: str,
    to_type: Callable[[Any], Any],
) -> P:
    """Run ``action`` in one transaction; a validation error rolls it back and becomes userErrors.

    Authentication and authorization errors propagate as top-level errors.
    """
    try:
        async with ctx.write() as session:
            result = await action(session)
    except DomainValidationError as exc:
        return payload(**{field: None, "user_errors": user_errors(exc, ctx.locale)})
    return payload(**{field: to_type(result), "user_errors": []})
