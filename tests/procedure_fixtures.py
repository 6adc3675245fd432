"""A small procedure definition and helpers shared by the request tests."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from domain.security import Principal, PrincipalKind, Role
from domain.tenancy.services import create_department

PUBLISH = """
mutation Publish($input: ProcedurePublishInput!) {
  procedurePublish(input: $input) {
    procedure { id code currentVersionNumber title { fr en } currentVersion { id number } }
    userErrors { field code message }
  }
}
"""

PERMIT = {
    "code": "parking-permit",
    "title": {"fr": "Carte de stationnement résident", "en": "Resident parking permit"},
    "description": {"fr": "Stationner près de chez soi.", "en": "Park near home."},
    "category": "voirie",
    "channels": ["WEB", "APP", "COUNTER", "PHONE"],
    "sla": {"businessDays": 3},
    "routing": {
        "defaultDepartment": "accueil",
        "rules": [{"field": "vehicle", "equals": "van", "department": "voirie"}],
    },
    "prefill": {"fullName": "displayName", "address": "address"},
    "requiredDocuments": [{"code": "registration", "label": {"fr": "Carte grise", "en": "Registration"}, "required": True}],
    "form": {
        "schema": {
            "type": "object",
            "required": ["fullName", "plate", "vehicle", "address"],
            "additionalProperties": False,
            "properties": {
                "fullName": {"type": "string", "minLength": 1},
                "plate": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}-[A-Z]{2}$"},
                "vehicle": {"type": "string", "enum": ["car", "van", "motorbike"]},
                "vanLength": {"type": "number", "minimum": 1, "maximum": 8},
                "electric": {"type": "boolean"},
                "address": {
                    "type": "object",
                    "required": ["street", "city"],
                    "properties": {"number": {"type": "string"}, "street": {"type": "string"}, "city": {"type": "string"}, "postcode": {"type": "string"}},
                },
                "since": {"type": "string", "format": "date"},
            },
            "if": {"properties": {"vehicle": {"const": "van"}}, "required": ["vehicle"]},
            "then": {"required": ["vanLength"]},
        },
        "ui": {
            "fields": {
                "fullName": {"widget": "profile", "profileField": "displayName", "label": {"fr": "Nom", "en": "Name"}, "order": 1},
                "plate": {"widget": "text", "label": {"fr": "Immatriculation", "en": "Plate"}, "order": 2},
                "vehicle": {"widget": "radio", "label": {"fr": "Véhicule", "en": "Vehicle"}, "order": 3},
                "vanLength": {
                    "widget": "number",
                    "label": {"fr": "Longueur", "en": "Length"},
                    "visibleWhen": {"field": "vehicle", "equals": "van"},
                },
            }
        },
    },
    "workflow": {
        "initial": "submitted",
        "states": [
            {"code": "submitted", "status": "SUBMITTED", "label": {"fr": "Reçue", "en": "Received"}},
            {"code": "review", "status": "IN_PROGRESS", "label": {"fr": "Instruction", "en": "Review"},
             "publicLabel": {"fr": "En cours", "en": "In progress"}},
            {"code": "waiting", "status": "WAITING_FOR_CITIZEN", "label": {"fr": "Attente", "en": "Waiting"}},
            {"code": "granted", "status": "CLOSED", "terminal": True, "label": {"fr": "Délivrée", "en": "Granted"}},
            {"code": "rejected", "status": "REJECTED", "terminal": True, "label": {"fr": "Refusée", "en": "Rejected"}},
            {"code": "cancelled", "status": "CANCELLED", "terminal": True, "label": {"fr": "Annulée", "en": "Cancelled"}},
        ],
        "transitions": [
            {"name": "take", "from": "submitted", "to": "review", "roles": ["AGENT"]},
            {"name": "ask", "from": "review", "to": "waiting", "roles": ["AGENT"], "requiredInputs": ["question"], "notifyCitizen": True},
            {"name": "answer", "from": "waiting", "to": "review", "roles": ["CITIZEN"]},
            {"name": "grant", "from": "review", "to": "granted", "roles": ["AGENT"], "notifyCitizen": True},
            {"name": "reject", "from": ["submitted", "review"], "to": "rejected", "roles": ["SUPERVISOR"],
             "requiredInputs": ["reason"], "notifyCitizen": True},
            {"name": "cancel", "from": ["submitted", "waiting"], "to": "cancelled", "roles": ["CITIZEN"]},
        ],
    },
}

GOOD_ANSWERS = {"plate": "AB-123-CD", "vehicle": "car", "electric": True}


def permit(**changes: Any) -> dict[str, Any]:
    definition = copy.deepcopy(PERMIT)
    definition.update(changes)
    return definition


async def add_department(app, tenant, code: str, name: str) -> uuid.UUID:
    async with app.state.sessionmaker() as session:
        system = Principal(PrincipalKind.CLIENT, uuid.UUID(int=0), tenant.id, frozenset({Role.ADMIN}))
        dep = await create_department(session, system, {"code": code, "name": name})
        await session.commit()
        return dep.id


async def publish(gql, tenant, definition: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await gql(PUBLISH, {"input": {"definition": definition or PERMIT}}, token=tenant.tokens["ADMIN"])
    assert result.status == 200, result.body
    return result.data["procedurePublish"]


CREATE_CITIZEN = """
mutation($input: CitizenCreateInput!) { citizenCreate(input: $input) { citizen { id } userErrors { code field } } }
"""


async def make_citizen(gql, tenant, **fields: Any) -> tuple[str, uuid.UUID, str]:
    """Create a citizen through the API: (global id, raw uuid, citizen token)."""
    import base64

    data = {
        "givenNames": "Élodie",
        "familyName": "Lefèvre",
        "email": f"elodie.{uuid.uuid4().hex[:6]}@example.org",
        "address": {"number": "3", "street": "rue des Écoles", "postcode": "75005", "city": "Paris"},
        **fields,
    }
    result = await gql(CREATE_CITIZEN, {"input": data}, token=tenant.tokens["AGENT"])
    payload = result.data["citizenCreate"]
    assert payload["userErrors"] == [], payload
    gid = payload["citizen"]["id"]
    raw = uuid.UUID(base64.urlsafe_b64decode(gid + "==").decode().split(":", 1)[1])
    return gid, raw, tenant.citizen_token(raw)
