"""Other contexts link uploads with claim_files, extend readers with register_read_check (real PostgreSQL)."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from domain.errors import DomainValidationError, Forbidden
from domain.events.models import Event
from domain.files import services
from domain.files.models import FilePurpose, StoredFile
from domain.files.rules import UploadPolicy
from domain.files.storage import FilesystemStorage
from domain.security import Principal, PrincipalKind, Role
from tests.files_helpers import pdf_bytes, png_bytes


class BytesUpload:
    """The smallest real AsyncReadable: what Starlette's UploadFile offers, over bytes."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)


def citizen(tenant_id) -> Principal:
    return Principal(PrincipalKind.CITIZEN, uuid.uuid4(), tenant_id)


def agent(tenant_id, *roles: Role) -> Principal:
    return Principal(PrincipalKind.AGENT, uuid.uuid4(), tenant_id, frozenset(roles or {Role.AGENT}))


@pytest.fixture
def storage(tmp_path):
    return FilesystemStorage(tmp_path / "blobs")


async def store(app, storage, principal, data=None, purpose=FilePurpose.ATTACHMENT) -> StoredFile:
    async with app.state.sessionmaker() as session:
        file = await services.upload_file(
            session, principal, stream=BytesUpload(data or pdf_bytes()), filename="doc.pdf",
            purpose=purpose, storage=storage, policy=UploadPolicy(),
        )
        await session.commit()
        return file


async def test_claim_links_own_uploads_and_refuses_the_rest(app, tenant, storage):
    # given a citizen with two uploads, another citizen's upload and a photo
    me, someone = citizen(tenant.id), citizen(tenant.id)
    mine1, mine2 = await store(app, storage, me), await store(app, storage, me)
    theirs = await store(app, storage, someone)
    photo = await store(app, storage, me, png_bytes(), FilePurpose.PHOTO)
    request_id = uuid.uuid4()
    async with app.state.sessionmaker() as session:
        # when they claim a mix for their request
        with pytest.raises(DomainValidationError) as refused:
            await services.claim_files(
                session, me, [mine1.id, theirs.id, photo.id, uuid.uuid4()], FilePurpose.ATTACHMENT,
                owner_type="Request", owner_id=request_id, field=("attachments",),
            )
        # then each faulty id is reported at its index, and nothing is claimed
        assert [(e.field, e.code) for e in refused.value.errors] == [
            (("attachments", "1"), "NOT_FOUND"),
            (("attachments", "2"), "FILE_PURPOSE_MISMATCH"),
            (("attachments", "3"), "NOT_FOUND"),
        ]
        await session.rollback()
        # when they claim only their own attachments
        claimed = await services.claim_files(session, me, [mine1.id, mine2.id], FilePurpose.ATTACHMENT, owner_type="Request", owner_id=request_id)
        await session.commit()
        assert {f.id for f in claimed} == {mine1.id, mine2.id}
        # then they belong to the request, with an event each
        rows = await services.files_of(session, tenant.id, "Request", [request_id])
        assert {f.id for f in rows[0]} == {mine1.id, mine2.id}
        events = (await session.execute(sa.select(Event.aggregate_id).where(Event.type == "file.claimed", Event.tenant_id == tenant.id))).scalars().all()
        assert set(events) == {mine1.id, mine2.id}
        # and a second claim of the same file is refused
        with pytest.raises(DomainValidationError) as again:
            await services.claim_files(session, me, [mine1.id], FilePurpose.ATTACHMENT, owner_type="Report", owner_id=uuid.uuid4())
        assert again.value.errors[0].code == "FILE_ALREADY_CLAIMED"


async def test_staff_claim_any_upload_of_their_tenant_only(app, make_tenant, storage):
    tenant, other = await make_tenant(), await make_tenant()
    upload = await store(app, storage, citizen(tenant.id))
    async with app.state.sessionmaker() as session:
        with pytest.raises(DomainValidationError) as foreign:
            await services.claim_files(session, agent(other.id), [upload.id], FilePurpose.ATTACHMENT, owner_type="Request", owner_id=uuid.uuid4())
        assert foreign.value.errors[0].code == "NOT_FOUND"
        await session.rollback()
        (claimed,) = await services.claim_files(session, agent(tenant.id), [upload.id], FilePurpose.ATTACHMENT, owner_type="Request", owner_id=uuid.uuid4())
        assert claimed.claimed_at is not None


async def test_read_checks_registered_by_the_owning_context(app, tenant, storage):
    # given a file an agent uploaded and attached to a citizen's request
    owner = citizen(tenant.id)
    request_id = uuid.uuid4()
    staff = agent(tenant.id)
    upload = await store(app, storage, staff)
    async with app.state.sessionmaker() as session:
        await services.claim_files(session, staff, [upload.id], FilePurpose.ATTACHMENT, owner_type="TestRequest", owner_id=request_id)
        await session.commit()
        # the citizen cannot read it until the owning context says so
        assert await services.get_file(session, owner, upload.id) is None

        async def citizen_owns_request(s, principal, file):
            return principal.subject_id == owner.subject_id and file.owner_id == request_id

        services.register_read_check("TestRequest", citizen_owns_request)
        assert (await services.get_file(session, owner, upload.id)).id == upload.id
        assert await services.get_file(session, citizen(tenant.id), upload.id) is None


async def test_transfer_moves_files_between_owners(app, tenant, storage):
    staff = agent(tenant.id)
    kept, duplicate = uuid.uuid4(), uuid.uuid4()
    photo = await store(app, storage, staff, png_bytes(), FilePurpose.PHOTO)
    async with app.state.sessionmaker() as session:
        await services.claim_files(session, staff, [photo.id], FilePurpose.PHOTO, owner_type="Report", owner_id=duplicate)
        moved = await services.transfer_files(session, staff, owner_type="Report", from_owner_id=duplicate, to_owner_id=kept)
        await session.commit()
        assert [f.id for f in moved] == [photo.id]
        assert [[f.id for f in group] for group in await services.files_of(session, tenant.id, "Report", [kept, duplicate])] == [[photo.id], []]
        with pytest.raises(Forbidden):
            await services.transfer_files(session, citizen(tenant.id), owner_type="Report", from_owner_id=kept, to_owner_id=duplicate)


async def test_purge_removes_old_unclaimed_uploads_and_their_blobs(app, tenant, storage):
    staff = agent(tenant.id)
    stale = await store(app, storage, staff, png_bytes(), FilePurpose.PHOTO)
    kept = await store(app, storage, staff)
    async with app.state.sessionmaker() as session:
        await services.claim_files(session, staff, [kept.id], FilePurpose.ATTACHMENT, owner_type="Request", owner_id=uuid.uuid4())
        await session.commit()
        assert storage.exists(stale.storage_key) and storage.exists(stale.thumbnail_key)
        # when uploads left unclaimed for more than a day are purged (seen from two days later)
        count = await services.purge_unclaimed(session, storage, timedelta(days=1), now=stale.created_at + timedelta(days=2))
        # then the stale one is gone with its blobs, the claimed one stays
        assert count >= 1
        assert not storage.exists(stale.storage_key) and not storage.exists(stale.thumbnail_key)
        assert storage.exists(kept.storage_key)
        ids = (await session.execute(sa.select(StoredFile.id).where(StoredFile.tenant_id == tenant.id))).scalars().all()
        assert ids == [kept.id]
