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
    "INVALID_CHARACTER": {
        "fr": "Le texte contient un caractère non autorisé (caractère nul ou invalide).",
        "en": "The text contains a character that is not allowed (null or invalid character).",
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
    # ---- appointments
    "SLOT_FULL": {
        "fr": "Ce créneau est complet. Choisissez un autre créneau.",
        "en": "This slot is fully booked. Please choose another slot.",
    },
    "OUTSIDE_OPENING_HOURS": {
        "fr": "Ce créneau est en dehors des horaires d'ouverture.",
        "en": "This slot is outside opening hours.",
    },
    "SLOT_NOT_ALIGNED": {
        "fr": "Ce créneau ne correspond pas à un début de rendez-vous possible ; choisissez un créneau proposé.",
        "en": "This time is not a possible appointment start; choose one of the slots offered.",
    },
    "WRONG_DURATION": {
        "fr": "La durée ne correspond pas au type de rendez-vous ({minutes} minutes).",
        "en": "The duration does not match the appointment type ({minutes} minutes).",
    },
    "IN_THE_PAST": {
        "fr": "Ce créneau est déjà passé.",
        "en": "This slot is in the past.",
    },
    "TOO_LATE_NOTICE": {
        "fr": "Ce créneau est trop proche : le délai minimum de prise de rendez-vous n'est pas respecté.",
        "en": "This slot is too soon: the minimum booking notice is not met.",
    },
    "BEYOND_HORIZON": {
        "fr": "Ce créneau est trop éloigné : les rendez-vous ne sont pas encore ouverts à cette date.",
        "en": "This slot is too far ahead: bookings are not open for that date yet.",
    },
    "HOLIDAY": {
        "fr": "Ce jour est férié : le service est fermé.",
        "en": "This day is a public holiday: the service is closed.",
    },
    "CITIZEN_LIMIT_REACHED": {
        "fr": "Vous avez déjà le nombre maximum de rendez-vous à venir dans cet agenda ({max}).",
        "en": "You already have the maximum number of upcoming appointments in this agenda ({max}).",
    },
    "CANCELLATION_DEADLINE_PASSED": {
        "fr": "Le délai d'annulation ou de modification est dépassé ; contactez la mairie.",
        "en": "The deadline to cancel or change this appointment has passed; please contact the town hall.",
    },
    "UNEXPECTED_ANSWERS": {
        "fr": "Cette réponse ne correspond à aucune question.",
        "en": "This answer does not match any question.",
    },
    "INVALID_QUESTIONS": {
        "fr": "Les questions doivent être un schéma JSON valide décrivant un objet.",
        "en": "The questions must be a valid JSON Schema describing an object.",
    },
    "TIMEZONE_REQUIRED": {
        "fr": "La date et l'heure doivent préciser le fuseau horaire (exemple : 2026-03-02T09:00:00+01:00).",
        "en": "The date and time must include a time zone offset (example: 2026-03-02T09:00:00+01:00).",
    },
    "INVALID_DATE_RANGE": {
        "fr": "La fin de la période doit être postérieure à son début.",
        "en": "The end of the period must be after its start.",
    },
    "INVALID_TIME_RANGE": {
        "fr": "L'heure de fin doit être postérieure à l'heure de début.",
        "en": "The end time must be after the start time.",
    },
    "RANGE_TOO_LONG": {
        "fr": "La période demandée ne doit pas dépasser {max} jours.",
        "en": "The requested period must not exceed {max} days.",
    },
    "OUT_OF_RANGE": {
        "fr": "La valeur doit être comprise entre {min} et {max}.",
        "en": "The value must be between {min} and {max}.",
    },
    "AGENDA_INACTIVE": {
        "fr": "Cet agenda n'est pas ouvert à la réservation.",
        "en": "This agenda is not open for booking.",
    },
    "OVERRIDE_NOT_ALLOWED": {
        "fr": "Cet agenda n'autorise pas les agents à déroger aux règles de réservation.",
        "en": "This agenda does not let agents override the booking rules.",
    },
    "INVALID_STATUS": {
        "fr": "Ce rendez-vous n'est plus modifiable (statut : {status}).",
        "en": "This appointment can no longer be changed (status: {status}).",
    },
    "APPOINTMENT_NOT_YET": {
        "fr": "Le rendez-vous n'a pas encore eu lieu : sa présence ne peut pas encore être notée.",
        "en": "The appointment has not taken place yet: attendance cannot be recorded yet.",
    },
    "CAPACITY_IN_USE": {
        "fr": "Des rendez-vous à venir utilisent déjà plus de places : réduisez la capacité après les avoir déplacés.",
        "en": "Upcoming appointments already use more seats: move them before lowering the capacity.",
    },
    "DURATION_NOT_MULTIPLE": {
        "fr": "La durée doit être un multiple de {step} minutes (la durée d'un créneau de l'agenda), au plus 480.",
        "en": "The duration must be a multiple of {step} minutes (the agenda's slot length), at most 480.",
    },
    "GRID_IN_USE": {
        "fr": "Des rendez-vous à venir sont posés sur la grille actuelle : la durée des créneaux ne peut pas changer tant qu'ils existent.",
        "en": "Upcoming appointments use the current grid: the slot length cannot change while they exist.",
    },
    "TRY_AGAIN": {
        "fr": "Une modification simultanée a empêché l'enregistrement. Réessayez.",
        "en": "A simultaneous change prevented saving. Please try again.",
    },
    "INVALID_CHANNEL": {
        "fr": "Ce canal de prise de rendez-vous n'est pas autorisé ici.",
        "en": "This booking channel is not allowed here.",
    },
    # ---------------------------------------------------------------- procedures and requests
    "INVALID_DEFINITION": {
        "fr": "Cette partie de la définition de la démarche n'est pas conforme ({detail}).",
        "en": "This part of the procedure definition is not valid ({detail}).",
    },
    "UNKNOWN_PROPERTY": {
        "fr": "La propriété « {name} » n'est pas prévue à cet endroit de la définition.",
        "en": "Property \"{name}\" is not expected at this place of the definition.",
    },
    "INVALID_JSON_SCHEMA": {
        "fr": "Le formulaire n'est pas un schéma JSON (draft 2020-12) valide : {detail}.",
        "en": "The form is not a valid JSON Schema (draft 2020-12): {detail}.",
    },
    "UNKNOWN_FIELD": {
        "fr": "Le champ « {name} » n'existe pas dans le formulaire.",
        "en": "Field \"{name}\" does not exist in the form.",
    },
    "UNKNOWN_STEP": {
        "fr": "L'étape « {name} » n'est pas déclarée.",
        "en": "Step \"{name}\" is not declared.",
    },
    "UNKNOWN_STATE": {
        "fr": "L'état « {name} » n'existe pas dans le circuit de traitement.",
        "en": "State \"{name}\" does not exist in the workflow.",
    },
    "NO_TERMINAL_STATE": {
        "fr": "Le circuit de traitement doit comporter au moins un état final (terminal: true).",
        "en": "The workflow must have at least one final state (terminal: true).",
    },
    "UNREACHABLE_STATE": {
        "fr": "L'état « {name} » ne peut jamais être atteint depuis l'état initial.",
        "en": "State \"{name}\" can never be reached from the initial state.",
    },
    "UNKNOWN_DEPARTMENT": {
        "fr": "Le service « {department} » n'existe pas dans cette collectivité.",
        "en": "Department \"{department}\" does not exist in this local authority.",
    },
    "UNKNOWN_PROCEDURE": {
        "fr": "Cette démarche n'existe pas ou n'est plus proposée.",
        "en": "This procedure does not exist or is no longer offered.",
    },
    "INVALID_ANSWER": {
        "fr": "Cette réponse n'est pas au format attendu.",
        "en": "This answer is not in the expected format ({detail}).",
    },
    "INVALID_CHOICE": {
        "fr": "Choisissez une des valeurs proposées.",
        "en": "Choose one of the proposed values.",
    },
    "ANSWER_OUT_OF_RANGE": {
        "fr": "La valeur est hors des limites autorisées.",
        "en": "The value is outside the allowed range.",
    },
    "TRANSITION_NOT_ALLOWED": {
        "fr": "L'action « {transition} » n'est pas possible pour vous dans l'état actuel de la demande ({state}).",
        "en": "Action \"{transition}\" is not available to you in the current state of the request ({state}).",
    },
    "UNKNOWN_TRANSITION": {
        "fr": "L'action « {transition} » n'existe pas pour cette démarche.",
        "en": "Action \"{transition}\" does not exist for this procedure.",
    },
    "MISSING_TRANSITION_INPUT": {
        "fr": "Cette information est obligatoire pour effectuer l'action (« {name} »).",
        "en": "This information is required to perform the action (\"{name}\").",
    },
    "CHANNEL_NOT_ACCEPTED": {
        "fr": "Cette démarche ne peut pas être déposée par ce canal ({channel}).",
        "en": "This procedure cannot be submitted through this channel ({channel}).",
    },
    "ASSURANCE_LEVEL_TOO_LOW": {
        "fr": "Cette démarche exige une identité vérifiée (niveau {required}) : connectez-vous avec FranceConnect ou présentez-vous en mairie.",
        "en": "This procedure requires a verified identity (level {required}): sign in with FranceConnect or visit the town hall.",
    },
    "NOT_A_DRAFT": {
        "fr": "Cette demande a déjà été déposée : elle n'est plus un brouillon.",
        "en": "This request has already been submitted: it is no longer a draft.",
    },
    "INVALID_ASSIGNEE": {
        "fr": "Cet agent n'existe pas ou n'est plus actif.",
        "en": "This agent does not exist or is no longer active.",
    },
    "ALREADY_RATED": {
        "fr": "Vous avez déjà donné votre avis sur cette demande. Merci !",
        "en": "You have already rated this request. Thank you!",
    },
    "NOT_CLOSED": {
        "fr": "Vous pourrez donner votre avis une fois la demande traitée.",
        "en": "You can rate the request once it has been dealt with.",
    },
    "INVALID_RATING": {
        "fr": "La note doit être comprise entre 1 et 5.",
        "en": "The rating must be between 1 and 5.",
    },
    "FORBIDDEN": {
        "fr": "Vous n'avez pas le droit d'effectuer cette action.",
        "en": "You are not allowed to perform this action.",
    },
    "UNAUTHENTICATED": {
        "fr": "Vous devez être authentifié : le jeton est absent, invalide ou expiré.",
        "en": "You must be authenticated: the token is missing, invalid or expired.",
    },
    # ---------------------------------------------------------------- dashboards
    "PERIOD_INVERTED": {
        "fr": "La date de début doit précéder ou égaler la date de fin.",
        "en": "The start date must be on or before the end date.",
    },
    "RANGE_TOO_LARGE": {
        "fr": "La période demandée est trop longue : {max} jours au plus.",
        "en": "The requested period is too long: at most {max} days.",
    },
    "RANGE_TOO_LARGE_FOR_RAW": {
        "fr": "Le calcul sur les données brutes est limité à {max} jours ; utilisez la source ROLLUP pour une période plus longue.",
        "en": "Computing from raw data is limited to {max} days; use the ROLLUP source for a longer period.",
    },
    "TOO_MANY_POINTS": {
        "fr": "Trop de points pour cette granularité ({max} au plus) : choisissez une granularité plus large ou une période plus courte.",
        "en": "Too many points for this granularity (at most {max}): choose a coarser granularity or a shorter period.",
    },
    "UNKNOWN_CHANNEL": {
        "fr": "Le canal « {value} » est inconnu (WEB, APP, COUNTER, PHONE, EMAIL, POST).",
        "en": "The channel \"{value}\" is unknown (WEB, APP, COUNTER, PHONE, EMAIL, POST).",
    },
    "INVALID_DATE": {
        "fr": "La date n'est pas valide (format attendu : AAAA-MM-JJ).",
        "en": "The date is not valid (expected format: YYYY-MM-DD).",
    },
    "INVALID_SEPARATOR": {
        "fr": "Le séparateur doit être « , » ou « ; ».",
        "en": "The separator must be \",\" or \";\".",
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
    # links between contexts (requests <-> files, requests <-> appointments)
    "TRIGGERED_TRANSITION_HAS_ROLES": {
        "fr": "Une transition déclenchée automatiquement (trigger) ne peut pas avoir de rôles.",
        "en": "A transition taken automatically (trigger) cannot have roles.",
    },
    "TOO_MANY_FILES": {
        "fr": "Vous pouvez joindre {max} fichiers au plus à la fois.",
        "en": "You can attach at most {max} files at a time.",
    },
    "REQUEST_CITIZEN_MISMATCH": {
        "fr": "Cette demande concerne un autre usager : le rendez-vous doit être pris pour l'usager de la demande.",
        "en": "This request belongs to another person: the appointment must be for the request's citizen.",
    },
    # reports
    "UNKNOWN_CATEGORY": {
        "fr": "Cette catégorie de signalement n'existe pas ({category}).",
        "en": "This report category does not exist ({category}).",
    },
    "INVALID_COORDINATE": {
        "fr": "Coordonnée invalide : un nombre entre {min} et {max} est attendu (WGS 84, en degrés).",
        "en": "Invalid coordinate: a number between {min} and {max} is expected (WGS 84, degrees).",
    },
    "OUTSIDE_TERRITORY": {
        "fr": "Ce lieu est en dehors du territoire de la collectivité.",
        "en": "This place is outside the authority's territory.",
    },
    "INVALID_BBOX": {
        "fr": "Zone invalide : quatre nombres minLon,minLat,maxLon,maxLat sont attendus (min < max).",
        "en": "Invalid area: four numbers minLon,minLat,maxLon,maxLat are expected (min < max).",
    },
    "BBOX_TOO_LARGE": {
        "fr": "Zone trop grande : au plus {max} degrés de côté.",
        "en": "Area too large: at most {max} degrees a side.",
    },
    "INVALID_POLYGON": {
        "fr": "Le territoire doit être un polygone GeoJSON (anneaux fermés d'au moins 4 positions [lon, lat]).",
        "en": "The territory must be a GeoJSON Polygon (closed rings of at least 4 [lon, lat] positions).",
    },
    "ALREADY_SUPPORTED": {
        "fr": "Vous soutenez déjà ce signalement.",
        "en": "You already support this report.",
    },
    "REPORT_MERGED": {
        "fr": "Ce signalement a été fusionné avec un autre.",
        "en": "This report has been merged into another one.",
    },
    "REPORT_MERGE_SAME": {
        "fr": "Un signalement ne peut pas être fusionné avec lui-même.",
        "en": "A report cannot be merged into itself.",
    },
    "REPORT_CLOSED": {
        "fr": "Ce signalement est clos.",
        "en": "This report is closed.",
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
