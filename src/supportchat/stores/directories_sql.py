"""The agents and contacts directories on the SQL store (SQLite and PostgreSQL).

The two tables (:mod:`supportchat.sqlschema.directories`, created by the
``0004_people`` migration) are the capability's own: nothing in
:class:`~supportchat.stores.sql.SQLStore` knows them. An agent row is keyed by the agent's id, which standalone is
the id of the admin account in ``support_admins`` (the id tickets'
``assigned_to`` holds), so the two stay linked without a foreign key the
host's own ids could not satisfy.

Writes are write transactions (``BEGIN IMMEDIATE`` on SQLite, as the store's
own) of one statement that writes (an upsert, an ``INSERT … SELECT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Conflict
from ..people import Agent, Contact, ContactIdRange
from ..sqlschema.directories import agents, contacts
from ..sqlschema.tables import UTCTimestamp, tickets
from .sql import SQLStore

__all__ = ["SQLAgentStore", "SQLContactStore"]

_a = agents.c
_k = contacts.c
_t = tickets.c
_OPEN = ("open", "in_progress")
#: Attempts at drawing a free contact id when concurrent writers take the same one.
_ID_ATTEMPTS = 20


def _insert(dialect: str, table: sa.Table) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _now() -> datetime:
    return datetime.now(UTC)


def _agent(row: Any) -> Agent:
    return Agent(
        id=row.id,
        name=row.name,
        email=row.email,
        teams=tuple(row.teams or ()),
        available=bool(row.available),
        capacity=row.capacity,
    )


def _contact(row: Any) -> Contact:
    return Contact(
        user_id=row.user_id, display_name=row.display_name, email=row.email, locale=row.locale, time_zone=row.time_zone
    )


class _OnEngine:
    """Statements through the store's own transactions, which take turns on an in-memory database's one connection."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store
        self._dialect = store.engine.dialect.name

    def _rows(self, statement: sa.Executable) -> Sequence[Any]:
        with self._store.transaction() as connection:
            return connection.execute(statement).all()


class SQLAgentStore(_OnEngine):
    """:class:`~supportchat.people.AgentStore` on ``support_agents``."""

    def list_agents(self) -> list[Agent]:
        return [_agent(row) for row in self._rows(sa.select(agents).order_by(_a.id))]

    def get_agent(self, agent_id: int) -> Agent | None:
        rows = self._rows(sa.select(agents).where(_a.id == agent_id))
        return _agent(rows[0]) if rows else None

    def put_agent(self, agent: Agent) -> Agent:
        values = {**agent.model_dump(), "teams": list(agent.teams), "updated_at": _now()}
        statement = _insert(self._dialect, agents).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[_a.id], set_={k: statement.excluded[k] for k in values if k != "id"}
        )
        with self._store.transaction(write=True) as connection:
            connection.execute(statement)
        return agent

    def remove_agent(self, agent_id: int) -> bool:
        with self._store.transaction(write=True) as connection:
            return bool(connection.execute(agents.delete().where(_a.id == agent_id)).rowcount)

    def open_loads(self, agent_ids: Sequence[int]) -> dict[int, int]:
        if not agent_ids:
            return {}
        counted = (
            sa.select(_t.assigned_to, sa.func.count())
            .where(_t.assigned_to.in_(list(agent_ids)), _t.status.in_(_OPEN))
            .group_by(_t.assigned_to)
        )
        loads = dict.fromkeys(agent_ids, 0)
        loads.update({row[0]: int(row[1]) for row in self._rows(counted)})
        return loads


class SQLContactStore(_OnEngine):
    """:class:`~supportchat.people.ContactStore` on ``support_contacts``."""

    def get_contact(self, user_id: int) -> Contact | None:
        rows = self._rows(sa.select(contacts).where(_k.user_id == user_id))
        return _contact(rows[0]) if rows else None

    def list_contacts(self, *, after_id: int = 0, limit: int = 100) -> list[Contact]:
        query = sa.select(contacts).where(_k.user_id > after_id).order_by(_k.user_id).limit(limit)
        return [_contact(row) for row in self._rows(query)]

    def contact_by_email(self, email: str) -> Contact | None:
        rows = self._rows(sa.select(contacts).where(_k.email == email))
        return _contact(rows[0]) if rows else None

    def put_contact(self, contact: Contact) -> Contact:
        values = {**contact.model_dump(), "updated_at": _now()}
        statement = _insert(self._dialect, contacts).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[_k.user_id], set_={k: statement.excluded[k] for k in values if k != "user_id"}
        )
        try:
            with self._store.transaction(write=True) as connection:
                connection.execute(statement)
        except Exception as error:
            other = None if contact.email is None else self.contact_by_email(contact.email)
            if other is not None and other.user_id != contact.user_id:
                raise Conflict(
                    "another contact has this email", details={"field": "email", "user_id": other.user_id}
                ) from error
            raise
        return contact

    def ensure_for_email(self, email: str, name: str | None, ids: ContactIdRange) -> Contact:
        for _ in range(_ID_ATTEMPTS):
            if (found := self.contact_by_email(email)) is not None:
                return found
            # The next id above every contact and ticket owner already in the range,
            # drawn inside the writing statement so that SQLite's writer lock serialises it.
            in_range = sa.and_(_k.user_id >= ids.first, _k.user_id <= ids.last)
            highest = (
                sa.func.coalesce(sa.select(sa.func.max(_k.user_id)).where(in_range).scalar_subquery(), 0),
                sa.func.coalesce(
                    sa.select(sa.func.max(_t.user_id))
                    .where(_t.user_id >= ids.first, _t.user_id <= ids.last)
                    .scalar_subquery(),
                    0,
                ),
            )
            taken = sa.func.greatest(*highest) if self._dialect == "postgresql" else sa.func.max(*highest)
            next_id = sa.func.coalesce(sa.func.nullif(taken, 0) + 1, ids.first)
            draw = sa.select(
                next_id,
                sa.literal(name, sa.Text),
                sa.literal(email, sa.Text),
                sa.literal(_now(), UTCTimestamp),
            ).where(next_id <= ids.last)
            statement = (
                _insert(self._dialect, contacts)
                .from_select(["user_id", "display_name", "email", "updated_at"], draw)
                .on_conflict_do_nothing()
            )
            with self._store.transaction(write=True) as connection:
                connection.execute(statement)
        found = self.contact_by_email(email)
        if found is None:
            raise Conflict("could not allocate a contact id; the id range may be full", details={"field": "email"})
        return found
