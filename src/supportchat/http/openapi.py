"""The OpenAPI document of the route table, built here once for both adapters.

Adapters validate nothing themselves (the desk does, with its own error
format), so the documentation of inputs is generated from the table and the
desk's :class:`~supportchat.rules.Limits` rather than from framework-level
type declarations: a desk with other limits documents those. The Flask
adapter serves :func:`document` as it is; the FastAPI adapter serves it from
``create_app`` and hands the same operation fragments (:func:`operation_extra`)
to FastAPI when the router is mounted in a host app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..rules import Limits
from .envelope import ErrorEnvelope
from .routes import DEFAULT_PREFIX, ROUTES, BodySchema, Param, Route
from .streams import STREAM_ROUTES, StreamRoute

__all__ = [
    "COMMON_ERRORS",
    "ERROR_DESCRIPTIONS",
    "ERROR_HEADERS",
    "OPENAPI_PATH",
    "SECURITY_SCHEME",
    "SECURITY_SCHEME_NAME",
    "document",
    "error_statuses",
    "operation_extra",
]

#: Where both adapters serve the document, relative to the API's prefix.
OPENAPI_PATH = "/openapi.json"

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Unknown ticket (or someone else's), or an id beyond every id",
    409: "Conflict: `ticket_closed`, `invalid_transition`, a reused `client_message_id`",
    413: "Body larger than the limit",
    422: "Invalid field (details name it and the allowed values)",
    429: "Rate limited",
    500: "Internal error",
    503: "Storage unavailable; nothing was written",
}
#: Headers an error response carries, by status (OpenAPI ``headers`` objects).
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "Seconds until the write may be tried again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
#: Every route can answer these.
COMMON_ERRORS = (401, 403, 422, 500, 503)
_BODY_ERRORS = (400, 413)
#: Only writes are rate-limited.
_WRITE_ERRORS = (429,)
_STREAM_ERRORS = (401, 403, 404, 422)

SECURITY_SCHEME_NAME = "HTTPBearer"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An admin token (`sca_…`) or a user JWT (HS256, `sub` = user id).",
}
_SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME_NAME: []}]
#: Routes for machine callers check a shared secret of their own, sent as HTTP Basic credentials.
OWN_SECURITY_SCHEME_NAME = "SharedSecret"
OWN_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "basic",
    "description": "A route's own shared secret as the password (any user name), for callers such as mail providers.",
}
_OWN_SECURITY: list[dict[str, list[str]]] = [{OWN_SECURITY_SCHEME_NAME: []}]


#: Each response model's ``$ref`` into ``components.schemas``.
Refs = dict[Any, dict[str, Any]]


def error_statuses(route: Route) -> tuple[int, ...]:
    statuses = set(COMMON_ERRORS) | set(route.errors)
    if route.body is not None or route.raw_body is not None:
        statuses |= set(_BODY_ERRORS)
    if "{" in route.path:
        statuses.add(404)
    if route.write is not None:
        statuses |= set(_WRITE_ERRORS)
    return tuple(sorted(statuses))


class Documented(Protocol):
    """What the OpenAPI fragments read from a route (a :class:`Route` or a stream route)."""

    @property
    def name(self) -> str: ...

    @property
    def params(self) -> tuple[Param, ...]: ...

    @property
    def body(self) -> BodySchema | None: ...


def _links(route: Documented) -> dict[str, Any]:
    """OpenAPI links from a response naming a ticket to every route about that ticket.

    ``create_ticket`` links to the admin and the user routes alike; other
    routes link within their own audience.
    """
    at = getattr(route, "ticket_at", None)
    if at is None:
        return {}
    audience = getattr(route, "audience", None)
    links: dict[str, Any] = {}
    for target in ROUTES:
        if "{ticket_id}" not in target.path or target is route:
            continue
        if route.name != "create_ticket" and target.audience is not audience:
            continue
        for key, field in (("", "id"), ("_by_number", "ticket_number")):
            parameters = {"ticket_id": f"$response.body#{at}/{field}"}
            if "{user_id}" in target.path:
                parameters["user_id"] = f"$response.body#{at}/user_id"
            links[f"{target.name}{key}"] = {
                "operationId": target.name,
                "parameters": parameters,
                "description": f"`{target.name}` on the ticket this response names (by its {field}).",
            }
    return links


def operation_extra(route: Documented, limits: Limits) -> dict[str, Any]:
    """The ``parameters``, ``requestBody`` and links of a route's OpenAPI operation."""
    extra: dict[str, Any] = {
        "parameters": [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required,
                "description": p.description,
                "schema": p.schema_for(limits),
            }
            for p in route.params
        ]
    }
    if route.body is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {getattr(route, "body_media_type", "application/json"): {"schema": route.body(limits)}},
        }
    raw = route.raw_body if isinstance(route, Route) else None
    if raw is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {raw: {"schema": {"type": "string", "contentMediaType": raw}}},
        }
    links = _links(route)
    if links:
        extra["responses"] = {"200": {"links": links}}
    return extra


def _error_response(status: int, refs: Refs) -> dict[str, Any]:
    response = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": refs[ErrorEnvelope]}},
    }
    if status in ERROR_HEADERS:
        response["headers"] = ERROR_HEADERS[status]
    return response


def _operation(route: Route, limits: Limits, refs: Refs) -> dict[str, Any]:
    extra = operation_extra(route, limits)
    ok = {
        "description": "Success",
        "content": route.render.content or {"application/json": {"schema": refs[route.render.envelope]}},
        **extra.pop("responses", {}).get("200", {}),
    }
    return {
        "tags": ["support", route.audience.value],
        "summary": route.summary,
        "operationId": route.name,
        **extra,
        "responses": {"200": ok, **{str(s): _error_response(s, refs) for s in error_statuses(route)}},
        "security": _SECURITY if route.authenticate is None else _OWN_SECURITY,
    }


def _stream_operation(route: StreamRoute, limits: Limits, refs: Refs) -> dict[str, Any]:
    return {
        "tags": ["support", route.audience.value],
        "summary": route.summary,
        "operationId": route.name,
        **operation_extra(route, limits),
        "responses": {
            "200": {"description": "A Server-Sent-Events stream", "content": {"text/event-stream": {}}},
            **{str(s): _error_response(s, refs) for s in _STREAM_ERRORS},
        },
        "security": _SECURITY,
    }


def document(
    limits: Limits | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    title: str = "supportchat",
    version: str | None = None,
    routes: Sequence[Route] = ROUTES,
) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of the API under ``prefix``, for a desk with ``limits``.

    ``routes`` is the table the adapter mounts (``route_table(features)``), so
    a feature's routes are documented exactly when they are served.
    """
    from .. import __version__

    limits = limits or Limits()
    models: list[type[BaseModel]] = [ErrorEnvelope, *dict.fromkeys(r.render.envelope for r in routes)]
    keys, definitions = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    refs = {model: ref for (model, _), ref in keys.items()}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.full_path(prefix), {})[route.method.lower()] = _operation(route, limits, refs)
    for stream in STREAM_ROUTES:
        full = prefix.rstrip("/") + stream.path
        paths.setdefault(full, {})["get"] = _stream_operation(stream, limits, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version or __version__},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {SECURITY_SCHEME_NAME: SECURITY_SCHEME}
            | ({OWN_SECURITY_SCHEME_NAME: OWN_SECURITY_SCHEME} if any(r.authenticate for r in routes) else {}),
        },
    }
