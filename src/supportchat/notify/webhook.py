"""Webhooks: each event POSTed as JSON, signed with HMAC-SHA256.

Every request carries:

- ``X-Supportchat-Event-Id``: the event's id, the same on every retry, for
  the receiver to drop duplicates (a receiver that was slow to answer may
  get an event again);
- ``X-Supportchat-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Supportchat-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed
  with the shared secret, of ``<timestamp>.<raw body>``.

A webhook made with ``user_facing=True`` (one whose receiver shows what it
gets to the ticket's owner: a chat bridge, the host app's own inbox) sends
the event as the owner may see it, built from the customer projection
(:func:`~supportchat.projection.customer_event`): no staff event (internal
notes, tags, a feature's entries such as transfers and SLA breaches) and
nothing of a ticket beyond the owner's view.

Receivers check with :func:`verify_signature`, which also refuses stale
timestamps (replays). Any answer but 2xx is a failure: ``410 Gone`` is given
up at once, anything else (and timeouts, refused connections) retried, first
a few times at once with tenacity, then later by the worker's schedule.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from typing import Any

import tenacity

from ..models import Actor
from ..projection import customer_event
from .base import Delivery, Notification, PermanentFailure, event_document

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "sign", "signed_post", "verify_signature"]

SIGNATURE_HEADER = "X-Supportchat-Signature"
TIMESTAMP_HEADER = "X-Supportchat-Timestamp"
EVENT_ID_HEADER = "X-Supportchat-Event-Id"
_SCHEME = "sha256="


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def signed_post(
    url: str, secret: str | bytes, body: bytes, *, user_agent: str, headers: Mapping[str, str] | None = None
) -> urllib.request.Request:
    """A ``POST`` of the JSON ``body`` to ``url``, signed now (timestamp and signature headers)."""
    timestamp = str(int(time.time()))
    return urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": user_agent,
            **(headers or {}),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )


def verify_signature(
    secret: str | bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a webhook request is genuine: signed with ``secret`` within ``tolerance`` seconds.

    Pass the raw body bytes as received (not re-serialised JSON) and the
    ``X-Supportchat-Timestamp`` and ``X-Supportchat-Signature`` headers.
    """
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdecimal():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip())


def _owner_document(event: Notification) -> dict[str, Any] | None:
    """The event as its ticket's owner may see it (``None``: nothing of it is theirs)."""
    if event.ticket is None:
        return None
    owner = Actor.user(event.ticket.user_id)
    view = customer_event(event.record, event.ticket, event.message, owner)
    return None if view is None else view.model_dump(mode="json")


class WebhookRejected(Exception):
    """The receiver answered with a status other than 2xx."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status = status


class WebhookNotifier:
    """POSTs every event (or those of ``events``) to ``url``, signed with ``secret``.

    ``timeout`` bounds one attempt; ``quick_attempts`` is how many attempts
    one delivery round makes (tenacity, ``quick_wait`` seconds apart and
    doubling) before leaving the rest to the worker's schedule.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        name: str = "webhook",
        events: Collection[str] | None = None,
        timeout: float = 5.0,
        quick_attempts: int = 2,
        quick_wait: float = 0.2,
        user_agent: str = "supportchat-webhook/1",
        user_facing: bool = False,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must be http(s)")
        if not secret:
            raise ValueError("a webhook needs a secret to sign with")
        self.url = url
        self.name = name
        self.events = None if events is None else frozenset(str(kind) for kind in events)
        self.timeout = timeout
        self.user_facing = user_facing
        self._secret = secret
        self._user_agent = user_agent
        self._retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(quick_attempts),
            wait=tenacity.wait_exponential(multiplier=quick_wait, max=5 * quick_wait),
            retry=tenacity.retry_if_not_exception_type(PermanentFailure),
            reraise=True,
        )

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        if self.events is not None and str(event.record.type) not in self.events:
            return None
        if self.user_facing:
            return _owner_document(event)
        return event_document(event)

    def deliver(self, delivery: Delivery) -> None:
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        self._retrying(self._post, body, str(delivery.event_id))

    def _post(self, body: bytes, event_id: str) -> None:
        request = signed_post(
            self.url, self._secret, body, user_agent=self._user_agent, headers={EVENT_ID_HEADER: event_id}
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout
            ) as response:  # the scheme was checked: http(s) only
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 410:
                raise PermanentFailure(f"the receiver is gone (HTTP 410) at {self.url}") from exc
            raise WebhookRejected(exc.code, str(exc.reason)) from exc
