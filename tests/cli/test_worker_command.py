"""``supportchat worker`` as a real process: a webhook from the environment, events written elsewhere."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores.sql import SQLStore

from ..notify.receivers import wait_until, webhook_receiver
from .serving import clean_environment

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-worker-0123456789"


@pytest.mark.timeout(120)
def test_the_worker_delivers_events_written_by_another_process_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    store = SQLStore.from_url(f"sqlite:///{database}")
    desk = SupportDesk(store)
    with webhook_receiver(SECRET) as (hook, url):
        env = clean_environment(
            tmp_path,
            PYTHONPATH=str(ROOT / "src"),
            SUPPORTCHAT_DATABASE_URL=f"sqlite:///{database}",
            SUPPORTCHAT_WEBHOOK_URL=url,
            SUPPORTCHAT_WEBHOOK_SECRET=SECRET,
        )
        command = [sys.executable, "-m", "supportchat"]
        worker = subprocess.Popen(
            [*command, "worker", "--poll-interval", "0.1"], env=env, stdout=subprocess.PIPE, text=True, cwd=tmp_path
        )
        try:
            assert worker.stdout is not None
            first_line = worker.stdout.readline()
            assert "job kinds: notify.webhook" in first_line, first_line
            ticket = desk.create_ticket(Actor.user(3), subject="Desde otro proceso", description="x")
            desk.post_message(Actor.admin(1), ticket.id, "Respuesta")
            wait_until(lambda: len(hook.processed) == 2, 30, "both events")
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                output, _ = worker.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                raise
        assert worker.returncode == 0 and "Worker stopped." in output
        assert len(hook.requests) == 2 and all(r.genuine for r in hook.requests)

    counts = subprocess.run(
        [*command, "jobs", "counts", "--json"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert counts.returncode == 0, counts.stderr
    found = json.loads(counts.stdout)
    # Every delivery done: the webhook has no unfinished work (the SLA's and the teams' kinds follow the same
    # events; the teams' next sweep is scheduled ahead).
    assert not {kind for kind in found["by_kind"] if kind.startswith("notify.")}, found["by_kind"]
    assert found["by_kind"].get("teams.sweep", {}).get("pending", 1) == 1
    assert found["total"]["failed"] == 0 and found["total"]["running"] == 0
    store.close()


def test_a_webhook_url_without_a_secret_is_refused_clearly(tmp_path: Path) -> None:
    env = clean_environment(tmp_path, PYTHONPATH=str(ROOT / "src"), SUPPORTCHAT_WEBHOOK_URL="http://127.0.0.1:9/h")
    result = subprocess.run(
        [sys.executable, "-m", "supportchat", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "SUPPORTCHAT_WEBHOOK_SECRET" in result.stderr
