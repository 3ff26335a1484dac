"""The breach fires on time after the worker is killed with SIGKILL between the warning and the breach.

A real ``supportchat worker`` process on one SQLite file: the policy warns at
once and breaches one business minute after creation (an always-open
calendar). The worker fires the warning, is killed (no job in hand, so no
lease to wait out), and a new worker starts before the breach is due. The
breach fires once, no later than the scheduler's resolution after its due
time: the scan job scheduled for it is a durable row of ``support_jobs``.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.jobs import JobStatus, JobStore
from supportchat.models import Actor
from supportchat.sla import BREACHED, WARNING, CalendarIn, PolicyIn, SlaStore
from supportchat.stores import SQLiteStore

from ..worker_processes import start_worker, wait_for

POLL = 0.5
ALWAYS = {d: [("00:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_breach_fires_once_and_on_time_after_a_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = SQLiteStore(tmp_path / "desk.db")
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    jobs: JobStore = extension(store, JobStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="always", time_zone="UTC", hours=ALWAYS))
    sla.put_policy(PolicyIn(name="fast", calendar="always", first_response_minutes=1, warning_minutes=1))
    worker = start_worker(url, "--poll-interval", str(POLL), expect_kind="sla.scan")
    try:
        ticket = SupportDesk(store).create_ticket(Actor.user(3), subject="Help", description="Now")

        def fired(kind: str) -> list[float]:
            return [e.fired_at - e.due_at for e in sla.events(ticket_id=ticket.id) if e.type == kind]

        wait_for(lambda: fired(WARNING), 20, "the warning")
        # Killed between the warning and the breach, holding no job (so there is no lease to wait out).
        wait_for(lambda: not jobs.list_jobs(status=JobStatus.RUNNING), 10, "an idle worker")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert not fired(BREACHED)
        due = sla.deadlines([ticket.id])[0].due_at
        assert due is not None and due - time.time() > 5, "the breach must still be ahead at the restart"
        worker = start_worker(url, "--poll-interval", str(POLL), expect_kind="sla.scan")
        wait_for(lambda: fired(BREACHED), due - time.time() + 20, "the breach")
        time.sleep(2 * POLL)  # a second firing would show by now
        late = fired(BREACHED)
        assert len(late) == 1 and len(fired(WARNING)) == 1
        print(f"breach late by {late[0]:.3f} s (poll interval {POLL} s)")
        assert 0 <= late[0] <= POLL
    finally:
        worker.kill()
        worker.wait(10)
