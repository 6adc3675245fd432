"""Plain-language messages for every error code, in French and English.

Messages are short sentences that an accessible front-end can show as they
are (RGAA): they say what is wrong and, where useful, what to do.
"""

from __future__ import annotations

from typing import Any

SUPPORTED_LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "REQUIRED": {
        "fr": "Ce champ est obligatoire.",
        "en": "This field is required.",
    },
    "BLANK": {
        "fr": "Ce champ ne peut pas être vide.",
        "en": "This field cannot be blank.",
    },
    "TOO_LONG": {
        "fr": "Ce champ ne doit pas dépasser {max} caractères.",
        "en": "This field must not exceed {max} characters.",
    },
    "TOO_SHORT": {
        "fr": "Ce champ doit contenir au moins {min} caractères.",
        "en": "This field must contain at least {min} characters.",
    },
    "INVALID_EMAIL": {
        "fr": "L'adresse e-mail n'est pas valide (exemple : prenom.nom@exemple.fr).",
        "en": "The e-mail address is not valid (example: firstname.lastname@example.org).",
    },
    "INVALID_PHONE": {
        "fr": "Le numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78 ou +33 6 12 34 56 78).",
        "en": "The phone number is not valid (example: +33 6 12 34 56 78).",
    },
    "INVALID_POSTCODE": {
        "fr": "Le code postal doit comporter 5 chiffres.",
        "en": "The postcode must have 5 digits.",
    },
    "INVALID_INSEE_CODE": {
        "fr": "Le code INSEE doit comporter 5 caractères (exemple : 75056 ou 2A004).",
        "en": "The INSEE code must have 5 characters (example: 75056 or 2A004).",
    },
    "DATE_IN_FUTURE": {
        "fr": "La date ne peut pas être dans le futur.",
        "en": "The date cannot be in the future.",
    },
    "DATE_TOO_OLD": {
        "fr": "La date ne peut pas être antérieure au {min}.",
        "en": "The date cannot be earlier than {min}.",
    },
    "INVALID_SLUG": {
        "fr": "L'identifiant ne peut contenir que des lettres minuscules non accentuées, des chiffres et des tirets.",
        "en": "The identifier may only contain lowercase unaccented letters, digits and hyphens.",
    },
    "INVALID_TIMEZONE": {
        "fr": "Le fuseau horaire « {value} » est inconnu (exemple : Europe/Paris).",
        "en": "The time zone \"{value}\" is unknown (example: Europe/Paris).",
    },
    "INVALID_ID": {
        "fr": "L'identifiant fourni n'est pas valide.",
        "en": "The identifier is not valid.",
    },
    "INVALID_CURSOR": {
        "fr": "Le curseur de pagination n'est pas valide ; recommencez depuis la première page.",
        "en": "The pagination cursor is not valid; start again from the first page.",
    },
    "INVALID_PAGE_SIZE": {
        "fr": "Le nombre d'éléments demandés doit être compris entre 1 et {max}.",
        "en": "The number of items requested must be between 1 and {max}.",
    },
    "INVALID": {
        "fr": "La valeur n'est pas valide.",
        "en": "The value is not valid.",
    },
    "NOT_FOUND": {
        "fr": "L'élément demandé est introuvable.",
        "en": "The requested item was not found.",
    },
    "DUPLICATE": {
        "fr": "Cette valeur est déjà utilisée.",
        "en": "This value is already in use.",
    },
    "DUPLICATE_EXTERNAL_ID": {
        "fr": "L'identifiant {external_id} du système {source} est déjà rattaché à un autre usager.",
        "en": "Identifier {external_id} from system {source} is already linked to another citizen.",
    },
    "CONFLICT": {
        "fr": "Cet élément a été modifié entre-temps (version {current} au lieu de {expected}). Rechargez-le puis recommencez.",
        "en": "This item was changed in the meantime (version {current} instead of {expected}). Reload it and try again.",
    },
    "IDENTITY_LOCKED": {
        "fr": "Votre identité a été vérifiée : pour la modifier, adressez-vous à un agent de la mairie.",
        "en": "Your identity has been verified: to change it, please contact a town hall agent.",
    },
    "CYCLE": {
        "fr": "Un service ne peut pas être rattaché à lui-même ni à l'un de ses sous-services.",
        "en": "A department cannot be placed under itself or one of its sub-departments.",
    },
    "INVALID_CREDENTIALS": {
        "fr": "Identifiant ou mot de passe incorrect.",
        "en": "Incorrect login or password.",
    },
    "UNKNOWN_TENANT": {
        "fr": "Cette collectivité est inconnue.",
        "en": "This local authority is unknown.",
    },
    "ROLE_REQUIRED": {
        "fr": "Un agent doit avoir au moins un rôle.",
        "en": "An agent must have at least one role.",
    },
    "CLIENT_ROLE_REQUIRED": {
        "fr": "Un client d'API doit avoir au moins un rôle.",
        "en": "An API client must have at least one role.",
    },
    "EXPIRY_IN_PAST": {
        "fr": "La date d'expiration doit être dans le futur.",
        "en": "The expiry date must be in the future.",
    },
    "ALREADY_REVOKED": {
        "fr": "Cette clé d'API est déjà révoquée.",
        "en": "This API key is already revoked.",
    },
    "IDEMPOTENCY_KEY_INVALID": {
        "fr": "L'en-tête Idempotency-Key doit contenir de 1 à 255 caractères ASCII visibles.",
        "en": "The Idempotency-Key header must contain 1 to 255 visible ASCII characters.",
    },
    "IDEMPOTENCY_KEY_REUSED": {
        "fr": "Cette clé d'idempotence a déjà servi pour une autre requête : utilisez une nouvelle clé pour une nouvelle opération.",
        "en": "This idempotency key was already used for a different request: use a new key for a new operation.",
    },
    "IDEMPOTENCY_IN_PROGRESS": {
        "fr": "Une requête avec cette clé d'idempotence est encore en cours : réessayez dans un instant.",
        "en": "A request with this idempotency key is still being processed: retry in a moment.",
    },
    "FORBIDDEN": {
        "fr": "Vous n'avez pas le droit d'effectuer cette action.",
        "en": "You are not allowed to perform this action.",
    },
    "UNAUTHENTICATED": {
        "fr": "Vous devez être authentifié : le jeton est absent, invalide ou expiré.",
        "en": "You must be authenticated: the token is missing, invalid or expired.",
    },
    "INTERNAL": {
        "fr": "Une erreur inattendue s'est produite. Réessayez plus tard.",
        "en": "An unexpected error occurred. Please try again later.",
    },
    # files (domain/files)
    "FILE_TOO_LARGE": {
        "fr": "Le fichier est trop volumineux : {max} au maximum.",
        "en": "The file is too large: {max} at most.",
    },
    "FILE_TYPE_NOT_ALLOWED": {
        "fr": "Ce type de fichier n'est pas accepté. Formats acceptés : {allowed}.",
        "en": "This type of file is not accepted. Accepted formats: {allowed}.",
    },
    "FILE_EMPTY": {
        "fr": "Le fichier est vide.",
        "en": "The file is empty.",
    },
    "IMAGE_UNREADABLE": {
        "fr": "L'image est illisible ou endommagée. Essayez avec une autre image.",
        "en": "The image cannot be read or is damaged. Try another image.",
    },
    "IMAGE_TOO_MANY_PIXELS": {
        "fr": "L'image est trop grande : {max} millions de pixels au maximum.",
        "en": "The image is too large: {max} million pixels at most.",
    },
    "FILE_PURPOSE_MISMATCH": {
        "fr": "Ce fichier n'a pas été envoyé pour cet usage (attendu : {expected}).",
        "en": "This file was not uploaded for this use (expected: {expected}).",
    },
    "FILE_ALREADY_CLAIMED": {
        "fr": "Ce fichier est déjà joint à un autre dossier.",
        "en": "This file is already attached to something else.",
    },
}


def translate(code: str, locale: str, params: dict[str, Any] | None = None) -> str:
    entry = MESSAGES.get(code) or MESSAGES["INVALID"]
    template = entry.get(locale) or entry[DEFAULT_LOCALE]
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError):
        return template


def negotiate_locale(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick ``fr`` or ``en`` from an ``Accept-Language`` header (RFC 9110 q-values)."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in SUPPORTED_LOCALES and quality > 0:
            choices.append((-quality, index, primary))
    if not choices:
        return default
    return sorted(choices)[0][2]
