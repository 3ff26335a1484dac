"""The features the standalone server and the CLI assemble: one list, one line per capability.

Each :class:`~supportchat.features.Feature` brings its routes (mounted by
``serve``), its job kinds (run by ``worker`` and the embedded worker) and
its command group (added to ``supportchat``). Adding a capability to the
standalone product is one line here; the core's files stay as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..attachments.feature import feature as attachments_feature
from ..features import Feature
from ..jobs import JobKind
from ..jobs.feature import feature as jobs_feature
from ..notify import Notifier, WebhookNotifier, notification_kinds
from ..store import Store
from .attachments import attachments_app, configured_attachments
from .jobs import jobs_app
from .output import UserError

__all__ = ["WEBHOOK_SECRET_VARIABLE", "WEBHOOK_URL_VARIABLE", "configured_notifiers", "installed_features"]

WEBHOOK_URL_VARIABLE = "SUPPORTCHAT_WEBHOOK_URL"
WEBHOOK_SECRET_VARIABLE = "SUPPORTCHAT_WEBHOOK_SECRET"


def configured_notifiers(environ: Mapping[str, str] = os.environ) -> list[Notifier]:
    """The notifiers the environment configures: a webhook if ``SUPPORTCHAT_WEBHOOK_URL`` is set."""
    url = environ.get(WEBHOOK_URL_VARIABLE)
    if not url:
        return []
    secret = environ.get(WEBHOOK_SECRET_VARIABLE)
    if not secret:
        raise UserError(f"{WEBHOOK_URL_VARIABLE} is set: set {WEBHOOK_SECRET_VARIABLE} too (receivers verify with it)")
    try:
        return [WebhookNotifier(url, secret)]
    except ValueError as exc:
        raise UserError(f"{WEBHOOK_URL_VARIABLE}: {exc}") from None


def _configured_notifications(store: Store) -> list[JobKind]:
    # Read when a runner is built, not when the CLI starts: `supportchat tickets list`
    # must not fail over a webhook variable it does not use.
    return notification_kinds(store, configured_notifiers())


def installed_features() -> list[Feature]:
    """The features of the standalone product (their job kinds read the environment when asked)."""
    return [
        jobs_feature(commands=jobs_app),
        Feature("notify", job_kinds=_configured_notifications),
        attachments_feature(configured_attachments(), commands=attachments_app),
    ]
