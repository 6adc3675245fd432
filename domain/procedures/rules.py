"""Structural validation of a procedure definition (pure: no database).

A definition is a JSON document (written in YAML or JSON by a municipality).
Its shape is checked against ``DEFINITION_SCHEMA`` (JSON Schema 2020-12, the
``jsonschema`` library); then the meaning is checked: the form is a valid
JSON Schema, every transition goes between known states, every state is
reachable, at least one state is terminal, departments and fields exist.
Every error carries the path of the faulty place, e.g.
``("definition", "workflow", "transitions", "3", "to")``.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import Any, Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from domain.errors import Collector

GENERIC_STATUSES = ("SUBMITTED", "IN_PROGRESS", "WAITING_FOR_CITIZEN", "ACCEPTED", "REJECTED", "CLOSED", "CANCELLED")
CHANNELS = ("WEB", "APP", "COUNTER", "PHONE", "EMAIL", "POST")
ASSURANCE_LEVELS = ("DECLARED", "VERIFIED_AT_COUNTER", "FRANCECONNECT")
TRANSITION_ROLES = ("CITIZEN", "AGENT", "SUPERVISOR", "ADMIN")
PRIORITIES = ("URGENT", "HIGH", "NORMAL", "LOW")
WIDGETS = (
    "text", "textarea", "number", "date", "select", "radio", "checkboxes", "boolean",
    "address", "file", "profile", "email", "phone",
)
# What a prefill mapping may read from the citizen's profile (GraphQL `Citizen` field names).
PROFILE_FIELDS = (
    "givenNames", "familyName", "birthName", "birthDate", "birthPlace", "gender",
    "email", "phone", "address", "displayName",
)
DEFAULT_SLA_DAYS = 30

_SLUG = "^[a-z0-9]+(-[a-z0-9]+)*$"
_LOCALIZED = {
    "type": "object",
    "required": ["fr", "en"],
    "properties": {"fr": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*$", "maxLength": 63}
_CONDITION = {
    "type": "object",
    "required": ["field"],
    "properties": {"field": {"type": "string"}, "equals": {}, "in": {"type": "array"}},
    "additionalProperties": False,
}

DEFINITION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["code", "title", "category", "form", "workflow"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": _SLUG, "maxLength": 63},
        "title": _LOCALIZED,
        "description": _LOCALIZED,
        "category": {"type": "string", "pattern": _SLUG, "maxLength": 63},
        "channels": {"type": "array", "items": {"enum": list(CHANNELS)}, "minItems": 1, "uniqueItems": True},
        "assuranceLevel": {"enum": list(ASSURANCE_LEVELS)},
        "priority": {"enum": list(PRIORITIES)},
        "sla": {
            "type": "object",
            "required": ["businessDays"],
            "properties": {"businessDays": {"type": "integer", "minimum": 1, "maximum": 366}},
            "additionalProperties": False,
        },
        "routing": {
            "type": "object",
            "properties": {
                "defaultDepartment": {"type": "string"},
                "rules": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "department"],
                        "properties": {
                            "field": {"type": "string"},
                            "equals": {},
                            "in": {"type": "array"},
                            "department": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
        "requiredDocuments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "label"],
                "properties": {
                    "code": _NAME,
                    "label": _LOCALIZED,
                    "help": _LOCALIZED,
                    "required": {"type": "boolean"},
                    "field": {"type": "string"},
                    "visibleWhen": _CONDITION,
                },
                "additionalProperties": False,
            },
        },
        "prefill": {"type": "object", "additionalProperties": {"enum": list(PROFILE_FIELDS)}},
        "form": {
            "type": "object",
            "required": ["schema"],
            "additionalProperties": False,
            "properties": {
                "schema": {"type": "object"},
                "ui": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "steps": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "title"],
                                "properties": {"id": _NAME, "title": _LOCALIZED, "help": _LOCALIZED},
                                "additionalProperties": False,
                            },
                        },
                        "fields": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "required": ["widget", "label"],
                                "additionalProperties": False,
                                "properties": {
                                    "widget": {"enum": list(WIDGETS)},
                                    "label": _LOCALIZED,
                                    "help": _LOCALIZED,
                                    "placeholder": _LOCALIZED,
                                    "order": {"type": "integer"},
                                    "step": {"type": "string"},
                                    "visibleWhen": _CONDITION,
                                    "options": {"type": "object", "additionalProperties": _LOCALIZED},
                                    "profileField": {"enum": list(PROFILE_FIELDS)},
                                    "accept": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
            },
        },
        "workflow": {
            "type": "object",
            "required": ["states", "transitions"],
            "additionalProperties": False,
            "properties": {
                "initial": {"type": "string"},
                "states": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["code", "label", "status"],
                        "additionalProperties": False,
                        "properties": {
                            "code": _NAME,
                            "label": _LOCALIZED,
                            "publicLabel": _LOCALIZED,
                            "status": {"enum": list(GENERIC_STATUSES)},
                            "terminal": {"type": "boolean"},
                        },
                    },
                },
                "transitions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "from", "to", "roles"],
                        "additionalProperties": False,
                        "properties": {
                            "name": _NAME,
                            "label": _LOCALIZED,
                            "from": {
                                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
                            },
                            "to": {"type": "string"},
                            "roles": {"type": "array", "items": {"enum": list(TRANSITION_ROLES)}, "minItems": 1},
                            "requiredInputs": {"type": "array", "items": _NAME, "uniqueItems": True},
                            "notifyCitizen": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
}

_DEFINITION_VALIDATOR = Draft202012Validator(DEFINITION_SCHEMA)


def _path(prefix: tuple[str, ...], parts: Iterable[Any]) -> tuple[str, ...]:
    return prefix + tuple(str(p) for p in parts)


def _shape_errors(definition: Any, errors: Collector, prefix: tuple[str, ...]) -> None:
    for err in sorted(_DEFINITION_VALIDATOR.iter_errors(definition), key=lambda e: list(map(str, e.absolute_path))):
        path = list(err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in err.validator_value:
                if name not in err.instance:
                    errors.add(_path(prefix, path + [name]), "REQUIRED")
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set((err.schema.get("properties") or {}).keys())
            for name in err.instance:
                if name not in allowed:
                    errors.add(_path(prefix, path + [name]), "UNKNOWN_PROPERTY", name=name)
        else:
            errors.add(_path(prefix, path), "INVALID_DEFINITION", detail=err.message)


def _refs(node: Any, path: list[Any]) -> Iterable[tuple[list[Any], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path + [key], value
            else:
                yield from _refs(value, path + [key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, path + [index])


def _check_references(schema: dict[str, Any], errors: Collector, prefix: tuple[str, ...]) -> None:
    """Every ``$ref`` must resolve inside the form itself: nothing is fetched from the network."""
    resolver = Registry().with_resource("urn:guichet:form", DRAFT202012.create_resource(schema)).resolver("urn:guichet:form")
    for path, ref in _refs(schema, []):
        try:
            resolver.lookup(ref)
        except Unresolvable:
            errors.add(_path(prefix, path), "INVALID_JSON_SCHEMA", detail=f"unresolvable reference {ref}")


def transition_sources(transition: dict[str, Any]) -> list[str]:
    source = transition.get("from")
    return [source] if isinstance(source, str) else list(source or [])


def initial_state(definition: dict[str, Any]) -> str:
    workflow = definition["workflow"]
    return workflow.get("initial") or workflow["states"][0]["code"]


def validate_definition(
    definition: Any, department_codes: set[str], prefix: tuple[str, ...] = ("definition",)
) -> None:
    """Raise ``DomainValidationError`` listing every problem of ``definition``."""
    errors = Collector()
    _shape_errors(definition, errors, prefix)
    errors.raise_if_any()  # the semantic checks below rely on the shape

    # The form: a valid JSON Schema (draft 2020-12) describing an object.
    form = definition["form"]
    schema = form["schema"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        errors.add(_path(prefix, ["form", "schema", *exc.absolute_path]), "INVALID_JSON_SCHEMA", detail=exc.message)
    else:
        _check_references(schema, errors, _path(prefix, ["form", "schema"]))
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        errors.add(_path(prefix, ["form", "schema", "type"]), "INVALID_JSON_SCHEMA", detail="the form must be an object with properties")
    properties = set((schema.get("properties") or {}).keys()) if isinstance(schema.get("properties"), dict) else set()

    ui = form.get("ui") or {}
    step_ids = [s["id"] for s in ui.get("steps") or []]
    for index, step_id in enumerate(step_ids):
        if step_ids.index(step_id) != index:
            errors.add(_path(prefix, ["form", "ui", "steps", index, "id"]), "DUPLICATE")
    for name, hints in (ui.get("fields") or {}).items():
        where = ["form", "ui", "fields", name]
        if name not in properties:
            errors.add(_path(prefix, where), "UNKNOWN_FIELD", name=name)
        if "step" in hints and hints["step"] not in step_ids:
            errors.add(_path(prefix, where + ["step"]), "UNKNOWN_STEP", name=hints["step"])
        condition = hints.get("visibleWhen")
        if condition and condition["field"] not in properties:
            errors.add(_path(prefix, where + ["visibleWhen", "field"]), "UNKNOWN_FIELD", name=condition["field"])

    # The workflow: known states, one terminal at least, every state reachable.
    workflow = definition["workflow"]
    states = workflow["states"]
    codes = [s["code"] for s in states]
    for index, code in enumerate(codes):
        if codes.index(code) != index:
            errors.add(_path(prefix, ["workflow", "states", index, "code"]), "DUPLICATE")
    known = set(codes)
    initial = workflow.get("initial") or codes[0]
    if initial not in known:
        errors.add(_path(prefix, ["workflow", "initial"]), "UNKNOWN_STATE", name=initial)
    if not any(s.get("terminal") for s in states):
        errors.add(_path(prefix, ["workflow", "states"]), "NO_TERMINAL_STATE")
    graph: dict[str, set[str]] = {c: set() for c in codes}
    seen_names: set[tuple[str, str]] = set()
    for index, transition in enumerate(workflow["transitions"]):
        where = ["workflow", "transitions", index]
        if transition["to"] not in known:
            errors.add(_path(prefix, where + ["to"]), "UNKNOWN_STATE", name=transition["to"])
        sources = transition_sources(transition)
        for j, source in enumerate(sources):
            if source not in known:
                spot = where + (["from", j] if isinstance(transition["from"], list) else ["from"])
                errors.add(_path(prefix, spot), "UNKNOWN_STATE", name=source)
                continue
            if (transition["name"], source) in seen_names:
                errors.add(_path(prefix, where + ["name"]), "DUPLICATE")
            seen_names.add((transition["name"], source))
            if transition["to"] in known:
                graph[source].add(transition["to"])
    if initial in known:
        reached = {initial}
        queue = deque([initial])
        while queue:
            for nxt in graph[queue.popleft()]:
                if nxt not in reached:
                    reached.add(nxt)
                    queue.append(nxt)
        for index, code in enumerate(codes):
            if code not in reached and codes.index(code) == index:
                errors.add(_path(prefix, ["workflow", "states", index]), "UNREACHABLE_STATE", name=code)

    # Routing, prefill, documents: departments and fields must exist.
    routing = definition.get("routing") or {}
    default_dep = routing.get("defaultDepartment")
    if default_dep is not None and default_dep not in department_codes:
        errors.add(_path(prefix, ["routing", "defaultDepartment"]), "UNKNOWN_DEPARTMENT", department=default_dep)
    for index, rule in enumerate(routing.get("rules") or []):
        if rule["department"] not in department_codes:
            errors.add(_path(prefix, ["routing", "rules", index, "department"]), "UNKNOWN_DEPARTMENT", department=rule["department"])
        if rule["field"] not in properties:
            errors.add(_path(prefix, ["routing", "rules", index, "field"]), "UNKNOWN_FIELD", name=rule["field"])
    for name in definition.get("prefill") or {}:
        if name not in properties:
            errors.add(_path(prefix, ["prefill", name]), "UNKNOWN_FIELD", name=name)
    doc_codes = [d["code"] for d in definition.get("requiredDocuments") or []]
    for index, doc in enumerate(definition.get("requiredDocuments") or []):
        if doc_codes.index(doc["code"]) != index:
            errors.add(_path(prefix, ["requiredDocuments", index, "code"]), "DUPLICATE")
        if "field" in doc and doc["field"] not in properties:
            errors.add(_path(prefix, ["requiredDocuments", index, "field"]), "UNKNOWN_FIELD", name=doc["field"])
    errors.raise_if_any()


# ---------------------------------------------------------------- reading a definition


def state_of(definition: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((s for s in definition["workflow"]["states"] if s["code"] == code), None)


def transitions_from(definition: dict[str, Any], state: str) -> list[dict[str, Any]]:
    return [t for t in definition["workflow"]["transitions"] if state in transition_sources(t)]


def condition_holds(condition: dict[str, Any] | None, answers: dict[str, Any]) -> bool:
    if not condition:
        return True
    value = answers.get(condition["field"])
    if "equals" in condition:
        return value == condition["equals"] or (isinstance(value, list) and condition["equals"] in value)
    if "in" in condition:
        return value in condition["in"]
    return value not in (None, "", [], False)


def visible_answers(definition: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Drop the answers of fields hidden by a ``visibleWhen`` hint (what the citizen could not see)."""
    fields = (definition["form"].get("ui") or {}).get("fields") or {}
    return {k: v for k, v in answers.items() if condition_holds(fields.get(k, {}).get("visibleWhen"), answers)}


def route(definition: dict[str, Any], answers: dict[str, Any]) -> str | None:
    """The department code for these answers: first matching rule, else the default."""
    routing = definition.get("routing") or {}
    for rule in routing.get("rules") or []:
        if condition_holds(rule, answers):
            return rule["department"]
    return routing.get("defaultDepartment")


def prefill_values(definition: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """Form values taken from the citizen profile (tell us once): {field: value}, empty values left out."""
    out = {}
    for field, source in (definition.get("prefill") or {}).items():
        value = profile.get(source)
        if value not in (None, "", {}):
            out[field] = value.isoformat() if isinstance(value, date) else value
    return out


def sla_days(definition: dict[str, Any]) -> int:
    return (definition.get("sla") or {}).get("businessDays", DEFAULT_SLA_DAYS)


ROLE_RANK = {"AGENT": 1, "SUPERVISOR": 2, "ADMIN": 3}


def role_allowed(allowed: list[str], is_citizen: bool, roles: Iterable[str]) -> bool:
    """CITIZEN is the request's own citizen; staff roles are ordered AGENT < SUPERVISOR < ADMIN."""
    if is_citizen:
        return "CITIZEN" in allowed
    needed = [ROLE_RANK[r] for r in allowed if r in ROLE_RANK]
    have = [ROLE_RANK[r] for r in roles if r in ROLE_RANK]
    return bool(needed and have) and max(have) >= min(needed)
