"""Serving one request of the route table, whatever the framework.

An adapter gathers what it knows (the identity hook, path parameters, query
string, a reader for the body) and calls :func:`dispatch`; it gets back the
status and the JSON bytes to send. Every failure on the way, including a
broken identity hook or an oversized body, is rendered by
:func:`~supportchat.http.envelope.render_error`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from pydantic_core import from_json

from ..desk import SupportDesk
from ..errors import BadRequest, PayloadTooLarge
from ..models import Actor
from .auth import require_admin, require_user
from .envelope import Headers, error_headers, render_error
from .ratelimit import RateLimiter
from .raw import RawRequest, RawResponse
from .routes import Audience, Route

__all__ = ["JSON", "Reply", "dispatch", "parse_body", "too_large"]

JSON = "application/json"


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body exceeds {limit} bytes", details={"limit": limit})


def parse_body(raw: bytes, limit: int) -> Any:
    """The JSON value of a request body; 413 over ``limit``, 400 if it is not JSON."""
    if len(raw) > limit:
        raise too_large(limit)
    if not raw.strip():
        raise BadRequest("a JSON body is required")
    try:
        return from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON", details={"reason": str(exc)[:200]}) from None


class Reply(NamedTuple):
    """What to send: the status, the body and any headers beyond the content type.

    A raw route's :class:`~supportchat.http.raw.RawResponse` comes as
    ``chunks`` (``body`` is then empty), to be streamed with its ``content_type``.
    """

    status: int
    body: bytes
    headers: Headers = ()
    content_type: str = JSON
    chunks: Iterable[bytes] | None = None


def dispatch(
    route: Route,
    desk: SupportDesk,
    identify: Callable[[], Actor | None],
    path: Mapping[str, str],
    query: Mapping[str, str],
    read_body: Callable[[], bytes],
    *,
    limit: int | None = None,
    rate_limiter: RateLimiter | None = None,
    client: str = "",
    raw: Callable[[], RawRequest] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Authenticate, rate-limit, parse, call the handler and render the response.

    The body is read only after the caller is known and allowed to write, so
    anonymous or throttled clients cannot make the server parse megabytes.
    ``client`` is the client's address, for the per-address limits; ``limit``
    is the largest body in bytes (default: the desk's ``limits.body_bytes``);
    ``headers`` are the request's, for a route that authenticates its callers
    itself (``Route.authenticate``). A raw route's handler gets ``raw()`` (the
    headers and the unread body) instead of a parsed body; an
    :attr:`Audience.ANYONE` route's gets the caller or ``None``, and rate limits
    count only known callers.
    """
    try:
        found = identify() if route.authenticate is None else route.authenticate(headers or {})
        if route.audience is Audience.ANYONE:
            actor = found
        else:
            actor = require_admin(found) if route.audience is Audience.ADMIN else require_user(found)
        if route.write is not None and rate_limiter is not None and actor is not None:
            rate_limiter.check(route.write, actor, client)
        body_limit = desk.limits.body_bytes if limit is None else limit
        body: Any = None
        if route.raw:
            if raw is None:
                raise TypeError(f"route {route.name} reads the raw request, which the adapter did not give")
            body = raw()
        elif route.raw_body is not None:
            body = read_body()
            if len(body) > body_limit:
                raise too_large(body_limit)
        elif route.body is not None:
            body = parse_body(read_body(), body_limit)
        result = route.handler(desk, actor, path, query, body)  # type: ignore[arg-type]
        if isinstance(result, RawResponse):
            return Reply(result.status, b"", result.headers, result.content_type, result.chunks)
        return Reply(200, route.render(result), route.render.headers(result))
    except Exception as exc:
        status, rendered = render_error(exc)
        return Reply(status, rendered, error_headers(exc))
