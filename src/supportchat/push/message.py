"""The FCM v1 ``Message`` for one push: data, notification, and the Android, APNs and web push settings.

Chat notifications, as FCM and Apple document them:

- **Android**: ``priority: HIGH`` (a user-visible chat message may wake the
  device), ``collapse_key`` and the notification's ``tag`` set to the
  ticket's key, so a newer push about the ticket replaces the older one;
- **APNs** (FCM reaches iOS through APNs): ``apns-priority: 10`` and
  ``apns-push-type: alert`` for a visible notification, ``apns-collapse-id``
  the ticket's key (at most 64 bytes), ``thread-id`` grouping it; a data-only
  push is ``apns-push-type: background`` with ``apns-priority: 5`` and
  ``content-available: 1``, which is what Apple requires of background pushes;
- **web push**: ``Urgency: high`` and ``Topic`` (the collapse key of web push,
  at most 32 URL-safe characters).

In privacy mode there is no ``notification`` and nothing but the data
keys: event, ticket id, ticket number and message id — no message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .texts import Text

__all__ = ["TTL_SECONDS", "collapse_key", "fcm_message"]

#: How long FCM keeps a push for a device that is offline (FCM's maximum is 28 days).
TTL_SECONDS = 7 * 24 * 3600


def collapse_key(ticket_id: int) -> str:
    """One key per ticket (also the APNs collapse id and the web push Topic: short and URL-safe)."""
    return f"ticket-{ticket_id}"


def fcm_message(
    token: str,
    data: Mapping[str, str],
    text: Text | None,
    *,
    key: str,
    android_channel: str | None = None,
) -> dict[str, Any]:
    """The ``message`` of ``messages:send`` for ``token``; ``text=None`` sends data only (privacy mode)."""
    message: dict[str, Any] = {"token": token, "data": dict(data)}
    android: dict[str, Any] = {"collapse_key": key, "priority": "HIGH", "ttl": f"{TTL_SECONDS}s"}
    if text is None:
        apns: dict[str, Any] = {
            "headers": {"apns-priority": "5", "apns-push-type": "background", "apns-collapse-id": key},
            "payload": {"aps": {"content-available": 1}},
        }
        webpush: dict[str, Any] = {"headers": {"Urgency": "high", "Topic": key, "TTL": str(TTL_SECONDS)}}
    else:
        message["notification"] = {"title": text.title, "body": text.body}
        notification: dict[str, Any] = {"tag": key}
        if android_channel:
            notification["channel_id"] = android_channel
        android["notification"] = notification
        apns = {
            "headers": {"apns-priority": "10", "apns-push-type": "alert", "apns-collapse-id": key},
            "payload": {"aps": {"thread-id": key, "sound": "default"}},
        }
        webpush = {"headers": {"Urgency": "high", "Topic": key, "TTL": str(TTL_SECONDS)}}
    # Every platform's block goes with every message: a token's platform as registered may be stale,
    # and FCM uses only the block of the platform the token really is on.
    message["android"] = android
    message["apns"] = apns
    message["webpush"] = webpush
    return message
