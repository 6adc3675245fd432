"""Attachments of requests: uploads (domain/files) claimed by a request.

* ``file`` fields of a form hold the global IDs of uploads (``fileUpload``); on submission
  and on draft saves each one is checked (the caller's own upload, or for staff an upload of
  staff or of the request's citizen; a document; not claimed by another object; the type and
  size the field's ``accept`` / ``maxBytes`` hints allow) and claimed with owner_type
  ``Request``.
* :func:`attach_files` adds documents later (the citizen on their own request, staff on any
  request of the tenant) and writes ``request.attachment_added`` on the timeline.
* A read check lets the request's citizen download its files (staff already may).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Collector, DomainValidationError, Forbidden
from domain.files.models import FilePurpose, StoredFile
from domain.files.rules import KNOWN_TYPES, human_size
from domain.files.services import claim_files, files_of, register_read_check
from domain.requests.models import Request
from domain.security import Principal, PrincipalKind, require_principal

OWNER_TYPE = "Request"


# ---------------------------------------------------------------- reading


async def load_request_attachments(session: AsyncSession, tenant_id: uuid.UUID, request_ids: Sequence[uuid.UUID]) -> list[list[StoredFile]]:
    """DataLoader batch function: the files of each request, oldest first (one statement)."""
    return await files_of(session, tenant_id, OWNER_TYPE, request_ids)


async def _citizen_owns_request(session: AsyncSession, p: Principal, file: StoredFile) -> bool:
    if not p.is_citizen or file.owner_id is None:
        return False
    found = await session.execute(
        sa.select(Request.id).where(
            Request.tenant_id == p.tenant_id, Request.id == file.owner_id, Request.citizen_id == p.subject_id
        )
    )
    return found.first() is not None


register_read_check(OWNER_TYPE, _citizen_owns_request)


# ---------------------------------------------------------------- checking the ids sent


def decode_file_id(value: Any) -> uuid.UUID | None:
    """The uuid of a ``StoredFile`` global ID (as returned by ``fileUpload``), or ``None``."""
    if not isinstance(value, str):
        return None
    try:
        kind, _, raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().partition(":")
        return uuid.UUID(raw) if kind == "StoredFile" else None
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


@dataclass(frozen=True)
class Wanted:
    """One file id sent at ``path``, with the limits of the form field it was sent in."""

    path: tuple[str, ...]
    file_id: uuid.UUID
    accept: tuple[str, ...] = ()
    max_bytes: int | None = None


def file_fields(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The form's fields with the ``file`` widget and their hints."""
    fields = (definition["form"].get("ui") or {}).get("fields") or {}
    return {name: hints for name, hints in fields.items() if hints.get("widget") == "file"}


def wanted_from_answers(definition: dict[str, Any], answers: dict[str, Any], errors: Collector) -> list[Wanted]:
    """The file ids of the answers' ``file`` fields (a list of ids, or one id)."""
    out: list[Wanted] = []
    for name, hints in file_fields(definition).items():
        value = answers.get(name)
        if value is None:
            continue
        values, paths = (value, [("answers", name, str(i)) for i in range(len(value))]) if isinstance(value, list) else ([value], [("answers", name)])
        for path, item in zip(paths, values):
            file_id = decode_file_id(item)
            if file_id is None:
                errors.add(path, "INVALID_ID")
                continue
            out.append(Wanted(path, file_id, tuple(hints.get("accept") or ()), hints.get("maxBytes")))
    return out


def _may_use(p: Principal, file: StoredFile, citizen_id: uuid.UUID) -> bool:
    """Citizens use their own uploads; staff use uploads of staff or of the request's citizen."""
    if file.uploaded_by_type == p.kind.value and file.uploaded_by_id == p.subject_id:
        return True
    if not p.is_staff:
        return False
    if file.uploaded_by_type == PrincipalKind.CITIZEN.value:
        return file.uploaded_by_id == citizen_id
    return True


async def check_and_claim(
    session: AsyncSession,
    p: Principal,
    wanted: list[Wanted],
    *,
    request_id: uuid.UUID,
    citizen_id: uuid.UUID,
    errors: Collector,
    claim: bool = True,
) -> list[StoredFile]:
    """Check every file id (rows locked), add the problems to ``errors``; when there are none
    and ``claim`` is set, claim the files not yet held by this request. Returns the new ones."""
    ids = sorted({w.file_id for w in wanted})
    rows = (
        await session.execute(
            sa.select(StoredFile).where(StoredFile.tenant_id == p.tenant_id, StoredFile.id.in_(ids)).order_by(StoredFile.id).with_for_update()
        )
    ).scalars() if ids else []
    by_id = {f.id: f for f in rows}
    new: dict[uuid.UUID, StoredFile] = {}
    for w in wanted:
        file = by_id.get(w.file_id)
        if file is None or not _may_use(p, file, citizen_id):
            errors.add(w.path, "NOT_FOUND")
        elif file.purpose != FilePurpose.ATTACHMENT.value:
            errors.add(w.path, "FILE_PURPOSE_MISMATCH", expected=FilePurpose.ATTACHMENT.value)
        elif file.is_claimed and not (file.owner_type == OWNER_TYPE and file.owner_id == request_id):
            errors.add(w.path, "FILE_ALREADY_CLAIMED")
        elif w.accept and file.content_type not in w.accept:
            errors.add(w.path, "FILE_TYPE_NOT_ALLOWED", allowed=", ".join(KNOWN_TYPES.get(t, (t, ()))[0] for t in w.accept))
        elif w.max_bytes is not None and file.size > w.max_bytes:
            errors.add(w.path, "FILE_TOO_LARGE", max=human_size(w.max_bytes))
        elif not file.is_claimed:
            new[file.id] = file
    if errors.errors or not claim or not new:
        return list(new.values())
    return await claim_files(session, p, list(new), FilePurpose.ATTACHMENT, owner_type=OWNER_TYPE, owner_id=request_id)


# ---------------------------------------------------------------- adding documents later


async def attach_files(
    session: AsyncSession,
    principal: Principal | None,
    request_id: uuid.UUID,
    file_ids: list[uuid.UUID],
    expected_version: int | None,
) -> Request:
    """Join documents to a request: its citizen, or staff of the tenant (not on others' drafts)."""
    from domain.requests.services import _check_version, _event, _lock

    p = require_principal(principal)
    if not (p.is_citizen or p.is_staff):
        raise Forbidden()
    request = await _lock(session, p, request_id, "request_id")
    _check_version(request, expected_version)
    errors = Collector()
    if not file_ids:
        errors.add(("file_ids",), "REQUIRED")
    if len(file_ids) > 20:
        errors.add(("file_ids",), "TOO_MANY_FILES", max=20)
    errors.raise_if_any()
    wanted = [Wanted(("file_ids", str(i)), fid) for i, fid in enumerate(file_ids)]
    claimed = await check_and_claim(session, p, wanted, request_id=request.id, citizen_id=request.citizen_id, errors=errors)
    errors.raise_if_any()
    if not claimed:
        raise DomainValidationError.single(("file_ids",), "FILE_ALREADY_CLAIMED")
    request.version += 1
    _event(
        session, p, request, "request.attachment_added", True,
        file_ids=[str(f.id) for f in claimed], count=len(claimed),
    )
    await session.flush()
    return request
