"""Reading a ``multipart/form-data`` upload as it arrives, into a temporary file.

The body is read in 256 KiB pieces and fed to ``python-multipart``'s
streaming parser; the ``file`` field's bytes go straight to a temporary file
(hashed on the way), so memory stays flat whatever the file's size. The
file's limit is enforced as the bytes come: one byte over it ends the read
with a 413, and the partial file is removed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadRequest, PayloadTooLarge, ValidationError
from ..http.raw import RawRequest

__all__ = ["FIELD", "ReceivedFile", "receive"]

FIELD = "file"
_READ = 256 * 1024
#: What the multipart framing and other small fields may add to the file's own limit.
FRAMING_ALLOWANCE = 64 * 1024


@dataclass
class ReceivedFile:
    """The ``file`` field of an upload, in a temporary file (removed by :meth:`discard`)."""

    path: Path
    size: int
    sha256: str
    filename: str | None
    declared_type: str | None

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the file exceeds {limit} bytes", details={"field": FIELD, "limit": limit})


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    filename: str | None = None
    out: Any = None


def _disposition(value: str) -> tuple[str | None, str | None]:
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(value)
    name = options.get(b"name")
    filename = options.get(b"filename")
    return (
        None if name is None else name.decode("utf-8", "replace"),
        None if filename is None else filename.decode("utf-8", "replace"),
    )


def receive(request: RawRequest, limit: int, spool: Path) -> ReceivedFile:
    """The ``file`` field of ``request``'s multipart body, at most ``limit`` bytes, spooled under ``spool``."""
    from python_multipart import MultipartParser
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import parse_options_header

    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise BadRequest("an upload is a multipart/form-data body with a `file` field")
    body_limit = limit + FRAMING_ALLOWANCE
    if request.content_length is not None and request.content_length > body_limit:
        raise too_large(limit)
    spool.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=spool, prefix=".incoming-")
    os.close(handle)
    target = Path(name)
    state: dict[str, Any] = {"part": _Part(), "field": b"", "value": b"", "size": 0, "found": None}
    digest = hashlib.sha256()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        # Latin-1 keeps every byte: the file name's UTF-8 is decoded from them later.
        state["part"].headers[state["field"].decode("latin-1").lower()] = state["value"].decode("latin-1")
        state["field"] = state["value"] = b""

    def on_headers_finished() -> None:
        part: _Part = state["part"]
        part.name, part.filename = _disposition(part.headers.get("content-disposition", ""))
        if part.name == FIELD and state["found"] is None:
            part.out = target.open("wb")
            state["found"] = part

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part: _Part = state["part"]
        if part.out is None:
            return
        state["size"] += end - start
        if state["size"] > limit:
            raise too_large(limit)
        digest.update(data[start:end])
        part.out.write(data[start:end])

    def on_part_end() -> None:
        part: _Part = state["part"]
        if part.out is not None:
            part.out.close()
        state["part"] = _Part()

    callbacks: Any = {
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        read = 0
        while chunk := request.read(_READ):
            read += len(chunk)
            if read > body_limit:
                raise too_large(limit)
            parser.write(chunk)
        parser.finalize()
        found: _Part | None = state["found"]
        if found is None:
            raise ValidationError(FIELD, "a multipart/form-data body with a `file` field is required")
        if found.out is not None and not found.out.closed:
            raise BadRequest("the multipart body ended inside the file")
        return ReceivedFile(
            target, state["size"], digest.hexdigest(), found.filename, found.headers.get("content-type")
        )
    except MultipartParseError as exc:
        target.unlink(missing_ok=True)
        raise BadRequest("the multipart body is malformed", details={"reason": str(exc)[:200]}) from None
    except BaseException:
        found = state["found"]
        if found is not None and found.out is not None:
            found.out.close()
        target.unlink(missing_ok=True)
        raise
