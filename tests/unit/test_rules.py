"""Pure rules: language negotiation, text folding, citizen field validation, cursors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.citizens.rules import clean_citizen_fields, normalise_email, normalise_phone, search_fields
from domain.errors import Collector, DomainValidationError
from domain.messages import MESSAGES, negotiate_locale, translate
from domain.pagination import check_page_size, decode_cursor, encode_cursor
from domain.text import fold, prefix_tsquery, tokens

TODAY = date(2026, 6, 15)


def codes(patch: dict, creating: bool = False) -> dict[tuple[str, ...], str]:
    errors = Collector()
    clean_citizen_fields(patch, errors, creating=creating, today=TODAY)
    return {e.field: e.code for e in errors.errors}


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "fr"),
        ("", "fr"),
        ("en", "en"),
        ("en-GB", "en"),
        ("EN-us,en;q=0.9", "en"),
        ("fr-CA", "fr"),
        ("de-DE,de;q=0.9", "fr"),  # unsupported -> default
        ("de, en;q=0.5, fr;q=0.4", "en"),
        ("fr;q=0.3, en;q=0.8", "en"),
        ("en;q=0, fr;q=0.1", "fr"),  # q=0 means "not acceptable"
        ("en;q=abc, fr;q=0.2", "fr"),  # a broken q-value counts as 0
        ("fr, en", "fr"),  # equal quality: the first listed wins
        ("*", "fr"),
    ],
)
def test_negotiate_locale(header, expected):
    assert negotiate_locale(header) == expected


def test_every_message_has_french_and_english():
    for code, texts in MESSAGES.items():
        assert set(texts) == {"fr", "en"}, code
        assert texts["fr"] != texts["en"], code


def test_translate_fills_parameters_and_falls_back_to_french():
    assert translate("TOO_LONG", "en", {"max": 20}) == "This field must not exceed 20 characters."
    assert translate("TOO_LONG", "de", {"max": 20}).startswith("Ce champ ne doit pas dépasser 20")
    assert translate("NO_SUCH_CODE", "en") == MESSAGES["INVALID"]["en"]


# ---------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Élodie  D'Argent", "elodie d argent"),
        ("LEFÈVRE-Dupré", "lefevre dupre"),
        ("Œuvre ÇA ñ ß", "oeuvre ca n ss"),
        ("  ", ""),
        (None, ""),
        ("jean.dupont@example.org", "jean dupont example org"),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_tokens_and_prefix_query():
    assert tokens("Jean-Éric  Dupont") == ["jean", "eric", "dupont"]
    assert prefix_tsquery("Dup Jéa") == "dup:* & jea:*"
    assert prefix_tsquery(" ,;' ") is None
    # tsquery operators typed by a user are folded away, never injected
    assert prefix_tsquery("a & b | !c <-> d:*") == "a:* & b:* & c:* & d:*"
    assert prefix_tsquery(" ".join(f"w{i}" for i in range(20))).count(":*") == 8


# ---------------------------------------------------------------- phone and e-mail


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("01 42 76 40 40", "+33142764040"),
        ("+32 470 12 34 56", "+32470123456"),  # a Belgian mobile stays Belgian
        ("0590 12 34 56", "+590590123456"),  # overseas: national form, own country code
        ("0262 12 34 56", "+262262123456"),
        ("06 96 12 34 56", "+596696123456"),
    ],
)
def test_phone_national_and_international_forms(raw, e164):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12", "06 12 34", "not a phone", "+33 1", "06 12 34 56 78 90 12", ""])
def test_invalid_phone(raw):
    assert normalise_phone(raw) is None


def test_email_normalised_and_invalid():
    assert normalise_email("  Jean.Dupont@Example.ORG ") == "jean.dupont@example.org"
    assert normalise_email("jean@mairie-démo.fr") == "jean@mairie-démo.fr"
    for bad in ("not-an-email", "a@b", "@example.org", "jean@", "jean dupont@example.org"):
        assert normalise_email(bad) is None, bad


# ---------------------------------------------------------------- citizen fields


def test_required_names_on_create():
    assert codes({}, creating=True) == {("given_names",): "REQUIRED", ("family_name",): "REQUIRED"}
    assert codes({"given_names": "  ", "family_name": "Dupont"}, creating=True) == {("given_names",): "BLANK"}
    assert codes({"given_names": "x" * 151, "family_name": "D"}, creating=True) == {("given_names",): "TOO_LONG"}


def test_names_are_whitespace_normalised():
    errors = Collector()
    out = clean_citizen_fields({"given_names": "  Jean   Pierre ", "family_name": "Dupont"}, errors, creating=True)
    assert out["given_names"] == "Jean Pierre" and not errors


@pytest.mark.parametrize("code", ["75056", "2A004", "2B033", "97105"])
def test_valid_insee_codes(code):
    assert codes({"address": {"insee_code": code}}) == {}
    assert codes({"birth_place": {"insee_code": code, "label": "X"}}) == {}


def test_birthplace_abroad_uses_99xxx_but_an_address_cannot():
    assert codes({"birth_place": {"insee_code": "99100", "label": "Italie"}}) == {}
    assert codes({"address": {"insee_code": "99100"}}) == {}  # 99xxx is five digits: syntactically valid


@pytest.mark.parametrize("code", ["7505", "750561", "2C004", "ABCDE", "2A04"])
def test_invalid_insee_codes(code):
    assert codes({"address": {"insee_code": code}}) == {("address", "insee_code"): "INVALID_INSEE_CODE"}
    assert codes({"birth_place": {"insee_code": code}}) == {("birth_place", "insee_code"): "INVALID_INSEE_CODE"}


def test_insee_code_is_upper_cased():
    errors = Collector()
    out = clean_citizen_fields({"address": {"insee_code": "2a004"}}, errors, creating=False)
    assert out["address_insee"] == "2A004" and not errors


@pytest.mark.parametrize(("postcode", "ok"), [("75011", True), ("20000", True), ("7501", False), ("750110", False), ("7501A", False)])
def test_postcode(postcode, ok):
    assert codes({"address": {"postcode": postcode}}) == ({} if ok else {("address", "postcode"): "INVALID_POSTCODE"})


def test_birth_date_bounds():
    assert codes({"birth_date": TODAY}) == {}
    assert codes({"birth_date": TODAY + timedelta(days=1)}) == {("birth_date",): "DATE_IN_FUTURE"}
    assert codes({"birth_date": date(1900, 1, 1)}) == {}
    assert codes({"birth_date": date(1899, 12, 31)}) == {("birth_date",): "DATE_TOO_OLD"}


def test_contact_fields_cleared_with_null_or_blank():
    errors = Collector()
    out = clean_citizen_fields({"email": None, "phone": "  "}, errors, creating=False)
    assert out == {"email": None, "phone": None} and not errors


def test_bad_enum_value():
    assert codes({"preferred_channel": "PIGEON"}) == {("preferred_channel",): "INVALID"}


def test_every_faulty_field_is_reported_at_once():
    found = codes({"email": "x", "phone": "1", "address": {"postcode": "1"}, "birth_date": TODAY + timedelta(days=3)})
    assert set(found) == {("email",), ("phone",), ("address", "postcode"), ("birth_date",)}


@pytest.mark.parametrize(
    ("phone", "national"),
    [("+33611223344", "0611223344"), ("+590590123456", "0590123456"), ("+262262123456", "0262123456"), ("+32470123456", None)],
)
def test_search_document_holds_the_national_form_of_french_numbers(phone, national):
    _, doc = search_fields("A", "B", None, None, phone)
    assert doc.split()[2:] == [phone[1:]] + ([national] if national else [])


def test_search_document_holds_folded_names_and_both_phone_forms():
    sort_name, doc = search_fields("Élodie", "Lefèvre", "Martin", "elo@example.org", "+33611223344")
    assert sort_name == "lefevre elodie"
    assert doc.split() == ["elodie", "lefevre", "martin", "elo", "example", "org", "33611223344", "0611223344"]


# ---------------------------------------------------------------- cursors


def test_cursor_round_trip():
    import uuid

    key = ["dupont jean", str(uuid.UUID(int=7))]
    cursor = encode_cursor(key)
    assert "=" not in cursor and "dupont" not in cursor
    assert decode_cursor(cursor, 2) == key


@pytest.mark.parametrize("garbage", ["garbage!", "", "e30", encode_cursor(["a"]), encode_cursor({"a": 1}.keys()), "////"])
def test_garbage_cursor_is_a_typed_error(garbage):
    with pytest.raises(DomainValidationError) as caught:
        decode_cursor(garbage, 2)
    assert [(e.field, e.code) for e in caught.value.errors] == [(("after",), "INVALID_CURSOR")]


def test_page_size_bounds():
    assert check_page_size(None) == 20
    assert check_page_size(1) == 1 and check_page_size(100) == 100
    for bad in (0, -1, 101):
        with pytest.raises(DomainValidationError):
            check_page_size(bad)
