"""Push notifications to the app through FCM HTTP v1 (spec §15).

- :class:`PushStore` (the store extension): devices (FCM registration
  tokens of users and agents) and the delivery record (one delivery per
  device and event, every attempt with its result and error class).
  Implemented for the SQL store (tables from migration ``0013_push``), the
  in-memory store (a private in-memory SQLite database) and the fallback
  store (its local fallback database, beside the jobs).
- :class:`PushService`: the job kinds ``push.fanout``, ``push.send`` and
  ``push.prune`` that react to the event log off the request path.
- :class:`FcmClient`: FCM v1 over httpx with OAuth2 tokens from a service
  account through ``google-auth``.

``supportchat.push.feature`` adds the device routes and the delivery record
to the API; see ``docs/push.md``.
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .base import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Device,
    ErrorClass,
    NewAttempt,
    NewDelivery,
    NewDevice,
    OwnerKind,
    Platform,
    PushEvent,
    PushStore,
)
from .fcm import DEFAULT_ENDPOINT, FcmClient, FcmError, ServiceAccountTokens
from .service import FANOUT, PRUNE, SEND, PushService, PushSettings
from .sql import MemoryPushStore, SQLPushStore

__all__ = [
    "DEFAULT_ENDPOINT",
    "FANOUT",
    "PRUNE",
    "SEND",
    "Attempt",
    "Delivery",
    "DeliveryStatus",
    "Device",
    "ErrorClass",
    "FcmClient",
    "FcmError",
    "MemoryPushStore",
    "NewAttempt",
    "NewDelivery",
    "NewDevice",
    "OwnerKind",
    "Platform",
    "PushEvent",
    "PushService",
    "PushSettings",
    "PushStore",
    "SQLPushStore",
    "ServiceAccountTokens",
]


def _fallback_push(store: FallbackStore) -> Any:
    # Beside the jobs that send them, in the local fallback database (see docs/push.md).
    return extension(store.fallback, PushStore)  # type: ignore[type-abstract]


register_extension(PushStore, SQLStore, SQLPushStore)  # type: ignore[type-abstract]
register_extension(PushStore, InMemoryStore, MemoryPushStore)  # type: ignore[type-abstract]
register_extension(PushStore, FallbackStore, _fallback_push)  # type: ignore[type-abstract]
