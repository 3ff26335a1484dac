"""FastAPI adapter: the support desk's API as an ``APIRouter``, or a whole app.

::

    from supportchat.adapters.fastapi import support_router

    app.include_router(support_router(desk, identify=current_actor))

``identify`` is an ordinary FastAPI dependency returning an
:class:`~supportchat.models.Actor` or ``None``: it may itself depend on the
host's session, OAuth2 scheme or database. Without it, the standalone
:class:`~supportchat.http.auth.TokenAuthenticator` reads the
``Authorization`` header (documented as a bearer security scheme).

The desk is synchronous, so each request's work runs in the threadpool.
"""

# No "from __future__ import annotations": FastAPI must resolve the local dependencies in the signatures.

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

try:
    from anyio import from_thread
    from fastapi import APIRouter, Depends, FastAPI, Request, Security
    from fastapi.responses import Response, StreamingResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("supportchat.adapters.fastapi needs FastAPI: pip install 'supportchat[fastapi]'") from exc

from ..desk import SupportDesk
from ..errors import BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, SupportChatError
from ..features import Feature
from ..http.auth import Authenticator, TokenAuthenticator, credential_expiry
from ..http.dispatch import Reply, dispatch, too_large
from ..http.envelope import ErrorEnvelope, error_headers, render_error
from ..http.fallback import answer_unrouted
from ..http.openapi import (
    ERROR_DESCRIPTIONS,
    ERROR_HEADERS,
    OPENAPI_PATH,
    SECURITY_SCHEME,
    document,
    error_statuses,
    operation_extra,
)
from ..http.ratelimit import RateLimiter
from ..http.raw import RawRequest
from ..http.routes import DEFAULT_PREFIX, Route, route_table
from ..http.streams import STREAM_HEADERS, STREAM_ROUTES, StreamRoute, open_stream
from ..models import Actor
from ..panel import PANEL_ROUTES, Panel, PanelRequest, PanelResponse
from ..realtime import EventStream, LiveEvents
from ..realtime.frames import DIRECT_WRITE
from ..stores import InMemoryStore

__all__ = ["create_app", "panel_router", "support_router"]

_JSON = "application/json"
_bearer = HTTPBearer(auto_error=False, description=SECURITY_SCHEME["description"])
#: Every method the catch-all route answers (with 404, or 405 naming the path's methods).
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

Identity = Callable[[], Actor | None]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _BodyReader:
    """The request body read from a worker thread: the chunks are awaited on the event loop as they arrive.

    One trip to the loop gathers chunks up to the size asked for, so a large
    upload costs a few trips per megabyte, not one per network read.
    """

    def __init__(self, request: Request) -> None:
        self._chunks = request.stream().__aiter__()
        self._pending = b""
        self._done = False

    async def _gather(self, wanted: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while size < wanted:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)

    def read(self, size: int) -> bytes:
        if len(self._pending) < size and not self._done:
            try:
                self._pending += from_thread.run(self._gather, size - len(self._pending))
            except ClientDisconnect:
                raise BadRequest("the client disconnected before sending the whole body") from None
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


def _raw_request(request: Request) -> RawRequest:
    declared = request.headers.get("content-length")
    length = int(declared) if declared is not None and declared.isdecimal() else None
    return RawRequest({k.lower(): v for k, v in request.headers.items()}, _BodyReader(request).read, length)


def _response(reply: Reply) -> Response:
    if reply.chunks is None:
        return Response(
            reply.body, status_code=reply.status, media_type=reply.content_type, headers=dict(reply.headers)
        )
    # A sync iterable: Starlette takes each chunk in the threadpool, as FileResponse reads a file.
    return StreamingResponse(
        reply.chunks, status_code=reply.status, media_type=reply.content_type, headers=dict(reply.headers)
    )


def _identity_dependency(
    identify: Callable[..., Any] | None, authenticator: Authenticator | None
) -> Callable[..., Any]:
    """A dependency giving the endpoint a thunk that names the caller.

    It is ``async`` because it does no work itself: a sync dependency would
    cost every request a trip through the threadpool.

    The standalone authenticator is called lazily, inside the threadpool and
    inside :func:`dispatch`, so that a slow or failing token registry is
    handled like any other storage call.
    """
    if identify is not None:
        host_identify = identify

        async def from_host(actor: Annotated[Actor | None, Depends(host_identify)]) -> Identity:
            return lambda: actor

        return from_host

    auth = authenticator or TokenAuthenticator.from_env()

    async def from_token(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Identity:
        return lambda: auth.identify(request)

    return from_token


def support_router(
    desk: SupportDesk,
    *,
    identify: Callable[..., Any] | None = None,
    authenticator: Authenticator | None = None,
    prefix: str = DEFAULT_PREFIX,
    max_body_bytes: int | None = None,
    tags: list[str] | None = None,
    panel: Panel | None = None,
    live: LiveEvents | None = None,
    rate_limiter: RateLimiter | None = None,
    features: Sequence[Feature] = (),
    fallback: bool = True,
) -> APIRouter:
    """An ``APIRouter`` serving every API route under ``prefix``.

    ``identify`` is a FastAPI dependency returning the current
    :class:`~supportchat.models.Actor` or ``None``; otherwise
    ``authenticator`` (default: bearer tokens, user JWTs signed with
    ``SUPPORTCHAT_SECRET``) reads the request, followed by ``panel``'s
    session cookie when a panel is given. The SSE routes stream from
    ``live`` (by default a new :class:`LiveEvents` on ``desk``; pass your
    own to choose its options and close it at shutdown). Streams wait on
    the event loop, so an idle client holds no thread. Writes are
    rate-limited by ``rate_limiter`` (default: the default
    :class:`~supportchat.http.ratelimit.RateLimits`, counted in this
    process's memory), per caller and per ``request.client.host``.
    ``features`` add their routes to the table (:mod:`supportchat.features`),
    and so to the OpenAPI document.

    Bodies are limited to ``max_body_bytes`` (default: the desk's
    ``limits.body_bytes``). ``{prefix}/openapi.json`` serves the API's
    OpenAPI document; with ``fallback`` (the default) any other path or
    method under the prefix answers 404 or 405 (with ``Allow``) in the error
    envelope: mount other routes under the same prefix before this router.
    """
    limiter = rate_limiter or RateLimiter()
    body_limit = desk.limits.body_bytes if max_body_bytes is None else max_body_bytes
    if identify is None:
        authenticator = authenticator or TokenAuthenticator.from_env()
        if panel is not None:
            authenticator = panel.api_authenticator(authenticator)
    live = live or LiveEvents(desk)
    router = APIRouter(prefix=prefix.rstrip("/"), tags=list(tags or ["support"]))
    caller = _identity_dependency(identify, authenticator)

    def endpoint(route: Route) -> Callable[..., Any]:
        async def serve(request: Request, who: Annotated[Identity, Depends(caller)]) -> Response:
            read_body: Callable[[], bytes]
            if route.raw or (route.body is None and route.raw_body is None):
                read_body = bytes
            else:
                try:
                    raw = await _read_body(request, body_limit)
                    read_body = lambda: raw  # noqa: E731
                except PayloadTooLarge as exc:
                    read_body = _raiser(exc)
                except ClientDisconnect:
                    read_body = _raiser(BadRequest("the client disconnected before sending the whole body"))
            reply = await run_in_threadpool(
                dispatch,
                route,
                desk,
                who,
                request.path_params,
                request.query_params,
                read_body,
                limit=body_limit,
                rate_limiter=limiter,
                client=request.client.host if request.client else "",
                raw=lambda: _raw_request(request),
                headers=request.headers,
            )
            return _response(reply)

        serve.__name__ = route.name
        return serve

    table = route_table(features)
    for route in table:
        router.add_api_route(
            route.path,
            endpoint(route),
            methods=[route.method],
            name=f"supportchat_{route.name}",
            operation_id=route.name,
            summary=route.summary,
            tags=[route.audience.value],
            response_class=Response,
            responses={
                200: {"model": route.render.envelope, "description": "Success"},
                **{
                    s: {
                        "model": ErrorEnvelope,
                        "description": ERROR_DESCRIPTIONS[s],
                        **({"headers": ERROR_HEADERS[s]} if s in ERROR_HEADERS else {}),
                    }
                    for s in error_statuses(route)
                },
            },
            openapi_extra=operation_extra(route, desk.limits),
        )

    def stream_endpoint(route: StreamRoute) -> Callable[..., Any]:
        async def serve(request: Request, who: Annotated[Identity, Depends(caller)]) -> Response:
            # A host's dependency is solved once per request, so only the standalone credentials can be
            # re-checked while the stream runs (``who`` authenticates the request anew each call).
            expires_at = None
            if authenticator is not None and identify is None:
                auth = authenticator
                expires_at = lambda: credential_expiry(auth, request)  # noqa: E731
            try:
                stream = await run_in_threadpool(
                    open_stream,
                    route,
                    live,
                    who,
                    request.path_params,
                    request.query_params,
                    request.headers.get("last-event-id"),
                    expires_at,
                    request.client.host if request.client else None,
                )
            except Exception as exc:
                return _error_response(exc)
            return _LiveResponse(stream)

        serve.__name__ = route.name
        return serve

    for stream_route in STREAM_ROUTES:
        router.add_api_route(
            stream_route.path,
            stream_endpoint(stream_route),
            methods=["GET"],
            name=f"supportchat_{stream_route.name}",
            operation_id=stream_route.name,
            summary=stream_route.summary,
            tags=[stream_route.audience.value],
            response_class=StreamingResponse,
            responses={
                200: {"description": "A Server-Sent-Events stream", "content": {"text/event-stream": {}}},
                **{s: {"model": ErrorEnvelope, "description": ERROR_DESCRIPTIONS[s]} for s in (401, 403, 422)},
            },
            openapi_extra=operation_extra(stream_route, desk.limits),
        )
    _add_document_and_fallback(router, desk, prefix, fallback, table)
    return router


def _add_document_and_fallback(
    router: APIRouter, desk: SupportDesk, prefix: str, fallback: bool, table: Sequence[Route]
) -> None:
    """``{prefix}/openapi.json``, then (last, so it only takes what nothing else did) the catch-all."""
    openapi = document(desk.limits, prefix=prefix, routes=table)

    async def serve_document() -> Response:
        return Response(json.dumps(openapi).encode(), media_type=_JSON)

    router.add_api_route(OPENAPI_PATH, serve_document, methods=["GET"], include_in_schema=False)
    if not fallback:
        return
    # The whole table (features included) beside the adapter's own routes, for the 405s' ``Allow``.
    served = _OWN_ROUTES + tuple((route.path, route.method) for route in table)

    async def unknown(request: Request, unrouted_path: str) -> Response:
        status, body, headers = answer_unrouted(request.method, "/" + unrouted_path, served)
        return Response(body, status_code=status, media_type=_JSON if body else None, headers=dict(headers))

    router.add_api_route("/{unrouted_path:path}", unknown, methods=_ANY_METHOD, include_in_schema=False)


#: The adapter's own routes beside the table's, for the 405s' ``Allow``.
_OWN_ROUTES = ((OPENAPI_PATH, "GET"),)


def _error_response(exc: Exception) -> Response:
    status, body = render_error(exc)
    response = Response(body, status_code=status, media_type=_JSON)
    for name, value in error_headers(exc):
        response.headers[name] = value
    return response


def _panel_response(served: PanelResponse) -> Response:
    response = Response(served.body, status_code=served.status, media_type=served.content_type)
    for name, value in served.headers:
        response.headers.append(name, value)
    return response


async def _serve_panel(panel: Panel, route: str, request: Request, identify: Identity | None) -> Response:
    try:
        body = await _read_body(request, panel.body_limit) if request.method == "POST" else b""
    except PayloadTooLarge as exc:
        return _panel_response(panel.error(exc))
    panel_request = PanelRequest(
        method=request.method,
        route=route,
        headers=request.headers,
        cookies=request.cookies,
        query=request.query_params,
        path_params=request.path_params,
        body=body,
        secure=request.url.scheme == "https",
        client=request.client.host if request.client else "",
    )
    return _panel_response(await run_in_threadpool(panel.handle, panel_request, identify))


def panel_router(panel: Panel, *, identify: Callable[..., Any] | None = None) -> APIRouter:
    """An ``APIRouter`` serving the admin panel at ``panel.path``.

    ``identify`` is the same host dependency given to :func:`support_router`;
    without it the panel's own session cookie names the admin.
    """
    router = APIRouter(prefix=panel.path, include_in_schema=False)

    def endpoint(route: str) -> Callable[..., Any]:
        if identify is not None:
            host_identify = identify

            async def from_host(request: Request, actor: Annotated[Actor | None, Depends(host_identify)]) -> Response:
                return await _serve_panel(panel, route, request, lambda: actor)

            return from_host

        async def standalone(request: Request) -> Response:
            return await _serve_panel(panel, route, request, None)

        return standalone

    for method, path, route in PANEL_ROUTES:
        router.add_api_route(path, endpoint(route), methods=[method], name=f"supportchat_panel_{route}")
    return router


def _raiser(exc: SupportChatError) -> Callable[[], bytes]:
    def read() -> bytes:
        raise exc

    return read


async def _framework_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods outside the prefix answer in the API's envelope too (standalone app)."""
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    headers = getattr(exc, "headers", None) or {}
    error: Exception = exc
    if status == 404:
        error = NotFound("no such path", details={"path": request.url.path[:200]})
    elif status == 405:
        error = MethodNotAllowed(request.method, [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()])
    elif isinstance(exc, StarletteHTTPException):
        error = _HTTPError(status, str(exc.detail))
    return _error_response(error)


class _HTTPError(SupportChatError):
    """Another status Starlette itself decided on, rendered in the envelope with that status."""

    code = "http_error"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    return _error_response(exc)


class _LiveResponse(StreamingResponse):
    """A live stream's response: written by the broker itself where the server offers a direct write.

    Under a server with the :data:`~supportchat.realtime.frames.DIRECT_WRITE`
    extension (``supportchat serve``, :mod:`supportchat.adapters.uvicorn`)
    the stream's task sends the headers and whatever it must send itself
    (catch-ups), and the broker writes the rest to the connection; the
    server's writer tells the stream when its client leaves. Elsewhere, a
    plain streaming response of the stream's bytes, whatever is ready in one
    chunk: one write per wake-up, not per frame.
    """

    def __init__(self, stream: EventStream) -> None:
        super().__init__(stream.awire(), media_type="text/event-stream", headers=STREAM_HEADERS)
        self.stream = stream

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        direct = scope.get("extensions", {}).get(DIRECT_WRITE)
        if direct is None:
            await super().__call__(scope, receive, send)
            return
        await self.body_iterator.aclose()  # type: ignore[attr-defined]  # never started: nothing to release
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})

        async def body(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        await self.stream.serve(body, direct)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def create_app(
    desk: SupportDesk | None = None,
    *,
    title: str = "supportchat",
    on_startup: Sequence[Callable[[], object]] = (),
    on_shutdown: Sequence[Callable[[], object]] = (),
    **options: Any,
) -> FastAPI:
    """A FastAPI app serving the desk (an in-memory one if none is given).

    Keyword options are those of :func:`support_router`; with ``panel`` the
    app also serves the admin panel. A :class:`LiveEvents` the app creates
    itself is closed at shutdown, and then each of ``on_shutdown`` is called
    (for instance to close the store the caller opened for the app); each of
    ``on_startup`` is called when the app starts serving (in the serving
    process, so a background worker started there runs where the app does).
    """
    from .. import __version__

    desk = desk or SupportDesk(InMemoryStore())
    owned = options.get("live") is None
    live = options["live"] = options.get("live") or LiveEvents(desk)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start in on_startup:
            await run_in_threadpool(start)
        yield
        if owned:
            # In a worker thread: the streams it waits for end on this loop.
            await run_in_threadpool(live.close)
        for close in on_shutdown:
            await run_in_threadpool(close)

    app = FastAPI(title=title, version=__version__, lifespan=lifespan)
    app.include_router(support_router(desk, **options))
    openapi = document(
        desk.limits,
        prefix=options.get("prefix", DEFAULT_PREFIX),
        title=title,
        routes=route_table(options.get("features", ())),
    )
    # The app's document is the table's own, exactly what {prefix}/openapi.json serves.
    app.openapi = lambda: openapi  # type: ignore[method-assign]
    panel: Panel | None = options.get("panel")
    if panel is not None:
        app.include_router(panel_router(panel, identify=options.get("identify")))
    app.add_exception_handler(StarletteHTTPException, _framework_error)
    app.add_exception_handler(Exception, _unexpected_error)
    return app
