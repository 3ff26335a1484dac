"""What a push device, a delivery and an attempt are, and :class:`PushStore`, the store extension keeping them.

A **device** is an FCM registration token with its owner (a user or an
agent), platform, locale and the last time its app registered it. A token
belongs to one owner at a time: registering it again as someone else moves
it (one phone, a new login).

A **delivery** is one push of one desk event to one device; its
**attempts** are every request made for it to FCM, with the result and the
error class. They are the record an admin reads when a user says "I got no
notification".

Times are Unix seconds (``time.time()``), as the jobs' are.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "Attempt",
    "Delivery",
    "DeliveryStatus",
    "Device",
    "ErrorClass",
    "NewAttempt",
    "NewDelivery",
    "NewDevice",
    "OwnerKind",
    "Platform",
    "PushEvent",
    "PushStore",
]


class OwnerKind(enum.StrEnum):
    USER = "user"
    AGENT = "agent"


class Platform(enum.StrEnum):
    ANDROID = "android"
    IOS = "ios"
    WEB = "web"


class PushEvent(enum.StrEnum):
    """What a push tells (spec §15): to the owner, an admin reply or their ticket resolved; to agents, the rest."""

    ADMIN_REPLY = "admin_reply"
    RESOLVED = "resolved"
    NEW_TICKET = "new_ticket"
    USER_REPLY = "user_reply"

    @property
    def coalesces(self) -> bool:
        """Replies in quick succession become one push; a resolution or a new ticket is told at once."""
        return self in (PushEvent.ADMIN_REPLY, PushEvent.USER_REPLY)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: A later reply to the same device and ticket came within the quiet window; that one's push tells both.
    COALESCED = "coalesced"
    #: FCM answered UNREGISTERED (or 404): the token is dead and was removed.
    UNREGISTERED = "unregistered"
    #: Given up: a permanent error (INVALID_ARGUMENT, SENDER_ID_MISMATCH) or the last attempt failed.
    FAILED = "failed"
    #: Not sent: the device was removed or moved to someone else before its turn came.
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        return self is not DeliveryStatus.PENDING


class ErrorClass(enum.StrEnum):
    """Why an attempt failed: FCM's error codes, and what happened before FCM answered."""

    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UNREGISTERED = "UNREGISTERED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"
    THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"
    #: Our credentials were refused: the token endpoint, or FCM's 401/403.
    AUTH = "AUTH"
    TIMEOUT = "TIMEOUT"
    #: The connection failed (refused, reset, DNS).
    NETWORK = "NETWORK"
    UNKNOWN = "UNKNOWN"

    @property
    def retryable(self) -> bool:
        return self not in _PERMANENT


_PERMANENT = {ErrorClass.UNREGISTERED, ErrorClass.INVALID_ARGUMENT, ErrorClass.SENDER_ID_MISMATCH}


@dataclass(frozen=True, slots=True)
class NewDevice:
    token: str
    owner_kind: OwnerKind
    owner_id: int
    platform: Platform
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    token: str
    owner_kind: OwnerKind
    owner_id: int
    platform: Platform
    locale: str | None
    created_at: float
    last_seen_at: float


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One event to push to one device (unique per event and token)."""

    event_id: int
    event: PushEvent
    ticket_id: int
    message_id: int | None
    token: str
    recipient_kind: OwnerKind
    recipient_id: int


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event_id: int
    event: PushEvent
    ticket_id: int
    message_id: int | None
    token: str
    recipient_kind: OwnerKind
    recipient_id: int
    status: DeliveryStatus
    #: The last failed attempt's class (kept once it is delivered, for the record).
    error_class: ErrorClass | None
    attempts: int
    last_error: str | None
    #: The name FCM gave the message (``projects/…/messages/…``), once delivered.
    fcm_name: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class NewAttempt:
    """What one request to FCM for a delivery came to."""

    at: float
    status: DeliveryStatus
    error_class: ErrorClass | None = None
    http_status: int | None = None
    detail: str | None = None
    #: The ``Retry-After`` FCM asked for, in seconds.
    retry_after: float | None = None
    fcm_name: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: int
    number: int
    at: float
    #: The delivery's status after this attempt (``pending``: to be retried).
    status: DeliveryStatus
    error_class: ErrorClass | None
    http_status: int | None
    detail: str | None
    retry_after: float | None


@runtime_checkable
class PushStore(Protocol):
    """Devices and the delivery record in the store's database (``extension(store, PushStore)``).

    Every method is one atomic step; ``now`` defaults to ``time.time()``.
    """

    def register(self, device: NewDevice, *, now: float | None = None) -> Device:
        """Store ``device`` or refresh it (owner, platform, locale, last seen); a token has one owner."""
        ...

    def unregister(self, token: str, owner_kind: OwnerKind | None = None, owner_id: int | None = None) -> bool:
        """Remove the token (only if it is that owner's, when one is given); whether it was there."""
        ...

    def device(self, token: str) -> Device | None: ...

    def devices_of(self, owner_kind: OwnerKind, owner_ids: Sequence[int] | None = None) -> list[Device]:
        """The devices of these owners (of every owner of that kind if ``None``), by token."""
        ...

    def prune(self, last_seen_before: float) -> int:
        """Remove the devices not seen since ``last_seen_before``; how many."""
        ...

    def add_deliveries(self, deliveries: Sequence[NewDelivery], *, now: float | None = None) -> list[Delivery]:
        """Record deliveries (one per event and token, a repeat is ignored); every one asked for, stored."""
        ...

    def delivery(self, delivery_id: int) -> Delivery | None: ...

    def record_attempt(self, delivery_id: int, attempt: NewAttempt) -> Delivery:
        """Add an attempt and set the delivery's status, error class and attempts from it, atomically."""
        ...

    def settle(self, delivery_id: int, status: DeliveryStatus, *, now: float | None = None) -> Delivery:
        """Set a pending delivery's status without an attempt (coalesced, skipped)."""
        ...

    def newer_pending(self, delivery: Delivery) -> bool:
        """Whether a later event of the same kind waits for the same device and ticket (it will tell this one)."""
        ...

    def coalesced_into(self, delivery: Delivery) -> int:
        """How many deliveries of the same device, ticket and kind were coalesced into ``delivery``."""
        ...

    def deliveries(self, *, ticket_id: int | None = None, token: str | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries (of one ticket or device, if given), newest first."""
        ...

    def attempts(self, delivery_ids: Sequence[int]) -> list[Attempt]:
        """Every attempt of these deliveries, in order."""
        ...

    def counts(self) -> dict[str, int]:
        """How many deliveries have each status; every status is a key."""
        ...

    def last_attempt(self, *, error_class: ErrorClass | None = None) -> Attempt | None:
        """The newest attempt of all (of that error class, if given)."""
        ...

    def last_delivered(self) -> Attempt | None:
        """The newest attempt that delivered."""
        ...
