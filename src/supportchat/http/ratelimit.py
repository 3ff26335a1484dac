"""Rate limits on the API's writes: per user, per admin and per client address.

Every write route of the table names what it writes (:class:`~supportchat.http.routes.Write`);
:func:`~supportchat.http.dispatch.dispatch` asks :meth:`RateLimiter.check` before it
reads the body, with the authenticated actor and the client's address, so both
adapters (and the panel, whose writes are ordinary API calls) share one rule.
A refused write is :class:`~supportchat.errors.RateLimited` (429) with a
``Retry-After`` header.

Counting is done by the `limits <https://limits.readthedocs.io>`_ package
with its sliding-window counter: two counters per key, so memory does not grow
with the traffic. The storage is in-process memory by default (each process
counts its own); a ``storage_uri`` such as ``redis://127.0.0.1:6379`` makes
several processes share one count. If that storage fails (or takes over half
a second), writes are let through for five seconds before it is asked again,
and the failure is logged once a minute: a broken limiter must not take the
desk down with it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from ..errors import RateLimited
from ..models import Actor, ActorKind
from .routes import Write

__all__ = ["LIMITS_VARIABLE", "NAMESPACE_VARIABLE", "STORAGE_VARIABLE", "RateLimiter", "RateLimits"]

#: Where the standalone server reads its limiter's storage (``memory://`` when unset).
STORAGE_VARIABLE = "SUPPORTCHAT_RATE_LIMIT_STORAGE"
#: Where it reads its limits (:meth:`RateLimits.parse`; the defaults when unset).
LIMITS_VARIABLE = "SUPPORTCHAT_RATE_LIMITS"
#: Where it reads the prefix of its keys in the storage.
NAMESPACE_VARIABLE = "SUPPORTCHAT_RATE_LIMIT_NAMESPACE"
DEFAULT_NAMESPACE = "supportchat"
_OUTAGE_LOG_INTERVAL = 60.0
#: Seconds a failed storage is left alone before it is asked again.
_OUTAGE_RETRY_AFTER = 5.0
#: Seconds a network storage may take to connect or answer.
_STORAGE_TIMEOUT = 0.5

logger = logging.getLogger("supportchat.http")


@dataclass(frozen=True, slots=True)
class RateLimits:
    """How many writes are allowed, each as a `limits` string; ``None`` lifts that limit.

    A string may hold several limits, all enforced: ``"30/minute;600/hour"``.
    Ticket creation is limited per hour, as Chatwoot and Zammad do for their
    public forms; messages per minute, which a person typing never reaches
    but a script does at once. A client address may carry many users (an
    office, a carrier's NAT), so its limits are looser than one user's; admins
    work the whole queue, so theirs are looser still.
    """

    #: Tickets one user may open.
    user_tickets: str | None = "10/hour"
    #: Messages one user may write.
    user_messages: str | None = "20/minute;300/hour"
    #: Writes (replies, status changes) one admin may make.
    admin_writes: str | None = "120/minute"
    #: Tickets opened from one client address, whoever opens them.
    address_tickets: str | None = "50/hour"
    #: Writes of any kind from one client address.
    address_writes: str | None = "300/minute"

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No limit at all (benchmarks, or a host that limits in front of the app)."""
        return cls(**{f.name: None for f in fields(cls)})

    @classmethod
    def parse(cls, text: str) -> RateLimits:
        """Limits from text such as ``"user_tickets=5/hour admin_writes=none"`` (unnamed ones keep their default).

        ``none`` alone lifts every limit. This is the format of ``SUPPORTCHAT_RATE_LIMITS``.
        """
        if text.strip().lower() in ("none", "off"):
            return cls.unlimited()
        names = {f.name for f in fields(cls)}
        chosen: dict[str, str | None] = {}
        for entry in text.split():
            name, equals, value = entry.partition("=")
            if not equals or name not in names:
                raise ValueError(
                    f"rate limit {entry!r}: expected NAME=LIMIT with NAME one of {', '.join(sorted(names))}"
                )
            chosen[name] = None if value.lower() in ("none", "off") else value
        limits = cls(**chosen)
        for name in chosen:
            _parse(name, getattr(limits, name))  # refuse a bad limit now, not at the first write
        return limits


class RateLimiter:
    """Checks each write against :class:`RateLimits`, counting in ``storage_uri``."""

    def __init__(
        self, limits: RateLimits | None = None, *, storage_uri: str = "memory://", namespace: str = DEFAULT_NAMESPACE
    ) -> None:
        self.limits = limits or RateLimits()
        self.storage_uri = storage_uri
        self.namespace = namespace
        # A storage on the network answers fast or is treated as down: a write never waits long for its count.
        timeouts = {"socket_timeout": _STORAGE_TIMEOUT, "socket_connect_timeout": _STORAGE_TIMEOUT}
        try:
            storage = storage_from_string(storage_uri, **(timeouts if storage_uri.startswith("redis") else {}))
        except ConfigurationError as exc:  # an unknown scheme, or its client library missing (redis)
            where = _without_password(storage_uri)
            reason = str(exc).replace(storage_uri, where)
            raise ValueError(f"rate-limit storage {where!r}: {reason} (Redis needs: pip install redis)") from None
        if not isinstance(storage, Storage):
            where = _without_password(storage_uri)
            raise ValueError(f"rate-limit storage {where!r} is asynchronous; the desk needs a synchronous one")
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._items = {f.name: _parse(f.name, getattr(self.limits, f.name)) for f in fields(self.limits)}
        self._outage_lock = threading.Lock()
        self._outage_logged_at = -math.inf
        #: While the storage is down, writes pass without asking it again until then (``time.monotonic``).
        self._down_until = -math.inf

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RateLimiter:
        """The standalone server's limiter: limits from ``SUPPORTCHAT_RATE_LIMITS`` (see :meth:`RateLimits.parse`),
        counted in ``SUPPORTCHAT_RATE_LIMIT_STORAGE`` (default: this process's memory), keys prefixed with
        ``SUPPORTCHAT_RATE_LIMIT_NAMESPACE`` (default ``supportchat``; distinct desks sharing one Redis
        need distinct namespaces).
        """
        text = environ.get(LIMITS_VARIABLE)
        return cls(
            RateLimits.parse(text) if text else None,
            storage_uri=environ.get(STORAGE_VARIABLE) or "memory://",
            namespace=environ.get(NAMESPACE_VARIABLE) or DEFAULT_NAMESPACE,
        )

    def check(self, write: Write, actor: Actor, client: str) -> None:
        """Count one ``write`` by ``actor`` from ``client``; raise :class:`RateLimited` over any limit."""
        if time.monotonic() < self._down_until:
            return
        for name, key in self._applicable(write, actor, client):
            for item in self._items[name]:
                try:
                    allowed = self._strategy.hit(item, *key)
                except Exception as exc:  # the storage's own errors (connection refused, timeouts)
                    self._outage(exc)
                    return
                if not allowed:
                    raise RateLimited(
                        f"too many requests; at most {item} ({name.replace('_', ' ')})",
                        details={"retry_after": self._retry_after(item, key), "limit": str(item), "scope": name},
                    )

    def _applicable(self, write: Write, actor: Actor, client: str) -> list[tuple[str, tuple[str, ...]]]:
        checks: list[tuple[str, tuple[str, ...]]] = []
        who = (actor.kind.value, str(actor.id))
        if actor.kind is ActorKind.USER:
            if write is Write.TICKET:
                checks.append(("user_tickets", (self.namespace, *who, "tickets")))
            else:
                checks.append(("user_messages", (self.namespace, *who, "messages")))
        else:
            checks.append(("admin_writes", (self.namespace, *who, "writes")))
        if client:
            if write is Write.TICKET:
                checks.append(("address_tickets", (self.namespace, "address", client, "tickets")))
            checks.append(("address_writes", (self.namespace, "address", client, "writes")))
        return [(name, key) for name, key in checks if self._items[name]]

    def _retry_after(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        try:
            reset = self._strategy.get_window_stats(item, *key).reset_time
        except Exception:
            return item.get_expiry()
        return max(1, math.ceil(reset - time.time()))

    def _outage(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._outage_lock:
            self._down_until = now + _OUTAGE_RETRY_AFTER
            if now - self._outage_logged_at < _OUTAGE_LOG_INTERVAL:
                return
            self._outage_logged_at = now
        where = _without_password(self.storage_uri)
        logger.warning("rate-limit storage %s failed (%s); writes are not limited meanwhile", where, exc)


def _without_password(uri: str) -> str:
    """The storage URI without its credentials, for messages and logs."""
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _parse(name: str, value: str | None) -> list[RateLimitItem]:
    if value is None:
        return []
    try:
        return parse_many(value)
    except ValueError as exc:
        raise ValueError(f"rate limit {name}={value!r} is not a limits string like '10/hour': {exc}") from None
