"""``supportchat worker``, and the job runner that it and ``serve`` run.

What the runner runs comes from the environment, the same for every process
(so that a separate worker and an embedded one agree):

* ``SUPPORTCHAT_WEBHOOK_URL`` and ``SUPPORTCHAT_WEBHOOK_SECRET``: a webhook
  notifier (every event, signed; see ``docs/realtime.md``);
* ``SUPPORTCHAT_EMBEDDED_WORKER=0``: ``serve`` runs no runner of its own
  (``serve --no-worker`` sets it), for set-ups where ``supportchat worker``
  processes do the work.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping
from types import FrameType
from typing import Annotated

import typer

from ..jobs import JobRunner
from ..notify import Notifier, WebhookNotifier, notification_kinds
from .config import Session, open_session
from .options import DatabaseUrl
from .output import UserError, handled, out

__all__ = [
    "EMBEDDED_WORKER_VARIABLE",
    "WEBHOOK_SECRET_VARIABLE",
    "WEBHOOK_URL_VARIABLE",
    "configured_notifiers",
    "embedded_worker_enabled",
    "job_runner",
    "worker",
]

WEBHOOK_URL_VARIABLE = "SUPPORTCHAT_WEBHOOK_URL"
WEBHOOK_SECRET_VARIABLE = "SUPPORTCHAT_WEBHOOK_SECRET"
EMBEDDED_WORKER_VARIABLE = "SUPPORTCHAT_EMBEDDED_WORKER"


def configured_notifiers(environ: Mapping[str, str] = os.environ) -> list[Notifier]:
    """The notifiers the environment configures (none by default)."""
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


def embedded_worker_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(EMBEDDED_WORKER_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def job_runner(session: Session, *, lease: float = 120.0, poll_interval: float = 0.5, threads: int = 1) -> JobRunner:
    """A runner of every configured job kind over the session's store."""
    kinds = notification_kinds(session.store, configured_notifiers())
    return JobRunner(session.store, kinds, lease=lease, poll_interval=poll_interval, threads=threads)


@handled
def worker(
    database_url: DatabaseUrl = None,
    lease: Annotated[
        float, typer.Option(min=1.0, help="Seconds a claimed job stays this worker's before others may take it.")
    ] = 120.0,
    poll_interval: Annotated[
        float, typer.Option(min=0.05, help="Longest sleep between looks at the database (seconds).")
    ] = 0.5,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once.")] = 1,
) -> None:
    """Run the desk's jobs (notifications, scheduled work) until Ctrl-C; any number may run at once."""
    with open_session(database_url) as session:
        runner = job_runner(session, lease=lease, poll_interval=poll_interval, threads=threads)
        kinds = ", ".join(runner.kinds) or "none configured"
        out().print(f"Worker {runner.owner} on {session.description}; job kinds: {kinds}", markup=False)

        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            runner.start(session.desk)
            while not stopping.wait(1.0):
                pass
        finally:
            runner.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        out().print("Worker stopped.", markup=False)
