"""Uploads and stored files."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from domain.errors import DomainValidationError
from domain.files import services
from domain.files.models import FilePurpose
from resolvers.base import run_mutation
from resolvers.node import register_node
from schema.common import decode_id
from schema.files import FilePublishInput, FileUploadInput, StoredFile, StoredFilePayload


def _files(ctx):
    return ctx.request.app.state.files


@register_node("StoredFile")
async def _stored_file_node(ctx, raw_id: uuid.UUID):
    async with ctx.read() as s:
        file = await services.get_file(s, ctx.principal, raw_id)
    return StoredFile.from_model(file) if file else None


@strawberry.type
class FileQuery:
    @strawberry.field(description="A stored file you uploaded, or any file of your tenant (agents); null otherwise.")
    async def stored_file(self, info: Info, id: strawberry.ID) -> StoredFile | None:
        return await _stored_file_node(info.context, decode_id(id, "StoredFile"))


@strawberry.type
class FileMutation:
    @strawberry.mutation(
        description="Upload one file (multipart request with the `Apollo-Require-Preflight: true` header). "
        "Then pass its id to the mutation that uses it (e.g. a request's attachments)."
    )
    async def file_upload(self, info: Info, input: FileUploadInput) -> StoredFilePayload:
        ctx = info.context
        files = _files(ctx)
        upload = input.file
        written: list = []

        async def action(s):
            if isinstance(upload, (str, bytes)) or not hasattr(upload, "read"):
                raise DomainValidationError.single(("file",), "REQUIRED")
            file = await services.upload_file(
                s,
                ctx.principal,
                stream=upload,
                filename=getattr(upload, "filename", None),
                purpose=FilePurpose(input.purpose),
                storage=files.storage,
                policy=files.policy,
            )
            written.append(file)
            return file

        try:
            payload = await run_mutation(ctx, action, StoredFilePayload, "file", StoredFile.from_model)
        except BaseException:
            await services.discard_blobs(files.storage, written)  # the row was rolled back
            raise
        if payload.file is None:
            await services.discard_blobs(files.storage, written)
        return payload

    @strawberry.mutation(description="Publish or withdraw a photo for public feeds (agents).")
    async def file_publish(self, info: Info, input: FilePublishInput) -> StoredFilePayload:
        ctx = info.context

        async def action(s):
            return await services.set_published(s, ctx.principal, decode_id(input.id, "StoredFile"), input.published)

        return await run_mutation(ctx, action, StoredFilePayload, "file", StoredFile.from_model)
