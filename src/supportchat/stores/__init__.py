"""Storage backends. Every backend implements :class:`Store`."""

from .base import Store, TicketChanges
from .memory import InMemoryStore

__all__ = ["InMemoryStore", "Store", "TicketChanges"]
