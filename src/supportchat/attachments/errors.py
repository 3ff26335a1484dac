"""The attachments' errors: a refused file (422 ``invalid_file``) and an expired URL (401 ``url_expired``)."""

from __future__ import annotations

from typing import Any

from ..errors import NotAuthenticated, NotFound, SupportChatError

__all__ = ["AttachmentNotFound", "InvalidFile", "UrlExpired"]


class InvalidFile(SupportChatError):
    """The upload is not a file the desk accepts; ``details.reason`` says why. Nothing was stored."""

    code = "invalid_file"
    status = 422

    def __init__(self, reason: str, message: str, **details: Any) -> None:
        super().__init__(f"file: {message}", details={"field": "file", "reason": reason, **details})
        self.reason = reason


class AttachmentNotFound(NotFound):
    """No such attachment, or one the caller may not see (existence must not leak)."""

    code = "attachment_not_found"


class UrlExpired(NotAuthenticated):
    """A signed URL that was valid and has run out: read the message or attachment again for a fresh one."""

    code = "url_expired"
