"""Storage backends. Every backend implements :class:`Store`.

The SQL stores are imported on first use, so that ``import supportchat``
does not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Store, TicketChanges
from .memory import InMemoryStore

if TYPE_CHECKING:
    from .sql import SQLiteStore, SQLStore

__all__ = ["InMemoryStore", "SQLStore", "SQLiteStore", "Store", "TicketChanges"]


def __getattr__(name: str) -> Any:
    if name in ("SQLStore", "SQLiteStore"):
        from . import sql

        return getattr(sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
