"""Pure rules: business days (French holidays, time zone), routing, visibility, roles, references."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import DomainValidationError
from domain.procedures.calendar import add_business_days, due_at, is_business_day
from domain.procedures.rules import condition_holds, role_allowed, route, validate_definition, visible_answers
from domain.requests.rules import format_reference, search_document, validate_answers
from tests.procedure_fixtures import PERMIT, permit


def test_french_public_holidays_and_weekends_are_skipped():
    assert not is_business_day(date(2026, 7, 14))  # Fête nationale (Tuesday)
    assert not is_business_day(date(2026, 5, 25))  # Lundi de Pentecôte 2026
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    # Friday 10 July 2026 + 2 business days: Monday 13, (Tuesday 14 is a holiday), Wednesday 15
    assert add_business_days(date(2026, 7, 10), 2) == date(2026, 7, 15)
    # Christmas week: 24 Dec 2026 (Thu) + 1 -> Monday 28 (25 Dec holiday, weekend)
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)


def test_due_date_in_the_tenant_time_zone_across_daylight_saving():
    paris = ZoneInfo("Europe/Paris")
    # winter (UTC+1): 23:30 UTC on Thursday 29 Oct 2026 is Friday 00:30 in Paris -> 1 business day = Monday 2 Nov
    due = due_at(datetime(2026, 10, 29, 23, 30, tzinfo=UTC), 1, "Europe/Paris")
    assert due.astimezone(paris).date() == date(2026, 11, 2)
    assert due.astimezone(paris).utcoffset().total_seconds() == 3600
    # summer (UTC+2): 22:30 UTC on Thursday 9 July is Friday 00:30 in Paris -> 2 days skipping 14 July = Wednesday 15
    due = due_at(datetime(2026, 7, 9, 22, 30, tzinfo=UTC), 2, "Europe/Paris")
    assert due.astimezone(paris).date() == date(2026, 7, 15)
    assert due.astimezone(paris).utcoffset().total_seconds() == 7200
    # the due moment is the end of that local day
    assert (due.astimezone(paris).hour, due.astimezone(paris).minute) == (23, 59)


def test_routing_visibility_and_roles():
    assert route(PERMIT, {"vehicle": "van"}) == "voirie"
    assert route(PERMIT, {"vehicle": "car"}) == "accueil"
    assert condition_holds({"field": "services", "equals": "canteen"}, {"services": ["canteen", "evening"]})
    assert condition_holds({"field": "t", "in": ["a", "b"]}, {"t": "b"})
    assert visible_answers(PERMIT, {"vehicle": "car", "vanLength": 3}) == {"vehicle": "car"}
    assert role_allowed(["AGENT"], False, ["SUPERVISOR"])
    assert not role_allowed(["SUPERVISOR"], False, ["AGENT"])
    assert role_allowed(["CITIZEN"], True, [])
    assert not role_allowed(["AGENT"], True, [])
    assert format_reference(2026, 123) == "2026-000123"


def test_answers_errors_carry_json_paths():
    definition = permit()
    with pytest.raises(DomainValidationError) as exc:
        validate_answers(definition, {"fullName": "A", "plate": "AB-123-CD", "vehicle": "car", "address": {"street": 3}})
    assert {(e.field, e.code) for e in exc.value.errors} == {
        (("answers", "address", "street"), "INVALID_ANSWER"),
        (("answers", "address", "city"), "REQUIRED"),
    }


def test_search_document_is_folded():
    doc = search_document("2026-000001", ["Hélène", "Bérégovoy"], {"a": "Allée des Châtaigniers", "n": 3, "b": True})
    assert doc == "2026 000001 helene beregovoy allee des chataigniers 3"


def test_valid_definition_passes_and_transition_from_unknown_state_is_located():
    validate_definition(PERMIT, {"accueil", "voirie"})
    broken = permit()
    broken["workflow"]["transitions"][4]["from"] = ["submitted", "ghost"]
    with pytest.raises(DomainValidationError) as exc:
        validate_definition(broken, {"accueil", "voirie"})
    assert [(e.field, e.code) for e in exc.value.errors] == [
        (("definition", "workflow", "transitions", "4", "from", "1"), "UNKNOWN_STATE")
    ]
