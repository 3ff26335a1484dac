"""Slowing down token guessing at the login form.

Admin tokens carry 256 random bits, so guessing cannot succeed; the throttle
keeps a guessing client from making every attempt cost a registry lookup.
Failures are counted per client address in a sliding window, in process
memory (each server process counts its own).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """At most ``failures`` failed logins per client address within ``window``."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        failures: int = 10,
        window: timedelta = timedelta(minutes=5),
        max_clients: int = 10_000,
    ) -> None:
        self._clock = clock
        self.failures = failures
        self.window = window
        self._max_clients = max_clients
        self._lock = threading.Lock()
        self._seen: dict[str, deque[datetime]] = {}

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 if it may try now."""
        now = self._clock()
        with self._lock:
            recent = self._recent(client, now)
            if len(recent) < self.failures:
                return 0
            return max(1, int((recent[0] + self.window - now).total_seconds()) + 1)

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            if client not in self._seen and len(self._seen) >= self._max_clients:
                # Bounded memory: forget clients whose failures have all aged out, else the oldest entry.
                stale = [c for c, times in self._seen.items() if not times or times[-1] <= now - self.window]
                for old in stale or [next(iter(self._seen))]:
                    del self._seen[old]
            self._recent(client, now).append(now)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._seen.pop(client, None)

    def _recent(self, client: str, now: datetime) -> deque[datetime]:
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
