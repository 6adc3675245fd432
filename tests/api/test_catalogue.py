"""The seeded catalogue works through the API on every channel it accepts, and a new YAML file
becomes a usable procedure end to end without code."""

from __future__ import annotations

import uuid
from collections import deque

import sqlalchemy as sa

from domain.procedures.services import import_procedure_file, load_definition_file
from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.models import Tenant
from seeds.catalogue import catalogue_files, seed_procedures
from seeds.demo import DEPARTMENTS, PARENTS
from tests.procedure_fixtures import add_department, make_citizen

SUBMIT = """
mutation($input: RequestSubmitInput!) {
  requestSubmit(input: $input) {
    request { id reference version status channel department { code } state { code } }
    userErrors { field code message }
  }
}
"""
TRANSITION = """
mutation($input: RequestTransitionInput!) {
  requestTransition(input: $input) { request { id version status state { code terminal } } userErrors { field code } }
}
"""
PROCEDURE = "query($code: String!) { procedure(code: $code) { code prefill form currentVersion { channels } } }"

SAMPLES = {
    "civil-status-certificate": {
        "certificateType": "birth", "documentType": "extract-with-parentage", "relationship": "self",
        "personFamilyName": "Lefèvre", "personGivenNames": "Élodie", "eventDate": "1990-05-01",
        "fatherName": "Jacques Lefèvre", "motherName": "Anne Durand", "deliveryMode": "post", "copies": 2,
    },
    "electoral-roll-registration": {"nationality": "french", "reason": "new-resident", "previousTown": "Lyon"},
    "school-canteen-enrolment": {
        "childFamilyName": "Lefèvre", "childGivenNames": "Léo", "childBirthDate": "2019-03-14",
        "school": "ecole-jules-ferry", "grade": "CP", "services": ["canteen", "evening"], "canteenDays": ["monday", "friday"],
        "schoolYear": "2026-2027", "allergies": False,
    },
    "association-grant": {
        "associationName": "Les Amis du Quartier", "rnaNumber": "W751234567", "grantType": "project",
        "projectTitle": "Fête de quartier", "projectDescription": "Une fête de quartier ouverte à tous les habitants.",
        "amountRequested": 1500, "totalBudget": 4000,
    },
    "public-highway-occupation": {
        "occupationType": "skip", "skipVolume": 8, "startDate": "2026-12-01", "endDate": "2026-12-03", "surface": 6,
        "location": {"number": "10", "street": "rue Haute", "postcode": "75001", "city": "Paris"},
    },
    "street-issue": {"category": "fly-tipping", "description": "Dépôt de gravats sur le trottoir", "location": {"street": "rue Basse", "city": "Paris"}},
    "passport-appointment": {"document": "passport", "reason": "renewal", "people": 1, "preferredSlot": "morning"},
    "contact": {"topic": "roads", "subject": "Trottoir abîmé", "message": "Bonjour, le trottoir devant le 12 est abîmé."},
}
EXPECTED_DEPARTMENT = {"street-issue": "proprete", "contact": "voirie", "public-highway-occupation": "voirie"}
CITIZEN_CHANNELS = {"WEB", "APP"}


async def _tenant_with_demo_departments(app, make_tenant):
    tenant = await make_tenant("catalogue")
    for code, name, _ in PARENTS + DEPARTMENTS:
        if code != "accueil":
            await add_department(app, tenant, code, name)
    return tenant


def _path_to_outcome(definition):
    """Staff transitions from the initial state to a terminal state that is not a cancellation."""
    wf = definition["workflow"]
    states = {s["code"]: s for s in wf["states"]}
    start = wf.get("initial") or wf["states"][0]["code"]
    queue = deque([(start, [])])
    seen = {start}
    while queue:
        state, path = queue.popleft()
        if states[state].get("terminal") and states[state]["status"] != "CANCELLED":
            return path
        for t in wf["transitions"]:
            sources = [t["from"]] if isinstance(t["from"], str) else t["from"]
            if state in sources and set(t["roles"]) & {"AGENT", "SUPERVISOR"} and t["to"] not in seen:
                seen.add(t["to"])
                queue.append((t["to"], path + [t]))
    raise AssertionError(f"no outcome for {definition['code']}")


async def test_seeded_catalogue_on_every_channel_to_an_outcome(gql, app, make_tenant):
    # given the demo catalogue loaded (twice: idempotent) in a tenant with the demo departments
    tenant = await _tenant_with_demo_departments(app, make_tenant)
    async with app.state.sessionmaker() as s:
        model = (await s.execute(sa.select(Tenant).where(Tenant.id == tenant.id))).scalar_one()
        first = await seed_procedures(s, model)
        await s.commit()
        again = await seed_procedures(s, model)
        await s.commit()
    assert [p.current_version for p in again] == [1] * len(first) == [p.current_version for p in first]
    definitions = {load_definition_file(f)["code"]: load_definition_file(f) for f in catalogue_files()}
    assert set(definitions) == set(SAMPLES)
    citizen_gid, _, token = await make_citizen(
        gql, tenant, phone="06 12 34 56 78", birthDate="1990-05-01", birthPlace={"label": "Lyon", "inseeCode": "69123"}
    )
    supervisor = tenant.tokens["SUPERVISOR"]

    for code, answers in SAMPLES.items():
        definition = definitions[code]
        procedure = (await gql(PROCEDURE, {"code": code}, token=token)).data["procedure"]
        assert procedure["prefill"], code  # every catalogue form reuses the profile
        for channel in procedure["currentVersion"]["channels"]:
            # when a citizen (web, app) or an agent (other channels) submits it
            if channel in CITIZEN_CHANNELS:
                result = await gql(SUBMIT, {"input": {"procedureCode": code, "answers": answers, "channel": channel}}, token=token)
            else:
                full = {**procedure["prefill"], **answers}
                result = await gql(
                    SUBMIT,
                    {"input": {"procedureCode": code, "answers": full, "channel": channel, "citizenId": citizen_gid}},
                    token=tenant.tokens["AGENT"],
                )
            payload = result.data["requestSubmit"]
            # then it is accepted, routed and in its initial state
            assert payload["userErrors"] == [], (code, channel, payload["userErrors"])
            request = payload["request"]
            assert request["channel"] == channel and request["status"] == "SUBMITTED"
            assert request["department"]["code"] == EXPECTED_DEPARTMENT.get(code, request["department"]["code"])
        # and staff can walk the last one to an outcome, giving the required inputs
        for step in _path_to_outcome(definition):
            inputs = {name: "2026-12-01" if "Date" in name or name.endswith("At") else "ok" for name in step.get("requiredInputs", [])}
            result = await gql(
                TRANSITION,
                {"input": {"id": request["id"], "version": request["version"], "transition": step["name"], "inputs": inputs}},
                token=supervisor,
            )
            moved = result.data["requestTransition"]
            assert moved["userErrors"] == [], (code, step["name"], moved)
            request = {**request, **moved["request"]}
        assert request["state"]["terminal"], code


NEW_PROCEDURE = """
code: dog-registration
title: { fr: Déclaration de chien catégorisé, en: Dangerous dog registration }
category: tranquillite
channels: [WEB, COUNTER]
sla: { businessDays: 10 }
routing: { defaultDepartment: accueil }
prefill: { ownerName: displayName }
form:
  schema:
    type: object
    required: [ownerName, dogName, category]
    properties:
      ownerName: { type: string, minLength: 1 }
      dogName: { type: string, minLength: 1 }
      category: { type: string, enum: ["1", "2"] }
  ui:
    fields:
      ownerName: { widget: profile, profileField: displayName, label: { fr: Propriétaire, en: Owner } }
      dogName: { widget: text, label: { fr: Nom du chien, en: Dog's name } }
      category: { widget: radio, label: { fr: Catégorie, en: Category } }
workflow:
  states:
    - { code: new, status: SUBMITTED, label: { fr: Nouvelle, en: New } }
    - { code: permit, status: ACCEPTED, terminal: true, label: { fr: Permis délivré, en: Permit issued } }
    - { code: refused, status: REJECTED, terminal: true, label: { fr: Refusé, en: Refused } }
  transitions:
    - { name: issue, from: new, to: permit, roles: [AGENT], notifyCitizen: true }
    - { name: refuse, from: new, to: refused, roles: [AGENT], requiredInputs: [reason], notifyCitizen: true }
"""


async def test_a_yaml_file_becomes_a_usable_procedure_without_code(gql, app, tenant, tmp_path):
    # given a municipality's YAML file, imported like `guichet procedures import`
    path = tmp_path / "dog-registration.yaml"
    path.write_text(NEW_PROCEDURE, encoding="utf-8")
    async with app.state.sessionmaker() as s:
        admin = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
        await import_procedure_file(s, admin, path)
        await s.commit()
    _, _, token = await make_citizen(gql, tenant, givenNames="Rex", familyName="Maître")
    # when a citizen submits it online
    result = await gql(SUBMIT, {"input": {"procedureCode": "dog-registration", "answers": {"dogName": "Médor", "category": "2"}}}, token=token)
    request = result.data["requestSubmit"]["request"]
    assert result.data["requestSubmit"]["userErrors"] == []
    assert request["state"]["code"] == "new" and request["department"]["code"] == "accueil"
    # then an agent refuses it without a reason (refused), then with one
    missing = await gql(TRANSITION, {"input": {"id": request["id"], "version": 1, "transition": "refuse"}}, token=tenant.tokens["AGENT"])
    assert missing.data["requestTransition"]["userErrors"] == [{"field": ["inputs", "reason"], "code": "MISSING_TRANSITION_INPUT"}]
    done = await gql(
        TRANSITION,
        {"input": {"id": request["id"], "version": 1, "transition": "refuse", "inputs": {"reason": "Pièces manquantes"}}},
        token=tenant.tokens["AGENT"],
    )
    assert done.data["requestTransition"]["request"]["status"] == "REJECTED"
    # and the citizen follows it, with the reason on the timeline
    followed = await gql(
        "query($ref: String!) { request(reference: $ref) { status timeline { nodes { kind inputs } } } }",
        {"ref": request["reference"]},
        token=token,
    )
    timeline = followed.data["request"]["timeline"]["nodes"]
    assert [e["kind"] for e in timeline] == ["SUBMITTED", "TRANSITION"]
    assert timeline[-1]["inputs"] == {"reason": "Pièces manquantes"}
