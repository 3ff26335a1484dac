"""Where attachment bytes live: the :class:`BlobStore` protocol and the local-directory store.

Blobs are addressed by content: the key is the SHA-256 of the bytes (hex),
so identical content is stored once and a key never changes meaning. A
blob store knows nothing of tickets or permissions; the attachments table
(:mod:`.schema`) says which blob belongs to which ticket.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from ..errors import NotFound

__all__ = ["CHUNK", "BlobMissing", "BlobStore", "LocalBlobStore", "check_key"]

#: How much one read of a blob returns.
CHUNK = 256 * 1024
_KEY = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(NotFound):
    """No blob has this key (deleted, or never stored)."""

    code = "attachment_not_found"


def check_key(key: str) -> str:
    """``key`` if it is a blob key (64 lower-case hex digits, a SHA-256), so it can never name a path."""
    if not _KEY.match(key):
        raise ValueError(f"not a blob key: {key[:80]!r}")
    return key


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed bytes. Every method is safe to call from several threads and processes."""

    def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        """Store ``size`` bytes read from ``source`` under ``key`` (their SHA-256); storing a key again is harmless."""
        ...

    def size(self, key: str) -> int | None:
        """The stored blob's length, or ``None`` if there is none."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive; default: the end) in chunks; :class:`BlobMissing` if absent.

        The error is raised by the call itself, before any chunk is asked for.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing one is not an error."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""
        ...


class LocalBlobStore:
    """Blobs as files under ``root`` (``ab/abcdef…``), written to a temporary file and renamed into place.

    The folder is made on the first write, not before.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                written = 0
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if written != size or digest.hexdigest() != key:
                raise ValueError(f"blob {key}: got {written} bytes hashing to {digest.hexdigest()}, not {size}")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobMissing("no such attachment") from None
        return _file_chunks(handle, start, end)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("??/*"):
            if _KEY.match(path.name):
                yield path.name


def _file_chunks(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
