"""The teams' job kinds under a real job runner: new tickets routed and handed out, capacity freed, notices sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supportchat import Actor, SupportDesk
from supportchat.jobs import JobRunner
from supportchat.notify.base import Delivery, Notification
from supportchat.people import agent_store, parse_agent
from supportchat.stores.sql import SQLStore
from supportchat.teams import team_desk
from supportchat.teams.feature import team_kinds

ADMIN = Actor.admin(1)


class Inbox:
    """A notifier that keeps what it is given (the receiving end of a webhook, in process)."""

    name = "inbox"

    def __init__(self) -> None:
        self.received: list[Mapping[str, Any]] = []

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        return None  # desk events are the notify feature's; this inbox takes transfer notices only

    def deliver(self, delivery: Delivery) -> None:
        self.received.append(delivery.payload)


def settle(runner: JobRunner) -> None:
    for _ in range(20):
        if not runner.run_once():
            return


def test_the_worker_routes_hands_out_and_frees_capacity(tmp_path: Any) -> None:
    store = SQLStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    desk = SupportDesk(store)
    agent_store(store).put_agent(parse_agent(id=1, name="ana", teams=["billing"], capacity=1))
    team_desk(desk).put_team(ADMIN, "billing", auto_assign=True, categories=["billing"])
    inbox = Inbox()
    runner = JobRunner(store, team_kinds(desk, [inbox]))
    runner.start_cursors()
    first, second = (
        desk.create_ticket(Actor.user(5), subject=f"bill {i}", description="wrong amount", category="billing")
        for i in range(2)
    )
    other = desk.create_ticket(Actor.user(5), subject="login", description="cannot", category="technical")
    settle(runner)
    assert store.get_ticket(first.id).assigned_to == 1  # type: ignore[union-attr]
    assert store.get_ticket(second.id).assigned_to is None, "capacity 1: the second waits"  # type: ignore[union-attr]
    assert store.get_ticket(other.id).assigned_to is None  # type: ignore[union-attr]
    desk.change_status(ADMIN, first.id, "resolved")
    settle(runner)
    assert store.get_ticket(second.id).assigned_to == 1, "handed out as capacity freed"  # type: ignore[union-attr]
    agent_store(store).put_agent(parse_agent(id=2, name="bo", capacity=0))
    team_desk(desk).transfer(ADMIN, other.id, to=2, reason="knows logins")
    settle(runner)
    assert [(n["type"], n["from_agent"], n["to_agent"], n["reason"]) for n in inbox.received] == [
        ("ticket_transferred", None, 2, "knows logins")
    ]
    store.close()
