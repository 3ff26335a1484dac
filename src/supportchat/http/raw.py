"""Routes that read the request themselves and answer with bytes: uploads and downloads.

Most routes take a parsed JSON body and answer in the JSON envelope. A route
with ``raw=True`` (:class:`~supportchat.http.routes.Route`) instead gets a
:class:`RawRequest`: the request's headers and a blocking ``read`` of the
body as it arrives, so that a multipart upload streams to disk instead of
being held in memory. Its handler may answer with a :class:`RawResponse`
(status, headers and an iterable of byte chunks the adapter streams out), or
with any value its renderer turns into the envelope as usual. Errors still
answer in the envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["RawRequest", "RawResponse"]


@dataclass(frozen=True, slots=True)
class RawRequest:
    """What a raw route's handler reads: the headers (lower-case names) and the body, ``read(n)`` at a time.

    ``read(n)`` returns at most ``n`` bytes, and ``b""`` once the body is
    over. The adapters apply no size limit: the handler stops reading when
    the body grows larger than it accepts.
    """

    headers: Mapping[str, str]
    read: Callable[[int], bytes]
    #: The declared ``Content-Length``, if any.
    content_length: int | None = None


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A response of bytes: the adapter sends ``chunks`` as they come, with these headers."""

    status: int
    content_type: str
    chunks: Iterable[bytes]
    headers: tuple[tuple[str, str], ...] = field(default=())
