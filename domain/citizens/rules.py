"""Pure validation and normalisation rules for citizen data (no I/O)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.citizens.models import AssuranceLevel, ContactChannel, Gender, Language
from domain.errors import Collector
from domain.text import fold, tokens

INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
POSTCODE_RE = re.compile(r"^\d{5}$")
OLDEST_BIRTH_DATE = date(1900, 1, 1)

TEXT_LIMITS = {
    "given_names": 150,
    "family_name": 100,
    "birth_name": 100,
}
ADDRESS_LIMITS = {"number": 20, "street": 200, "complement": 200, "city": 150}
IDENTITY_FIELDS = frozenset({"given_names", "family_name", "birth_name", "birth_date", "birth_place", "gender"})
REQUIRED_ON_CREATE = ("given_names", "family_name")


# Overseas departments and collectivities dialled in the French national form
# (0590..., 0262..., 0696...) but with their own country codes (+590, +262, ...).
FRENCH_OVERSEAS_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")


def normalise_phone(raw: str, region: str = "FR") -> str | None:
    """Return the E.164 form of a phone number given in national or international form.

    With the default region ``FR``, a national number of an overseas department
    (``0590 12 34 56``) is accepted too.
    """
    regions = (region, *FRENCH_OVERSEAS_REGIONS) if region == "FR" else (region,)
    for candidate in regions:
        try:
            number = phonenumbers.parse(raw, candidate)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _french_national_form(e164: str) -> str | None:
    """``+33612345678`` -> ``0612345678``; ``+590590123456`` -> ``0590123456`` (as dialled in France)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) not in ("FR", *FRENCH_OVERSEAS_REGIONS):
        return None
    return "0" + phonenumbers.national_significant_number(number)


def normalise_email(raw: str) -> str | None:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _text(errors: Collector, path: tuple[str, ...], value: Any, limit: int, *, required: bool) -> str | None:
    if value is None:
        if required:
            errors.add(path, "REQUIRED")
        return None
    value = " ".join(str(value).split())
    if not value:
        if required:
            errors.add(path, "BLANK")
        return None
    if len(value) > limit:
        errors.add(path, "TOO_LONG", max=limit)
    return value


def _enum(errors: Collector, path: tuple[str, ...], value: Any, enum_cls: type) -> str | None:
    if value is None:
        return None
    raw = getattr(value, "value", value)
    try:
        return enum_cls(raw).value
    except ValueError:
        errors.add(path, "INVALID")
        return None


def clean_citizen_fields(
    patch: dict[str, Any], errors: Collector, *, creating: bool, today: date | None = None
) -> dict[str, Any]:
    """Validate a (partial) set of citizen fields and return column values.

    ``patch`` holds only the fields the caller sent; ``None`` clears a field.
    Nested inputs (``birth_place``, ``address``) replace the whole group.
    """
    today = today or date.today()
    out: dict[str, Any] = {}
    for name, limit in TEXT_LIMITS.items():
        if name in patch or (creating and name in REQUIRED_ON_CREATE):
            required = name in REQUIRED_ON_CREATE
            out[name] = _text(errors, (name,), patch.get(name), limit, required=required)
    if "birth_date" in patch:
        value = patch["birth_date"]
        if value is not None:
            if value > today:
                errors.add(("birth_date",), "DATE_IN_FUTURE")
            elif value < OLDEST_BIRTH_DATE:
                errors.add(("birth_date",), "DATE_TOO_OLD", min=OLDEST_BIRTH_DATE.isoformat())
        out["birth_date"] = value
    if "birth_place" in patch:
        place = patch["birth_place"] or {}
        code = (place.get("insee_code") or "").strip().upper() or None
        if code and not (INSEE_RE.match(code) or re.match(r"^99\d{3}$", code)):
            errors.add(("birth_place", "insee_code"), "INVALID_INSEE_CODE")
        out["birth_place_insee"] = code
        out["birth_place_label"] = _text(errors, ("birth_place", "label"), place.get("label"), 150, required=False)
    if "gender" in patch:
        out["gender"] = _enum(errors, ("gender",), patch["gender"], Gender) or Gender.UNSPECIFIED.value
    if "email" in patch:
        raw = patch["email"]
        if raw is None or not str(raw).strip():
            out["email"] = None
        else:
            email = normalise_email(str(raw))
            if email is None:
                errors.add(("email",), "INVALID_EMAIL")
            out["email"] = email
    if "phone" in patch:
        raw = patch["phone"]
        if raw is None or not str(raw).strip():
            out["phone"] = None
        else:
            phone = normalise_phone(str(raw))
            if phone is None:
                errors.add(("phone",), "INVALID_PHONE")
            out["phone"] = phone
    if "address" in patch:
        address = patch["address"] or {}
        for part, limit in ADDRESS_LIMITS.items():
            out[f"address_{part}"] = _text(errors, ("address", part), address.get(part), limit, required=False)
        postcode = (address.get("postcode") or "").strip() or None
        if postcode and not POSTCODE_RE.match(postcode):
            errors.add(("address", "postcode"), "INVALID_POSTCODE")
        out["address_postcode"] = postcode
        insee = (address.get("insee_code") or "").strip().upper() or None
        if insee and not INSEE_RE.match(insee):
            errors.add(("address", "insee_code"), "INVALID_INSEE_CODE")
        out["address_insee"] = insee
    for name, enum_cls in (
        ("preferred_channel", ContactChannel),
        ("preferred_language", Language),
        ("assurance_level", AssuranceLevel),
    ):
        if name in patch and patch[name] is not None:
            out[name] = _enum(errors, (name,), patch[name], enum_cls)
    return out


def clean_external_ids(items: list[dict[str, Any]], errors: Collector) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    result: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        source = _text(errors, ("external_ids", str(index), "source"), item.get("source"), 50, required=True)
        ext = _text(errors, ("external_ids", str(index), "external_id"), item.get("external_id"), 100, required=True)
        if source and ext:
            key = (source.upper(), ext)
            if key in seen:
                errors.add(("external_ids", str(index)), "DUPLICATE")
            seen.add(key)
            result.append(key)
    return result


def search_fields(given_names: str, family_name: str, birth_name: str | None, email: str | None, phone: str | None) -> tuple[str, str]:
    """(sort_name, search_document) for a citizen, accents and case folded."""
    sort_name = f"{fold(family_name)} {fold(given_names)}".strip()[:300]
    parts = tokens(given_names) + tokens(family_name) + tokens(birth_name)
    if email:
        parts += tokens(email)
    if phone:
        digits = phone.lstrip("+")
        parts.append(digits)
        national = _french_national_form(phone)
        if national:
            parts.append(national)
    return sort_name, " ".join(parts)
