"""An ``httpx`` transport that makes a healthy transport fail on demand, for fault-injection tests.

Set :attr:`FaultyTransport.mode` at any time (from any thread), or give a
``schedule`` that picks the mode per request number (flapping). Each fault
imitates what a real outage looks like to the ``supabase`` client:

* ``refuse``: the connection is refused (``httpx.ConnectError``), nothing sent;
* ``hang``: the server accepted and never answers: the call blocks for the
  request's read timeout, then ``httpx.ReadTimeout``; nothing was written;
* ``503`` / ``429``: a JSON error from the gateway, nothing written;
* ``502``: a non-JSON (HTML) Bad Gateway page, nothing written;
* ``lose_response``: the request *is* executed (and committed) by the inner
  transport, but the answer is lost (``httpx.ReadError``): the case that
  makes replays need idempotency.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import httpx

Mode = Literal["up", "refuse", "hang", "503", "502", "429", "lose_response"]
MODES: tuple[Mode, ...] = ("up", "refuse", "hang", "503", "502", "429", "lose_response")

#: The longest a ``hang`` blocks when the request carries no read timeout.
MAX_HANG_SECONDS = 5.0


class FaultyTransport(httpx.BaseTransport):
    """Wraps ``inner`` (normally a :class:`PostgrestEmulator`) and injects the current fault."""

    def __init__(self, inner: httpx.BaseTransport, *, schedule: Callable[[int], Mode] | None = None) -> None:
        self.inner = inner
        self.mode: Mode = "up"
        self.schedule = schedule
        self._lock = threading.Lock()
        #: Requests seen, and how many of them were failed on purpose.
        self.requests = 0
        self.failures = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
            number = self.requests
        mode = self.schedule(number) if self.schedule is not None else self.mode
        if mode != "up":
            with self._lock:
                self.failures += 1
        if mode == "up":
            return self.inner.handle_request(request)
        if mode == "refuse":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if mode == "hang":
            timeout = request.extensions.get("timeout", {}).get("read")
            time.sleep(min(timeout if timeout is not None else MAX_HANG_SECONDS, MAX_HANG_SECONDS))
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if mode == "lose_response":
            self.inner.handle_request(request).close()
            raise httpx.ReadError("Connection reset by peer", request=request)
        if mode == "503":
            return httpx.Response(503, json={"message": "name resolution failed"}, request=request)
        if mode == "429":
            return httpx.Response(429, json={"message": "API rate limit exceeded"}, request=request)
        if mode == "502":
            html = b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
            return httpx.Response(502, content=html, headers={"Content-Type": "text/html"}, request=request)
        raise ValueError(f"unknown fault mode {mode!r}")

    def close(self) -> None:
        self.inner.close()
