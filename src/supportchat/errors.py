"""The exceptions supportchat raises, and the HTTP status each one means.

Every error carries a stable machine-readable ``code`` and the HTTP ``status``
an adapter must answer with. The status is decided here, once, so that the
Flask and FastAPI adapters (and any host app) render identical responses::

    SupportChatError                    500 internal_error
    ├── BadRequest                      400 malformed_request
    │   └── PayloadTooLarge             413 payload_too_large
    ├── ValidationError                 422 invalid_field
    ├── NotAuthenticated                401 not_authenticated
    ├── Forbidden                       403 forbidden
    ├── NotFound                        404 not_found         (no such path, or an id out of range)
    │   └── TicketNotFound              404 ticket_not_found
    ├── MethodNotAllowed                405 method_not_allowed (``allowed`` becomes the Allow header)
    ├── Conflict                        409 conflict
    │   ├── TicketClosed                409 ticket_closed
    │   ├── InvalidTransition           409 invalid_transition
    │   ├── ConcurrentUpdate            409 concurrent_update
    │   ├── AssigneeChanged             409 assignee_changed
    │   ├── AgentUnavailable            409 agent_unavailable
    │   ├── AgentAtCapacity             409 agent_at_capacity
    │   ├── RatingNotOpen               409 rating_not_open   (spec §12)
    │   ├── DifferentOwners             409 different_owners  (spec §12)
    │   ├── AlreadyMerged               409 already_merged
    │   └── MergeIntoItself             409 merge_into_itself
    ├── RateLimited                     429 rate_limited
    ├── ExtensionUnavailable            500 extension_unavailable (host configuration)
    └── StorageError                    500 storage_error
        ├── StorageUnavailable          503 storage_unavailable   (retryable)
        ├── TicketNumberTaken           500 ticket_number_taken   (desk retries)
        ├── TicketIdTaken               500 ticket_id_taken       (an explicit id is held)
        ├── DuplicateMessage            500 duplicate_message     (desk resolves)
        └── DuplicateRating             500 duplicate_rating      (desk answers rating_not_open)

Only :class:`StorageUnavailable` is *retryable*: a failure of the storage
itself, after which nothing was written. Everything else is the caller's fault
or a definite answer and must never be retried or trigger a fallback store.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = [
    "AgentAtCapacity",
    "AgentUnavailable",
    "AlreadyMerged",
    "AssigneeChanged",
    "BadRequest",
    "ConcurrentUpdate",
    "Conflict",
    "DifferentOwners",
    "DuplicateMessage",
    "DuplicateRating",
    "ExtensionUnavailable",
    "Forbidden",
    "InvalidTransition",
    "MergeIntoItself",
    "MethodNotAllowed",
    "NotAuthenticated",
    "NotFound",
    "NoteIdTaken",
    "PayloadTooLarge",
    "RateLimited",
    "RatingNotOpen",
    "StorageError",
    "StorageUnavailable",
    "SupportChatError",
    "TicketClosed",
    "TicketIdTaken",
    "TicketNotFound",
    "TicketNumberTaken",
    "ValidationError",
]


class SupportChatError(Exception):
    """Base of every error supportchat raises on purpose."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the HTTP envelope."""
        return {"code": self.code, "message": self.message, "details": self.details}


class BadRequest(SupportChatError):
    """The request could not be read at all (for instance malformed JSON)."""

    code = "malformed_request"
    status = 400


class PayloadTooLarge(BadRequest):
    """The request body is larger than the configured limit."""

    code = "payload_too_large"
    status = 413


class ValidationError(SupportChatError):
    """A field holds a value the rules do not allow; nothing was written."""

    code = "invalid_field"
    status = 422

    def __init__(self, field: str, message: str, *, allowed: Iterable[str] | None = None) -> None:
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None
        details: dict[str, Any] = {"field": field}
        if self.allowed is not None:
            details["allowed"] = self.allowed
        super().__init__(f"{field}: {message}", details=details)


class NotAuthenticated(SupportChatError):
    """No valid credentials were presented."""

    code = "not_authenticated"
    status = 401


class Forbidden(SupportChatError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403


class NotFound(SupportChatError):
    """Nothing answers at this path (an unknown route, or an id no resource can have)."""

    code = "not_found"
    status = 404


class TicketNotFound(NotFound):
    """No such ticket, or one the caller may not see (existence must not leak)."""

    code = "ticket_not_found"


class MethodNotAllowed(SupportChatError):
    """The path exists but not with this method; ``allowed`` lists the methods it has."""

    code = "method_not_allowed"
    status = 405

    def __init__(self, method: str, allowed: Iterable[str]) -> None:
        self.allowed = sorted(allowed)
        super().__init__(f"{method} is not allowed here", details={"allowed": self.allowed})


class Conflict(SupportChatError):
    """The request clashes with the ticket's current state."""

    code = "conflict"
    status = 409


class TicketClosed(Conflict):
    """A closed ticket accepts no messages and no changes of status."""

    code = "ticket_closed"


class InvalidTransition(Conflict):
    """The lifecycle does not allow this change of status."""

    code = "invalid_transition"


class ConcurrentUpdate(Conflict):
    """The ticket changed between reading and writing it (optimistic check failed).

    The desk retries internally; callers only see it if a ticket is under
    sustained contention.
    """

    code = "concurrent_update"


class AssigneeChanged(Conflict):
    """The ticket is no longer assigned to whom the caller saw (someone else assigned it meanwhile)."""

    code = "assignee_changed"


class AgentUnavailable(Conflict):
    """The agent does not take tickets now (away, offline, off the roster); an admin may force it."""

    code = "agent_unavailable"


class AgentAtCapacity(Conflict):
    """The agent already holds as many open tickets as their capacity; an admin may force it."""

    code = "agent_at_capacity"


class RatingNotOpen(Conflict):
    """The ticket cannot be rated now (spec §12): not resolved or closed, or rated in this resolution already.

    ``details["reason"]`` says which: ``not_resolved`` or ``already_rated``.
    """

    code = "rating_not_open"


class DifferentOwners(Conflict):
    """Two tickets of different users cannot be merged (spec §12)."""

    code = "different_owners"


class AlreadyMerged(Conflict):
    """The ticket was merged into another already: it cannot be merged, nor merged into."""

    code = "already_merged"


class MergeIntoItself(Conflict):
    """A ticket cannot be merged into itself."""

    code = "merge_into_itself"


class RateLimited(SupportChatError):
    """Too many requests from this caller."""

    code = "rate_limited"
    status = 429


class ExtensionUnavailable(SupportChatError):
    """The store in use has no implementation of a capability's extension.

    A configuration error of the host (a capability enabled over a store it
    does not support), not a client's: never retried.
    """

    code = "extension_unavailable"


class StorageError(SupportChatError):
    """The storage refused an operation for a reason that is not transient."""

    code = "storage_error"
    status = 500


class StorageUnavailable(StorageError):
    """The storage cannot be reached or did not answer; nothing was written.

    The only retryable error: :class:`~supportchat.stores.FallbackStore`
    retries it and fails over on it.
    """

    code = "storage_unavailable"
    status = 503
    retryable = True


class TicketNumberTaken(StorageError):
    """A ticket with this number already exists (the desk draws another)."""

    code = "ticket_number_taken"


class TicketIdTaken(StorageError):
    """A ticket with this id already exists (only an insert that names its id can meet it).

    Replaying or copying stores and imports keeping ids give ids; the desk
    never does, so unlike :class:`TicketNumberTaken` it is never retried.
    """

    code = "ticket_id_taken"


class NoteIdTaken(StorageError):
    """A note with this id or unique id already exists (a replayed or copied note: never the desk's own)."""

    code = "note_id_taken"


class DuplicateMessage(StorageError):
    """A message with this unique id already exists (an idempotent retry)."""

    code = "duplicate_message"

    def __init__(self, uid: str) -> None:
        super().__init__(f"a message with uid {uid!r} already exists", details={"uid": uid})
        self.uid = uid


class DuplicateRating(StorageError):
    """The store holds a rating for this ticket's resolution cycle already (the desk answers ``rating_not_open``)."""

    code = "duplicate_rating"

    def __init__(self, ticket_id: int, cycle: int) -> None:
        super().__init__(
            f"ticket {ticket_id} is rated in cycle {cycle} already", details={"ticket_id": ticket_id, "cycle": cycle}
        )
        self.ticket_id = ticket_id
        self.cycle = cycle
