"""Every store the contract suite runs against, by name.

Each entry is a context manager factory: entering it gives a ``make`` callable
that returns a fresh, empty store each time it is called (the stateful test
calls it once per example). Add a backend here and every contract and
stateful test runs on it; write no test twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from supportchat.stores import InMemoryStore, Store

StoreMaker = Callable[[], Store]


@contextmanager
def memory_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    yield InMemoryStore


@contextmanager
def supabase_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    """SupabaseStore through the real client over the PostgREST emulator (one database per session)."""
    from .postgrest_emulator.session import fresh_store

    yield lambda: fresh_store(request)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], object]] = {
    "memory": memory_backend,
    "supabase": supabase_backend,
}

#: Marks to put on a backend's parameter (for instance ``pytest.mark.postgres``).
BACKEND_MARKS: dict[str, list[pytest.MarkDecorator]] = {"supabase": [pytest.mark.postgres]}
