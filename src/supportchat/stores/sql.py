"""The SQL store: SQLite (the embedded default) and PostgreSQL on SQLAlchemy Core.

One implementation serves every SQLAlchemy URL the project supports
(``sqlite:///file``, in-memory ``sqlite://`` and ``postgresql+psycopg://``).
Each write is one transaction of a few statements: the optimistic version
check is part of the ``UPDATE ... WHERE version = :expected`` itself, so no
update is lost on either database, and the per-ticket counters and change
records are written in the same transaction. Database triggers (created by
the migrations) append the event-log entry and move the statistics counters
in that transaction too.

Statements are SQLAlchemy Core, compiled once per dialect and run on pooled
DBAPI connections (:mod:`._sql_exec` says why); rows become models without
re-validation, since the database's constraints have checked them.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.pool import StaticPool

from ..errors import ConcurrentUpdate, DuplicateRating, NoteIdTaken, TicketNotFound
from ..event_types import owner_event_types
from ..extensions import register_extension
from ..models import (
    ActorKind,
    Category,
    EventRecord,
    EventType,
    Message,
    MessageType,
    NewMessage,
    NewNote,
    NewTicket,
    NewTicketChange,
    Note,
    Priority,
    Rating,
    SenderType,
    Statistics,
    Ticket,
    TicketChange,
    TicketQuery,
    TicketStatus,
    event_type_of,
)
from ..search import parse_search
from ..sqlschema import tables as schema
from ..sqlschema.engine import WRITE, configure_sqlite, create_engine
from ..sqlschema.listing import counter_key
from ..sqlschema.search import drain_statements
from ..sqlschema.tables import parse_timestamp
from ..store import BulkLoad, EventLog, ThreadExport, TicketChanges, TicketMerge, note_change
from ._sql_errors import translated
from ._sql_exec import Prepared, Session, open_session
from .sql_search import search_params, search_shape, search_statements, sqlite_search, take_highlights

__all__ = ["SQLStore", "SQLiteStore", "append_event_row", "create_engine", "default_sqlite_path"]

logger = logging.getLogger(__name__)
_t = schema.tickets.c
#: SQLite: the search index takes the rows written after this many writes (see ``index_pending_rows``).
DRAIN_EVERY = 64
_DRAIN = [sa.text(statement) for statement in drain_statements()]
_m = schema.messages.c
_c = schema.changes.c
_e = schema.events.c
_n = schema.notes.c
_g = schema.tags.c
_r = schema.ratings.c

_STATUS = {member.value: member for member in TicketStatus}
_PRIORITY = {member.value: member for member in Priority}
_CATEGORY = {member.value: member for member in Category}
_SENDER = {member.value: member for member in SenderType}
_MESSAGE_TYPE = {member.value: member for member in MessageType}
_ACTOR_KIND = {member.value: member for member in ActorKind}
#: Every defaulted field spelled out: model_construct resolves defaults slowly.
_NEW_TICKET_COUNTS = {
    "message_count": 0,
    "unread_count": 0,
    "unread_from_user": 0,
    "unread_from_admin": 0,
    "version": 0,
    "tags": (),
    "merged_into": None,
    "highlight": None,
}
_UNREAD_COLUMN = {SenderType.USER: "unread_from_user", SenderType.ADMIN: "unread_from_admin"}

# Statements are built once and compiled once per dialect (see _sql_exec).
#: A ticket row in the order of the model's fields, so that a row becomes a
#: model without reordering (``unread_count`` is the desk's, per caller).
_NOT_COLUMNS = {"unread_count": sa.literal_column("0"), "tags": sa.null(), "highlight": sa.null()}
_TICKET_ROW = tuple(
    _NOT_COLUMNS[name].label(name) if name in _NOT_COLUMNS else _t[name] for name in Ticket.model_fields
)
_SELECT_TICKET = sa.select(*_TICKET_ROW)
_SELECT_MESSAGE = sa.select(schema.messages)
_GET_TICKET = _SELECT_TICKET.where(_t.id == sa.bindparam("p_id"))
_GET_TICKET_BY_NUMBER = _SELECT_TICKET.where(_t.ticket_number == sa.bindparam("p_number"))
_GET_MESSAGE_BY_UID = _SELECT_MESSAGE.where(_m.uid == sa.bindparam("p_uid"))


def _messages_statement(*, bounded: bool, limited: bool, newest: bool) -> sa.Select[Any]:
    """A ticket's messages in an id range; ``newest`` reads the range from its top (index order, reversed)."""
    statement = _SELECT_MESSAGE.where(_m.ticket_id == sa.bindparam("p_ticket"), _m.id > sa.bindparam("p_after"))
    if bounded:
        statement = statement.where(_m.id < sa.bindparam("p_before"))
    statement = statement.order_by(_m.id.desc() if newest else _m.id)
    return statement.limit(sa.bindparam("p_limit", type_=sa.Integer)) if limited else statement


#: Keyed by (bounded above, limited, newest first).
_MESSAGES_IN_RANGE = {
    (bounded, limited, newest): _messages_statement(bounded=bounded, limited=limited, newest=newest)
    for bounded in (False, True)
    for limited in (False, True)
    for newest in (False, True)
}
_CHANGES_OF_TICKET = sa.select(schema.changes).where(_c.ticket_id == sa.bindparam("p_ticket")).order_by(_c.id)
_RESOLVED_BEFORE = (
    _SELECT_TICKET.where(
        # A literal, not a parameter: the planner must see that the partial
        # index on resolved tickets applies.
        _t.status == sa.literal_column("'resolved'"),
        _t.resolved_at < sa.bindparam("p_cutoff", type_=_t.resolved_at.type),
    )
    .order_by(_t.resolved_at, _t.id)
    .limit(sa.bindparam("p_limit", type_=sa.Integer))
)
_EVENTS_AFTER = (
    sa.select(schema.events)
    .where(_e.id > sa.bindparam("p_after"))
    .order_by(_e.id)
    .limit(sa.bindparam("p_limit", type_=sa.Integer))
)
#: A user's read of the log, by the owner types it lets through (a whitelist: built once per set).
_USER_EVENTS_AFTER: dict[frozenset[str], sa.Select[Any]] = {}
_USER_EVENTS_LOCK = threading.Lock()


def _user_events_after(shown: frozenset[str]) -> sa.Select[Any]:
    """A user's stream loads only the types its owner may see: the condition is in the statement.

    Literals, not parameters: the names are the registry's well-formed ones, and the
    statement is compiled once per set.
    """
    with _USER_EVENTS_LOCK:
        statement = _USER_EVENTS_AFTER.get(shown)
        if statement is None:
            statement = _USER_EVENTS_AFTER[shown] = _EVENTS_AFTER.where(
                _e.user_id == sa.bindparam("p_user"),
                _e.type.in_([sa.literal_column(f"'{kind}'") for kind in sorted(shown)]),
            )
        return statement


_LAST_EVENT_ID = sa.select(sa.func.coalesce(sa.func.max(_e.id), 0))
_INSERT_TICKET = schema.tickets.insert().returning(_t.id)
_INSERT_MESSAGE = schema.messages.insert().returning(_m.id)
_INSERT_CHANGE = schema.changes.insert()
_INSERT_NOTE = schema.notes.insert().returning(_n.id)
_NOTE_EXISTS = sa.select(_n.id).where(_n.id == sa.bindparam("p_note"))
_INSERT_EVENT = schema.events.insert()
_NOTES_OF_TICKET = (
    sa.select(schema.notes)
    .where(_n.ticket_id == sa.bindparam("p_ticket"), _n.id > sa.bindparam("p_after"))
    .order_by(_n.id)
)
_NOTES_OF_TICKET_LIMITED = _NOTES_OF_TICKET.limit(sa.bindparam("p_limit", type_=sa.Integer))
#: The tags of a page of tickets, keyed by dialect (the ids as a JSON array on SQLite, an array on PostgreSQL).
_TAGS_OF = {
    True: sa.text(
        "SELECT ticket_id, tag FROM support_ticket_tags WHERE ticket_id IN (SELECT value FROM json_each(:p_ids))"
    ),
    False: sa.text("SELECT ticket_id, tag FROM support_ticket_tags WHERE ticket_id = ANY(CAST(:p_ids AS bigint[]))"),
}
_TAGS_OF_TICKET = sa.select(_g.tag).where(_g.ticket_id == sa.bindparam("p_ticket")).order_by(_g.tag)
_ADD_TAG = schema.tags.insert()
_REMOVE_TAG = schema.tags.delete().where(_g.ticket_id == sa.bindparam("p_ticket"), _g.tag == sa.bindparam("p_tag"))
#: Taken before a tag change reads the tags: concurrent changes of one ticket's tags take turns (PostgreSQL).
_LOCK_TICKET = sa.select(_t.user_id).where(_t.id == sa.bindparam("p_ticket")).with_for_update()
_TICKET_EXISTS = sa.select(_t.id).where(_t.id == sa.bindparam("p_ticket"))
_OWNER_OF = sa.select(_t.user_id).where(_t.id == sa.bindparam("p_ticket"))
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
_CLEAR_UNREAD = {
    side: schema.tickets.update().where(_t.id == sa.bindparam("p_ticket")).values({column: 0})
    for side, column in _UNREAD_COLUMN.items()
}
_ADVANCE_SEQUENCE = {
    table.name: sa.text(
        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
    )
    for table in (schema.tickets, schema.messages, schema.notes)
}


_RATING_HELD = sa.select(_r.cycle).where(_r.ticket_id == sa.bindparam("p_ticket"), _r.cycle == sa.bindparam("p_cycle"))
_INSERT_RATING = schema.ratings.insert()
_RATINGS_OF_TICKET = sa.select(schema.ratings).where(_r.ticket_id == sa.bindparam("p_ticket")).order_by(_r.cycle)
#: A merge moves the source's messages, under their ids, to the target.
_MOVE_MESSAGES = (
    schema.messages.update().where(_m.ticket_id == sa.bindparam("p_source")).values(ticket_id=sa.bindparam("p_target"))
)
_MERGE_COUNTERS = ("message_count", "unread_from_user", "unread_from_admin")
#: Adds the source's counters to the target's (``p_``-named values), without touching the version:
#: the event trigger logs the checked update of each ticket, not this one.
_ADD_COUNTERS = (
    schema.tickets.update()
    .where(_t.id == sa.bindparam("p_id"))
    .values({name: _t[name] + sa.bindparam(f"p_{name}", type_=sa.Integer) for name in _MERGE_COUNTERS})
)
_CLEAR_FOR_MERGE = (
    schema.tickets.update()
    .where(_t.id == sa.bindparam("p_id"))
    .values({**{name: 0 for name in _MERGE_COUNTERS}, "merged_into": sa.bindparam("p_target")})
)


def append_event_row(
    connection: sa.Connection, ticket_id: int, type: str, *, at: datetime, data: Mapping[str, Any] | None = None
) -> None:
    """Append a feature's entry to the event log inside ``connection``'s transaction (a store extension's own).

    So a feature that writes its rows and announces them (an SLA breach) commits both or neither.
    The type's format is the table's check; its owner is read from the ticket.
    """
    owner = connection.execute(sa.select(_t.user_id).where(_t.id == ticket_id)).scalar_one_or_none()
    if owner is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    connection.execute(
        _INSERT_EVENT,
        {
            "type": str(type),
            "ticket_id": ticket_id,
            "user_id": owner,
            "created_at": at,
            "data": None if data is None else json.dumps(dict(data), separators=(",", ":"), sort_keys=True),
        },
    )


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
        self._prepared: dict[tuple[int, tuple[str, ...] | None], Prepared] = {}
        #: SQLite: writes since the search index last took the pending rows.
        self._writes_undrained = 0
        # One shared connection (in-memory SQLite) cannot interleave two
        # threads' transactions, so they take turns.
        self._shared_connection: AbstractContextManager[Any] = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )

    @classmethod
    def from_url(cls, url: str | sa.URL, *, migrate: bool | None = None, **engine_kwargs: Any) -> SQLStore:
        """A store on a new engine for ``url``, which it owns and disposes on :meth:`close`.

        Kept for compatibility; :func:`~supportchat.stores.open_store` is the
        factory. ``migrate`` brings the schema to the current revision first;
        by default SQLite databases are migrated and server databases are not
        (run ``supportchat db upgrade`` or :func:`supportchat.migrations.upgrade`).
        ``engine_kwargs`` go to :func:`create_engine`.
        """
        from .open import open_sql_engine

        migrating = migrate if migrate is not None else sa.make_url(url).get_backend_name() == "sqlite"
        return cls(open_sql_engine(url, migrate=migrating, **engine_kwargs), owns_engine=True)

    @property
    def engine(self) -> sa.Engine:
        """The engine the store runs on."""
        return self._engine

    # -- transactions ------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._shared_connection, translated(), open_session(self._engine, self._prepared, write=False) as session:
            yield session

    @contextmanager
    def _writing(self, *, uid: str | None = None) -> Iterator[Session]:
        with (
            self._shared_connection,
            translated(uid=uid),
            open_session(self._engine, self._prepared, write=True) as session,
        ):
            yield session
        if self._is_sqlite:
            self._writes_undrained += 1
            if self._writes_undrained >= DRAIN_EVERY:
                self.index_pending_rows()

    def index_pending_rows(self) -> None:
        """Move the rows written since into the search index, in one transaction of the writer lane.

        See :mod:`supportchat.sqlschema.search`: an FTS5 commit costs about
        0.5 ms whatever it holds, so the index takes rows in batches. A
        failure here loses nothing (the rows stay pending, and searchable).
        """
        self._writes_undrained = 0
        try:
            with self._shared_connection, open_session(self._engine, self._prepared, write=True) as session:
                for statement in _DRAIN:
                    session.run(statement)
        except sa.exc.SQLAlchemyError:
            logger.warning("search index: pending rows not moved yet", exc_info=True)

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """One transaction on the store's database, for a store extension's own tables.

        Committed when the block ends, rolled back if it raises. A write
        begins with ``BEGIN IMMEDIATE`` on SQLite (the single writer) and
        takes turns with the store's own statements on an in-memory
        database's one connection; driver errors become supportchat's, as
        the store's own do (:class:`~supportchat.errors.StorageUnavailable`
        when the database is away).
        """
        engine = self._engine.execution_options(**{WRITE: True}) if write else self._engine
        with self._shared_connection, translated(), engine.begin() as connection:
            yield connection

    # -- tickets -----------------------------------------------------------

    def insert_ticket(self, ticket: NewTicket) -> Ticket:
        values: dict[str, Any] = {
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
        with self._writing() as session:
            ticket_id = session.inserted_id(_INSERT_TICKET, values)
            if ticket.id is not None:
                self._advance_sequence(session, schema.tickets)
        return _new_ticket(
            {
                "id": ticket_id,
                "ticket_number": ticket.ticket_number,
                "user_id": ticket.user_id,
                "subject": ticket.subject,
                "description": ticket.description,
                "priority": ticket.priority,
                "status": ticket.status,
                "category": ticket.category,
                "assigned_to": ticket.assigned_to,
                "created_at": parse_timestamp(ticket.created_at),
                "updated_at": parse_timestamp(ticket.updated_at),
                "resolved_at": None if ticket.resolved_at is None else parse_timestamp(ticket.resolved_at),
                **_NEW_TICKET_COUNTS,
            }
        )

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        with self._reading() as session:
            row = session.run(_GET_TICKET, {"p_id": ticket_id}).fetchone()
        return None if row is None else _ticket(row)

    def get_ticket_by_number(self, ticket_number: str) -> Ticket | None:
        with self._reading() as session:
            row = session.run(_GET_TICKET_BY_NUMBER, {"p_number": ticket_number}).fetchone()
        return None if row is None else _ticket(row)

    def list_tickets(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        if query.q:
            return self._search(query)
        page, count = _listing(*_shape(query))
        params = _listing_params(query)
        with self._reading() as session:
            rows = session.run(page, params).fetchall()
            total = self._counted_total(session, query)
            if total is None:
                (total,) = session.run(count, params).fetchone() or (0,)
        return [_ticket(row) for row in rows], total

    def update_ticket(
        self,
        ticket_id: int,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Ticket:
        with self._writing() as session:
            return self._apply(session, ticket_id, expected_version, changes, history)

    # -- notes and tags ------------------------------------------------------

    def insert_note(self, note: NewNote) -> Note:
        values: dict[str, Any] = {
            "ticket_id": note.ticket_id,
            "author_id": note.author_id,
            "author_kind": note.author_kind.value,
            "note": note.note,
            "created_at": note.created_at,
            "uid": note.uid,
        }
        if note.id is not None:
            values["id"] = note.id
        with self._writing() as session:
            owner = session.run(_OWNER_OF, {"p_ticket": note.ticket_id}).fetchone()
            if owner is None:
                raise TicketNotFound(f"no ticket {note.ticket_id}")
            if note.id is not None and session.run(_NOTE_EXISTS, {"p_note": note.id}).fetchone() is not None:
                raise NoteIdTaken(f"note id {note.id} is taken")
            note_id = session.inserted_id(_INSERT_NOTE, values)
            if note.id is not None:
                self._advance_sequence(session, schema.notes)
            stored = Note.model_construct(
                id=note_id,
                ticket_id=note.ticket_id,
                author_id=note.author_id,
                author_kind=note.author_kind,
                note=note.note,
                created_at=parse_timestamp(note.created_at),
                uid=note.uid,
            )
            self._insert_changes(session, note.ticket_id, [note_change(stored)])
            session.insert(
                _INSERT_EVENT,
                {
                    "type": EventType.NOTE_CREATED.value,
                    "ticket_id": note.ticket_id,
                    "user_id": owner[0],
                    "note_id": note_id,
                    "created_at": note.created_at,
                },
            )
        return stored

    def list_notes(self, ticket_id: int, *, after_id: int = 0, limit: int | None = None) -> list[Note]:
        statement = _NOTES_OF_TICKET if limit is None else _NOTES_OF_TICKET_LIMITED
        with self._reading() as session:
            rows = session.run(statement, {"p_ticket": ticket_id, "p_after": after_id, "p_limit": limit}).fetchall()
        return [
            Note.model_construct(
                id=id_,
                ticket_id=ticket,
                author_id=author,
                author_kind=_ACTOR_KIND[kind],
                note=text,
                created_at=parse_timestamp(at),
                uid=uid,
            )
            for id_, ticket, author, kind, text, at, uid in rows
        ]

    def ticket_tags(self, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        if not ticket_ids:
            return {}
        with self._reading() as session:
            ids: object = json.dumps(list(ticket_ids)) if self._is_sqlite else list(ticket_ids)
            rows = session.run(_TAGS_OF[self._is_sqlite], {"p_ids": ids}).fetchall()
        found: dict[int, list[str]] = {}
        for ticket_id, tag in rows:
            found.setdefault(int(ticket_id), []).append(tag)
        return {ticket_id: tuple(sorted(tags)) for ticket_id, tags in found.items()}

    def replace_tags(
        self,
        ticket_id: int,
        *,
        expected: tuple[str, ...],
        tags: tuple[str, ...],
        history: Sequence[NewTicketChange] = (),
    ) -> tuple[str, ...]:
        wanted = tuple(sorted(set(tags)))
        with self._writing() as session:
            # SQLite's write transaction already serialises writers; PostgreSQL locks the ticket's row.
            owner = session.run(_OWNER_OF if self._is_sqlite else _LOCK_TICKET, {"p_ticket": ticket_id}).fetchone()
            if owner is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            current = tuple(row[0] for row in session.run(_TAGS_OF_TICKET, {"p_ticket": ticket_id}).fetchall())
            if current != tuple(sorted(expected)):
                raise ConcurrentUpdate(f"the tags of ticket {ticket_id} changed meanwhile")
            gone = [{"p_ticket": ticket_id, "p_tag": tag} for tag in current if tag not in wanted]
            new = [{"ticket_id": ticket_id, "tag": tag} for tag in wanted if tag not in current]
            for removal in gone:
                session.run(_REMOVE_TAG, removal)
            if new:
                session.insert_many(_ADD_TAG, new)
            self._insert_changes(session, ticket_id, history)
            session.insert(
                _INSERT_EVENT,
                {
                    "type": EventType.TAGS_CHANGED.value,
                    "ticket_id": ticket_id,
                    "user_id": owner[0],
                    "created_at": history[0].changed_at if history else datetime.now(UTC),
                },
            )
        return wanted

    # -- messages ----------------------------------------------------------

    def insert_message(
        self,
        message: NewMessage,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Message:
        values = _message_row(message, message.ticket_id, keep_id=message.id is not None)
        counters = ("message_count",) if message.is_read else ("message_count", _UNREAD_COLUMN[message.sender_type])
        with self._writing(uid=message.uid) as session:
            # The message goes first so that a duplicate uid is reported as
            # such even when the retry carries a stale version.
            message_id = session.inserted_id(_INSERT_MESSAGE, values)
            if message.id is not None:
                self._advance_sequence(session, schema.messages)
            self._apply(session, message.ticket_id, expected_version, changes, history, counters)
        return _new_message(
            {
                "id": message_id,
                "ticket_id": message.ticket_id,
                "sender_id": message.sender_id,
                "sender_type": message.sender_type,
                "message": message.message,
                "message_type": message.message_type,
                "file_url": message.file_url,
                "is_read": message.is_read,
                "created_at": parse_timestamp(message.created_at),
                "uid": message.uid,
                # In the model's field order: the constructor keeps this order, and so does the JSON.
                "automated": message.automated,
            }
        )

    def get_message_by_uid(self, uid: str) -> Message | None:
        with self._reading() as session:
            row = session.run(_GET_MESSAGE_BY_UID, {"p_uid": uid}).fetchone()
        return None if row is None else _message(row)

    def list_messages(
        self,
        ticket_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Message]:
        params = {"p_ticket": ticket_id, "p_after": after_id, "p_before": before_id, "p_limit": limit}
        from_top = newest and limit is not None
        statement = _MESSAGES_IN_RANGE[before_id is not None, limit is not None, from_top]
        with self._reading() as session:
            rows = session.run(statement, params).fetchall()
        messages = [_message(row) for row in rows]
        if from_top:
            messages.reverse()
        return messages

    def mark_read(self, ticket_id: int, sender_type: SenderType) -> int:
        params = {"p_ticket": ticket_id, "p_sender": sender_type.value}
        # Opening a ticket with nothing unread (the common case) must not
        # queue for the write lock.
        with self._reading() as session:
            if session.run(_ANY_UNREAD, params).fetchone() is None:
                return 0
        with self._writing() as session:
            marked = int(session.run(_MARK_READ, params).rowcount)
            if marked:
                session.run(_CLEAR_UNREAD[sender_type], {"p_ticket": ticket_id})
        return marked

    # -- ratings and merges ----------------------------------------------------

    def insert_rating(
        self,
        rating: Rating,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Rating:
        with self._writing() as session:
            # The checked update first: it locks the ticket's row, so two ratings of one cycle take turns.
            self._apply(session, rating.ticket_id, expected_version, changes, history)
            if session.run(_RATING_HELD, {"p_ticket": rating.ticket_id, "p_cycle": rating.cycle}).fetchone():
                raise DuplicateRating(rating.ticket_id, rating.cycle)
            session.insert(_INSERT_RATING, rating.model_dump())
        return rating

    def list_ratings(self, ticket_id: int) -> list[Rating]:
        with self._reading() as session:
            rows = session.run(_RATINGS_OF_TICKET, {"p_ticket": ticket_id}).fetchall()
        return [
            Rating.model_construct(
                ticket_id=ticket,
                cycle=cycle,
                score=score,
                comment=comment,
                user_id=user,
                agent_id=agent,
                created_at=parse_timestamp(at),
            )
            for ticket, cycle, score, comment, user, agent, at in rows
        ]

    def merge_tickets(self, merge: TicketMerge) -> Ticket:
        checked = [
            (merge.source_id, merge.source_version, merge.source_changes, merge.source_history),
            (merge.target_id, merge.target_version, merge.target_changes, merge.target_history),
        ]
        with self._writing() as session:
            # Checked updates first (each logs its ticket_updated), in id order so two merges never deadlock.
            for ticket_id, version, changes, history in sorted(checked, key=lambda write: write[0]):
                self._apply(session, ticket_id, version, changes, history)
            source = session.run(_GET_TICKET, {"p_id": merge.source_id}).fetchone()
            assert source is not None, "the checked update found the source"
            moved = _ticket(source)
            session.run(_MOVE_MESSAGES, {"p_source": merge.source_id, "p_target": merge.target_id})
            counts = {f"p_{name}": getattr(moved, name) for name in _MERGE_COUNTERS}
            session.run(_ADD_COUNTERS, {"p_id": merge.target_id, **counts})
            session.run(_CLEAR_FOR_MERGE, {"p_id": merge.source_id, "p_target": merge.target_id})
            row = session.run(_GET_TICKET, {"p_id": merge.target_id}).fetchone()
        assert row is not None, "the checked update found the target"
        return _ticket(row)

    # -- history, statistics, events -----------------------------------------

    def list_changes(self, ticket_id: int) -> list[TicketChange]:
        with self._reading() as session:
            rows = session.run(_CHANGES_OF_TICKET, {"p_ticket": ticket_id}).fetchall()
        return [
            TicketChange.model_construct(
                id=id_,
                ticket_id=ticket,
                field=field,
                old_value=old,
                new_value=new,
                changed_by_kind=_ACTOR_KIND[kind],
                changed_by=by,
                changed_at=parse_timestamp(at),
            )
            for id_, ticket, field, old, new, kind, by, at in rows
        ]

    def statistics(self) -> Statistics:
        with self._reading() as session:
            counts = _stats_by_dimension(session.run(_STATS).fetchall())
        return Statistics.from_counts(
            by_status=counts.get("status", {}),
            by_priority=counts.get("priority", {}),
            by_category=counts.get("category", {}),
            unread_messages=counts.get("unread", {}).get("user", 0),
            by_tag=counts.get("tag", {}),
        )

    def resolved_before(self, cutoff: datetime, *, limit: int) -> list[Ticket]:
        with self._reading() as session:
            rows = session.run(_RESOLVED_BEFORE, {"p_cutoff": cutoff, "p_limit": limit}).fetchall()
        return [_ticket(row) for row in rows]

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        statement = _EVENTS_AFTER if user_id is None else _user_events_after(owner_event_types())
        with self._reading() as session:
            rows = session.run(statement, {"p_after": after_id, "p_user": user_id, "p_limit": limit}).fetchall()
        return [
            EventRecord.model_construct(
                id=id_,
                type=event_type_of(kind),
                ticket_id=ticket,
                user_id=user,
                message_id=message,
                created_at=parse_timestamp(at),
                note_id=note,
                data=None if data is None else json.loads(data),
            )
            for id_, kind, ticket, user, message, at, note, data in rows
        ]

    def append_event(self, ticket_id: int, type: str, *, at: datetime, data: Mapping[str, Any] | None = None) -> None:
        """A feature's entry (the :class:`~supportchat.store.EventLog` extension), in a transaction of its own."""
        with self.transaction(write=True) as connection:
            append_event_row(connection, ticket_id, type, at=at, data=data)

    def last_event_id(self) -> int:
        """The newest event-log id, 0 for an empty log (where a live stream starts)."""
        with self._reading() as session:
            row = session.run(_LAST_EVENT_ID).fetchone()
        return int(row[0]) if row is not None else 0

    def close(self) -> None:
        """Dispose of the engine if this store created it."""
        if self._owns_engine:
            self._engine.dispose()

    # -- internals -----------------------------------------------------------

    def _apply(
        self,
        session: Session,
        ticket_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
        history: Sequence[NewTicketChange],
        bumped: tuple[str, ...] = (),
    ) -> Ticket:
        """Write ``changes`` and add one to each ``bumped`` counter, if the version still matches.

        The version check and the write are one statement.
        """
        params = {
            f"v_{key}": value.value if isinstance(value, TicketStatus | Priority) else value
            for key, value in changes.items()
        }
        params["p_id"], params["p_version"] = ticket_id, expected_version
        row = session.run(_ticket_update(frozenset(changes), bumped), params).fetchone()
        if row is None:
            if session.run(_TICKET_EXISTS, {"p_ticket": ticket_id}).fetchone() is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            raise ConcurrentUpdate(f"ticket {ticket_id} changed meanwhile")
        self._insert_changes(session, ticket_id, history)
        return _ticket(row)

    @staticmethod
    def _insert_changes(session: Session, ticket_id: int, history: Sequence[NewTicketChange]) -> None:
        if history:
            session.insert_many(
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

    def _search(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        """A full-text search (see :mod:`.sql_search`)."""
        search = parse_search(query.q or "")
        if search.empty:
            return [], 0
        shape = search_shape(_shape(query), search, staff=query.for_staff, sqlite=self._is_sqlite)
        rows: Sequence[Sequence[Any]]
        with self._reading() as session:
            if self._is_sqlite:
                rows, total = sqlite_search(session, shape, search, _listing_params(query))
            else:
                page, count = search_statements(shape)
                params = search_params(_listing_params(query), search)
                rows = session.run(page, params).fetchall()
                if rows:
                    total = int(rows[0][-1])
                else:
                    (total,) = session.run(count, params).fetchone() or (0,)
            marked = take_highlights(session, rows, search, staff=query.for_staff, sqlite=self._is_sqlite)
        tickets = []
        for row, snippet in marked:
            ticket = _ticket(row[:-2])
            ticket.__dict__["highlight"] = snippet  # a fresh model, not yet shared
            tickets.append(ticket)
        return tickets, int(total)

    def _counted_total(self, session: Session, query: TicketQuery) -> int | None:
        """The match count from the statistics counters, when the filters are ones they keep.

        One filter of status, priority, category, assignee (unassigned
        included) or tag, or status with one of category, priority, assignee
        or tag; anything else (a user's tickets: few) is counted on its index.
        """
        assignee: tuple[object] | None = (None,) if query.unassigned else None
        if not query.unassigned and query.assigned_to is not None:
            assignee = (query.assigned_to,)
        others = {
            "priority": query.priority and query.priority.value,
            "category": query.category and query.category.value,
            "assigned_to": assignee,
        }
        chosen = {name: value for name, value in others.items() if value is not None}
        if query.tag is not None:
            if chosen or query.user_id is not None:
                return None
            dimension, key = (
                ("tag", query.tag) if query.status is None else counter_key("tag+status", query.tag, query.status.value)
            )
            return _stats_by_dimension(session.run(_STATS).fetchall()).get(dimension, {}).get(key, 0)
        if query.user_id is not None or len(chosen) > 1:
            return None
        counts = _stats_by_dimension(session.run(_STATS).fetchall())
        if not chosen:
            if query.status is None:
                return sum(counts.get("status", {}).values())
            return counts.get("status", {}).get(query.status.value, 0)
        ((name, value),) = chosen.items()
        parts = value if isinstance(value, tuple) else (value,)
        if query.status is None:
            dimension, key = counter_key(name, *parts)
        else:
            dimension, key = counter_key(f"status+{name}", query.status.value, *parts)
        return counts.get(dimension, {}).get(key, 0)

    def _advance_sequence(self, session: Session, table: sa.Table) -> None:
        """After an insert with an explicit id, keep PostgreSQL's id sequence ahead of it."""
        if not self._is_sqlite:  # SQLite's AUTOINCREMENT follows the largest id by itself.
            session.run(_ADVANCE_SEQUENCE[table.name])


class SQLiteStore(SQLStore):
    """The embedded default: a SQLite file, migrated to the current schema on opening.

    A shortcut for ``open_store(f"sqlite:///{path}")`` (the factory runs the
    migrations, see :mod:`supportchat.stores.open`). ``path`` is the
    database file, :func:`default_sqlite_path` without one; its folder is
    created. The store reads no configuration of its own: choosing a
    database from ``SUPPORTCHAT_DATABASE_URL`` is the CLI's job.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        from .open import open_sql_engine

        file = Path(path) if path is not None else default_sqlite_path()
        file.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(open_sql_engine(f"sqlite:///{file}"), owns_engine=True)


def _message_row(message: NewMessage | Message, ticket_id: int, *, keep_id: bool) -> dict[str, Any]:
    """The ``support_messages`` row of a message in ``ticket_id`` (with its id if ``keep_id``)."""
    row: dict[str, Any] = {
        "ticket_id": ticket_id,
        "sender_id": message.sender_id,
        "sender_type": message.sender_type.value,
        "message": message.message,
        "message_type": message.message_type.value,
        "file_url": message.file_url,
        "automated": message.automated,
        "is_read": message.is_read,
        "created_at": message.created_at,
        "uid": message.uid,
    }
    if keep_id:
        row["id"] = message.id
    return row


@functools.cache
def _ticket_update(columns: frozenset[str], bumped: tuple[str, ...]) -> sa.Update:
    """The checked ``UPDATE`` of a ticket that sets ``columns`` and adds one to ``bumped``."""
    values: dict[str, Any] = {name: sa.bindparam(f"v_{name}", type_=_t[name].type) for name in sorted(columns)}
    values.update({name: _t[name] + 1 for name in bumped})
    values["version"] = _t.version + 1
    return (
        schema.tickets.update()
        .where(_t.id == sa.bindparam("p_id"), _t.version == sa.bindparam("p_version"))
        .values(values)
        .returning(*_TICKET_ROW)
    )


def _shape(query: TicketQuery) -> tuple[bool, ...]:
    """Which filters a query uses: listings with the same shape share one statement."""
    return (
        query.status is not None,
        query.priority is not None,
        query.category is not None,
        query.unassigned,
        not query.unassigned and query.assigned_to is not None,
        query.user_id is not None,
        query.tag is not None,
    )


@functools.cache
def _listing(
    status: bool,
    priority: bool,
    category: bool,
    unassigned: bool,
    assigned: bool,
    user: bool,
    tag: bool,
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page and count statements of one listing shape (see :func:`_shape`).

    By tag, the ``(tag, ticket_id)`` index is read in order (newest ticket
    first) and each ticket joined by its id, stopping at the page.
    """
    conditions: list[sa.ColumnElement[bool]] = []
    for used, column in ((status, _t.status), (priority, _t.priority), (category, _t.category)):
        if used:
            conditions.append(column == sa.bindparam(f"p_{column.name}"))
    if unassigned:
        conditions.append(_t.assigned_to.is_(None))
    if assigned:
        conditions.append(_t.assigned_to == sa.bindparam("p_assigned"))
    if user:
        conditions.append(_t.user_id == sa.bindparam("p_user"))
    order = _t.id.desc()
    rows = _SELECT_TICKET
    counted = sa.select(sa.func.count()).select_from(schema.tickets)
    if tag:
        joined = schema.tags.join(schema.tickets, _t.id == _g.ticket_id)
        rows, counted = rows.select_from(joined), counted.select_from(joined)
        conditions.append(_g.tag == sa.bindparam("p_tag"))
        order = _g.ticket_id.desc()
    page = (
        rows.where(*conditions)
        .order_by(order)
        .limit(sa.bindparam("p_limit", type_=sa.Integer))
        .offset(sa.bindparam("p_offset", type_=sa.Integer))
    )
    count = counted.where(*conditions)
    return page, count


def _listing_params(query: TicketQuery) -> dict[str, Any]:
    return {
        "p_status": query.status and query.status.value,
        "p_priority": query.priority and query.priority.value,
        "p_category": query.category and query.category.value,
        "p_assigned": query.assigned_to,
        "p_user": query.user_id,
        "p_tag": query.tag,
        "p_limit": query.per_page,
        "p_offset": query.offset,
    }


def _stats_by_dimension(rows: Sequence[Any]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for dimension, value, count in rows:
        counts.setdefault(dimension, {})[value] = int(count)
    return counts


M = TypeVar("M", bound=BaseModel)


def _constructor(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """A faster :meth:`~pydantic.BaseModel.model_construct` for rows the database already checked.

    It sets exactly what ``model_construct`` sets when every field is given
    (the field values, the set of fields, no extras, no private attributes),
    without resolving defaults field by field, which costs several times
    more. ``values`` must hold every field and nothing else, in the order
    the model declares them: serialisation follows the dict's order.
    """
    every_field = frozenset(model.model_fields)

    def construct(values: dict[str, Any]) -> M:
        instance = model.__new__(model)
        object.__setattr__(instance, "__dict__", values)
        object.__setattr__(instance, "__pydantic_fields_set__", set(every_field))
        object.__setattr__(instance, "__pydantic_extra__", None)
        object.__setattr__(instance, "__pydantic_private__", None)
        return instance

    return construct


_new_ticket = _constructor(Ticket)
_new_message = _constructor(Message)
_TICKET_FIELDS = tuple(Ticket.model_fields)
_fromisoformat = datetime.fromisoformat
_MESSAGE_FIELDS = tuple(Message.model_fields)


def _ticket(row: Sequence[Any]) -> Ticket:
    """A ticket from a row selected as :data:`_TICKET_ROW`."""
    values = dict(zip(_TICKET_FIELDS, row))  # noqa: B905 - the row is built from the same fields
    values["priority"] = _PRIORITY[values["priority"]]
    values["status"] = _STATUS[values["status"]]
    values["category"] = _CATEGORY[values["category"]]
    values["tags"] = ()
    created, updated = values["created_at"], values["updated_at"]
    # Listing 50 tickets parses 100 timestamps: the stored SQLite form is
    # parsed inline, anything else by parse_timestamp.
    if created.__class__ is str and _is_stored_form(created) and _is_stored_form(updated):
        values["created_at"] = _fromisoformat(created + "+00:00")
        values["updated_at"] = _fromisoformat(updated + "+00:00")
    else:
        values["created_at"] = parse_timestamp(created)
        values["updated_at"] = parse_timestamp(updated)
    if values["resolved_at"] is not None:
        values["resolved_at"] = parse_timestamp(values["resolved_at"])
    return _new_ticket(values)


def _is_stored_form(value: Any) -> bool:
    """Whether ``value`` is SQLite's ``YYYY-MM-DD HH:MM:SS.ffffff`` as the store writes it."""
    return value.__class__ is str and len(value) == 26 and value[19] == "." and value[10] == " "


def _message(row: Sequence[Any]) -> Message:
    """A message from a row of ``support_messages`` (its columns are in the model's field order)."""
    values = dict(zip(_MESSAGE_FIELDS, row))  # noqa: B905 - the columns are the fields
    values["sender_type"] = _SENDER[values["sender_type"]]
    values["message_type"] = _MESSAGE_TYPE[values["message_type"]]
    values["is_read"] = bool(values["is_read"])
    values["automated"] = bool(values["automated"])
    values["created_at"] = parse_timestamp(values["created_at"])
    return _new_message(values)


def _thread_export(store: SQLStore) -> ThreadExport:
    from .sql_transfer import SQLThreadExport

    return SQLThreadExport(store)


def _bulk_load(store: SQLStore) -> BulkLoad:
    from .sql_transfer import SQLBulkLoad

    return SQLBulkLoad(store)


# The export and bulk-load capabilities (supportchat.transfer asks for them by protocol).
register_extension(EventLog, SQLStore, lambda store: store)  # type: ignore[type-abstract]
register_extension(ThreadExport, SQLStore, _thread_export)  # type: ignore[type-abstract]
register_extension(BulkLoad, SQLStore, _bulk_load)  # type: ignore[type-abstract]
