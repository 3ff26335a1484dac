"""Optimistic concurrency: write at the version read; if another writer came first, read again.

Every write through the :class:`~supportchat.store.Store` protocol carries
the ticket version it was decided on, and the store refuses it with
:class:`~supportchat.errors.ConcurrentUpdate` when the version moved on.
:func:`retry_at_fresh_version` is the one loop that answers that refusal
(the desk's writes, the fallback store's copies and replays, the importer),
with one budget, :data:`UPDATE_ATTEMPTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .errors import ConcurrentUpdate

__all__ = ["UPDATE_ATTEMPTS", "retry_at_fresh_version"]

#: How many times a write is tried, re-reading between tries, before it gives up.
UPDATE_ATTEMPTS = 20

S = TypeVar("S")
T = TypeVar("T")


def retry_at_fresh_version(
    write: Callable[[S], T],
    read: Callable[[], S],
    *,
    first: S | None = None,
    attempts: int = UPDATE_ATTEMPTS,
    gave_up: str = "the ticket is changing too fast; try again",
) -> T:
    """``write(state)``, with ``state`` read again each time ``write`` raises :class:`ConcurrentUpdate`.

    ``state`` starts as ``first`` (what the caller has read already) or
    ``read()``. After ``attempts`` refused writes, raises
    :class:`ConcurrentUpdate` with the message ``gave_up``. ``write`` decides
    afresh from each state, so a change another writer made is never
    overwritten blindly.
    """
    state = read() if first is None else first
    for attempt in range(attempts):
        try:
            return write(state)
        except ConcurrentUpdate:
            if attempt + 1 < attempts:
                state = read()
    raise ConcurrentUpdate(gave_up)
