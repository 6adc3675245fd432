"""Text folding for search: accents and case removed in Python before indexing."""

from __future__ import annotations

import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str | None) -> str:
    """``"Élodie  D'Argent"`` -> ``"elodie d argent"``."""
    if not text:
        return ""
    return _NON_ALNUM.sub(" ", unidecode(text).lower()).strip()


def tokens(text: str | None) -> list[str]:
    return [t for t in fold(text).split(" ") if t]


def prefix_tsquery(text: str | None, limit: int = 8) -> str | None:
    """A ``to_tsquery('simple', ...)`` expression matching every token as a prefix."""
    parts = tokens(text)[:limit]
    if not parts:
        return None
    return " & ".join(f"{p}:*" for p in parts)
