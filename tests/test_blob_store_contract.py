"""The BlobStore contract, on the local directory store and on the S3 store against moto's server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat.attachments import BlobMissing, BlobStore, LocalBlobStore, S3BlobStore
from supportchat.attachments.blobs import CHUNK

from .attachments.s3server import moto_server, new_bucket, s3_client


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    client = s3_client(request.getfixturevalue("s3_endpoint"))
    return S3BlobStore(new_bucket(client), client=client)


def put(blobs: BlobStore, data: bytes) -> str:
    key = hashlib.sha256(data).hexdigest()
    blobs.put(key, io.BytesIO(data), len(data), "application/octet-stream")
    return key


def test_a_blob_reads_back_whole_and_by_range_and_is_stored_once(blobs: BlobStore) -> None:
    data = os.urandom(3 * CHUNK + 17)
    key = put(blobs, data)
    assert put(blobs, data) == key  # again: harmless
    assert blobs.size(key) == len(data)
    assert b"".join(blobs.read(key)) == data
    assert b"".join(blobs.read(key, 10, 20)) == data[10:20]
    assert b"".join(blobs.read(key, CHUNK - 1, 2 * CHUNK + 5)) == data[CHUNK - 1 : 2 * CHUNK + 5]
    assert b"".join(blobs.read(key, len(data) - 3)) == data[-3:]
    assert list(blobs.keys()) == [key]


def test_a_missing_blob_is_none_and_an_error_to_read_and_deleting_it_is_harmless(blobs: BlobStore) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert blobs.size(key) is None
    with pytest.raises(BlobMissing):
        blobs.read(key)
    blobs.delete(key)
    stored = put(blobs, b"kept")
    blobs.delete(stored)
    assert blobs.size(stored) is None and list(blobs.keys()) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", "a" * 63, "A" * 64, "0" * 64 + "/x", ""])
def test_a_key_that_is_not_a_sha256_names_nothing(blobs: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        blobs.size(key)


def test_local_store_refuses_bytes_that_do_not_hash_to_the_key_and_leaves_nothing(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    with pytest.raises(ValueError):
        blobs.put(hashlib.sha256(b"a").hexdigest(), io.BytesIO(b"b"), 1, "text/plain")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=4000), bounds=st.tuples(st.integers(0, 4000), st.integers(0, 4000)))
def test_any_range_reads_the_bytes_python_slicing_gives(tmp_path: Path, data: bytes, bounds: tuple[int, int]) -> None:
    blobs = LocalBlobStore(tmp_path / hashlib.sha256(data).hexdigest()[:8])
    key = put(blobs, data)
    start, end = sorted(bounds)
    start = min(start, len(data))
    assert b"".join(blobs.read(key, start, end)) == data[start:end]


def test_the_s3_store_streams_a_large_blob_through_multipart_upload(s3_endpoint: str) -> None:
    client = s3_client(s3_endpoint)
    blobs = S3BlobStore(new_bucket(client), client=client)
    data = os.urandom(9 * 1024 * 1024)  # above boto3's 8 MiB multipart threshold
    key = put(blobs, data)
    chunks: Callable[[], Iterator[bytes]] = lambda: blobs.read(key)  # noqa: E731
    assert hashlib.sha256(b"".join(chunks())).hexdigest() == key
    assert max(len(c) for c in chunks()) <= CHUNK
