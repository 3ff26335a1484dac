"""OpenAPI fragments for the route table (parameters, request bodies, error statuses).

Adapters validate nothing themselves (the desk does, with its own error
format), so the documentation of inputs is generated here from the table
rather than from framework-level type declarations.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from .routes import Param, Route

__all__ = ["COMMON_ERRORS", "ERROR_DESCRIPTIONS", "ERROR_HEADERS", "error_statuses", "operation_extra"]

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Unknown ticket (or someone else's)",
    409: "Conflict: `ticket_closed`, `invalid_transition`",
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


def error_statuses(route: Route) -> tuple[int, ...]:
    statuses = set(COMMON_ERRORS) | set(route.errors)
    if route.body is not None:
        statuses |= set(_BODY_ERRORS)
    if route.write is not None:
        statuses |= set(_WRITE_ERRORS)
    return tuple(sorted(statuses))


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    """``schema`` with every local ``$ref`` replaced by its definition (the models are not recursive)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            resolved = _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
            return {**resolved, **{k: _inline(v, definitions) for k, v in schema.items() if k != "$ref"}}
        return {k: _inline(v, definitions) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, definitions) for item in schema]
    return schema


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A self-contained JSON Schema of a request body model."""
    schema = model.model_json_schema(mode="validation")
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined


class Documented(Protocol):
    """What the OpenAPI fragments read from a route (a :class:`Route` or a stream route)."""

    @property
    def params(self) -> tuple[Param, ...]: ...

    @property
    def body(self) -> type[BaseModel] | None: ...


def operation_extra(route: Documented) -> dict[str, Any]:
    """The ``parameters`` and ``requestBody`` of a route's OpenAPI operation."""
    extra: dict[str, Any] = {
        "parameters": [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
            }
            for p in route.params
        ]
    }
    if route.body is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema(route.body)}},
        }
    return extra
