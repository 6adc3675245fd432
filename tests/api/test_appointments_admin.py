"""Administration of agendas: types, opening rules, exceptions, deactivation, permissions."""

from __future__ import annotations

from tests.api.appointments_support import (
    BOOK,
    EXCEPTION_ADD,
    RULE_ADD,
    TYPE_CREATE,
    book_as_citizen,
    days_ahead,
    iso,
    local,
    make_agenda,
    make_citizen,
    ok,
    raw_id,
)

AGENDAS = """
query($all: Boolean! = false) {
  agendas(includeInactive: $all) {
    id name active requiresSubject capacity place { name address } department { code }
    appointmentTypes { id label labelEn durationMinutes documentsToBring procedureCode }
    openingRules { weekday startTime endTime }
  }
}
"""
AGENDA_UPDATE = """
mutation($input: AgendaUpdateInput!) { agendaUpdate(input: $input) { agenda { id version active } userErrors { field code } } }
"""
RULE_REMOVE = """
mutation($input: OpeningRuleRemoveInput!) {
  agendaOpeningRuleRemove(input: $input) { agenda { openingRules { id weekday } } userErrors { field code } }
}
"""


def codes(payload):
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_type_and_rule_inputs_are_validated(gql, tenant):
    ids = await make_agenda(gql, tenant, slot_minutes=15)
    admin = tenant.tokens["ADMIN"]
    bad_type = await gql(
        TYPE_CREATE,
        {"input": {"agendaId": ids["agenda"], "labelFr": " ", "labelEn": "x", "durationMinutes": 20, "questions": {"type": "object", "properties": {"a": {"type": 3}}}}},
        token=admin,
    )
    assert sorted(codes(bad_type.data["appointmentTypeCreate"])) == [
        (["durationMinutes"], "DURATION_NOT_MULTIPLE"), (["labelFr"], "BLANK"), (["questions"], "INVALID_QUESTIONS"),
    ]
    bad_rule = await gql(
        RULE_ADD, {"input": {"agendaId": ids["agenda"], "weekday": "MONDAY", "startTime": "12:00:00", "endTime": "09:00:00"}}, token=admin
    )
    assert codes(bad_rule.data["agendaOpeningRuleAdd"]) == [(["endTime"], "INVALID_TIME_RANGE")]
    bad_extra = await gql(
        EXCEPTION_ADD, {"input": {"agendaId": ids["agenda"], "onDate": days_ahead(3).isoformat(), "kind": "EXTRA_OPENING"}}, token=admin
    )
    assert codes(bad_extra.data["agendaOpeningExceptionAdd"]) == [(["endTime"], "REQUIRED")]
    wrong_id = await gql(RULE_ADD, {"input": {"agendaId": ids["type"], "weekday": "MONDAY", "startTime": "09:00:00", "endTime": "10:00:00"}}, token=admin)
    assert codes(wrong_id.data["agendaOpeningRuleAdd"]) == [(["agendaId"], "INVALID_ID")]


async def test_only_admins_administer(gql, tenant):
    ids = await make_agenda(gql, tenant)
    for role in ("AGENT", "SUPERVISOR", "ANALYST"):
        result = await gql(
            RULE_ADD, {"input": {"agendaId": ids["agenda"], "weekday": "MONDAY", "startTime": "18:00:00", "endTime": "19:00:00"}},
            token=tenant.tokens[role],
        )
        assert result.error_codes == ["FORBIDDEN"], role


async def test_removing_a_rule_and_listing_agendas(gql, tenant):
    ids = await make_agenda(gql, tenant, ranges=(("09:00:00", "12:00:00"), ("14:00:00", "17:00:00")))
    admin = tenant.tokens["ADMIN"]
    listed = await gql(AGENDAS, token=admin)
    agenda = next(a for a in listed.data["agendas"] if a["id"] == ids["agenda"])
    assert len(agenda["openingRules"]) == 14 and agenda["place"]["name"] == "Mairie" and agenda["department"]["code"] == "accueil"
    assert agenda["appointmentTypes"][0]["procedureCode"] == "PASSPORT"
    english = await gql(AGENDAS, token=admin, lang="en")
    assert next(a for a in english.data["agendas"] if a["id"] == ids["agenda"])["appointmentTypes"][0]["label"] == "Passport application"
    # the rule ids come from the agenda's node
    rules = await gql(
        'query($id: ID!) { node(id: $id) { ... on Agenda { openingRules { id weekday startTime } } } }', {"id": ids["agenda"]}, token=admin
    )
    first = rules.data["node"]["openingRules"][0]
    removed = await gql(RULE_REMOVE, {"input": {"id": first["id"]}}, token=admin)
    assert len((await ok(removed, "agendaOpeningRuleRemove"))["agenda"]["openingRules"]) == 13


async def test_an_inactive_agenda_is_hidden_from_citizens_and_not_bookable(gql, tenant):
    ids = await make_agenda(gql, tenant)
    citizen = await make_citizen(gql, tenant)
    await ok(await gql(AGENDA_UPDATE, {"input": {"id": ids["agenda"], "version": 1, "active": False}}, token=tenant.tokens["ADMIN"]), "agendaUpdate")
    as_citizen = await gql(AGENDAS, token=tenant.citizen_token(raw_id(citizen)))
    assert ids["agenda"] not in [a["id"] for a in as_citizen.data["agendas"]]
    staff_all = await gql(AGENDAS, {"all": True}, token=tenant.tokens["AGENT"])
    assert ids["agenda"] in [a["id"] for a in staff_all.data["agendas"]]
    by_citizen = await book_as_citizen(gql, tenant, ids, citizen, local(days_ahead(5), 10))
    assert codes(by_citizen.data["appointmentBook"]) == [(["agendaId"], "NOT_FOUND")]
    by_agent = await gql(
        BOOK,
        {"input": {"agendaId": ids["agenda"], "appointmentTypeId": ids["type"], "startsAt": iso(local(days_ahead(5), 10)), "citizenId": citizen}},
        token=tenant.tokens["AGENT"],
    )
    assert codes(by_agent.data["appointmentBook"]) == [(["agendaId"], "AGENDA_INACTIVE")]
