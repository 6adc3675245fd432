"""Stored file types, inputs and payloads."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from domain.files import models
from domain.files.signing import ORIGINAL, THUMBNAIL
from schema.common import Node, UserError, to_global_id

FilePurpose = strawberry.enum(
    models.FilePurpose,
    description="What an upload is for: ATTACHMENT (documents of a request) or PHOTO (pictures of a report; thumbnail kept).",
)


@strawberry.type(
    description="An uploaded file. Its type is detected from its content; images are stored without metadata (EXIF, GPS)."
)
class StoredFile(Node):
    filename: str = strawberry.field(description="The uploaded name, made safe; its extension matches `contentType`.")
    content_type: str = strawberry.field(description="MIME type detected from the bytes (never from the name).")
    size: int = strawberry.field(description="Size in bytes of the stored file (images: after clean-up).")
    sha256: str = strawberry.field(description="SHA-256 of the stored bytes, hexadecimal.")
    purpose: FilePurpose  # type: ignore[valid-type]
    width: int | None = strawberry.field(description="Images: width in pixels.")
    height: int | None = strawberry.field(description="Images: height in pixels.")
    published: bool = strawberry.field(description="Photos: shown on public feeds once an agent published them.")
    created_at: dt.datetime
    _model: strawberry.Private[models.StoredFile]

    @strawberry.field(description="A signed link to download the file, valid a few minutes (GUICHET_FILE_URL_TTL_SECONDS). Ask again for a fresh one.")
    def download_url(self, info: Info) -> str:
        request = info.context.request
        return request.app.state.files.url(request, self._model, ORIGINAL)

    @strawberry.field(description="Photos: a signed link to a JPEG thumbnail (320 px max side), valid a few minutes.")
    def thumbnail_url(self, info: Info) -> str | None:
        if not self._model.thumbnail_key:
            return None
        request = info.context.request
        return request.app.state.files.url(request, self._model, THUMBNAIL)

    @classmethod
    def from_model(cls, m: models.StoredFile) -> StoredFile:
        """Only for files the caller may read (the URL fields mint download links)."""
        return cls(
            id=to_global_id("StoredFile", m.id),
            filename=m.filename,
            content_type=m.content_type,
            size=m.size,
            sha256=m.sha256,
            purpose=models.FilePurpose(m.purpose),
            width=m.width,
            height=m.height,
            published=m.published,
            created_at=m.created_at,
            _model=m,
        )


@strawberry.input(description="One file sent as a multipart request part (GraphQL multipart request spec).")
class FileUploadInput:
    file: Upload
    purpose: FilePurpose  # type: ignore[valid-type]


@strawberry.input
class FilePublishInput:
    id: strawberry.ID
    published: bool = True


@strawberry.type
class StoredFilePayload:
    file: StoredFile | None
    user_errors: list[UserError]
