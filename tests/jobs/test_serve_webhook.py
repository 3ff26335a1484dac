"""Two ``supportchat serve`` processes on one PostgreSQL, each with its own data directory (two hosts).

Both run the embedded job runner with the same webhook. Before the jobs
moved into the database each host had its own outbox file and delivered
every event; now the hosts share the jobs and 200 events arrive once each.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx
import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores.sql import SQLStore

from ..cli.serving import STATISTICS, clean_environment, serving
from ..notify.receivers import wait_until, webhook_receiver

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-two-hosts-0123456789"
EVENTS = 200


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_two_servers_on_one_postgres_deliver_each_event_once(tmp_path: Path, postgres_url: str) -> None:
    url = postgres_url
    with webhook_receiver(SECRET) as (hook, hook_url):
        command = [sys.executable, "-m", "supportchat"]

        def environment(host: str) -> dict[str, str]:
            home = tmp_path / host
            home.mkdir()
            return clean_environment(
                home,
                PYTHONPATH=str(ROOT / "src"),
                SUPPORTCHAT_DATABASE_URL=url,
                SUPPORTCHAT_WEBHOOK_URL=hook_url,
                SUPPORTCHAT_WEBHOOK_SECRET=SECRET,
            )

        deadline = time.monotonic() + 120
        with serving(command, environment("host-a"), tmp_path) as first:
            token = first.admin_token(deadline)  # the first start creates the admin, in the shared database
            with serving(command, environment("host-b"), tmp_path) as second:
                headers = {"Authorization": f"Bearer {token}"}
                for server in (first, second):
                    assert server.get(STATISTICS, deadline, token).status_code == 200
                store = SQLStore.from_url(url, migrate=False)
                try:
                    ticket = SupportDesk(store).create_ticket(Actor.user(7), subject="Dos hosts", description="x")
                    # The other 199 events through the two servers in turn.
                    with httpx.Client(timeout=10) as client:
                        for n in range(EVENTS - 1):
                            server = (first, second)[n % 2]
                            reply = client.post(
                                f"http://127.0.0.1:{server.port}/admin/api/support/tickets/{ticket.id}/messages",
                                headers=headers,
                                json={"message": f"Mensaje {n}"},
                            )
                            assert reply.status_code == 200, reply.text
                    expected = {str(record.id) for record in store.events_after(0, limit=1000)}
                finally:
                    store.close()
                assert len(expected) == EVENTS
                wait_until(lambda: set(hook.processed) == expected, 60, "every event to be delivered")
                time.sleep(1.5)  # time enough for a duplicate to show up
        assert first.process.returncode == 0 and second.process.returncode == 0, first.output + second.output
    assert len(hook.requests) == EVENTS, "each event was delivered once, by one of the two hosts"
    assert all(request.genuine for request in hook.requests)
    texts = [json.loads(r.body)["message"] for r in hook.requests]
    assert sorted(t["message"] for t in texts if t) == sorted(f"Mensaje {n}" for n in range(EVENTS - 1))
    assert not (tmp_path / "host-a" / "supportchat" / "outbox.db").exists()
