"""What a request under the API's prefix gets when no route serves it.

Both adapters send such requests here (a catch-all route under the prefix),
so an unknown path is a 404 and a known path with another method is a 405
naming the path's methods, in the same JSON envelope as every other error,
whatever the framework would have answered.
"""

from __future__ import annotations

import re
from functools import cache

from ..errors import MethodNotAllowed, NotFound, SupportChatError
from .envelope import Headers, error_headers, render_error
from .routes import ROUTES
from .streams import STREAM_ROUTES

__all__ = ["Unrouted", "allowed_methods", "answer_unrouted", "unrouted"]

#: Status, body and headers of a response.
Unrouted = tuple[int, bytes, Headers]

_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")


@cache
def _templates(extra: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each route's path (relative to the prefix) as a pattern, with its method."""
    served = [(r.path, r.method) for r in ROUTES] + [(s.path, "GET") for s in STREAM_ROUTES] + list(extra)
    return tuple((re.compile(_PLACEHOLDER.sub(r"[^/]+", re.escape(path)) + r"\Z"), method) for path, method in served)


def allowed_methods(relative_path: str, extra: tuple[tuple[str, str], ...] = ()) -> frozenset[str]:
    """The methods some route serves at ``relative_path`` (``extra``: the adapter's own (path, method) pairs)."""
    return frozenset(method for pattern, method in _templates(extra) if pattern.match(relative_path))


def unrouted(method: str, relative_path: str, extra: tuple[tuple[str, str], ...] = ()) -> SupportChatError:
    """The error for ``method`` at ``relative_path`` when no route took it: 405 if the path exists, else 404."""
    allowed = allowed_methods(relative_path, extra)
    if allowed:
        return MethodNotAllowed(method, allowed | {"OPTIONS"})
    return NotFound("no such path in the support API", details={"path": relative_path[:200]})


def answer_unrouted(method: str, relative_path: str, extra: tuple[tuple[str, str], ...] = ()) -> Unrouted:
    """The whole response: ``OPTIONS`` on a known path is 204 with ``Allow``; anything else the error's."""
    error = unrouted(method, relative_path, extra)
    if method == "OPTIONS" and isinstance(error, MethodNotAllowed):
        return 204, b"", error_headers(error)
    status, body = render_error(error)
    return status, body, error_headers(error)
