"""Reading a live stream from a background thread, with deadlines, as a client would."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from supportchat.realtime import Frame


class StreamReader:
    """Drains a frame iterator in a daemon thread; the test takes frames with a timeout."""

    def __init__(self, frames: Iterator[Frame]) -> None:
        self._frames = frames
        self._queue: queue.Queue[Frame] = queue.Queue()
        #: What ended the stream, if it failed (after the test, its store may be closed under it).
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            for frame in self._frames:
                self._queue.put(frame)
        except Exception as exc:
            self.error = exc

    def next(self, timeout: float = 5.0) -> Frame:
        return self._queue.get(timeout=timeout)

    def events(self, count: int, timeout: float = 5.0) -> list[Frame]:
        """The next ``count`` event frames (comments skipped); fails if they do not come in time."""
        deadline = time.monotonic() + timeout
        found: list[Frame] = []
        while len(found) < count:
            frame = self._queue.get(timeout=max(deadline - time.monotonic(), 0.001))
            if frame.is_event:
                found.append(frame)
        return found

    def quiet_events(self, wait: float) -> list[Frame]:
        """Every event frame that arrives within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        found: list[Frame] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if frame.is_event:
                found.append(frame)
        return found


def payload(frame: Frame) -> dict[str, Any]:
    assert frame.data is not None
    data: dict[str, Any] = json.loads(frame.data)
    return data
