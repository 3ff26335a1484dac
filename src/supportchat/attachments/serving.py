"""The bytes of an attachment as spec §14 serves them: headers, ranges, conditional requests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

from ..http.raw import RawResponse

__all__ = ["INLINE_TYPES", "content_disposition", "serve_blob"]

#: Shown in the browser; everything else is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_disposition(filename: str, content_type: str) -> str:
    """``inline`` for images and PDF, ``attachment`` for the rest, with the name in ASCII and in UTF-8."""
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _requested_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """``(start, end)`` (end exclusive) of a single satisfiable range; ``None`` for none; ``False`` if unsatisfiable."""
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if found is None:
        return None  # several ranges, or another unit: the whole file (RFC 9110 allows it)
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        return False if length == 0 else (max(size - length, 0), size)
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or end <= start:
        return False
    return start, end


def serve_blob(
    read: Callable[[int, int], Iterable[bytes]],
    *,
    size: int,
    etag: str,
    content_type: str,
    filename: str,
    request_headers: Mapping[str, str],
) -> RawResponse:
    """The response for a blob of ``size`` bytes; ``read(start, end)`` gives its bytes in chunks."""
    headers: list[tuple[str, str]] = [
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "sandbox"),
        ("Content-Disposition", content_disposition(filename, content_type)),
        ("Cache-Control", "private"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Resource-Policy", "same-site"),
        ("Accept-Ranges", "bytes"),
        ("ETag", f'"{etag}"'),
    ]
    if f'"{etag}"' in request_headers.get("if-none-match", ""):
        return RawResponse(304, content_type, (), tuple(headers))
    wanted = _requested_range(request_headers.get("range"), size)
    if wanted is False:
        headers.append(("Content-Range", f"bytes */{size}"))
        return RawResponse(416, content_type, (), tuple(headers))
    start, end = wanted if isinstance(wanted, tuple) else (0, size)
    headers.append(("Content-Length", str(end - start)))
    status = 200
    if isinstance(wanted, tuple):
        status = 206
        headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
    # Called now, so that a missing blob is an error response, not a broken stream.
    return RawResponse(status, content_type, read(start, end), tuple(headers))
