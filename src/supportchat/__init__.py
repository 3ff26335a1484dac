"""supportchat: an embeddable support desk for Flask and FastAPI apps.

The public surface is what ``__all__`` lists. Framework adapters live in
``supportchat.adapters`` and are imported only by the host app, so importing
this package pulls in no web framework, no Supabase client and no CLI, and
no store backend either: :class:`InMemoryStore` is imported on first use, so
that ``import supportchat.desk`` loads nothing of :mod:`supportchat.stores`.
"""

from typing import TYPE_CHECKING, Any

from .desk import UNSET, SupportDesk
from .errors import (
    AlreadyMerged,
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    DifferentOwners,
    Forbidden,
    InvalidTransition,
    MergeIntoItself,
    NotAuthenticated,
    PayloadTooLarge,
    RateLimited,
    RatingNotOpen,
    StorageError,
    StorageUnavailable,
    SupportChatError,
    TicketClosed,
    TicketNotFound,
    ValidationError,
)
from .events import Event
from .models import (
    Actor,
    ActorKind,
    Category,
    EventType,
    Message,
    MessageType,
    Page,
    Priority,
    Rating,
    SenderType,
    Statistics,
    Ticket,
    TicketChange,
    TicketStatus,
    TicketThread,
)
from .rules import Limits, sanitize
from .store import Store

if TYPE_CHECKING:
    from .stores import InMemoryStore

__version__ = "0.1.0"

__all__ = [
    "UNSET",
    "Actor",
    "ActorKind",
    "AlreadyMerged",
    "BadRequest",
    "Category",
    "ConcurrentUpdate",
    "Conflict",
    "DifferentOwners",
    "Event",
    "EventType",
    "Forbidden",
    "InMemoryStore",
    "InvalidTransition",
    "Limits",
    "MergeIntoItself",
    "Message",
    "MessageType",
    "NotAuthenticated",
    "Page",
    "PayloadTooLarge",
    "Priority",
    "RateLimited",
    "Rating",
    "RatingNotOpen",
    "SenderType",
    "Statistics",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "SupportChatError",
    "SupportDesk",
    "Ticket",
    "TicketChange",
    "TicketClosed",
    "TicketNotFound",
    "TicketStatus",
    "TicketThread",
    "ValidationError",
    "__version__",
    "sanitize",
]


def __getattr__(name: str) -> Any:
    if name == "InMemoryStore":
        from .stores import InMemoryStore

        return InMemoryStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
