"""Fault injection for store tests: a store wrapper that fails on command.

:class:`FaultyStore` wraps any store and, while "down", raises
:class:`StorageUnavailable` instead of calling it (nothing is written, as
the protocol promises). ``schedule`` decides per call, so a test can take the
store down for good, make it flap, or fail after a number of calls (in the
middle of a replay). ``lose_answers`` makes it perform each distinct write and then
raise, once, as a network that drops the response does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from supportchat.errors import StorageUnavailable
from supportchat.events import Event
from supportchat.extensions import extension, register_extension
from supportchat.models import EventType, Message, Statistics, Ticket, TicketChange, TicketQuery
from supportchat.people import AgentStore, ContactStore
from supportchat.store import EventLog
from supportchat.stores import Store

_PROTOCOL = {
    "insert_ticket",
    "get_ticket",
    "get_ticket_by_number",
    "list_tickets",
    "update_ticket",
    "insert_message",
    "get_message_by_uid",
    "list_messages",
    "mark_read",
    "list_changes",
    "statistics",
    "resolved_before",
    "events_after",
    "last_event_id",
    "insert_rating",
    "list_ratings",
    "merge_tickets",
    "insert_note",
    "list_notes",
    "ticket_tags",
    "replace_tags",
}
WRITES = {
    "insert_ticket",
    "update_ticket",
    "insert_message",
    "mark_read",
    "insert_rating",
    "merge_tickets",
    "insert_note",
    "replace_tags",
}


class FaultyStore:
    """Delegates to ``inner`` unless the fault schedule says the call fails."""

    def __init__(self, inner: Store, schedule: Callable[[int, str], bool] | None = None) -> None:
        self.inner = inner
        self.down = False
        self.schedule = schedule
        self.lose_answers = False
        self.calls: list[str] = []
        self.failures = 0
        self._fail_after: int | None = None
        self._lost: set[str] = set()

    def fail_after(self, calls: int) -> None:
        """Let ``calls`` more calls through, then go down."""
        self._fail_after = calls

    def recover(self) -> None:
        self.down = False
        self.lose_answers = False
        self._fail_after = None

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name not in _PROTOCOL:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            index = len(self.calls)
            self.calls.append(name)
            if self._fail_after is not None:
                if self._fail_after == 0:
                    self.down = True
                    self._fail_after = None
                else:
                    self._fail_after -= 1
            if self.down or (self.schedule is not None and self.schedule(index, name)):
                self.failures += 1
                raise StorageUnavailable(f"injected fault on {name}")
            result = target(*args, **kwargs)
            if self.lose_answers and name in WRITES and (key := f"{name}{args}{kwargs}") not in self._lost:
                self._lost.add(key)
                self.failures += 1
                raise StorageUnavailable(f"injected lost answer after {name}")
            return result

        return call

    def close(self) -> None:
        self.inner.close()


def flapping(up: int, down: int) -> Callable[[int, str], bool]:
    """A schedule: ``up`` calls succeed, ``down`` calls fail, and again."""
    period = up + down
    return lambda index, _name: index % period >= up


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a store holds that clients can see, for comparing two stores.

    Change records are compared without their ids, which are each store's own.
    """
    tickets, total = store.list_tickets(TicketQuery(per_page=100_000))
    by_id: dict[int, Ticket] = {t.id: t for t in tickets}
    messages: dict[int, list[Message]] = {t.id: store.list_messages(t.id) for t in tickets}
    changes: dict[int, list[dict[str, Any]]] = {
        t.id: [_without_id(c) for c in store.list_changes(t.id)] for t in tickets
    }
    stats: Statistics = store.statistics()
    notes = {t.id: store.list_notes(t.id) for t in tickets}
    tags = store.ticket_tags(list(by_id))
    ratings = {t.id: store.list_ratings(t.id) for t in tickets}
    return {
        "total": total,
        "tickets": by_id,
        "messages": messages,
        "changes": changes,
        "statistics": stats,
        "notes": notes,
        "tags": tags,
        "ratings": ratings,
    }


def _without_id(change: TicketChange) -> dict[str, Any]:
    return change.model_dump(exclude={"id"})


class Witness:
    """Everything clients were told was created, in the order they were told.

    Subscribe it to a desk; after recovery :meth:`check` asserts that each
    ticket and message exists exactly once in ``store`` under the id and
    ticket number the client got, with each ticket's messages in the order
    they were told.
    """

    def __init__(self) -> None:
        self.tickets: dict[int, str] = {}
        self.messages: dict[int, list[tuple[int, str | None]]] = {}

    def __call__(self, event: Event) -> None:
        if event.type is EventType.TICKET_CREATED:
            self.tickets[event.ticket.id] = event.ticket.ticket_number
            self.messages.setdefault(event.ticket.id, [])
        elif event.type is EventType.MESSAGE_CREATED and event.message is not None:
            self.messages.setdefault(event.message.ticket_id, []).append((event.message.id, event.message.uid))
        elif event.type is EventType.TICKET_UPDATED and event.ticket.merged_into is not None:
            # A merge: the source's messages now live, under their ids, in the target.
            moved = self.messages.pop(event.ticket.id, [])
            self.messages[event.ticket.id] = []
            target = self.messages.setdefault(event.ticket.merged_into, [])
            target[:] = sorted([*target, *moved])

    def check(self, store: Store) -> None:
        tickets, total = store.list_tickets(TicketQuery(per_page=100_000))
        numbers = Counter(t.ticket_number for t in tickets)
        assert total == len(tickets) == len(self.tickets)
        for ticket_id, number in self.tickets.items():
            stored = store.get_ticket(ticket_id)
            assert stored is not None, f"ticket {ticket_id} ({number}) is missing"
            assert stored.ticket_number == number and numbers[number] == 1
            assert store.get_ticket_by_number(number) == stored
            messages = store.list_messages(ticket_id)
            assert [(m.id, m.uid) for m in messages] == self.messages[ticket_id]
            assert stored.message_count == len(messages)


class FaultyExtension:
    """A store extension of a :class:`FaultyStore`: the inner store's, failing when the store does."""

    def __init__(self, store: FaultyStore, protocol: type[Any]) -> None:
        self._store = store
        self._inner = extension(store.inner, protocol)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            index = len(self._store.calls)
            self._store.calls.append(name)
            if self._store.down or (self._store.schedule is not None and self._store.schedule(index, name)):
                self._store.failures += 1
                raise StorageUnavailable(f"injected fault on {name}")
            return target(*args, **kwargs)

        return call


for _protocol in (AgentStore, ContactStore, EventLog):
    register_extension(_protocol, FaultyStore, lambda store, protocol=_protocol: FaultyExtension(store, protocol))
