"""A circuit breaker: stop waiting on a store that is known to be down.

``closed``: calls go to the store. After ``failure_threshold`` consecutive
failed calls (each already retried) the breaker *opens*: calls skip the store
at once, so an outage costs each request nothing. After ``cool_down`` seconds
it is *half-open*: exactly one caller is let through as a probe; its success
closes the breaker, its failure opens it for another ``cool_down``.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BreakerState", "CircuitBreaker", "Permit"]


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to call the protected store; a ``probe`` gets a single attempt, no retries."""

    probe: bool


class CircuitBreaker:
    """Thread-safe breaker; ``clock`` is monotonic seconds (injectable for tests)."""

    def __init__(
        self, *, failure_threshold: int = 1, cool_down: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cool_down < 0:
            raise ValueError("cool_down must not be negative")
        self.failure_threshold = failure_threshold
        self.cool_down = cool_down
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_started: float | None = None

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def acquire(self) -> Permit | None:
        """Leave to call the store now, or ``None`` if calls must skip it."""
        with self._lock:
            state = self._state()
            if state is BreakerState.CLOSED:
                return Permit(probe=False)
            if state is BreakerState.OPEN:
                return None
            now = self._clock()
            # One probe at a time; a probe that never reported back (its thread
            # died) stops blocking the others after one more cool-down.
            if self._probe_started is not None and now - self._probe_started < max(self.cool_down, 1e-3):
                return None
            self._probe_started = now
            return Permit(probe=True)

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probe_started = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probe_started is not None or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
                self._probe_started = None

    def trip(self) -> None:
        """Open now (for instance when a replay found the store down)."""
        with self._lock:
            self._failures = max(self._failures, self.failure_threshold)
            self._opened_at = self._clock()
            self._probe_started = None

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.cool_down:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN
