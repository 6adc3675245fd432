"""Use cases of stored files. Every query is scoped to a tenant.

* :func:`upload_file` streams an upload into a spool, checking the size as it goes,
  detects the type from the bytes, cleans images, then writes the row, its event
  and the blobs. Any refusal happens before a blob or a row is written.
* :func:`can_read_file` decides who may obtain a download link; other contexts
  extend it with :func:`register_read_check` for the files they own.
* :func:`claim_files` lets another context link uploads to one of its objects.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import uuid
from datetime import datetime, timedelta
from typing import Any, Awaitable, BinaryIO, Callable, Protocol, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.base import utcnow
from domain.errors import Collector, DomainValidationError
from domain.events.services import record_event
from domain.files.images import ImageRejected, clean_image
from domain.files.models import FilePurpose, StoredFile
from domain.files.rules import IMAGE_TYPES, SNIFF_BYTES, UploadPolicy, detect_content_type, human_size, sanitise_filename
from domain.files.storage import CHUNK, Storage
from domain.security import Principal, require_any_agent, require_principal, require_staff

SPOOL_IN_MEMORY = 1024 * 1024


class AsyncReadable(Protocol):
    """What an upload looks like to the domain (Starlette's ``UploadFile`` is one)."""

    async def read(self, size: int = -1) -> bytes: ...


# ---------------------------------------------------------------- who may read a file

ReadCheck = Callable[[AsyncSession, Principal, StoredFile], Awaitable[bool]]
_READ_CHECKS: dict[str, ReadCheck] = {}


def register_read_check(owner_type: str, check: ReadCheck) -> None:
    """Let the context that owns files of ``owner_type`` grant read access to more principals.

    Example (requests): ``register_read_check("Request", lambda s, p, f: citizen_owns_request(s, p, f.owner_id))``.
    The check runs only for files claimed by that owner type, in the principal's tenant.
    """
    _READ_CHECKS[owner_type] = check


async def can_read_file(session: AsyncSession, principal: Principal, file: StoredFile) -> bool:
    """The uploader, staff of the tenant, or whoever the owning context's check accepts."""
    if file.tenant_id != principal.tenant_id:
        return False
    if principal.is_staff:
        return True
    if file.uploaded_by_type == principal.kind.value and file.uploaded_by_id == principal.subject_id:
        return True
    if file.owner_type and file.owner_type in _READ_CHECKS:
        return bool(await _READ_CHECKS[file.owner_type](session, principal, file))
    return False


def require_uploader(principal: Principal | None) -> Principal:
    """Citizens and agents (any role) may upload."""
    p = require_principal(principal)
    return p if p.is_citizen else require_any_agent(p)


# ---------------------------------------------------------------- reading


async def load_files(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[StoredFile | None]:
    """DataLoader batch function: files by id within one tenant, in the order asked (no permission check)."""
    rows = (
        await session.execute(sa.select(StoredFile).where(StoredFile.tenant_id == tenant_id, StoredFile.id.in_(list(ids))))
    ).scalars()
    by_id = {f.id: f for f in rows}
    return [by_id.get(i) for i in ids]


async def files_of(session: AsyncSession, tenant_id: uuid.UUID, owner_type: str, owner_ids: Sequence[uuid.UUID]) -> list[list[StoredFile]]:
    """DataLoader batch function for owners: the files claimed by each owner, oldest first."""
    rows = (
        await session.execute(
            sa.select(StoredFile)
            .where(StoredFile.tenant_id == tenant_id, StoredFile.owner_type == owner_type, StoredFile.owner_id.in_(list(owner_ids)))
            .order_by(StoredFile.created_at, StoredFile.id)
        )
    ).scalars()
    grouped: dict[uuid.UUID, list[StoredFile]] = {i: [] for i in owner_ids}
    for row in rows:
        grouped[row.owner_id].append(row)  # type: ignore[index]
    return [grouped[i] for i in owner_ids]


async def get_file(session: AsyncSession, principal: Principal | None, file_id: uuid.UUID) -> StoredFile | None:
    """A file the principal may read, or ``None`` (other tenants' files and others' uploads are invisible)."""
    p = require_principal(principal)
    (file,) = await load_files(session, p.tenant_id, [file_id])
    if file is None or not await can_read_file(session, p, file):
        return None
    return file


async def get_file_for_download(session: AsyncSession, tenant_id: uuid.UUID, file_id: uuid.UUID) -> StoredFile | None:
    """The file a verified signed link points at (the link itself is the authorization)."""
    (file,) = await load_files(session, tenant_id, [file_id])
    return file


# ---------------------------------------------------------------- upload


async def _spool(stream: AsyncReadable, max_bytes: int) -> tuple[BinaryIO, int]:
    """Copy the upload into a spooled temporary file, refusing as soon as it passes ``max_bytes``."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by the caller
    size = 0
    try:
        while True:
            chunk = await stream.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise DomainValidationError.single(("file",), "FILE_TOO_LARGE", max=human_size(max_bytes))
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size  # type: ignore[return-value]


def _sha256(source: BinaryIO | bytes) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    source.seek(0)
    for chunk in iter(lambda: source.read(CHUNK), b""):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


def _event(session: AsyncSession, actor: Principal | None, file: StoredFile, type: str, **payload: Any) -> None:
    record_event(
        session, tenant_id=file.tenant_id, type=type, aggregate_type="StoredFile", aggregate_id=file.id, actor=actor, payload=payload
    )


def _new_key(tenant_id: uuid.UUID) -> str:
    return f"{tenant_id.hex}/{uuid.uuid4().hex}"


async def upload_file(
    session: AsyncSession,
    principal: Principal | None,
    *,
    stream: AsyncReadable,
    filename: str | None,
    purpose: FilePurpose,
    storage: Storage,
    policy: UploadPolicy,
) -> StoredFile:
    """Store one upload. Refusals (``FILE_TOO_LARGE``, ``FILE_EMPTY``, ``FILE_TYPE_NOT_ALLOWED``,
    ``IMAGE_UNREADABLE``, ``IMAGE_TOO_MANY_PIXELS``) are raised before anything is written.

    The blobs are written last; if the caller's transaction then fails, it must delete
    ``file.storage_key`` and ``file.thumbnail_key`` (see :func:`discard_blobs`).
    """
    p = require_uploader(principal)
    purpose = FilePurpose(purpose)
    spool, size = await _spool(stream, policy.max_bytes)
    with spool:
        if size == 0:
            raise DomainValidationError.single(("file",), "FILE_EMPTY")
        content_type = detect_content_type(spool.read(SNIFF_BYTES))
        spool.seek(0)
        if content_type is None or content_type not in policy.allowed_for(purpose):
            raise DomainValidationError.single(("file",), "FILE_TYPE_NOT_ALLOWED", allowed=policy.allowed_labels(purpose))

        body: BinaryIO | bytes = spool
        thumbnail: bytes | None = None
        width = height = None
        if content_type in IMAGE_TYPES:
            thumb_side = policy.thumbnail_max_side if purpose is FilePurpose.PHOTO else None
            try:
                cleaned = await asyncio.to_thread(
                    clean_image, spool, content_type, max_pixels=policy.max_image_pixels, thumbnail_side=thumb_side
                )
            except ImageRejected as exc:
                raise DomainValidationError.single(("file",), exc.code, **exc.params) from exc
            body, content_type, thumbnail = cleaned.data, cleaned.content_type, cleaned.thumbnail
            width, height, size = cleaned.width, cleaned.height, len(cleaned.data)

        file = StoredFile(
            tenant_id=p.tenant_id,
            purpose=purpose.value,
            storage_key=_new_key(p.tenant_id),
            filename=sanitise_filename(filename, content_type),
            content_type=content_type,
            size=size,
            sha256=await asyncio.to_thread(_sha256, body),
            width=width,
            height=height,
            thumbnail_key=_new_key(p.tenant_id) if thumbnail is not None else None,
            uploaded_by_type=p.kind.value,
            uploaded_by_id=p.subject_id,
        )
        session.add(file)
        await session.flush()
        _event(session, p, file, "file.uploaded", purpose=file.purpose, content_type=file.content_type, size=file.size)
        try:
            await asyncio.to_thread(storage.put, file.storage_key, body)
            if thumbnail is not None and file.thumbnail_key:
                await asyncio.to_thread(storage.put, file.thumbnail_key, thumbnail)
        except BaseException:
            await discard_blobs(storage, [file])
            raise
    return file


async def discard_blobs(storage: Storage, files: Sequence[StoredFile]) -> None:
    """Remove the blobs of files whose row was not committed (no orphan on disk)."""
    for file in files:
        for key in (file.storage_key, file.thumbnail_key):
            if key:
                await asyncio.to_thread(storage.delete, key)


# ---------------------------------------------------------------- linking to other objects


async def claim_files(
    session: AsyncSession,
    principal: Principal | None,
    file_ids: Sequence[uuid.UUID],
    purpose: FilePurpose,
    *,
    owner_type: str,
    owner_id: uuid.UUID,
    field: tuple[str, ...] = ("file_ids",),
) -> list[StoredFile]:
    """Link uploads to an object of another context (call it inside that context's mutation).

    Each file must be of the principal's tenant, uploaded by the principal (staff may
    claim anyone's upload of their tenant), of ``purpose``, and not claimed yet.
    Errors are one ``FieldError`` per faulty id at ``field + (index,)``: ``NOT_FOUND``
    (also for files the principal may not use), ``FILE_PURPOSE_MISMATCH``,
    ``FILE_ALREADY_CLAIMED``. Rows are locked, so two racing claims cannot both win.
    """
    p = require_principal(principal)
    purpose = FilePurpose(purpose)
    ids = list(dict.fromkeys(file_ids))
    rows = (
        await session.execute(
            sa.select(StoredFile)
            .where(StoredFile.tenant_id == p.tenant_id, StoredFile.id.in_(ids))
            .order_by(StoredFile.id)
            .with_for_update()
        )
    ).scalars()
    by_id = {f.id: f for f in rows}
    errors = Collector()
    for index, file_id in enumerate(file_ids):
        file = by_id.get(file_id)
        path = (*field, str(index))
        mine = file is not None and file.uploaded_by_type == p.kind.value and file.uploaded_by_id == p.subject_id
        if file is None or not (mine or p.is_staff):
            errors.add(path, "NOT_FOUND")
        elif file.purpose != purpose.value:
            errors.add(path, "FILE_PURPOSE_MISMATCH", expected=purpose.value)
        elif file.is_claimed:
            errors.add(path, "FILE_ALREADY_CLAIMED")
    errors.raise_if_any()
    now = utcnow()
    claimed = [by_id[i] for i in ids]
    for file in claimed:
        file.owner_type, file.owner_id, file.claimed_at = owner_type, owner_id, now
        _event(session, p, file, "file.claimed", owner_type=owner_type, owner_id=str(owner_id))
    await session.flush()
    return claimed


async def transfer_files(
    session: AsyncSession,
    principal: Principal | None,
    *,
    owner_type: str,
    from_owner_id: uuid.UUID,
    to_owner_id: uuid.UUID,
) -> list[StoredFile]:
    """Move every file of one owner to another (staff; e.g. merging duplicate reports)."""
    p = require_staff(principal)
    files = (
        await session.execute(
            sa.select(StoredFile)
            .where(StoredFile.tenant_id == p.tenant_id, StoredFile.owner_type == owner_type, StoredFile.owner_id == from_owner_id)
            .order_by(StoredFile.id)
            .with_for_update()
        )
    ).scalars().all()
    for file in files:
        file.owner_id = to_owner_id
        _event(session, p, file, "file.transferred", owner_type=owner_type, from_owner_id=str(from_owner_id), to_owner_id=str(to_owner_id))
    await session.flush()
    return list(files)


async def set_published(session: AsyncSession, principal: Principal | None, file_id: uuid.UUID, published: bool) -> StoredFile:
    """Staff publish (or withdraw) a photo for public feeds such as the reports map."""
    p = require_staff(principal)
    file = (
        await session.execute(
            sa.select(StoredFile).where(StoredFile.tenant_id == p.tenant_id, StoredFile.id == file_id).with_for_update()
        )
    ).scalar_one_or_none()
    if file is None:
        raise DomainValidationError.single(("id",), "NOT_FOUND")
    if file.purpose != FilePurpose.PHOTO.value:
        raise DomainValidationError.single(("id",), "FILE_PURPOSE_MISMATCH", expected=FilePurpose.PHOTO.value)
    if file.published != published:
        file.published = published
        _event(session, p, file, "file.published" if published else "file.unpublished")
        await session.flush()
    return file


async def purge_unclaimed(session: AsyncSession, storage: Storage, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete uploads never claimed after ``older_than`` (all tenants; a maintenance job). Returns the count."""
    limit = (now or utcnow()) - older_than
    files = (
        await session.execute(
            sa.select(StoredFile).where(StoredFile.owner_id.is_(None), StoredFile.created_at < limit).with_for_update(skip_locked=True)
        )
    ).scalars().all()
    for file in files:
        _event(session, None, file, "file.purged")
        await session.delete(file)
    await session.flush()
    await session.commit()
    await discard_blobs(storage, files)
    return len(files)


__all__: list[Any] = [
    "AsyncReadable",
    "can_read_file",
    "claim_files",
    "discard_blobs",
    "get_file",
    "register_read_check",
    "set_published",
    "transfer_files",
    "upload_file",
]
