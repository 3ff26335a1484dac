"""The SQL store: SQLite (the embedded default) and PostgreSQL on SQLAlchemy Core.

One implementation serves every SQLAlchemy URL the project supports
(``sqlite:///file``, in-memory ``sqlite://`` and ``postgresql+psycopg://``).
Each write is one transaction of a few statements: the optimistic version
check is part of the ``UPDATE ... WHERE version = :expected`` itself, so no
update is lost on either database, and the per-ticket counters, change
records and event-log entry are written in the same transaction. Statistics
come from counters that database triggers keep (see :mod:`._schema`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from ..errors import ConcurrentUpdate, TicketNotFound
from ..models import (
    ActorKind,
    Category,
    EventRecord,
    EventType,
    Message,
    MessageType,
    NewMessage,
    NewTicket,
    NewTicketChange,
    Priority,
    SenderType,
    Statistics,
    Ticket,
    TicketChange,
    TicketQuery,
    TicketStatus,
)
from . import _schema as schema
from ._schema import parse_timestamp
from ._sql_engine import WRITE, configure_sqlite, create_engine
from ._sql_errors import translated
from .base import TicketChanges

__all__ = ["SQLStore", "SQLiteStore", "create_engine", "default_sqlite_path"]

_t = schema.tickets.c
_m = schema.messages.c
_c = schema.changes.c
_e = schema.events.c

_STATUS = {member.value: member for member in TicketStatus}
_PRIORITY = {member.value: member for member in Priority}
_CATEGORY = {member.value: member for member in Category}
_SENDER = {member.value: member for member in SenderType}
_MESSAGE_TYPE = {member.value: member for member in MessageType}
_ACTOR_KIND = {member.value: member for member in ActorKind}
_EVENT_TYPE = {member.value: member for member in EventType}
_UNREAD_COLUMN = {SenderType.USER: "unread_from_user", SenderType.ADMIN: "unread_from_admin"}

_SELECT_TICKET = sa.select(schema.tickets)
_SELECT_MESSAGE = sa.select(schema.messages)
_INSERT_TICKET = schema.tickets.insert().returning(_t.id)
_INSERT_MESSAGE = schema.messages.insert().returning(_m.id)
_INSERT_CHANGE = schema.changes.insert()
_INSERT_EVENT = schema.events.insert()
_TICKET_EXISTS = sa.select(_t.id).where(_t.id == sa.bindparam("p_ticket"))
_ANY_UNREAD = (
    sa.select(_m.id)
    .where(_m.ticket_id == sa.bindparam("p_ticket"), _m.sender_type == sa.bindparam("p_sender"), schema.UNREAD)
    .limit(1)
)
_MARK_READ = (
    schema.messages.update()
    .where(_m.ticket_id == sa.bindparam("p_ticket"), _m.sender_type == sa.bindparam("p_sender"), schema.UNREAD)
    .values(is_read=True)
)
_STATS = sa.select(schema.stats.c.dimension, schema.stats.c.value, schema.stats.c.count)


def default_sqlite_path() -> Path:
    """Where the embedded database lives: ``$XDG_DATA_HOME/supportchat/supportchat.db``.

    ``XDG_DATA_HOME`` defaults to ``~/.local/share``.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "supportchat" / "supportchat.db"


class SQLStore:
    """A :class:`~supportchat.stores.Store` on any SQLAlchemy engine the project supports.

    The store uses ``engine`` but does not own it: :meth:`close` disposes
    only an engine that :meth:`from_url` created. The schema must be at the
    current migration (see :mod:`supportchat.migrations`).
    """

    def __init__(self, engine: sa.Engine, *, owns_engine: bool = False) -> None:
        self._engine = engine
        self._owns_engine = owns_engine
        self._is_sqlite = engine.dialect.name == "sqlite"
        if self._is_sqlite:
            configure_sqlite(engine)
        self._writer = engine.execution_options(**{WRITE: True})
        # One shared connection (in-memory SQLite) cannot interleave two
        # threads' transactions, so they take turns.
        self._shared_connection: AbstractContextManager[Any] = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )

    @classmethod
    def from_url(cls, url: str | sa.URL, *, migrate: bool | None = None, **engine_kwargs: Any) -> SQLStore:
        """A store on a new engine for ``url``, which it owns and disposes on :meth:`close`.

        ``migrate`` brings the schema to the current revision first; by
        default SQLite databases are migrated and server databases are not
        (run ``supportchat db upgrade`` or :func:`supportchat.migrations.upgrade`).
        """
        engine = create_engine(url, **engine_kwargs)
        if migrate if migrate is not None else engine.dialect.name == "sqlite":
            from ..migrations import upgrade

            upgrade(engine)
        return cls(engine, owns_engine=True)

    @property
    def engine(self) -> sa.Engine:
        """The engine the store runs on."""
        return self._engine

    # -- transactions ------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self._shared_connection, translated(), self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _writing(self, *, uid: str | None = None) -> Iterator[sa.Connection]:
        with self._shared_connection, translated(uid=uid), self._writer.begin() as connection:
            yield connection

    # -- tickets -----------------------------------------------------------

    def insert_ticket(self, ticket: NewTicket) -> Ticket:
        values = {
            "ticket_number": ticket.ticket_number,
            "user_id": ticket.user_id,
            "subject": ticket.subject,
            "description": ticket.description,
            "priority": ticket.priority.value,
            "status": ticket.status.value,
            "category": ticket.category.value,
            "assigned_to": ticket.assigned_to,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
            "resolved_at": ticket.resolved_at,
        }
        if ticket.id is not None:
            values["id"] = ticket.id
        with self._writing() as connection:
            ticket_id = connection.execute(_INSERT_TICKET, values).scalar_one()
            if ticket.id is not None:
                self._advance_sequence(connection, schema.tickets)
            connection.execute(
                _INSERT_EVENT,
                {
                    "type": EventType.TICKET_CREATED.value,
                    "ticket_id": ticket_id,
                    "user_id": ticket.user_id,
                    "message_id": None,
                    "created_at": ticket.created_at,
                },
            )
        values.update(
            id=ticket_id,
            priority=ticket.priority,
            status=ticket.status,
            category=ticket.category,
            created_at=parse_timestamp(ticket.created_at),
            updated_at=parse_timestamp(ticket.updated_at),
            resolved_at=None if ticket.resolved_at is None else parse_timestamp(ticket.resolved_at),
        )
        return Ticket.model_construct(**values)

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        with self._reading() as connection:
            row = connection.execute(_SELECT_TICKET.where(_t.id == ticket_id)).first()
        return None if row is None else _ticket(row._mapping)

    def get_ticket_by_number(self, ticket_number: str) -> Ticket | None:
        with self._reading() as connection:
            row = connection.execute(_SELECT_TICKET.where(_t.ticket_number == ticket_number)).first()
        return None if row is None else _ticket(row._mapping)

    def list_tickets(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        conditions = _conditions(query, casefold=self._is_sqlite)
        page = _SELECT_TICKET.where(*conditions).order_by(_t.id.desc()).limit(query.per_page).offset(query.offset)
        with self._reading() as connection:
            rows = connection.execute(page).all()
            total = self._counted_total(connection, query)
            if total is None:
                count = sa.select(sa.func.count()).select_from(schema.tickets).where(*conditions)
                total = connection.execute(count).scalar_one()
        return [_ticket(row._mapping) for row in rows], total

    def update_ticket(
        self,
        ticket_id: int,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Ticket:
        with self._writing() as connection:
            ticket = self._apply(connection, ticket_id, expected_version, dict(changes), history)
            connection.execute(
                _INSERT_EVENT,
                {
                    "type": EventType.TICKET_UPDATED.value,
                    "ticket_id": ticket.id,
                    "user_id": ticket.user_id,
                    "message_id": None,
                    "created_at": ticket.updated_at,
                },
            )
        return ticket

    # -- messages ----------------------------------------------------------

    def insert_message(
        self,
        message: NewMessage,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Message:
        values: dict[str, Any] = {
            "ticket_id": message.ticket_id,
            "sender_id": message.sender_id,
            "sender_type": message.sender_type.value,
            "message": message.message,
            "message_type": message.message_type.value,
            "file_url": message.file_url,
            "is_read": message.is_read,
            "created_at": message.created_at,
            "uid": message.uid,
        }
        if message.id is not None:
            values["id"] = message.id
        counters: dict[str, Any] = {"message_count": _t.message_count + 1}
        if not message.is_read:
            column = _UNREAD_COLUMN[message.sender_type]
            counters[column] = _t[column] + 1
        with self._writing(uid=message.uid) as connection:
            # The message goes first so that a duplicate uid is reported as
            # such even when the retry carries a stale version.
            message_id = connection.execute(_INSERT_MESSAGE, values).scalar_one()
            if message.id is not None:
                self._advance_sequence(connection, schema.messages)
            ticket = self._apply(
                connection, message.ticket_id, expected_version, {**changes, **counters}, history
            )
            connection.execute(
                _INSERT_EVENT,
                {
                    "type": EventType.MESSAGE_CREATED.value,
                    "ticket_id": ticket.id,
                    "user_id": ticket.user_id,
                    "message_id": message_id,
                    "created_at": message.created_at,
                },
            )
        values.update(
            id=message_id,
            sender_type=message.sender_type,
            message_type=message.message_type,
            created_at=parse_timestamp(message.created_at),
        )
        return Message.model_construct(**values)

    def get_message_by_uid(self, uid: str) -> Message | None:
        with self._reading() as connection:
            row = connection.execute(_SELECT_MESSAGE.where(_m.uid == uid)).first()
        return None if row is None else _message(row._mapping)

    def list_messages(self, ticket_id: int, *, after_id: int = 0, limit: int | None = None) -> list[Message]:
        statement = _SELECT_MESSAGE.where(_m.ticket_id == ticket_id, _m.id > after_id).order_by(_m.id)
        if limit is not None:
            statement = statement.limit(limit)
        with self._reading() as connection:
            rows = connection.execute(statement).all()
        return [_message(row._mapping) for row in rows]

    def mark_read(self, ticket_id: int, sender_type: SenderType) -> int:
        params = {"p_ticket": ticket_id, "p_sender": sender_type.value}
        # Opening a ticket with nothing unread (the common case) must not
        # queue for the write lock.
        with self._reading() as connection:
            if connection.execute(_ANY_UNREAD, params).first() is None:
                return 0
        with self._writing() as connection:
            marked = connection.execute(_MARK_READ, params).rowcount
            if marked:
                connection.execute(
                    schema.tickets.update().where(_t.id == ticket_id).values({_UNREAD_COLUMN[sender_type]: 0})
                )
        return int(marked)

    # -- history, statistics, events -----------------------------------------

    def list_changes(self, ticket_id: int) -> list[TicketChange]:
        statement = sa.select(schema.changes).where(_c.ticket_id == ticket_id).order_by(_c.id)
        with self._reading() as connection:
            rows = connection.execute(statement).all()
        return [
            TicketChange.model_construct(**{**row._mapping, "changed_by_kind": _ACTOR_KIND[row.changed_by_kind]})
            for row in rows
        ]

    def statistics(self) -> Statistics:
        with self._reading() as connection:
            counts = _stats_by_dimension(connection.execute(_STATS).all())
        return Statistics.from_counts(
            by_status=counts.get("status", {}),
            by_priority=counts.get("priority", {}),
            by_category=counts.get("category", {}),
            unread_messages=counts.get("unread", {}).get("user", 0),
        )

    def resolved_before(self, cutoff: datetime, *, limit: int) -> list[Ticket]:
        statement = (
            _SELECT_TICKET.where(_t.status == TicketStatus.RESOLVED.value, _t.resolved_at < cutoff)
            .order_by(_t.resolved_at, _t.id)
            .limit(limit)
        )
        with self._reading() as connection:
            rows = connection.execute(statement).all()
        return [_ticket(row._mapping) for row in rows]

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        statement = sa.select(schema.events).where(_e.id > after_id).order_by(_e.id).limit(limit)
        if user_id is not None:
            statement = statement.where(_e.user_id == user_id)
        with self._reading() as connection:
            rows = connection.execute(statement).all()
        return [
            EventRecord.model_construct(**{**row._mapping, "type": _EVENT_TYPE[row.type]}) for row in rows
        ]

    def last_event_id(self) -> int:
        """The newest event-log id, 0 for an empty log (where a live stream starts)."""
        with self._reading() as connection:
            return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(_e.id), 0))).scalar_one())

    def close(self) -> None:
        """Dispose of the engine if this store created it."""
        if self._owns_engine:
            self._engine.dispose()

    # -- internals -----------------------------------------------------------

    def _apply(
        self,
        connection: sa.Connection,
        ticket_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
        history: Sequence[NewTicketChange],
    ) -> Ticket:
        """Write ``changes`` if the version still matches; the check and the write are one statement."""
        values = {key: value.value if isinstance(value, TicketStatus | Priority) else value for key, value in changes.items()}
        values["version"] = _t.version + 1
        statement = (
            schema.tickets.update()
            .where(_t.id == ticket_id, _t.version == expected_version)
            .values(values)
            .returning(*schema.tickets.c)
        )
        row = connection.execute(statement).first()
        if row is None:
            if connection.execute(_TICKET_EXISTS, {"p_ticket": ticket_id}).first() is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            raise ConcurrentUpdate(f"ticket {ticket_id} changed meanwhile")
        if history:
            connection.execute(
                _INSERT_CHANGE,
                [
                    {
                        "ticket_id": ticket_id,
                        "field": change.field,
                        "old_value": change.old_value,
                        "new_value": change.new_value,
                        "changed_by_kind": change.changed_by_kind.value,
                        "changed_by": change.changed_by,
                        "changed_at": change.changed_at,
                    }
                    for change in history
                ],
            )
        return _ticket(row._mapping)

    def _counted_total(self, connection: sa.Connection, query: TicketQuery) -> int | None:
        """The match count from the statistics counters, when the filter is one they keep."""
        filters = {
            "status": query.status,
            "priority": query.priority,
            "category": query.category,
        }
        narrowing = query.assigned_to is not None or query.unassigned or query.user_id is not None or query.q
        chosen = [(dimension, value) for dimension, value in filters.items() if value is not None]
        if narrowing or len(chosen) > 1:
            return None
        counts = _stats_by_dimension(connection.execute(_STATS).all())
        if not chosen:
            return sum(counts.get("status", {}).values())
        dimension, value = chosen[0]
        return counts.get(dimension, {}).get(value.value, 0)

    def _advance_sequence(self, connection: sa.Connection, table: sa.Table) -> None:
        """After an insert with an explicit id, keep PostgreSQL's id sequence ahead of it."""
        if self._is_sqlite:
            return  # AUTOINCREMENT follows the largest id by itself.
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT max(id) FROM {table.name}))"
            )
        )


class SQLiteStore(SQLStore):
    """The embedded default: a SQLite file, migrated to the current schema on opening.

    ``path`` is the database file; without one the store uses
    ``SUPPORTCHAT_DATABASE_URL`` if it is set, else :func:`default_sqlite_path`
    (its folder is created).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        from ..migrations import upgrade

        url = os.environ.get("SUPPORTCHAT_DATABASE_URL") if path is None else None
        if url is None:
            file = Path(path) if path is not None else default_sqlite_path()
            file.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{file}"
        engine = create_engine(url)
        upgrade(engine)
        super().__init__(engine, owns_engine=True)


def _conditions(query: TicketQuery, *, casefold: bool) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if query.status is not None:
        conditions.append(_t.status == query.status.value)
    if query.priority is not None:
        conditions.append(_t.priority == query.priority.value)
    if query.category is not None:
        conditions.append(_t.category == query.category.value)
    if query.unassigned:
        conditions.append(_t.assigned_to.is_(None))
    elif query.assigned_to is not None:
        conditions.append(_t.assigned_to == query.assigned_to)
    if query.user_id is not None:
        conditions.append(_t.user_id == query.user_id)
    if query.q:
        # A substring test, not LIKE: the user's % and _ are plain characters.
        if casefold:
            fold, find, needle = sa.func.supportchat_casefold, sa.func.instr, query.q.casefold()
        else:
            fold, find, needle = sa.func.lower, sa.func.strpos, query.q.lower()
        columns = (_t.subject, _t.description, _t.ticket_number)
        conditions.append(sa.or_(*(find(fold(column), needle) > 0 for column in columns)))
    return conditions


def _stats_by_dimension(rows: Sequence[sa.Row[Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for dimension, value, count in rows:
        counts.setdefault(dimension, {})[value] = int(count)
    return counts


def _ticket(row: Mapping[str, Any]) -> Ticket:
    return Ticket.model_construct(
        id=row["id"],
        ticket_number=row["ticket_number"],
        user_id=row["user_id"],
        subject=row["subject"],
        description=row["description"],
        priority=_PRIORITY[row["priority"]],
        status=_STATUS[row["status"]],
        category=_CATEGORY[row["category"]],
        assigned_to=row["assigned_to"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
        message_count=row["message_count"],
        unread_from_user=row["unread_from_user"],
        unread_from_admin=row["unread_from_admin"],
        version=row["version"],
    )


def _message(row: Mapping[str, Any]) -> Message:
    return Message.model_construct(
        id=row["id"],
        ticket_id=row["ticket_id"],
        sender_id=row["sender_id"],
        sender_type=_SENDER[row["sender_type"]],
        message=row["message"],
        message_type=_MESSAGE_TYPE[row["message_type"]],
        file_url=row["file_url"],
        is_read=bool(row["is_read"]),
        created_at=row["created_at"],
        uid=row["uid"],
    )
