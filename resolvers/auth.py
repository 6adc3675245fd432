"""Login and the viewer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import strawberry
from strawberry.types import Info

from auth.login import password_login
from domain.errors import DomainValidationError, Forbidden
from domain.security import PrincipalKind as DomainKind
from domain.security import require_principal
from schema.auth import LoginInput, LoginPayload, Viewer
from schema.common import to_global_id, user_errors
from schema.enums import PrincipalKind, Role


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The principal behind the token (null without a token).")
    def viewer(self, info: Info) -> Viewer | None:
        p = info.context.principal
        if p is None:
            return None
        type_name = {DomainKind.CITIZEN: "Citizen", DomainKind.AGENT: "Agent", DomainKind.CLIENT: "ApiClient"}[p.kind]
        return Viewer(
            kind=PrincipalKind(p.kind),
            subject_id=to_global_id(type_name, p.subject_id),
            token_expires_at=p.expires_at,
            roles=sorted((Role(r) for r in p.roles), key=lambda r: r.value),
            department_ids=[to_global_id("Department", d) for d in sorted(p.departments)],
        )


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Exchange a demo e-mail and password for an access token (development only).")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        if not ctx.settings.dev_login:
            raise Forbidden()
        try:
            async with ctx.read() as s:
                token, _ = await password_login(
                    s, ctx.keys, input.tenant, DomainKind(input.kind.value), input.email, input.password
                )
        except DomainValidationError as exc:
            return LoginPayload(access_token=None, token_type=None, expires_at=None, user_errors=user_errors(exc, ctx.locale))
        expires = datetime.now(UTC) + timedelta(seconds=ctx.keys.ttl)
        return LoginPayload(access_token=token, token_type="Bearer", expires_at=expires, user_errors=[])


__all__ = ["AuthMutation", "AuthQuery", "require_principal"]
