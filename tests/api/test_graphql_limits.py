"""GraphQL protections: depth, alias and token limits (refused before execution), masked faults, GET."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from domain.tenancy import services as tenancy_services
from domain.tenancy.models import Department
from tests.api.helpers import count_events


def nested(levels: int) -> str:
    """``parent { parent { ... id } }`` so that the deepest field sits at depth ``levels + 1``."""
    return "parent { " * levels + "id" + " }" * levels


async def department_codes(app, tenant_id) -> set[str]:
    async with app.state.sessionmaker() as s:
        return set((await s.execute(sa.select(Department.code).where(Department.tenant_id == tenant_id))).scalars())


async def assert_refused_unexecuted(gql, app, tenant, query, message_part):
    before_codes, before_events = await department_codes(app, tenant.id), await count_events(app, tenant.id)
    result = await gql(query, token=tenant.tokens["ADMIN"])
    assert result.error_codes and set(result.error_codes) == {"GRAPHQL_VALIDATION_FAILED"}, result.body
    assert message_part in result.errors[0]["message"]
    assert result.data is None
    # no execution: the mutation wrote nothing
    assert await department_codes(app, tenant.id) == before_codes
    assert await count_events(app, tenant.id) == before_events


async def test_depth_limit(gql, tenant, app):
    ok = await gql("{ departments { " + nested(11) + " } }", token=tenant.tokens["AGENT"])
    assert ok.errors == [] and ok.data["departments"][0]["parent"] is None
    too_deep = 'mutation { departmentCreate(input: {name: "Profond"}) { department { ' + nested(11) + " } } }"
    await assert_refused_unexecuted(gql, app, tenant, too_deep, "exceeds maximum operation depth of 12")


async def test_depth_limit_counts_fragments(gql, tenant):
    query = "fragment P on Department { " + nested(12) + " } { departments { ...P } }"
    result = await gql(query, token=tenant.tokens["AGENT"])
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"] and result.data is None


async def test_alias_limit(gql, tenant, app):
    fifteen = " ".join(f"a{i}: viewer {{ kind }}" for i in range(15))
    ok = await gql("{ " + fifteen + " }", token=tenant.tokens["AGENT"])
    assert ok.errors == [] and len(ok.data) == 15
    sixteen = " ".join(
        f'a{i}: departmentCreate(input: {{name: "Alias {i}", code: "alias-{i}"}}) {{ department {{ id }} }}' for i in range(16)
    )
    await assert_refused_unexecuted(gql, app, tenant, "mutation { " + sixteen + " }", "aliases")


async def test_token_limit(gql, tenant, app):
    many = 'mutation { departmentCreate(input: {name: "Jetons"}) { department { ' + "id " * 2000 + "} } }"
    await assert_refused_unexecuted(gql, app, tenant, many, "2000 tokens")
    # just below the limit the document is parsed and executed (here: too many ids, refused by the resolver)
    below = "{ nodes(ids: [" + " ".join(f'"{i}"' for i in range(1980)) + "]) { id } }"
    result = await gql(below, token=tenant.tokens["AGENT"])
    assert result.error_codes == ["BAD_USER_INPUT"] and result.errors[0]["extensions"]["reason"] == "INVALID_PAGE_SIZE"


async def test_syntax_and_unknown_fields_are_validation_errors(gql, tenant):
    for query in ("{ viewer { kind }", "{ nope }", "{ viewer { kind(arg: 1) } }"):
        result = await gql(query, token=tenant.tokens["AGENT"])
        assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"], result.body


async def test_unexpected_fault_is_masked_and_logged(gql, tenant, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("connection string postgresql://admin:hunter2@db/prod leaked")

    monkeypatch.setattr(tenancy_services, "list_departments", broken)
    caplog.set_level(logging.ERROR, logger="guichet.graphql")
    result = await gql("{ departments { id } }", token=tenant.tokens["AGENT"], lang="en")
    assert result.error_codes == ["INTERNAL"]
    error = result.errors[0]
    assert error["message"] == "An unexpected error occurred. Please try again later."
    assert set(error["extensions"]) == {"code", "requestId"}
    assert error["extensions"]["requestId"] == result.headers["x-request-id"]
    text = str(result.body)
    assert "hunter2" not in text and "RuntimeError" not in text and "Traceback" not in text
    assert "stacktrace" not in text.lower()
    # the fault is logged server-side, with its stack trace
    logged = [r for r in caplog.records if r.name == "guichet.graphql"]
    assert logged and logged[0].exc_info and "hunter2" in str(logged[0].exc_info[1])


async def test_fault_while_recording_the_event_rolls_the_change_back(gql, tenant, app, monkeypatch):
    # record_event runs inside the service's transaction: if it fails, the department must not exist
    def broken_event(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(tenancy_services, "record_event", broken_event)
    before = await department_codes(app, tenant.id)
    result = await gql('mutation { departmentCreate(input: {name: "Fantôme"}) { department { id } } }', token=tenant.tokens["ADMIN"])
    assert result.error_codes == ["INTERNAL"]
    assert await department_codes(app, tenant.id) == before


async def test_queries_over_get_work_and_mutations_over_get_are_refused(client, tenant, app):
    headers = {"Authorization": f"Bearer {tenant.tokens['ADMIN']}"}
    query = await client.get("/graphql", params={"query": "{ viewer { kind roles } }"}, headers=headers)
    assert query.status_code == 200
    assert query.json() == {"data": {"viewer": {"kind": "AGENT", "roles": ["ADMIN"]}}}

    before = await department_codes(app, tenant.id)
    mutation = 'mutation { departmentCreate(input: {name: "Par GET"}) { department { id } } }'
    for params in ({"query": mutation}, {"query": mutation, "operationName": None}):
        response = await client.get("/graphql", params={k: v for k, v in params.items() if v}, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0] == {
            "message": "mutations are not allowed when using GET", "extensions": {"code": "BAD_REQUEST"}
        }
    # hidden behind a query operation name in the same document: still refused
    doc = "query Q { viewer { kind } } " + mutation.replace("mutation {", "mutation M {")
    response = await client.get("/graphql", params={"query": doc, "operationName": "M"}, headers=headers)
    assert response.status_code == 400
    assert await department_codes(app, tenant.id) == before
    assert "par-get" not in await department_codes(app, tenant.id)
