"""The Server-Sent-Events routes, framework-free: who may open which stream.

Like :data:`~supportchat.http.routes.ROUTES`, both adapters mount exactly
:data:`STREAM_ROUTES`; they differ only in how they write frames (a
generator response in Flask, a streaming response in FastAPI). A stream resumes
after the id in the ``Last-Event-ID`` header that browsers' ``EventSource``
sends on reconnecting, or in the ``last_event_id`` query parameter (for a
client's first connection, or clients that cannot set headers).

A stream lasts longer than the check that opened it, so it keeps the
caller's ``identify`` and asks it again while it runs, and ends at the
credential's expiry (see :class:`~supportchat.realtime.EventStream`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..models import Actor
from ..permissions import Action
from ..realtime import EventStream, LiveEvents
from .auth import require_admin, require_user
from .routes import Audience, Param, id_schema, own_path_user

__all__ = ["STREAM_HEADERS", "STREAM_ROUTES", "StreamRoute", "open_stream"]

#: Response headers of every stream besides its content type: no caching, no proxy buffering.
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

_LAST_EVENT_ID = Param(
    "last_event_id",
    "query",
    id_schema(minimum=0),
    "Resume after this event id (the `Last-Event-ID` header wins when both are sent).",
)


@dataclass(frozen=True, slots=True)
class StreamRoute:
    """One SSE endpoint."""

    name: str
    path: str
    audience: Audience
    summary: str
    params: tuple[Param, ...] = (_LAST_EVENT_ID,)
    #: Streams take no request body.
    body: None = None


STREAM_ROUTES: tuple[StreamRoute, ...] = (
    StreamRoute(
        "admin_events",
        "/events",
        Audience.ADMIN,
        "Live events of every ticket (SSE: `ticket_created`, `message_created`, `ticket_updated`)",
    ),
    StreamRoute(
        "user_events",
        "/user/{user_id}/events",
        Audience.USER,
        "Live events of the caller's own tickets (SSE)",
        (
            Param(
                "user_id",
                "path",
                id_schema(),
                "The caller's own user id.",
                True,
            ),
            _LAST_EVENT_ID,
        ),
    ),
)


def open_stream(
    route: StreamRoute,
    live: LiveEvents,
    identify: Callable[[], Actor | None],
    path: Mapping[str, str],
    query: Mapping[str, str],
    last_event_id: str | None,
    expires_at: Callable[[], datetime | None] | None = None,
    address: str | None = None,
) -> EventStream:
    """Authenticate and build the caller's stream; raises the error to render otherwise.

    A user may open only their own stream (another ``user_id`` is 403).
    ``last_event_id`` is the ``Last-Event-ID`` header, if the client sent one.
    ``identify`` must keep working while the stream runs: the stream calls it
    again to re-check its caller. ``expires_at`` tells when the caller's
    credential runs out (:func:`~supportchat.http.auth.credential_expiry`).
    ``address`` is the client's, for the per-address cap: a caller over a
    cap is refused with 429 (:class:`~supportchat.errors.RateLimited`).
    """
    actor = identify()
    if route.audience is Audience.ADMIN:
        actor = require_admin(actor)
    else:
        actor = require_user(actor)
        own_path_user(actor, path, Action.VIEW)
    resume = last_event_id or query.get("last_event_id")
    expiry = expires_at() if expires_at is not None else None
    return live.stream(actor, resume, address=address, recheck=identify, expires_at=expiry)
