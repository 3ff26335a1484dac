"""Loading exported tickets into a store, idempotently.

A ticket is recognised by its ticket number, a message by its unique id: a
file imported twice (or an import resumed after a crash) adds nothing the
first run added. Each ticket goes in through the :class:`Store` protocol, so
the target's counters, statistics and event log stay consistent with its
rows, exactly as if the desk had written them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ..errors import (
    DuplicateMessage,
    ExtensionUnavailable,
    StorageError,
    TicketIdTaken,
    TicketNotFound,
    ValidationError,
)
from ..extensions import extension
from ..models import Message, NewMessage, NewTicket, NewTicketChange, Ticket
from ..optimistic import retry_at_fresh_version
from ..rules import is_blank, sanitize
from ..store import BulkLoad, Store
from .records import TICKET_COLUMNS, ThreadRecord

__all__ = ["ImportReport", "import_threads"]

T = TypeVar("T")
_CHANGE_COLUMNS = set(NewTicketChange.model_fields)


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    tickets_created: int = 0
    tickets_skipped: int = 0
    messages_created: int = 0
    messages_skipped: int = 0


def import_threads(
    store: Store,
    records: Iterable[ThreadRecord],
    *,
    keep_ids: bool | None = None,
    on_record: Callable[[ThreadRecord], None] | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Add every ticket of ``records`` that ``store`` lacks, with its messages and changes.

    ``keep_ids`` keeps the file's ticket and message ids (so links and ids
    given to clients stay valid); by default they are kept when the store
    holds no ticket when the import starts, and fresh ids are drawn
    otherwise. ``on_record`` is called after each record (progress bars).

    Records are read ``batch_size`` at a time; a store with the
    :class:`~supportchat.store.BulkLoad` capability (the SQL stores) gets
    each batch's new tickets in one transaction.
    """
    if keep_ids is None:
        keep_ids = store.statistics().total_tickets == 0
    report = ImportReport()
    try:
        bulk: BulkLoad | None = extension(store, BulkLoad)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        bulk = None
    for batch in _batches(records, batch_size):
        careful = batch
        if bulk is not None:
            careful = _bulk_import(bulk, batch, keep_ids, report)
        for record in careful:
            _import_one(store, record, keep_ids, report)
        if on_record is not None:
            for record in batch:
                on_record(record)
    return report


def _batches(records: Iterable[ThreadRecord], size: int) -> Iterator[list[ThreadRecord]]:
    batch: list[ThreadRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk_import(bulk: BulkLoad, batch: list[ThreadRecord], keep_ids: bool, report: ImportReport) -> list[ThreadRecord]:
    """Write the batch's new tickets in one transaction; returns the records left for the one-by-one path."""
    present = bulk.ticket_numbers_present([record.ticket.ticket_number for record in batch])
    fresh = [record for record in batch if record.ticket.ticket_number not in present]
    if not fresh:
        return batch
    try:
        messages = bulk.insert_threads([_cleaned(record) for record in fresh], keep_ids=keep_ids)
    except StorageError:
        # Something clashed (a duplicate in the file, an id or uid taken): the
        # transaction wrote nothing, so the careful path decides record by record.
        return batch
    report.tickets_created += len(fresh)
    report.messages_created += messages
    return [record for record in batch if record.ticket.ticket_number in present]


def _cleaned(record: ThreadRecord) -> ThreadRecord:
    """The record as the store receives it: text sanitised again, every message with its uid, in id order."""
    ticket = record.ticket
    subject, description = _clean("subject", ticket.subject), _clean("description", ticket.description)
    return ThreadRecord.model_construct(
        ticket=ticket.model_copy(update={"subject": subject, "description": description}),
        messages=[
            message.model_copy(update={"message": _clean("message", message.message), "uid": _uid(ticket, message)})
            for message in sorted(record.messages, key=lambda m: m.id)
        ],
        changes=record.changes,
    )


def _uid(source: Ticket, message: Message) -> str:
    """A message's unique id; a file's message without one gets one derived from where it was."""
    return message.uid or f"import:{source.ticket_number}:{message.id}"


def _clean(field: str, text: str) -> str:
    cleaned = sanitize(text)
    if is_blank(cleaned):
        raise ValidationError(field, "is empty after sanitising")
    return cleaned


def _import_one(store: Store, record: ThreadRecord, keep_ids: bool, report: ImportReport) -> None:
    source = record.ticket
    ticket = store.get_ticket_by_number(source.ticket_number)
    created = ticket is None
    if ticket is None:
        ticket = _insert_ticket(store, source, keep_ids)
        report.tickets_created += 1
        known_uids: set[str] = set()
    else:
        report.tickets_skipped += 1
        if ticket.message_count >= len(record.messages) and (not record.changes or store.list_changes(ticket.id)):
            report.messages_skipped += len(record.messages)
            return
        known_uids = {m.uid for m in store.list_messages(ticket.id) if m.uid is not None}

    same_ids = keep_ids and ticket.id == source.id
    version = ticket.version
    for message in sorted(record.messages, key=lambda m: m.id):
        uid = _uid(source, message)
        if uid in known_uids:
            report.messages_skipped += 1
            continue
        draft = NewMessage(
            ticket_id=ticket.id,
            sender_id=message.sender_id,
            sender_type=message.sender_type,
            message=_clean("message", message.message),
            message_type=message.message_type,
            file_url=message.file_url,
            automated=message.automated,
            is_read=message.is_read,
            created_at=message.created_at,
            uid=uid,
            id=message.id if same_ids else None,
        )
        if _insert_message(store, draft, ticket.id, version):
            report.messages_created += 1
            version += 1  # the store bumps the version once per write
        else:
            report.messages_skipped += 1
    if record.changes and (created or not store.list_changes(ticket.id)):
        _insert_history(store, ticket.id, version, record)


def _insert_ticket(store: Store, source: Ticket, keep_ids: bool) -> Ticket:
    draft = NewTicket(
        **source.model_dump(include=TICKET_COLUMNS),
        subject=_clean("subject", source.subject),
        description=_clean("description", source.description),
        id=source.id if keep_ids else None,
    )
    try:
        return store.insert_ticket(draft)
    except TicketIdTaken:
        # The id is held by another ticket (the number was checked free): draw a fresh one.
        return store.insert_ticket(draft.model_copy(update={"id": None}))


def _insert_message(store: Store, draft: NewMessage, ticket_id: int, version: int) -> Message | None:
    try:
        return _at_current_version(
            store, ticket_id, version, lambda v: store.insert_message(draft, expected_version=v, changes={})
        )
    except DuplicateMessage:
        return None


def _at_current_version(store: Store, ticket_id: int, version: int, write: Callable[[int], T]) -> T:
    """``write(version)``, again with the ticket's new version whenever someone else wrote first."""
    return retry_at_fresh_version(
        write,
        lambda: _current_version(store, ticket_id),
        first=version,
        gave_up=f"ticket {ticket_id} kept changing during the import",
    )


def _insert_history(store: Store, ticket_id: int, version: int, record: ThreadRecord) -> None:
    history = [NewTicketChange(**change.model_dump(include=_CHANGE_COLUMNS)) for change in record.changes]
    _at_current_version(
        store,
        ticket_id,
        version,
        lambda v: store.update_ticket(ticket_id, expected_version=v, changes={}, history=history),
    )


def _current_version(store: Store, ticket_id: int) -> int:
    """The ticket's version now, after someone else wrote to it meanwhile."""
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise TicketNotFound(f"ticket {ticket_id} disappeared during the import")
    return ticket.version
