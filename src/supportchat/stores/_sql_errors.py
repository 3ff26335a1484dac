"""Driver errors translated into supportchat's errors, in one place.

A store wraps every database call in :func:`translated`; nothing from
SQLAlchemy or a driver escapes it. The split matters to the fallback store:

- the storage itself failing (unreachable, timed out, locked, deadlocked,
  connection lost) is :class:`~supportchat.errors.StorageUnavailable`, the only
  retryable error;
- a uniqueness clash on a ticket number is
  :class:`~supportchat.errors.TicketNumberTaken`, on a ticket id given by a
  replaying store or an import :class:`~supportchat.errors.TicketIdTaken`, on
  a message uid :class:`~supportchat.errors.DuplicateMessage`;
- a foreign key naming a missing ticket is
  :class:`~supportchat.errors.TicketNotFound`;
- any other refusal (integrity, bad data, SQL errors) is a plain
  :class:`~supportchat.errors.StorageError`, never retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from ..errors import (
    DuplicateMessage,
    NoteIdTaken,
    StorageError,
    StorageUnavailable,
    SupportChatError,
    TicketIdTaken,
    TicketNotFound,
    TicketNumberTaken,
)

__all__ = ["translate", "translated"]

# Constraint names (PostgreSQL reports them) and column spellings (SQLite
# reports "UNIQUE constraint failed: table.column") of each unique key.
_TICKET_NUMBER_KEYS = ("uq_support_tickets_ticket_number", "support_tickets.ticket_number", "(ticket_number)")
_TICKET_ID_KEYS = ("support_tickets_pkey", "support_tickets.id")
_MESSAGE_UID_KEYS = ("uq_support_messages_uid", "support_messages.uid", "(uid)")
_NOTE_KEYS = ("uq_support_ticket_notes_uid", "support_ticket_notes.uid", "support_ticket_notes_pkey")


def _describe(error: sa_exc.DBAPIError) -> str:
    original = error.orig
    parts = [str(original)]
    diag = getattr(original, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        parts.append(constraint)
    return " ".join(parts)


def translate(error: Exception, *, uid: str | None = None) -> SupportChatError:
    """The supportchat error that ``error`` (from SQLAlchemy or a driver) means.

    ``uid`` is the message uid being inserted, if any, for
    :class:`~supportchat.errors.DuplicateMessage`.
    """
    if isinstance(error, SupportChatError):
        return error
    if isinstance(error, sa_exc.IntegrityError):
        text = _describe(error)
        if any(key in text for key in _TICKET_NUMBER_KEYS):
            return TicketNumberTaken("ticket number is taken")
        if any(key in text for key in _TICKET_ID_KEYS):
            return TicketIdTaken("ticket id is taken")
        if any(key in text for key in _NOTE_KEYS):  # before the messages': PostgreSQL says "(uid)" for both
            return NoteIdTaken("a note with this id or uid exists")
        if any(key in text for key in _MESSAGE_UID_KEYS):
            return DuplicateMessage(uid or "")
        if "foreign key" in text.lower():
            # Every foreign key of the schema points at support_tickets.
            return TicketNotFound("no such ticket")
        return StorageError(f"the database refused the write: {error.orig}")
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return StorageUnavailable(f"lost the database connection: {error.orig}")
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        # Unreachable, timed out, "database is locked", deadlock or
        # serialization failure: the transaction was rolled back.
        return StorageUnavailable(f"the database is unavailable: {error.orig}")
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return StorageUnavailable(f"no database connection available: {error}")
    if isinstance(error, sa_exc.SQLAlchemyError):
        return StorageError(f"the database refused the operation: {error}")
    if isinstance(error, OSError):
        return StorageUnavailable(f"the database cannot be reached: {error}")
    raise error


@contextmanager
def translated(*, uid: str | None = None) -> Iterator[None]:
    """Run a block with every database error raised as its supportchat error."""
    try:
        yield
    except SupportChatError:
        raise
    except (sa_exc.SQLAlchemyError, OSError) as error:
        raise translate(error, uid=uid) from error
