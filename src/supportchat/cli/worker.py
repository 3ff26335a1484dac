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
from .config import Session, open_session
from .features import installed_features
from .options import DatabaseUrl
from .output import handled, out

__all__ = [
    "EMBEDDED_WORKER_VARIABLE",
    "embedded_worker_enabled",
    "job_runner",
    "worker",
]

EMBEDDED_WORKER_VARIABLE = "SUPPORTCHAT_EMBEDDED_WORKER"


def embedded_worker_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(EMBEDDED_WORKER_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def job_runner(session: Session, *, lease: float = 120.0, poll_interval: float = 0.5, threads: int = 1) -> JobRunner:
    """A runner of every installed feature's job kinds over the session's store."""
    kinds = [kind for feature in installed_features() for kind in feature.kinds_for(session.store)]
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

        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            runner.start(session.desk)
            # After start: an event written once this line is out is announced, not "the past".
            kinds = ", ".join(runner.kinds) or "none configured"
            line = f"Worker {runner.owner} on {session.description}; job kinds: {kinds}"
            out().print(line, markup=False, soft_wrap=True)
            while not stopping.wait(1.0):
                pass
        finally:
            runner.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        out().print("Worker stopped.", markup=False)
