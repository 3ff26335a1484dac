"""The JSON envelope every API response travels in, rendered in one place.

Success: ``{"success": true, "data": …}`` (lists add ``"meta"``); failure:
``{"success": false, "error": {"code", "message", "details"}}`` with the HTTP
status that :mod:`supportchat.errors` assigns to the error. Payloads are
serialised by pydantic straight to JSON bytes with serialisers built once,
when a route is defined, never per request.
"""

from __future__ import annotations

import logging
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

from ..errors import MethodNotAllowed, RateLimited, StorageError, SupportChatError
from ..models import Page
from ..outages import OutageLog

__all__ = [
    "DataEnvelope",
    "DataRenderer",
    "ErrorBody",
    "ErrorEnvelope",
    "Headers",
    "ListEnvelope",
    "PageMeta",
    "PageRenderer",
    "Rendered",
    "Renderer",
    "error_headers",
    "render_error",
]

T = TypeVar("T")

logger = logging.getLogger("supportchat.http")
#: A storage outage fails every request alike: one record per error code every 10 s, with the count.
storage_outages = OutageLog(logger)

Rendered = tuple[int, bytes]


class ErrorBody(BaseModel):
    """What went wrong: a stable machine-readable ``code``, a human ``message`` and ``details``."""

    code: str
    message: str
    #: For an invalid field: ``{"field": …, "allowed": [...]}`` (``allowed`` when enumerable).
    details: Any = None


class ErrorEnvelope(BaseModel):
    """Every failed request's body."""

    model_config = ConfigDict(title="ErrorEnvelope")

    success: Literal[False]
    error: ErrorBody


class PageMeta(BaseModel):
    """Where a page of results stands in the whole list."""

    page: int
    per_page: int
    total: int


class DataEnvelope(BaseModel, Generic[T]):
    """A successful response carrying one value."""

    success: Literal[True]
    data: T


class ListEnvelope(BaseModel, Generic[T]):
    """A successful response carrying one page of a list."""

    success: Literal[True]
    data: list[T]
    meta: PageMeta


class Renderer:
    """Turns a handler's result into the bytes of a successful response."""

    #: The envelope model describing the output, for OpenAPI.
    envelope: type[BaseModel]
    #: The success response's OpenAPI ``content`` when it is not the JSON envelope (raw bytes, say).
    content: dict[str, Any] | None = None

    def __call__(self, result: Any) -> bytes:
        raise NotImplementedError

    def headers(self, result: Any) -> Headers:
        """Headers the response needs beyond the JSON content type (a CSV renderer names its own)."""
        return ()


class DataRenderer(Renderer):
    """``{"success": true, "data": <result>}`` for results of type ``data_type``."""

    def __init__(self, data_type: Any) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(data_type)
        self.envelope = DataEnvelope[data_type]

    def __call__(self, result: Any) -> bytes:
        # Concatenating bytes avoids building an envelope object per response.
        return b'{"success":true,"data":' + self._adapter.dump_json(result) + b"}"


class PageRenderer(Renderer):
    """``{"success": true, "data": [...], "meta": {page, per_page, total}}`` for a :class:`Page`."""

    def __init__(self, item_type: Any) -> None:
        self._items: TypeAdapter[Any] = TypeAdapter(list[item_type])
        self.envelope = ListEnvelope[item_type]

    def __call__(self, result: Any) -> bytes:
        page: Page[Any] = result
        meta = b'{"page":%d,"per_page":%d,"total":%d}' % (page.page, page.per_page, page.total)
        return b'{"success":true,"data":' + self._items.dump_json(page.items) + b',"meta":' + meta + b"}"


_ERROR = TypeAdapter(ErrorEnvelope)
Headers = tuple[tuple[str, str], ...]


def error_headers(exc: BaseException) -> Headers:
    """The headers an error's response carries besides its body: ``Allow`` for a 405, ``Retry-After`` for a 429."""
    if isinstance(exc, MethodNotAllowed):
        return (("Allow", ", ".join(exc.allowed)),)
    if isinstance(exc, RateLimited) and isinstance(exc.details, dict) and "retry_after" in exc.details:
        return (("Retry-After", str(exc.details["retry_after"])),)
    return ()


def render_error(exc: BaseException) -> Rendered:
    """The status and body for any exception; the only place errors become responses.

    A :class:`SupportChatError` answers with its own status and code; a
    storage failure is logged once per interval (:data:`storage_outages`).
    Anything else is a bug or an outage nobody anticipated: it is logged with
    its stack trace and the client gets a bare ``internal_error``.
    """
    if isinstance(exc, SupportChatError):
        status, body = exc.status, ErrorBody(code=exc.code, message=exc.message, details=exc.details)
        if isinstance(exc, StorageError):
            storage_outages.report(exc.code, f"supportchat request failed: {exc.code}", exc)
        elif status >= 500:
            logger.error("supportchat request failed: %s", exc.code, exc_info=exc)
    else:
        logger.exception("unexpected error while serving a supportchat request", exc_info=exc)
        status, body = 500, ErrorBody(code="internal_error", message="internal server error")
    return status, _ERROR.dump_json(ErrorEnvelope(success=False, error=body), fallback=str)
