"""The outbox: one event per state change, in the same transaction; refused changes write none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from domain.citizens import services as citizen_services
from tests.api.helpers import count_events, events_of, gid, raw_id

CREATE = """
mutation($input: CitizenCreateInput!) {
  citizenCreate(input: $input) { citizen { id version } userErrors { field code } }
}
"""
UPDATE = """
mutation($input: CitizenUpdateInput!) {
  citizenUpdate(input: $input) { citizen { id version } userErrors { field code } }
}
"""
MY_UPDATE = """
mutation($input: MyProfileUpdateInput!) {
  myProfileUpdate(input: $input) { citizen { id version } userErrors { field code } }
}
"""
DEPARTMENT_CREATE = """
mutation($input: DepartmentCreateInput!) {
  departmentCreate(input: $input) { department { id } userErrors { field code } }
}
"""


async def test_each_citizen_mutation_writes_exactly_one_event(gql, tenant, app):
    agent = tenant.tokens["AGENT"]
    start = await count_events(app, tenant.id)
    created = await gql(CREATE, {"input": {"givenNames": "Ève", "familyName": "Outbox", "email": "eve@example.org"}}, token=agent)
    citizen_id = created.data["citizenCreate"]["citizen"]["id"]
    await gql(UPDATE, {"input": {"id": citizen_id, "version": 1, "familyName": "Outbox-Deux"}}, token=agent)
    mine = tenant.citizen_token(raw_id(citizen_id))
    await gql(MY_UPDATE, {"input": {"version": 2, "phone": "0611223344"}}, token=mine)

    # refused: validation, conflict, unknown id, forbidden, and a no-op update
    refused = [
        (UPDATE, {"input": {"id": citizen_id, "version": 3, "email": "bad"}}, agent),
        (UPDATE, {"input": {"id": citizen_id, "version": 1, "familyName": "Stale"}}, agent),
        (UPDATE, {"input": {"id": gid("Citizen", tenant.id), "version": 1, "familyName": "Ghost"}}, agent),
        (UPDATE, {"input": {"id": citizen_id, "version": 3, "familyName": "Analyst"}}, tenant.tokens["ANALYST"]),
        (MY_UPDATE, {"input": {"version": 1, "phone": "0699887766"}}, mine),
        (CREATE, {"input": {"givenNames": "Ève", "familyName": "Doublon", "email": "EVE@example.org"}}, agent),
    ]
    for query, variables, token in refused:
        result = await gql(query, variables, token=token)
        payload = next(iter(result.data.values())) if result.data else None
        assert result.errors or payload["userErrors"], result.body

    events = await events_of(app, raw_id(citizen_id))
    assert [(e.type, e.actor_type, e.actor_id) for e in events] == [
        ("citizen.created", "agent", tenant.agents["AGENT"]),
        ("citizen.updated", "agent", tenant.agents["AGENT"]),
        ("citizen.profile_updated", "citizen", raw_id(citizen_id)),
    ]
    assert [e.payload.get("version") for e in events] == [None, 2, 3]
    assert all(e.tenant_id == tenant.id and e.aggregate_type == "Citizen" for e in events)
    assert all(abs(e.occurred_at - datetime.now(UTC)) < timedelta(minutes=5) for e in events)
    assert [e.sequence for e in events] == sorted(e.sequence for e in events)
    assert await count_events(app, tenant.id) == start + 3
    # payloads carry field names, never personal values
    dumped = str([e.payload for e in events]).lower()
    assert "eve@" not in dumped and "outbox" not in dumped and "0611223344" not in dumped


async def test_a_no_op_update_changes_nothing_and_records_nothing(gql, tenant, app):
    agent = tenant.tokens["AGENT"]
    created = await gql(CREATE, {"input": {"givenNames": "Noé", "familyName": "Pareil"}}, token=agent)
    citizen_id = created.data["citizenCreate"]["citizen"]["id"]
    same = await gql(UPDATE, {"input": {"id": citizen_id, "version": 1, "familyName": "Pareil"}}, token=agent)
    assert same.data["citizenUpdate"]["citizen"]["version"] == 1
    assert [e.type for e in await events_of(app, raw_id(citizen_id))] == ["citizen.created"]


async def test_failing_outbox_rolls_the_citizen_back(gql, tenant, app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(citizen_services, "record_event", broken)
    before = await count_events(app, tenant.id)
    result = await gql(CREATE, {"input": {"givenNames": "Zoé", "familyName": "Rollback"}}, token=tenant.tokens["AGENT"])
    assert result.error_codes == ["INTERNAL"]
    monkeypatch.undo()
    found = await gql('{ citizens(search: "rollback") { edges { node { id } } } }', token=tenant.tokens["AGENT"])
    assert found.data["citizens"]["edges"] == []
    assert await count_events(app, tenant.id) == before


async def test_racing_duplicates_give_one_winner_and_user_errors(gql, tenant, app):
    # the friendly pre-check passes for every racer; the unique constraint decides, mapped to DUPLICATE
    agent, admin = tenant.tokens["AGENT"], tenant.tokens["ADMIN"]
    before = await count_events(app, tenant.id)
    citizens = await asyncio.gather(
        *[gql(CREATE, {"input": {"givenNames": f"R{i}", "familyName": "Race", "email": "race@example.org"}}, token=agent) for i in range(5)]
    )
    departments = await asyncio.gather(
        *[gql(DEPARTMENT_CREATE, {"input": {"name": f"Course {i}", "code": "course"}}, token=admin) for i in range(5)]
    )
    for results, field in ((citizens, "citizenCreate"), (departments, "departmentCreate")):
        assert all(r.status == 200 and not r.errors for r in results), [r.body for r in results]
        payloads = [r.data[field] for r in results]
        winners = [p for p in payloads if not p["userErrors"]]
        losers = [p for p in payloads if p["userErrors"]]
        assert len(winners) == 1 and len(losers) == 4
        assert all(p["userErrors"][0]["code"] == "DUPLICATE" for p in losers)
    assert await count_events(app, tenant.id) == before + 2
