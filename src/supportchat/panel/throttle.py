"""Slowing down token guessing at the login form.

Admin tokens carry 256 random bits, so guessing cannot succeed; the throttle
answers a guessing client's failures with 429 and ``Retry-After`` so that a
script backs off. It throttles failures, never the right credential: a valid
token signs in even from an address that is throttled (an address is often
shared, behind one NAT or proxy, and a guesser there must not lock the real
admin out), and a sign-in does not wipe the address's failures (which would
hand the guesser a fresh allowance). Failures are counted per client address
in a sliding window, in process memory (each server process counts its own),
keeping at most ``failures`` instants per address.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """At most ``failures`` failed logins per client address within ``window``; more are answered 429."""

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

    def _recent(self, client: str, now: datetime) -> deque[datetime]:
        # Only the newest ``failures`` instants decide, so no more are kept, however fast a client fails.
        times = self._seen.setdefault(client, deque(maxlen=self.failures))
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
