"""``node`` / ``nodes``: fetch any object by global ID, with the same checks as its own field."""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable

from api.context import Context
from schema.common import parse_global_id

NodeFetcher = Callable[[Context, uuid.UUID], Awaitable[Any]]

# type name -> coroutine returning the schema object or None; every fetcher
# goes through the domain service that checks tenant and permissions.
NODE_FETCHERS: dict[str, NodeFetcher] = {}


def register_node(type_name: str) -> Callable[[NodeFetcher], NodeFetcher]:
    def decorator(fn: NodeFetcher) -> NodeFetcher:
        NODE_FETCHERS[type_name] = fn
        return fn

    return decorator


async def fetch_node(ctx: Context, global_id: str) -> Any:
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in NODE_FETCHERS:
        return None
    type_name, raw_id = parsed
    return await NODE_FETCHERS[type_name](ctx, raw_id)
