"""Blobs in an S3-compatible bucket, through boto3: AWS S3, MinIO, Supabase Storage's S3 endpoint.

::

    store = S3BlobStore("attachments", endpoint_url="https://<project>.supabase.co/storage/v1/s3",
                        region_name="eu-west-1", aws_access_key_id=..., aws_secret_access_key=...)

Uploads go through boto3's managed transfer (multipart above its threshold),
reading the source as they send; reads ask for exactly the byte range
wanted and stream the response body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from ..errors import StorageUnavailable
from .blobs import CHUNK, BlobMissing, check_key

__all__ = ["S3BlobStore"]


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the S3 blob store needs boto3: pip install 'supportchat[attachments]'") from exc
    return boto3


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` of ``bucket``; ``client_options`` go to ``boto3.client("s3", …)``."""

    def __init__(self, bucket: str, *, prefix: str = "attachments/", client: Any = None, **client_options: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client = client if client is not None else _boto3().client("s3", **client_options)
        from botocore.exceptions import BotoCoreError, ClientError

        self._client_error = ClientError
        self._transport_errors = (BotoCoreError,)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _missing(self, error: Exception) -> bool:
        if not isinstance(error, self._client_error):
            return False
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def _call(self, operation: str, **arguments: Any) -> Any:
        try:
            return getattr(self._client, operation)(**arguments)
        except self._transport_errors as exc:
            raise StorageUnavailable(f"the blob store is unreachable: {type(exc).__name__}") from exc
        except self._client_error as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if status >= 500 or status == 429:
                raise StorageUnavailable(f"the blob store answered {status}") from exc
            raise

    def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        extra = {"ContentType": content_type}
        # boto3's transfer closes the file it is given: the caller's stays open (a fallback may re-read it).
        kept = _KeptOpen(source)
        self._call("upload_fileobj", Fileobj=kept, Bucket=self.bucket, Key=self._name(key), ExtraArgs=extra)

    def size(self, key: str) -> int | None:
        try:
            head = self._call("head_object", Bucket=self.bucket, Key=self._name(key))
        except self._client_error as exc:
            if self._missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if start or end is not None:
            arguments["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            answer = self._call("get_object", **arguments)
        except self._client_error as exc:
            if self._missing(exc):
                raise BlobMissing("no such attachment") from None
            raise
        return _body_chunks(answer["Body"])

    def delete(self, key: str) -> None:
        self._call("delete_object", Bucket=self.bucket, Key=self._name(key))

    def keys(self) -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                name = str(item["Key"])[len(self.prefix) :]
                if "/" not in name:
                    yield name


class _KeptOpen:
    """A file's reading side, whose ``close`` leaves the file open."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source

    def read(self, size: int = -1) -> bytes:
        return self._source.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._source.seek(offset, whence)

    def tell(self) -> int:
        return self._source.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
