"""What auto-assignment costs per ticket, against the desk's plain assignment (run by hand).

    python -m benchmarks.teams                 # a SQLite file
    python -m benchmarks.teams --postgres      # and PostgreSQL (127.0.0.1:5432, db test), a schema of its own

One team of 10 agents with room for every ticket; ``--tickets`` tickets wait
in its queue. Baseline: ``SupportDesk.assign`` of each ticket to an agent
chosen round robin (one checked write). Measured: ``TeamDesk.assign_next``
until the queue is empty (hold under the agents' row locks with the loads
counted and the rule applied, the same checked write, the release). Both run
in one process on fresh copies of the same data; the ratio is measured over
baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import sqlalchemy as sa

from supportchat import Actor, SupportDesk
from supportchat.migrations import upgrade
from supportchat.people import agent_store, parse_agent
from supportchat.stores.sql import SQLStore, create_engine
from supportchat.teams import Team, TeamDesk, team_store

ADMIN = Actor.admin(1)
AGENTS = 10
POSTGRES_URL = os.environ.get("SUPPORTCHAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fill(store: SQLStore, tickets: int) -> list[int]:
    desk = SupportDesk(store)
    for agent_id in range(1, AGENTS + 1):
        agent_store(store).put_agent(parse_agent(id=agent_id, name=f"agent {agent_id}", teams=["desk"]))
    queue = team_store(store)
    queue.put_team(Team(name="desk", display_name="Desk", auto_assign=True))
    ids = []
    for index in range(tickets):
        ticket = desk.create_ticket(ADMIN, subject=f"ticket {index}", description="waits", user_id=5)
        queue.enqueue(ticket.id, "desk", ticket.created_at)
        ids.append(ticket.id)
    return ids


def timed(run: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = run()
    return time.perf_counter() - started, count


def measure(make: Callable[[], SQLStore], tickets: int) -> tuple[float, float]:
    """Seconds per ticket: (plain desk.assign, TeamDesk.assign_next)."""
    store = make()
    ids = fill(store, tickets)
    desk = SupportDesk(store)

    def plain() -> int:
        for position, ticket_id in enumerate(ids):
            desk.assign(ADMIN, ticket_id, position % AGENTS + 1)
        return len(ids)

    baseline, done = timed(plain)
    store.close()
    store = make()
    fill(store, tickets)
    teams = TeamDesk(SupportDesk(store))

    def queued() -> int:
        given = 0
        while teams.assign_next("desk") is not None:
            given += 1
        return given

    measured, given = timed(queued)
    store.close()
    assert given == done == tickets
    return baseline / tickets, measured / tickets


def sqlite_maker(folder: Path) -> Callable[[], SQLStore]:
    def make() -> SQLStore:
        path = folder / f"{uuid.uuid4().hex}.db"
        engine = create_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        return SQLStore.from_url(f"sqlite:///{path}", migrate=False)

    return make


def postgres_maker(schemas: list[str]) -> Callable[[], SQLStore]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def make() -> SQLStore:
        schema = f"supportchat_bench_{uuid.uuid4().hex[:10]}"
        schemas.append(schema)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema}"})
        upgrade(engine)
        return SQLStore(engine, owns_engine=True)

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    backends: list[tuple[str, Callable[[], SQLStore]]] = []
    schemas: list[str] = []
    with tempfile.TemporaryDirectory(prefix="supportchat-teams-bench-") as folder:
        backends.append(("SQLite file", sqlite_maker(Path(folder))))
        if options.postgres:
            backends.append(("PostgreSQL", postgres_maker(schemas)))
        print(f"{options.tickets} tickets, {AGENTS} agents; ms per ticket")
        print(f"{'database':<12} {'desk.assign':>12} {'assign_next':>12} {'ratio':>7}")
        for name, make in backends:
            try:
                plain, queued = measure(make, options.tickets)
            except sa.exc.OperationalError as error:
                print(f"{name:<12} unavailable: {error}")
                continue
            print(f"{name:<12} {plain * 1000:>12.2f} {queued * 1000:>12.2f} {queued / plain:>6.1f}x")
    if schemas:
        with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
