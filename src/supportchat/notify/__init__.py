"""Notifications to the outside world, off the request path.

A :class:`NotificationWorker` feeds an :class:`Outbox` (a SQLite file) from
the store's event log and delivers each entry through its notifier in a
background thread, retrying with backoff up to a bound:

- :class:`WebhookNotifier`: signed JSON POSTs (receivers use
  :func:`verify_signature`);
- :class:`EmailNotifier`: SMTP mail to admins on a new ticket and to the
  owner on an admin reply.

Write your own by implementing :class:`Notifier` (``name``, ``prepare``,
``deliver``).
"""

from .base import Notification, Notifier, PermanentFailure, event_document
from .email import EmailNotifier, SMTPSettings
from .outbox import Delivery, DeliveryStatus, Outbox
from .webhook import WebhookNotifier, sign, verify_signature
from .worker import NotificationWorker

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "EmailNotifier",
    "Notification",
    "NotificationWorker",
    "Notifier",
    "Outbox",
    "PermanentFailure",
    "SMTPSettings",
    "WebhookNotifier",
    "event_document",
    "sign",
    "verify_signature",
]
