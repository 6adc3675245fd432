"""Pure rules of stored files: the upload policy, type detection from content, file names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import filetype

from domain.files.models import FilePurpose

MiB = 1024 * 1024
SNIFF_BYTES = 8192  # what filetype inspects (zip-based office formats need a few KiB)

# MIME type -> (short label shown in messages, accepted extensions, first = canonical)
KNOWN_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "application/pdf": ("PDF", ("pdf",)),
    "image/jpeg": ("JPEG", ("jpg", "jpeg", "jpe")),
    "image/png": ("PNG", ("png",)),
    "image/webp": ("WebP", ("webp",)),
    "image/heic": ("HEIC", ("heic", "heif")),
    "application/vnd.oasis.opendocument.text": ("ODT", ("odt",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("DOCX", ("docx",)),
}
# images are decoded and re-encoded (metadata stripped); HEIC is stored as JPEG
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})

DEFAULT_ALLOWED: dict[FilePurpose, tuple[str, ...]] = {
    FilePurpose.ATTACHMENT: (
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    FilePurpose.PHOTO: ("image/jpeg", "image/png", "image/webp"),
}


@dataclass(frozen=True)
class UploadPolicy:
    """Limits applied to every upload (built from settings by the API layer)."""

    max_bytes: int = 10 * MiB
    max_image_pixels: int = 40_000_000
    thumbnail_max_side: int = 320
    allowed: dict[FilePurpose, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ALLOWED))

    def allowed_for(self, purpose: FilePurpose) -> tuple[str, ...]:
        return self.allowed.get(purpose, ())

    def allowed_labels(self, purpose: FilePurpose) -> str:
        return ", ".join(KNOWN_TYPES.get(t, (t, ()))[0] for t in self.allowed_for(purpose))


def detect_content_type(head: bytes) -> str | None:
    """The MIME type read from the first bytes (magic numbers), or ``None`` when unknown.

    The file name and the type declared by the client are never trusted.
    """
    kind = filetype.guess(head[:SNIFF_BYTES])
    return kind.mime if kind is not None else None


def human_size(n: int) -> str:
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    if n >= 1024:
        return f"{n // 1024} KiB"
    return f"{n} B"


_FORBIDDEN_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]')
_SPACES = re.compile(r"\s+")
MAX_FILENAME = 200


def sanitise_filename(name: str | None, content_type: str) -> str:
    """A safe display/download name: no directory part, no control or reserved characters,
    NFC, at most 200 characters, and an extension that matches the detected type
    (``scan.pdf`` holding a PNG becomes ``scan.png``)."""
    raw = unicodedata.normalize("NFC", name or "")
    raw = re.split(r"[/\\]", raw)[-1]
    raw = _FORBIDDEN_CHARS.sub("_", raw)
    raw = _SPACES.sub(" ", raw).strip().lstrip(".").strip()
    stem, dot, ext = raw.rpartition(".")
    if not dot:
        stem, ext = raw, ""
    extensions = KNOWN_TYPES.get(content_type, ("", ()))[1]
    if extensions and ext.lower() not in extensions:
        stem = raw  # keep what the user typed, add the right extension
        ext = extensions[0]
    stem = stem.strip() or "fichier"
    suffix = f".{ext.lower()}" if ext else ""
    return stem[: MAX_FILENAME - len(suffix)].rstrip() + suffix
