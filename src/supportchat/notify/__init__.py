"""Notifications to the outside world, off the request path.

A :class:`NotificationWorker` turns the store's event log into jobs in the
desk's own database (:mod:`supportchat.jobs`, one job kind per notifier)
and delivers each through its notifier in a background thread, retrying
with backoff up to a bound; every worker on the same database shares the
jobs, so each event is delivered once however many hosts run one:

- :class:`WebhookNotifier`: signed JSON POSTs (receivers use
  :func:`verify_signature`);
- :class:`EmailNotifier`: SMTP mail to admins on a new ticket and to the
  owner on an admin reply.

Write your own by implementing :class:`Notifier` (``name``, ``prepare``,
``deliver``).
"""

from .base import Delivery, DeliveryStatus, Notification, Notifier, PermanentFailure, event_document
from .email import EmailNotifier, SMTPSettings
from .webhook import WebhookNotifier, sign, verify_signature
from .worker import NotificationWorker, feature, notification_kinds

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "EmailNotifier",
    "Notification",
    "NotificationWorker",
    "Notifier",
    "PermanentFailure",
    "SMTPSettings",
    "WebhookNotifier",
    "event_document",
    "feature",
    "notification_kinds",
    "sign",
    "verify_signature",
]
