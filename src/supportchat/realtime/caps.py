"""How many live streams one caller may hold open: per account and per client address (429 beyond)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping

from ..errors import RateLimited
from ..models import Actor

__all__ = ["PER_ACCOUNT_VARIABLE", "PER_ADDRESS_VARIABLE", "StreamCaps", "caps_from_env"]

#: A panel in a few tabs, an app on a few devices.
DEFAULT_PER_ACCOUNT = 20
#: Many people behind one office NAT.
DEFAULT_PER_ADDRESS = 200
#: Seconds a refused client is told to wait: a stream frees its place when it ends.
RETRY_AFTER = 5


class StreamCaps:
    """Counts open streams by account (``kind:id``) and by address; ``None`` for no cap.

    A stream counts from :meth:`acquire` (before the response starts, so a
    refusal is a plain 429) until the release it returns is called.
    """

    def __init__(
        self, *, per_account: int | None = DEFAULT_PER_ACCOUNT, per_address: int | None = DEFAULT_PER_ADDRESS
    ) -> None:
        if (per_account is not None and per_account <= 0) or (per_address is not None and per_address <= 0):
            raise ValueError("a stream cap must be positive (or None for no cap)")
        self.per_account = per_account
        self.per_address = per_address
        self._lock = threading.Lock()
        self._accounts: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()

    def acquire(self, actor: Actor, address: str | None) -> Callable[[], None]:
        """Take a place for ``actor``'s new stream from ``address``; raises :class:`RateLimited` when full."""
        account = f"{actor.kind.value}:{actor.id}"
        with self._lock:
            if self.per_account is not None and self._accounts[account] >= self.per_account:
                raise _refused(f"at most {self.per_account} live streams per account")
            if address and self.per_address is not None and self._addresses[address] >= self.per_address:
                raise _refused(f"at most {self.per_address} live streams per client address")
            self._accounts[account] += 1
            if address:
                self._addresses[address] += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                _decrement(self._accounts, account)
                if address:
                    _decrement(self._addresses, address)

        return release

    def open_for(self, actor: Actor) -> int:
        """How many streams ``actor`` holds open."""
        with self._lock:
            return self._accounts[f"{actor.kind.value}:{actor.id}"]


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def _refused(reason: str) -> RateLimited:
    return RateLimited(f"too many open streams: {reason}", details={"retry_after": RETRY_AFTER})


#: Environment variables of :meth:`StreamCaps.from_env` (a number, or ``none`` for no cap).
PER_ACCOUNT_VARIABLE = "SUPPORTCHAT_STREAMS_PER_ACCOUNT"
PER_ADDRESS_VARIABLE = "SUPPORTCHAT_STREAMS_PER_ADDRESS"


def _cap(value: str | None, default: int | None) -> int | None:
    if value is None or not value.strip():
        return default
    if value.strip().lower() == "none":
        return None
    return int(value)


def caps_from_env(environ: Mapping[str, str]) -> StreamCaps:
    """The caps the environment sets (:data:`PER_ACCOUNT_VARIABLE`, :data:`PER_ADDRESS_VARIABLE`), else the defaults."""
    return StreamCaps(
        per_account=_cap(environ.get(PER_ACCOUNT_VARIABLE), DEFAULT_PER_ACCOUNT),
        per_address=_cap(environ.get(PER_ADDRESS_VARIABLE), DEFAULT_PER_ADDRESS),
    )
