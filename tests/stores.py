"""Every store the contract suite runs against, by name.

Each entry is a context manager factory: entering it gives a ``make`` callable
that returns a fresh, empty store each time it is called (the stateful test
calls it once per example). Add a backend here and every contract and
stateful test runs on it; write no test twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat.stores import FallbackStore, InMemoryStore, Store
from supportchat.stores._breaker import CircuitBreaker

from .faults import FaultyStore, flapping

StoreMaker = Callable[[], Store]


@contextmanager
def memory_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    yield InMemoryStore


def _fallback_backend(mode: str) -> Callable[[pytest.FixtureRequest], object]:
    """FallbackStore over two InMemoryStores, the primary up, down or flapping.

    Down: the breaker stays open (a long cool-down), so everything is served by
    the fallback and journalled. Flapping: the primary fails 2 calls in every
    5 and the breaker probes at once, so requests fail over, replay and
    switch back all the time.
    """

    @contextmanager
    def backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("fallback")
        numbers = itertools.count()

        def make() -> Store:
            primary = FaultyStore(InMemoryStore(), flapping(up=3, down=2) if mode == "flapping" else None)
            primary.down = mode == "down"
            return FallbackStore(
                primary,  # type: ignore[arg-type]
                InMemoryStore(),
                journal=folder / f"journal-{next(numbers)}.sqlite",
                retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
                breaker=CircuitBreaker(cool_down=0 if mode == "flapping" else 3600),
            )

        yield make

    return backend


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], object]] = {
    "memory": memory_backend,
    "fallback-up": _fallback_backend("up"),
    "fallback-down": _fallback_backend("down"),
    "fallback-flapping": _fallback_backend("flapping"),
}

#: Marks to put on a backend's parameter (for instance ``pytest.mark.postgres``).
BACKEND_MARKS: dict[str, list[pytest.MarkDecorator]] = {}
