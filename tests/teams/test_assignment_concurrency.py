"""Four processes auto-assigning 2,000 tickets among 10 agents of capacity 50, on PostgreSQL and on one SQLite file.

The tickets wait in one auto-assigning team's queue (more than the 500
places the agents have); each process hands out the queue's head
(``TeamDesk.assign_next``) and, when nobody has room, resolves one assigned
ticket, so the queue drains only as capacity frees. Then, from the record of
changes: every ticket was assigned exactly once, replaying the records in
order no agent ever held more than 50 open tickets, and the assignments
came in arrival order (with four deciders, a ticket is written at most
three places before an earlier one: each process has one hold in flight).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from supportchat import Actor, SupportDesk
from supportchat.people import agent_store, parse_agent
from supportchat.stores.sql import SQLStore
from supportchat.teams import Team, TeamDesk, team_store

from ..stores import migrated_sqlite_url, shared_postgres

WORKERS = 4
TICKETS = int(os.environ.get("TEAMS_LOAD_TICKETS", "2000"))
AGENTS = 10
CAPACITY = 50
TEAM = "desk"
ADMIN = Actor.admin(1)
#: The whole load must end well within this (seconds), on a loaded machine.
DEADLINE = 420.0


def hand_out(url: str, connect_args: dict[str, Any], worker: int, deadline: float) -> tuple[int, int, list[str]]:
    """One process: assign the queue's head, or free a place; returns (assigned, resolved, findings)."""
    store = SQLStore.from_url(url, migrate=False, connect_args=connect_args)
    desk = SupportDesk(store)
    teams = TeamDesk(desk)
    loads = agent_store(store)
    chance = random.Random(worker)
    assigned = resolved = 0
    findings: list[str] = []
    try:
        while time.time() < deadline:
            try:
                hold = teams.assign_next(TEAM)
                if hold is not None:
                    assigned += 1
                    load = loads.open_loads([hold.agent_id])[hold.agent_id]
                    if load > CAPACITY:
                        findings.append(f"agent {hold.agent_id} holds {load} open tickets")
                    continue
                if not teams.store.queue(TEAM, limit=1):
                    break
                agent = chance.randint(1, AGENTS)
                theirs = desk.list_tickets(ADMIN, status="open", assigned_to=agent, per_page=20).items
                if theirs:
                    desk.change_status(ADMIN, chance.choice(theirs).id, "resolved")
                    resolved += 1
            except Exception as error:  # every error is a finding
                findings.append(repr(error))
        else:
            findings.append(f"worker {worker} ran out of time")
    finally:
        store.close()
    return assigned, resolved, findings


def prepare(store: SQLStore) -> list[int]:
    """Ten agents of capacity 50 in an auto-assigning team, and 2,000 tickets in its queue; their ids by arrival."""
    desk = SupportDesk(store)
    for agent_id in range(1, AGENTS + 1):
        agent_store(store).put_agent(
            parse_agent(id=agent_id, name=f"agent {agent_id}", teams=[TEAM], capacity=CAPACITY)
        )
    queue = team_store(store)
    # Written straight to the team store: TeamDesk.put_team would start handing out at once.
    queue.put_team(Team(name=TEAM, display_name="Desk", auto_assign=True))
    arrivals = []
    for index in range(TICKETS):
        ticket = desk.create_ticket(ADMIN, subject=f"ticket {index}", description="waits", user_id=100 + index % 7)
        queue.set_ticket_team(ticket.id, TEAM, ticket.created_at)
        queue.enqueue(ticket.id, TEAM, ticket.created_at)
        arrivals.append(ticket.id)
    return arrivals


def run_load(url: str, connect_args: dict[str, Any]) -> None:
    store = SQLStore.from_url(url, migrate=False, connect_args=connect_args)
    try:
        arrivals = prepare(store)
        started = time.time()
        deadline = started + DEADLINE
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
            futures = [pool.submit(hand_out, url, connect_args, worker, deadline) for worker in range(WORKERS)]
            results = [future.result(timeout=DEADLINE + 60) for future in futures]
        elapsed = time.time() - started
        findings = [finding for _, _, worker_findings in results for finding in worker_findings]
        assert findings == []
        assert sum(assigned for assigned, _, _ in results) == TICKETS
        check_the_record(store, arrivals)
        assert team_store(store).queue(TEAM) == []
        print(
            f"\n{TICKETS} tickets handed out by {WORKERS} processes in {elapsed:.1f} s "
            f"({sum(r for _, r, _ in results)} resolved to free places)"
        )
    finally:
        store.close()


def check_the_record(store: SQLStore, arrivals: list[int]) -> None:
    with store.engine.connect() as connection:
        changes = connection.execute(
            sa.text(
                "SELECT ticket_id, field, old_value, new_value FROM support_ticket_changes "
                "WHERE field IN ('assigned_to', 'status') ORDER BY id"
            )
        ).all()
    assignments = [(ticket, old, new) for ticket, field, old, new in changes if field == "assigned_to"]
    per_ticket: dict[int, int] = defaultdict(int)
    for ticket, old, _ in assignments:
        per_ticket[ticket] += 1
        assert old is None, f"ticket {ticket} was reassigned"
    assert sorted(per_ticket) == sorted(arrivals) and set(per_ticket.values()) == {1}, "a ticket assigned twice"

    # Replay: each ticket's assignee, and every agent's open tickets after each change in order.
    assignee: dict[int, int] = {}
    open_load: dict[int, int] = defaultdict(int)
    highest = 0
    for ticket, field, old, new in changes:
        if field == "assigned_to":
            assignee[ticket] = int(new)
            open_load[int(new)] += 1
            highest = max(highest, open_load[int(new)])
        elif old in ("open", "in_progress") and new in ("resolved", "closed"):
            open_load[assignee[ticket]] -= 1
    assert highest <= CAPACITY, f"an agent held {highest} open tickets"
    assert highest == CAPACITY  # the queue was longer than the places: every agent filled up

    rank = {ticket: position for position, ticket in enumerate(arrivals)}
    order = [rank[ticket] for ticket, _, _ in assignments]
    ahead = max(arrival - position for position, arrival in enumerate(order))
    assert ahead <= WORKERS - 1, f"a ticket was assigned {ahead} places ahead of its arrival"


@pytest.mark.slow
@pytest.mark.timeout(DEADLINE + 200)
def test_four_processes_hand_out_the_queue_on_one_sqlite_file(tmp_path: Path) -> None:
    run_load(migrated_sqlite_url(tmp_path / "shared.db"), {})


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(DEADLINE + 200)
def test_four_processes_hand_out_the_queue_on_postgres(request: pytest.FixtureRequest) -> None:
    run_load(*shared_postgres(request))
