"""Citizens through the public API: create, read, search, update, conflicts, languages."""

from __future__ import annotations

import base64
import uuid

CREATE = """
mutation Create($input: CitizenCreateInput!) {
  citizenCreate(input: $input) {
    citizen { id givenNames familyName email phone version address { postcode city } externalIds { source externalId } }
    userErrors { field code message }
  }
}
"""
UPDATE = """
mutation Update($input: CitizenUpdateInput!) {
  citizenUpdate(input: $input) { citizen { id familyName version } userErrors { field code message } }
}
"""
SEARCH = """
query Search($search: String, $first: Int, $after: String) {
  citizens(search: $search, first: $first, after: $after) {
    edges { cursor node { id familyName givenNames } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def create(gql, token, **fields):
    result = await gql(CREATE, {"input": {"givenNames": "Jean", "familyName": "Dupont", **fields}}, token=token)
    assert result.status == 200, result.body
    return result.data["citizenCreate"]


async def test_agent_creates_citizen_with_normalised_contact(gql, tenant):
    # given an agent at the counter
    token = tenant.tokens["AGENT"]
    # when they register a citizen with a national phone number and mixed-case e-mail
    payload = await create(
        gql,
        token,
        email="Jean.Dupont@Example.ORG",
        phone="06 12 34 56 78",
        address={"number": "3", "street": "rue Haute", "postcode": "75011", "city": "Paris"},
        externalIds=[{"source": "FAMILY_PORTAL", "externalId": "F-42"}],
    )
    # then the record is stored in normalised form
    assert payload["userErrors"] == []
    citizen = payload["citizen"]
    assert citizen["email"] == "jean.dupont@example.org"
    assert citizen["phone"] == "+33612345678"
    assert citizen["version"] == 1
    assert citizen["address"] == {"postcode": "75011", "city": "Paris"}
    assert citizen["externalIds"] == [{"source": "FAMILY_PORTAL", "externalId": "F-42"}]
    # and the ID is opaque, not a guessable integer
    assert "Citizen" not in citizen["id"]
    assert base64.urlsafe_b64decode(citizen["id"] + "==").decode().startswith("Citizen:")


async def test_validation_errors_in_french_and_english_and_nothing_written(gql, tenant):
    bad = {"givenNames": " ", "familyName": "Durand", "email": "not-an-email", "phone": "12", "address": {"postcode": "7500"}}
    for lang, expected in (("fr", "L'adresse e-mail n'est pas valide"), ("en", "The e-mail address is not valid")):
        result = await gql(CREATE, {"input": bad}, token=tenant.tokens["AGENT"], lang=lang)
        payload = result.data["citizenCreate"]
        assert payload["citizen"] is None
        by_field = {tuple(e["field"]): e for e in payload["userErrors"]}
        assert by_field[("givenNames",)]["code"] == "BLANK"
        assert by_field[("email",)]["code"] == "INVALID_EMAIL"
        assert by_field[("email",)]["message"].startswith(expected)
        assert by_field[("phone",)]["code"] == "INVALID_PHONE"
        assert by_field[("address", "postcode")]["code"] == "INVALID_POSTCODE"
        assert result.headers["content-language"] == lang
    # nothing was written
    found = await gql(SEARCH, {"search": "durand"}, token=tenant.tokens["AGENT"])
    assert found.data["citizens"]["edges"] == []


async def test_duplicate_email_is_a_user_error(gql, tenant):
    await create(gql, tenant.tokens["AGENT"], email="twin@example.org")
    payload = await create(gql, tenant.tokens["AGENT"], familyName="Autre", email="TWIN@example.org")
    assert payload["citizen"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["email"], "DUPLICATE")]


async def test_search_ignores_accents_and_case_and_matches_phone_and_email(gql, tenant):
    token = tenant.tokens["AGENT"]
    await create(gql, token, givenNames="Élodie", familyName="Lefèvre", email="elo@example.org", phone="0611223344")
    await create(gql, token, givenNames="Marc", familyName="Lefebvre")
    for term in ("lefevre", "LEFÈVRE elo", "élo", "06 11 22 33", "+33611223344", "elo@example"):
        result = await gql(SEARCH, {"search": term}, token=token)
        names = [e["node"]["givenNames"] for e in result.data["citizens"]["edges"]]
        assert names == ["Élodie"], (term, names)
    result = await gql(SEARCH, {"search": "lef"}, token=token)
    assert [e["node"]["familyName"] for e in result.data["citizens"]["edges"]] == ["Lefebvre", "Lefèvre"]


async def test_keyset_pagination_walks_every_row_once(gql, tenant):
    token = tenant.tokens["AGENT"]
    for i in range(7):
        await create(gql, token, givenNames=f"Prénom{i}", familyName=f"Page{i % 3}")
    seen, after = [], None
    while True:
        result = await gql(SEARCH, {"search": "page", "first": 3, "after": after}, token=token)
        conn = result.data["citizens"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == 7 == len(set(seen))


async def test_page_size_is_capped_and_bad_cursor_is_a_typed_error(gql, tenant):
    token = tenant.tokens["AGENT"]
    too_many = await gql(SEARCH, {"first": 101}, token=token, lang="en")
    assert too_many.error_codes == ["BAD_USER_INPUT"]
    assert too_many.errors[0]["extensions"]["reason"] == "INVALID_PAGE_SIZE"
    assert "between 1 and 100" in too_many.errors[0]["message"]
    bad_cursor = await gql(SEARCH, {"after": "garbage!"}, token=token)
    assert bad_cursor.errors[0]["extensions"]["reason"] == "INVALID_CURSOR"


async def test_optimistic_lock_conflict(gql, tenant):
    token = tenant.tokens["AGENT"]
    citizen = (await create(gql, token))["citizen"]
    first = await gql(UPDATE, {"input": {"id": citizen["id"], "version": 1, "familyName": "Dupond"}}, token=token)
    assert first.data["citizenUpdate"]["citizen"]["version"] == 2
    # a second agent still holding version 1
    stale = await gql(UPDATE, {"input": {"id": citizen["id"], "version": 1, "familyName": "Dupuis"}}, token=token, lang="en")
    payload = stale.data["citizenUpdate"]
    assert payload["citizen"] is None
    assert payload["userErrors"][0]["code"] == "CONFLICT"
    assert payload["userErrors"][0]["field"] == ["version"]
    assert "version 2 instead of 1" in payload["userErrors"][0]["message"]
    # the first change stands
    node = await gql('query($id: ID!) { citizen(id: $id) { familyName version } }', {"id": citizen["id"]}, token=token)
    assert node.data["citizen"] == {"familyName": "Dupond", "version": 2}


async def test_concurrent_updates_exactly_one_wins(gql, tenant):
    import asyncio

    token = tenant.tokens["AGENT"]
    citizen = (await create(gql, token))["citizen"]
    results = await asyncio.gather(
        *[gql(UPDATE, {"input": {"id": citizen["id"], "version": 1, "familyName": f"Racer{i}"}}, token=token) for i in range(5)]
    )
    wins = [r for r in results if r.data["citizenUpdate"]["citizen"]]
    conflicts = [r for r in results if r.data["citizenUpdate"]["userErrors"]]
    assert len(wins) == 1 and len(conflicts) == 4
    assert all(r.data["citizenUpdate"]["userErrors"][0]["code"] == "CONFLICT" for r in conflicts)


async def test_events_are_written_in_the_same_transaction(gql, tenant, app):
    import sqlalchemy as sa

    from domain.events.models import Event

    token = tenant.tokens["AGENT"]
    citizen = (await create(gql, token, email="events@example.org"))["citizen"]
    await gql(UPDATE, {"input": {"id": citizen["id"], "version": 1, "phone": "0612345678"}}, token=token)
    await gql(UPDATE, {"input": {"id": citizen["id"], "version": 2, "email": "bad"}}, token=token)  # refused
    raw_id = uuid.UUID(base64.urlsafe_b64decode(citizen["id"] + "==").decode().split(":")[1])
    async with app.state.sessionmaker() as s:
        events = (
            await s.execute(sa.select(Event).where(Event.aggregate_id == raw_id).order_by(Event.sequence))
        ).scalars().all()
    assert [e.type for e in events] == ["citizen.created", "citizen.updated"]
    assert events[1].payload == {"fields": ["phone"], "version": 2}
    assert events[0].actor_id == tenant.agents["AGENT"]
    # personal values are not copied into events
    assert "events@example.org" not in str([e.payload for e in events])


async def test_overseas_number_in_national_form_is_stored_and_found(gql, tenant):
    token = tenant.tokens["AGENT"]
    payload = await create(gql, token, familyName="Outremer", phone="0590 12 34 56")
    assert payload["userErrors"] == [] and payload["citizen"]["phone"] == "+590590123456"
    for term in ("0590 12 34 56", "+590590123456", "05901234"):
        result = await gql(SEARCH, {"search": term}, token=token)
        assert [e["node"]["familyName"] for e in result.data["citizens"]["edges"]] == ["Outremer"], term
