"""Storage backends. Every backend implements :class:`Store`."""

from .base import Store, TicketChanges
from .fallback import FallbackState, FallbackStore, IdRange, Journal, ReplayReport
from .memory import InMemoryStore

__all__ = [
    "FallbackState",
    "FallbackStore",
    "IdRange",
    "InMemoryStore",
    "Journal",
    "ReplayReport",
    "Store",
    "TicketChanges",
]
