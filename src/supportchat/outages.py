"""Logging a failure that repeats, such as a storage outage, once per interval.

While the database is down every request fails the same way, and logging
each with its stack trace buried the one useful line under thousands (5,310
tracebacks in 10 s in a load run). :class:`OutageLog` writes the first
failure of each kind with its traceback, holds back the repeats for
``interval`` seconds, and writes the next one after that with how many it
held back. So an outage costs one log record per kind per interval, and the
count tells how many requests it affected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["OutageLog"]


class OutageLog:
    """At most one record per ``key`` every ``interval`` seconds, saying how many were held back."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = 10.0,
        level: int = logging.ERROR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.logger = logger
        self.interval = interval
        self.level = level
        self._clock = clock
        self._lock = threading.Lock()
        #: key → (when the next record may be written, how many were held back since the last).
        self._kinds: dict[str, tuple[float, int]] = {}

    def report(self, key: str, message: str, exc: BaseException) -> bool:
        """Log ``exc`` under ``message`` unless a record of ``key`` was written less than ``interval`` ago.

        Whether a record was written.
        """
        now = self._clock()
        with self._lock:
            due, held_back = self._kinds.get(key, (now, 0))
            if now < due:
                self._kinds[key] = (due, held_back + 1)
                return False
            self._kinds[key] = (now + self.interval, 0)
        if held_back:
            message = f"{message} ({held_back} more like it in the last {self.interval:g} s were not logged)"
        self.logger.log(self.level, message, exc_info=exc)
        return True
