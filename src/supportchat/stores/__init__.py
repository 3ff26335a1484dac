"""Storage backends. Every backend implements :class:`Store`.

:func:`open_store` opens one from a URL (``memory://``, ``sqlite:///file``,
``sqlite://``, ``postgresql+psycopg://…``) and migrates its schema.

The SQL stores and the fallback store are imported on first use, so that
``import supportchat`` loads neither SQLAlchemy nor tenacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..store import Store, TicketChanges
from .memory import InMemoryStore

if TYPE_CHECKING:
    from .fallback import FallbackState, FallbackStore, IdRange, Journal, ReplayReport
    from .open import open_store
    from .sql import SQLiteStore, SQLStore

__all__ = [
    "FallbackState",
    "FallbackStore",
    "IdRange",
    "InMemoryStore",
    "Journal",
    "ReplayReport",
    "SQLStore",
    "SQLiteStore",
    "Store",
    "TicketChanges",
    "open_store",
]

_LAZY = {
    "SQLStore": "sql",
    "SQLiteStore": "sql",
    "FallbackState": "fallback",
    "FallbackStore": "fallback",
    "IdRange": "fallback",
    "Journal": "fallback",
    "ReplayReport": "fallback",
    "open_store": "open",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
