"""Compatibility re-export: the :class:`Store` protocol lives in :mod:`supportchat.store`.

The protocol belongs to the core (the desk talks to storage only through
it), so it is defined there; importing it from here keeps working.
"""

from __future__ import annotations

from ..store import Store, TicketChanges

__all__ = ["Store", "TicketChanges"]
