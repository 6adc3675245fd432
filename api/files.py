"""HTTP side of stored files: wiring from settings, the CSRF rule for uploads, the download route."""

from __future__ import annotations

import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from unidecode import unidecode

from api.settings import Settings
from domain.files import services
from domain.files.models import FilePurpose, StoredFile
from domain.files.rules import UploadPolicy
from domain.files.signing import ORIGINAL, THUMBNAIL, BadSignature, ExpiredSignature, UrlSigner, derive_key
from domain.files.storage import CHUNK, BlobNotFound, FilesystemStorage, Storage
from domain.messages import negotiate_locale

log = logging.getLogger("guichet.files")

# A browser form on another site can post multipart/form-data without a CORS
# preflight, but cannot add a custom header: one of these must be present and non-empty.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "graphql-preflight", "x-requested-with")


@dataclass(frozen=True)
class FileServices:
    storage: Storage
    policy: UploadPolicy
    signer: UrlSigner
    public_base_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, signing_secret: str) -> FileServices:
        return cls(
            storage=FilesystemStorage(settings.storage_dir),
            policy=UploadPolicy(
                max_bytes=settings.max_upload_bytes,
                max_image_pixels=settings.max_image_pixels,
                thumbnail_max_side=settings.thumbnail_max_side,
                allowed={
                    FilePurpose.ATTACHMENT: tuple(settings.attachment_content_types),
                    FilePurpose.PHOTO: tuple(settings.photo_content_types),
                },
            ),
            signer=UrlSigner(derive_key(settings.file_url_secret or signing_secret), settings.file_url_ttl_seconds),
            public_base_url=settings.public_base_url.rstrip("/") if settings.public_base_url else None,
        )

    def url(self, request: Any, file: StoredFile, variant: str = ORIGINAL) -> str:
        """A signed, short-lived download URL (mint it only for principals allowed to read ``file``)."""
        base = self.public_base_url or (str(request.base_url).rstrip("/") if request is not None else "")
        return f"{base}/files/{self.signer.sign(file.tenant_id, file.id, variant)}"


def has_preflight_header(headers: Any) -> bool:
    return any((headers.get(name) or "").strip() for name in PREFLIGHT_HEADERS)


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == "multipart/form-data"


_TEXTS = {
    "CSRF_PREFLIGHT_REQUIRED": {
        "fr": "Les envois de fichiers doivent porter l'en-tête « Apollo-Require-Preflight: true » "
        "(ou GraphQL-Preflight / X-Requested-With).",
        "en": "File uploads must carry the header 'Apollo-Require-Preflight: true' (or GraphQL-Preflight / X-Requested-With).",
    },
    "INVALID_SIGNATURE": {"fr": "Lien de téléchargement invalide.", "en": "Invalid download link."},
    "LINK_EXPIRED": {
        "fr": "Ce lien de téléchargement a expiré : demandez-en un nouveau.",
        "en": "This download link has expired: ask for a new one.",
    },
    "NOT_FOUND": {"fr": "Fichier introuvable.", "en": "File not found."},
}


def error_response(code: str, status: int, request: Request, graphql: bool = False) -> JSONResponse:
    locale = negotiate_locale(request.headers.get("accept-language"))
    message = _TEXTS[code][locale]
    body = {"errors": [{"message": message, "extensions": {"code": code}}]} if graphql else {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers={"Content-Language": locale, "Cache-Control": "no-store"})


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback ``filename`` and the exact UTF-8 name in ``filename*``."""
    fallback = "".join(c for c in unidecode(filename) if 32 <= ord(c) < 127 and c not in '"\\') or "fichier"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"


def _chunks(handle) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()


async def download(request: Request) -> Response:
    """``GET /files/{token}``: the bytes of the file a valid signed link points at."""
    files: FileServices = request.app.state.files
    try:
        ref = files.signer.verify(request.path_params["token"])
    except BadSignature:
        return error_response("INVALID_SIGNATURE", 403, request)
    except ExpiredSignature:
        return error_response("LINK_EXPIRED", 410, request)
    async with request.app.state.sessionmaker() as session:
        file = await services.get_file_for_download(session, ref.tenant_id, ref.file_id)
    key = None if file is None else (file.thumbnail_key if ref.variant == THUMBNAIL else file.storage_key)
    if file is None or key is None:
        return error_response("NOT_FOUND", 404, request)
    try:
        handle = files.storage.open(key)
    except BlobNotFound:
        log.error("blob missing for stored file", extra={"file_id": str(file.id)})
        return error_response("NOT_FOUND", 404, request)
    thumbnail = ref.variant == THUMBNAIL
    name = file.filename if not thumbnail else f"{file.filename.rpartition('.')[0] or file.filename}-miniature.jpg"
    headers = {
        "Content-Length": str(file.size) if not thumbnail else str(_length(handle)),
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": f"private, max-age={max(0, ref.expires_at - int(time.time()))}",
        "ETag": f'"{file.sha256}"' if not thumbnail else f'"{file.id.hex}-t"',
    }
    media_type = "image/jpeg" if thumbnail else file.content_type
    return StreamingResponse(_chunks(handle), media_type=media_type, headers=headers)


def _length(handle) -> int:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    return size


__all__ = ["FileServices", "download", "has_preflight_header", "is_multipart"]
