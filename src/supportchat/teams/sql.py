"""The teams capability on the SQL store (SQLite and PostgreSQL).

Every method is one transaction of the store's (``SQLStore.transaction``).
The deciding steps, :meth:`SQLTeamStore.reserve_next` and
:meth:`~SQLTeamStore.hold`, are write transactions that first lock the
state rows of the agents they may choose (``SELECT … FOR UPDATE`` in agent
id order on PostgreSQL, so two deciders over one agent take turns and never
deadlock; SQLite's ``BEGIN IMMEDIATE`` makes every writer take turns), then
count those agents' loads, so a load read there stays true until the hold
is written. The queue's head is read ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL: a transfer holding an entry never makes an assigner wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..models import Category, TicketStatus
from ..sqlschema.tables import tickets
from ..stores.sql import SQLStore
from .base import AgentState, Hold, HoldResult, Member, QueueEntry, Team
from .rules import Availability, Candidate, has_room, pick_agent
from .schema import agent_states, queue, teams, ticket_teams

__all__ = ["SQLTeamStore"]

_T = teams.c
_S = agent_states.c
_W = ticket_teams.c
_Q = queue.c
_t = tickets.c
_OPEN = (TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value)


_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_NOW = sa.bindparam("now", type_=_Q.reserved_until.type)
# Built once, so SQLAlchemy compiles each once per dialect.
_LOCK_STATES = sa.select(agent_states).where(_S.agent_id.in_(_IDS)).order_by(_S.agent_id).with_for_update()
#: Each agent's load in ONE statement, so one snapshot: on PostgreSQL (read committed) a
#: ticket whose desk write and hold release commit between two statements would be
#: counted by neither; in one, a held ticket counts as held or as assigned, at least once.
_LOADS: Any = (
    sa.select(sa.literal_column("agent"), sa.func.count())
    .select_from(
        sa.union_all(
            sa.select(_t.assigned_to.label("agent")).where(_t.assigned_to.in_(_IDS), _t.status.in_(_OPEN)),
            sa.select(_Q.reserved_for.label("agent"))
            .select_from(queue.join(tickets, _t.id == _Q.ticket_id))
            .where(
                _Q.reserved_for.in_(_IDS),
                _Q.reserved_until > _NOW,
                sa.or_(_t.assigned_to.is_(None), _t.assigned_to != _Q.reserved_for),
            ),
        ).subquery("counted")
    )
    .group_by(sa.literal_column("agent"))
)
#: The team's first waiting ticket: not held, unassigned, open; skipped if a transfer holds its row.
_QUEUE_HEAD = (
    sa.select(_Q.ticket_id)
    .select_from(queue.join(tickets, _t.id == _Q.ticket_id))
    .where(
        _Q.team == sa.bindparam("team"),
        sa.or_(_Q.reserved_until.is_(None), _Q.reserved_until <= _NOW),
        _t.assigned_to.is_(None),
        _t.status.in_(_OPEN),
    )
    .order_by(_Q.queued_at, _Q.ticket_id)
    .limit(1)
    .with_for_update(of=queue, skip_locked=True)
)
_HOLD = (
    queue.update()
    .where(_Q.ticket_id == sa.bindparam("p_ticket"))
    .values(reserved_for=sa.bindparam("p_agent"), reserved_until=sa.bindparam("p_until", type_=_Q.reserved_until.type))
)
_TOUCH = (
    agent_states.update()
    .where(_S.agent_id == sa.bindparam("p_agent"))
    .values(last_assigned_at=sa.bindparam("p_at", type_=_S.last_assigned_at.type))
)
_RELEASE = queue.delete().where(_Q.ticket_id == sa.bindparam("p_ticket"), _Q.reserved_for == sa.bindparam("p_agent"))


def _team(row: Any) -> Team:
    return Team(
        name=row.name,
        display_name=row.display_name,
        auto_assign=bool(row.auto_assign),
        categories=tuple(Category(c) for c in row.categories or ()),
    )


def _state(row: Any) -> AgentState:
    return AgentState(
        agent_id=row.agent_id,
        status=Availability(row.status),
        status_since=row.status_since,
        last_assigned_at=row.last_assigned_at,
    )


def _entry(row: Any) -> QueueEntry:
    return QueueEntry(
        ticket_id=row.ticket_id,
        team=row.team,
        queued_at=row.queued_at,
        reserved_for=row.reserved_for,
        reserved_until=row.reserved_until,
    )


class SQLTeamStore:
    """:class:`~.base.TeamStore` on the tables of migration ``0012_teams``."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store
        self._dialect = store.engine.dialect.name

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    def _rows(self, statement: sa.Executable) -> Sequence[Any]:
        with self._store.transaction() as connection:
            return connection.execute(statement).all()

    # -- teams ---------------------------------------------------------------

    def list_teams(self) -> list[Team]:
        return [_team(row) for row in self._rows(sa.select(teams).order_by(_T.name))]

    def get_team(self, name: str) -> Team | None:
        rows = self._rows(sa.select(teams).where(_T.name == name))
        return _team(rows[0]) if rows else None

    def put_team(self, team: Team) -> Team:
        values = {
            "name": team.name,
            "display_name": team.display_name,
            "auto_assign": team.auto_assign,
            "categories": [c.value for c in team.categories],
            "updated_at": datetime.now(UTC),
        }
        statement = self._insert(teams).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[_T.name], set_={k: statement.excluded[k] for k in values if k != "name"}
        )
        with self._store.transaction(write=True) as connection:
            connection.execute(statement)
        return team

    def remove_team(self, name: str) -> bool:
        with self._store.transaction(write=True) as connection:
            connection.execute(queue.delete().where(_Q.team == name))
            connection.execute(ticket_teams.delete().where(_W.team == name))
            return bool(connection.execute(teams.delete().where(_T.name == name)).rowcount)

    # -- agents' states -------------------------------------------------------

    def agent_states(self, agent_ids: Sequence[int]) -> dict[int, AgentState]:
        found = {
            row.agent_id: _state(row)
            for row in self._rows(sa.select(agent_states).where(_S.agent_id.in_(list(agent_ids))))
        }
        return {agent_id: found.get(agent_id, AgentState(agent_id=agent_id)) for agent_id in agent_ids}

    def set_status(self, agent_id: int, status: Availability, now: datetime) -> AgentState:
        statement = self._insert(agent_states).values(agent_id=agent_id, status=status.value, status_since=now)
        statement = statement.on_conflict_do_update(
            index_elements=[_S.agent_id],
            set_={"status": status.value, "status_since": now},
            where=_S.status != status.value,
        )
        with self._store.transaction(write=True) as connection:
            connection.execute(statement)
            row = connection.execute(sa.select(agent_states).where(_S.agent_id == agent_id)).one()
        return _state(row)

    def _locked_states(self, connection: sa.Connection, agent_ids: list[int], now: datetime) -> dict[int, AgentState]:
        """The agents' state rows, made if missing, locked to the end of the transaction (ids in order)."""
        rows = {row.agent_id: _state(row) for row in connection.execute(_LOCK_STATES, {"ids": agent_ids})}
        missing = [agent_id for agent_id in agent_ids if agent_id not in rows]
        if missing:
            available = Availability.AVAILABLE.value
            made = self._insert(agent_states).values(
                [{"agent_id": agent_id, "status": available, "status_since": now} for agent_id in missing]
            )
            connection.execute(made.on_conflict_do_nothing(index_elements=[_S.agent_id]))
            rows = {row.agent_id: _state(row) for row in connection.execute(_LOCK_STATES, {"ids": agent_ids})}
        return rows

    def _loads(self, connection: sa.Connection, agent_ids: list[int], now: datetime) -> dict[int, int]:
        loads = dict.fromkeys(agent_ids, 0)
        for agent_id, count in connection.execute(_LOADS, {"ids": agent_ids, "now": now}):
            loads[agent_id] += int(count)
        return loads

    # -- tickets' teams and the queue --------------------------------------------

    def ticket_teams(self, ticket_ids: Sequence[int]) -> dict[int, str]:
        rows = self._rows(sa.select(_W.ticket_id, _W.team).where(_W.ticket_id.in_(list(ticket_ids))))
        return {row.ticket_id: row.team for row in rows}

    def set_ticket_team(self, ticket_id: int, team: str | None, now: datetime) -> None:
        with self._store.transaction(write=True) as connection:
            if team is None:
                connection.execute(ticket_teams.delete().where(_W.ticket_id == ticket_id))
                return
            statement = self._insert(ticket_teams).values(ticket_id=ticket_id, team=team, since=now)
            connection.execute(
                statement.on_conflict_do_update(index_elements=[_W.ticket_id], set_={"team": team, "since": now})
            )

    def enqueue(self, ticket_id: int, team: str, queued_at: datetime) -> bool:
        statement = self._insert(queue).values(ticket_id=ticket_id, team=team, queued_at=queued_at)
        with self._store.transaction(write=True) as connection:
            # RETURNING, not rowcount: psycopg answers -1 for an INSERT … ON CONFLICT DO NOTHING.
            added = statement.on_conflict_do_nothing(index_elements=[_Q.ticket_id]).returning(_Q.ticket_id)
            return connection.execute(added).first() is not None

    def dequeue(self, ticket_id: int) -> bool:
        with self._store.transaction(write=True) as connection:
            return bool(connection.execute(queue.delete().where(_Q.ticket_id == ticket_id)).rowcount)

    def queue(self, team: str | None = None, *, limit: int = 100) -> list[QueueEntry]:
        statement = sa.select(queue).order_by(_Q.queued_at, _Q.ticket_id).limit(limit)
        if team is not None:
            statement = statement.where(_Q.team == team)
        return [_entry(row) for row in self._rows(statement)]

    def reserve_next(self, team: str, members: Sequence[Member], *, now: datetime, lease: timedelta) -> Hold | None:
        if not members:
            return None
        capacity = {member.agent_id: member.capacity for member in members}
        ids = sorted(capacity)
        with self._store.transaction(write=True) as connection:
            states = self._locked_states(connection, ids, now)
            ticket_id = connection.execute(_QUEUE_HEAD, {"team": team, "now": now}).scalar()
            if ticket_id is None:
                return None
            loads = self._loads(connection, ids, now)
            chosen = pick_agent(
                Candidate(
                    agent_id=agent_id,
                    load=loads[agent_id],
                    capacity=capacity[agent_id],
                    available=states[agent_id].status is Availability.AVAILABLE,
                    idle_since=states[agent_id].last_assigned_at,
                )
                for agent_id in ids
            )
            if chosen is None:
                return None
            connection.execute(
                queue.update()
                .where(_Q.ticket_id == ticket_id)
                .values(reserved_for=chosen.agent_id, reserved_until=now + lease)
            )
            connection.execute(agent_states.update().where(_S.agent_id == chosen.agent_id).values(last_assigned_at=now))
        return Hold(ticket_id=ticket_id, agent_id=chosen.agent_id)

    def hold(
        self, ticket_id: int, member: Member, *, now: datetime, lease: timedelta, force: bool = False
    ) -> HoldResult:
        agent_id = member.agent_id
        with self._store.transaction(write=True) as connection:
            state = self._locked_states(connection, [agent_id], now)[agent_id]
            if not force:
                if state.status is not Availability.AVAILABLE:
                    return HoldResult.UNAVAILABLE
                if not has_room(self._loads(connection, [agent_id], now)[agent_id], member.capacity):
                    return HoldResult.FULL
            team = connection.execute(sa.select(_W.team).where(_W.ticket_id == ticket_id)).scalar()
            held = {"reserved_for": agent_id, "reserved_until": now + lease}
            statement = self._insert(queue).values(ticket_id=ticket_id, team=team or "", queued_at=now, **held)
            connection.execute(statement.on_conflict_do_update(index_elements=[_Q.ticket_id], set_=held))
            connection.execute(_TOUCH, {"p_agent": agent_id, "p_at": now})
        return HoldResult.HELD

    def release(self, hold: Hold) -> None:
        with self._store.transaction(write=True) as connection:
            connection.execute(queue.delete().where(_Q.ticket_id == hold.ticket_id, _Q.reserved_for == hold.agent_id))

    def prune(self, now: datetime) -> int:
        live_ticket = sa.select(_t.id).where(_t.id == _Q.ticket_id, _t.status.in_(_OPEN))
        assigned = sa.select(_t.id).where(_t.id == _Q.ticket_id, _t.assigned_to.is_not(None))
        unheld = sa.or_(_Q.reserved_until.is_(None), _Q.reserved_until <= now)
        stale = sa.or_(~live_ticket.exists(), sa.and_(assigned.exists(), unheld))
        with self._store.transaction(write=True) as connection:
            return int(connection.execute(queue.delete().where(stale)).rowcount)
