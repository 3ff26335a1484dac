"""Flask adapter: the support desk's API as a Blueprint.

::

    from supportchat.adapters.flask import SupportChat

    support = SupportChat(desk, identify=current_actor)   # current_actor() -> Actor | None
    support.init_app(app)

``identify`` is called inside the request context, so it may read
``flask.request``, the session, or Flask-Login's ``current_user``. Without it
the standalone :class:`~supportchat.http.auth.TokenAuthenticator` reads the
``Authorization`` header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

try:
    import flask
    from werkzeug.exceptions import RequestEntityTooLarge
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("supportchat.adapters.flask needs Flask: pip install 'supportchat[flask]'") from exc

from ..desk import SupportDesk
from ..errors import PayloadTooLarge
from ..features import Feature
from ..http.auth import Authenticator, RequestView, TokenAuthenticator, credential_expiry
from ..http.dispatch import Reply, dispatch, too_large
from ..http.envelope import error_headers, render_error
from ..http.fallback import answer_unrouted
from ..http.openapi import OPENAPI_PATH, document
from ..http.ratelimit import RateLimiter
from ..http.raw import RawRequest
from ..http.routes import DEFAULT_PREFIX, Route, route_table
from ..http.streams import STREAM_HEADERS, STREAM_ROUTES, StreamRoute, open_stream
from ..models import Actor
from ..panel import PANEL_ROUTES, Panel, PanelRequest, PanelResponse
from ..realtime import EventStream, LiveEvents

__all__ = ["EXTENSION_KEY", "SupportChat", "panel_blueprint", "support_blueprint"]

#: Where :meth:`SupportChat.init_app` leaves itself in ``app.extensions``.
EXTENSION_KEY = "supportchat"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_JSON = "application/json"


def _flask_path(template: str) -> str:
    return _PLACEHOLDER.sub(r"<\1>", template)


def _reader(limit: int) -> Callable[[], bytes]:
    def read() -> bytes:
        request = flask.request
        if request.content_length is not None and request.content_length > limit:
            raise too_large(limit)
        try:
            # One byte over the limit is enough to know it is too large (chunked bodies have no length).
            data: bytes = request.stream.read(limit + 1)
        except RequestEntityTooLarge:
            # The host app's own MAX_CONTENT_LENGTH is lower than ours.
            raise too_large(request.max_content_length or limit) from None
        return data

    return read


def _raw_request() -> RawRequest:
    """The request as a raw route reads it: Werkzeug's body stream, read as the client sends it."""
    request = flask.request
    headers = {name.lower(): value for name, value in request.headers.items()}
    return RawRequest(headers, request.stream.read, request.content_length)


def _response(reply: Reply) -> flask.Response:
    if reply.chunks is None:
        # A renderer may answer in another format (a report's CSV); its Content-Type wins.
        content_type = dict(reply.headers).get("Content-Type", reply.content_type)
        return flask.Response(reply.body, status=reply.status, content_type=content_type, headers=reply.headers)
    # Passed through as they come: Werkzeug neither buffers nor re-chunks them.
    return flask.Response(
        reply.chunks,
        status=reply.status,
        content_type=reply.content_type,
        headers=reply.headers,
        direct_passthrough=True,
    )


def support_blueprint(
    desk: SupportDesk,
    *,
    identify: Callable[[], Actor | None] | None = None,
    authenticator: Authenticator | None = None,
    prefix: str = DEFAULT_PREFIX,
    name: str = "supportchat",
    max_body_bytes: int | None = None,
    panel: Panel | None = None,
    live: LiveEvents | None = None,
    rate_limiter: RateLimiter | None = None,
    features: Sequence[Feature] = (),
    fallback: bool = True,
) -> flask.Blueprint:
    """A Blueprint serving every API route under ``prefix``.

    ``identify`` (called in the request context) returns the current actor
    or ``None``; otherwise ``authenticator`` (default: bearer tokens, user
    JWTs signed with ``SUPPORTCHAT_SECRET``) reads the request, followed by
    ``panel``'s session cookie when a panel is given. The SSE
    routes stream from ``live`` (by default a new :class:`LiveEvents` on
    ``desk``; pass your own to choose its options and close it at exit).
    Each open stream holds one server thread: serve with a threaded server.
    Writes are rate-limited by ``rate_limiter`` (default: the default
    :class:`~supportchat.http.ratelimit.RateLimits`, counted in this process's
    memory), per caller and per ``request.remote_addr``.
    ``features`` add their routes to the table (:mod:`supportchat.features`).

    Bodies are limited to ``max_body_bytes`` (default: the desk's
    ``limits.body_bytes``). ``{prefix}/openapi.json`` serves the API's
    OpenAPI document; with ``fallback`` (the default, and only under a
    non-empty prefix, or it would take the host app's unknown paths) any
    other path or method under the prefix answers 404 or 405 (with
    ``Allow``) in the error envelope.
    """
    body_limit = desk.limits.body_bytes if max_body_bytes is None else max_body_bytes
    live = live or LiveEvents(desk)
    limiter = rate_limiter or RateLimiter()
    expires_at: Callable[[], datetime | None] | None = None
    if identify is None:
        auth = authenticator or TokenAuthenticator.from_env()
        if panel is not None:
            auth = panel.api_authenticator(auth)

        def identify() -> Actor | None:
            return auth.identify(cast(RequestView, flask.request))

        def expires_at() -> datetime | None:
            return credential_expiry(auth, cast(RequestView, flask.request))

    blueprint = flask.Blueprint(name, __name__, url_prefix=prefix.rstrip("/") or None)
    read_body = _reader(body_limit)

    def view(route: Route) -> Callable[..., flask.Response]:
        def serve(**path: Any) -> flask.Response:
            request = flask.request
            reply = dispatch(
                route,
                desk,
                identify,
                path,
                request.args,
                read_body,
                limit=body_limit,
                rate_limiter=limiter,
                client=request.remote_addr or "",
                raw=_raw_request,
                headers=cast(Mapping[str, str], request.headers),
            )
            return _response(reply)

        return serve

    def stream_view(route: StreamRoute) -> Callable[..., flask.Response]:
        def serve(**path: Any) -> flask.Response:
            request = flask.request
            try:
                stream = open_stream(
                    route,
                    live,
                    identify,
                    path,
                    request.args,
                    request.headers.get("Last-Event-ID"),
                    expires_at,
                    request.remote_addr,
                )
            except Exception as exc:
                return _error_response(exc)
            # The request context stays while the stream runs: ``identify`` re-checks the caller from it.
            wire = flask.stream_with_context(_wire(stream))
            return flask.Response(wire, status=200, mimetype="text/event-stream", headers=STREAM_HEADERS)

        return serve

    # With the catch-all, OPTIONS goes there too, so that its Allow names only this path's methods.
    catch_all = fallback and bool(prefix.rstrip("/"))
    table = route_table(features)
    for route in table:
        blueprint.add_url_rule(
            _flask_path(route.path),
            endpoint=route.name,
            view_func=view(route),
            methods=[route.method],
            provide_automatic_options=not catch_all,
        )
    for stream_route in STREAM_ROUTES:
        blueprint.add_url_rule(
            _flask_path(stream_route.path),
            endpoint=stream_route.name,
            view_func=stream_view(stream_route),
            methods=["GET"],
            provide_automatic_options=not catch_all,
        )
    _add_document_and_fallback(blueprint, desk, prefix, catch_all, table)
    return blueprint


#: The adapter's own routes beside the table's, for the 405s' ``Allow``.
_OWN_ROUTES = ((OPENAPI_PATH, "GET"),)
#: Every method the catch-all rule answers (with 404, or 405 naming the path's methods).
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def _add_document_and_fallback(
    blueprint: flask.Blueprint, desk: SupportDesk, prefix: str, catch_all: bool, table: Sequence[Route]
) -> None:
    """``{prefix}/openapi.json``, and a catch-all rule (Werkzeug tries it after every more specific rule)."""
    openapi = json.dumps(document(desk.limits, prefix=prefix, routes=table)).encode()

    def serve_document() -> flask.Response:
        return flask.Response(openapi, status=200, content_type=_JSON)

    blueprint.add_url_rule(
        OPENAPI_PATH,
        endpoint="openapi",
        view_func=serve_document,
        methods=["GET"],
        provide_automatic_options=not catch_all,
    )
    if not catch_all:
        return
    # The whole table (features included) beside the adapter's own routes, for the 405s' ``Allow``.
    served = _OWN_ROUTES + tuple((route.path, route.method) for route in table)

    def unknown(unrouted_path: str = "") -> flask.Response:
        status, body, headers = answer_unrouted(flask.request.method, "/" + unrouted_path, served)
        return flask.Response(body, status=status, content_type=_JSON, headers=headers)

    for rule in ("/", "/<path:unrouted_path>"):
        blueprint.add_url_rule(
            rule,
            endpoint=f"unrouted{rule.count('<')}",
            view_func=unknown,
            methods=_ANY_METHOD,
            strict_slashes=False,
            provide_automatic_options=False,
        )


def _wire(stream: EventStream) -> Iterator[bytes]:
    """The stream's bytes; the server closes this generator when the client is gone, which ends the stream."""
    chunks = stream.wire()
    try:
        yield from chunks
    finally:
        chunks.close()


def _error_response(exc: Exception) -> flask.Response:
    status, body = render_error(exc)
    return flask.Response(body, status=status, content_type=_JSON, headers=list(error_headers(exc)))


def _panel_response(served: PanelResponse) -> flask.Response:
    response = flask.Response(served.body, status=served.status, content_type=served.content_type)
    for name, value in served.headers:
        response.headers.add(name, value)
    return response


def panel_blueprint(
    panel: Panel, *, identify: Callable[[], Actor | None] | None = None, name: str = "supportchat_panel"
) -> flask.Blueprint:
    """A Blueprint serving the admin panel at ``panel.path``.

    ``identify`` is the same host hook given to :func:`support_blueprint`;
    without it the panel's own session cookie names the admin.
    """
    blueprint = flask.Blueprint(name, __name__, url_prefix=panel.path)
    read_body = _reader(panel.body_limit)

    def view(route: str) -> Callable[..., flask.Response]:
        def serve(**path: Any) -> flask.Response:
            request = flask.request
            try:
                body = read_body() if request.method == "POST" else b""
            except PayloadTooLarge as exc:
                return _panel_response(panel.error(exc))
            served = panel.handle(
                PanelRequest(
                    method=request.method,
                    route=route,
                    headers=request.headers,  # type: ignore[arg-type]
                    cookies=request.cookies,
                    query=request.args,
                    path_params=path,
                    body=body,
                    secure=request.is_secure,
                    client=request.remote_addr or "",
                ),
                identify,
            )
            return _panel_response(served)

        return serve

    for method, path, route in PANEL_ROUTES:
        blueprint.add_url_rule(_flask_path(path), endpoint=route, view_func=view(route), methods=[method])
    return blueprint


class SupportChat:
    """The Flask extension: ``SupportChat(desk, ...).init_app(app)`` (or ``SupportChat(desk, app=app)``).

    Keyword options are those of :func:`support_blueprint`; with ``panel``
    the app also serves the admin panel.
    """

    def __init__(self, desk: SupportDesk, app: flask.Flask | None = None, **options: Any) -> None:
        self.desk = desk
        #: What the SSE routes stream from; close it when the app stops.
        self.live: LiveEvents = options.pop("live", None) or LiveEvents(desk)
        self.options = {**options, "live": self.live}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        app.register_blueprint(support_blueprint(self.desk, **self.options))
        panel: Panel | None = self.options.get("panel")
        if panel is not None:
            app.register_blueprint(panel_blueprint(panel, identify=self.options.get("identify")))
        app.extensions[EXTENSION_KEY] = self
