"""Pure rules of requests: answer validation against the form, search document, references."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from domain.errors import Collector
from domain.procedures.rules import visible_answers
from domain.text import fold

_FORMAT_CHECKER = FormatChecker()
ASSURANCE_ORDER = {"DECLARED": 0, "VERIFIED_AT_COUNTER": 1, "FRANCECONNECT": 2}


def format_reference(year: int, number: int) -> str:
    return f"{year}-{number:06d}"


def _code_for(err: Any) -> tuple[str, dict[str, Any]]:
    validator = err.validator
    if validator in ("enum", "const"):
        return "INVALID_CHOICE", {}
    if validator == "minLength":
        return ("BLANK", {}) if err.validator_value <= 1 else ("TOO_SHORT", {"min": err.validator_value})
    if validator == "maxLength":
        return "TOO_LONG", {"max": err.validator_value}
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems"):
        return "ANSWER_OUT_OF_RANGE", {}
    return "INVALID_ANSWER", {"detail": err.message}


def validate_answers(definition: dict[str, Any], answers: Any, prefix: tuple[str, ...] = ("answers",)) -> dict[str, Any]:
    """Validate ``answers`` against the form; raise one user error per faulty field.

    Answers to fields hidden by a ``visibleWhen`` hint are dropped first. The
    path of each error is ``("answers", <json path of the field>)``.
    """
    errors = Collector()
    if not isinstance(answers, dict):
        errors.add(prefix, "INVALID_ANSWER", detail="an object is expected")
        errors.raise_if_any()
    answers = visible_answers(definition, answers)
    validator = Draft202012Validator(definition["form"]["schema"], format_checker=_FORMAT_CHECKER)
    seen: set[tuple[tuple[str, ...], str]] = set()
    for err in sorted(validator.iter_errors(answers), key=lambda e: [str(p) for p in e.absolute_path]):
        # "oneOf"/"anyOf"/"if-then" report on the parent: use the deepest concrete error.
        leaf = err
        while leaf.context:
            leaf = min(leaf.context, key=lambda e: len(list(e.absolute_path)) * -1)
        path = [str(p) for p in leaf.absolute_path]
        if leaf.validator == "required" and isinstance(leaf.instance, dict):
            for name in leaf.validator_value:
                if name not in leaf.instance:
                    key = (prefix + tuple(path + [name]), "REQUIRED")
                    if key not in seen:
                        seen.add(key)
                        errors.add(key[0], "REQUIRED")
            continue
        if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
            allowed = set((leaf.schema.get("properties") or {}).keys())
            for name in leaf.instance:
                if name not in allowed:
                    errors.add(prefix + tuple(path + [name]), "UNKNOWN_FIELD", name=name)
            continue
        code, params = _code_for(leaf)
        key = (prefix + tuple(path), code)
        if key not in seen:
            seen.add(key)
            errors.add(key[0], code, **params)
    errors.raise_if_any()
    return answers


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


def search_document(reference: str | None, citizen_names: list[str | None], answers: dict[str, Any], limit: int = 20000) -> str:
    """Folded text indexed with the ``french`` configuration: reference, citizen name, answers."""
    parts = [reference or "", *(n or "" for n in citizen_names), *_strings(answers)]
    return fold(" ".join(parts))[:limit]
