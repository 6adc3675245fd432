"""Pure rules of the file layer: names, keys, signatures."""

from __future__ import annotations

import uuid

import pytest

from domain.files.rules import sanitise_filename
from domain.files.signing import THUMBNAIL, BadSignature, ExpiredSignature, UrlSigner, derive_key
from domain.files.storage import FilesystemStorage, InvalidKey


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("facture.pdf", "application/pdf", "facture.pdf"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\marie\\Photo.JPEG", "image/jpeg", "Photo.jpeg"),
        ("  .bashrc ", "image/png", "bashrc.png"),
        ("a\x00b<c>d|e?.pdf", "application/pdf", "a_b_c_d_e_.pdf"),
        ("Cafe\u0301 crème.png", "image/png", "Café crème.png"),
        ("", "application/pdf", "fichier.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 196 + ".pdf"),
        ("photo.heic", "image/jpeg", "photo.heic.jpg"),
    ],
)
def test_sanitise_filename(name, content_type, expected):
    assert sanitise_filename(name, content_type) == expected


@pytest.mark.parametrize("key", ["../x", "a/../../b", "/etc/passwd", "A/b", "a//b", "", "a/.b", "a\\b"])
def test_storage_refuses_keys_outside_its_root(tmp_path, key):
    storage = FilesystemStorage(tmp_path)
    with pytest.raises(InvalidKey):
        storage.put(key, b"x")


def test_storage_put_is_atomic_and_leaves_no_temporary_file(tmp_path):
    storage = FilesystemStorage(tmp_path)
    storage.put("t1/abc", b"first")
    storage.put("t1/abc", b"second")
    with storage.open("t1/abc") as handle:
        assert handle.read() == b"second"
    assert [p.name for p in (tmp_path / "t1").iterdir()] == ["abc"]
    storage.delete("t1/abc")
    storage.delete("t1/abc")  # idempotent
    assert not storage.exists("t1/abc")


def test_signed_reference_round_trip_and_failures():
    signer = UrlSigner(derive_key("secret"), ttl_seconds=300)
    tenant, file = uuid.uuid4(), uuid.uuid4()
    token = signer.sign(tenant, file, THUMBNAIL, now=1_000_000)
    ref = signer.verify(token, now=1_000_300)
    assert (ref.tenant_id, ref.file_id, ref.variant, ref.expires_at) == (tenant, file, THUMBNAIL, 1_000_300)
    with pytest.raises(ExpiredSignature):
        signer.verify(token, now=1_000_301)
    with pytest.raises(BadSignature):
        UrlSigner(derive_key("other")).verify(token, now=1_000_000)
    with pytest.raises(BadSignature):
        signer.verify(token.replace(".", ".x"), now=1_000_000)
