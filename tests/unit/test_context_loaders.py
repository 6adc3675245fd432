"""One DataLoader per batch function and request, whatever name a field uses for it."""

from __future__ import annotations

import uuid

from api.context import Context
from api.settings import Settings
from domain.security import Principal, PrincipalKind, Role


async def _batch(session, tenant_id, keys):
    return list(keys)


async def _other(session, tenant_id, keys):
    return list(keys)


def _context() -> Context:
    principal = Principal(PrincipalKind.AGENT, uuid.uuid4(), uuid.uuid4(), frozenset({Role.AGENT}))
    return Context(settings=Settings(environment="test"), sessionmaker=None, keys=None, principal=principal, locale="fr")


def test_the_same_batch_function_shares_one_loader_whatever_its_name():
    ctx = _context()
    assert ctx.loader("citizen", _batch) is ctx.loader("citizens", _batch)
    assert ctx.loader("citizen", _batch) is not ctx.loader("citizen", _other)


def test_loaders_are_per_request():
    assert _context().loader("x", _batch) is not _context().loader("x", _batch)
