"""The support desk: every rule of the system, on plain data.

:class:`SupportDesk` numbers tickets, enforces the lifecycle, sanitises and
validates input, keeps read state, records changes and announces events. It
knows nothing of HTTP or of any database: it talks to storage only through
the :class:`~supportchat.stores.Store` protocol, and every caller (adapters,
the CLI, a host app's code) gets the same rules.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .errors import (
    AlreadyMerged,
    AssigneeChanged,
    Conflict,
    DifferentOwners,
    DuplicateMessage,
    DuplicateRating,
    MergeIntoItself,
    StorageError,
    TicketClosed,
    TicketNotFound,
    TicketNumberTaken,
    ValidationError,
)
from .event_types import event_type_spec
from .events import Event, EventBus, Listener
from .extensions import extension
from .models import (
    Actor,
    ActorKind,
    Category,
    EventType,
    Message,
    MessageType,
    NewMessage,
    NewTicket,
    NewTicketChange,
    Page,
    Priority,
    Rating,
    SenderType,
    Statistics,
    Ticket,
    TicketChange,
    TicketQuery,
    TicketStatus,
    TicketThread,
)
from .notes import NotesAndTags
from .numbers import lookup_candidates, new_ticket_number
from .optimistic import UPDATE_ATTEMPTS, retry_at_fresh_version
from .permissions import Action, authorize
from .rules import (
    CLIENT_MESSAGE_ID_PATTERN,
    UNASSIGNED,
    Limits,
    as_id,
    check_rating_open,
    check_transition,
    clean_search,
    clean_text,
    parse_assignee_filter,
    parse_choice,
    parse_file_url,
    parse_page,
    parse_positive_int,
    parse_score,
    parse_tag,
    resolution_cycle,
)
from .store import EventLog, Store, TicketChanges, TicketMerge

__all__ = ["UNSET", "SupportDesk"]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Leave it as it is", where ``None`` is itself a value (no assignee).
UNSET: Final = _Unset()

_CLIENT_ID = re.compile(CLIENT_MESSAGE_ID_PATTERN)
#: More merges in a row than any desk makes: a longer chain of ``merged_into`` is a corrupt store.
_MERGE_CHAIN_MAX = 64
Decision = tuple[TicketChanges, list[NewTicketChange]]
#: Decides a ticket's changes at one instant, ``now``, used for every timestamp of the write.
Decide = Callable[[Ticket, datetime], Decision]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SupportDesk(NotesAndTags):
    """The support desk over one :class:`Store`.

    Internal notes and tags are its :class:`~supportchat.notes.NotesAndTags` methods.

    ``clock`` returns the current time (timezone-aware); ``number_generator``
    draws ticket numbers. Both are injectable so that tests control time and
    collisions.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = _utcnow,
        limits: Limits | None = None,
        number_generator: Callable[[], str] = new_ticket_number,
        number_attempts: int = 10,
        update_attempts: int = UPDATE_ATTEMPTS,
    ) -> None:
        self.store = store
        self.limits = limits or Limits()
        self._clock = clock
        self._new_number = number_generator
        self._number_attempts = number_attempts
        self._update_attempts = update_attempts
        self._bus = EventBus()

    # -- events ----------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every successful write; returns the unsubscribe function."""
        return self._bus.subscribe(listener)

    def record_event(
        self, actor: Actor, ticket_id: int, event_type: str, *, data: Mapping[str, Any] | None = None
    ) -> None:
        """Append a feature's entry about a ticket to the event log and announce it (the seam for features' events).

        ``event_type`` must be declared (:func:`~supportchat.event_types.declare_event_type`) and
        not one of the core's, which the store writes with the change they announce. Who may see
        the entry is the declaration's (staff only unless declared for the owner);
        ``data`` (JSON-ready values) is staff's only. Raises
        :class:`~supportchat.errors.TicketNotFound` for an unknown ticket.
        """
        spec = event_type_spec(event_type)
        if spec is None or spec.declared_by == "core":
            raise ValueError(f"{event_type!r} is not a feature's declared event type")
        now = self._now()
        extension(self.store, EventLog).append_event(ticket_id, spec.name, at=now, data=data)  # type: ignore[type-abstract]
        self.announce(actor, ticket_id, spec.name, at=now, data=data)

    def announce(
        self, actor: Actor, ticket_id: int, event_type: str, *, at: datetime, data: Mapping[str, Any] | None = None
    ) -> None:
        """Tell this process's listeners (live streams, the job runner) of an entry a feature has just logged.

        :meth:`record_event` calls it; a feature that appends its entry in its own
        transaction (``stores.sql.append_event_row``) calls it after the commit.
        """
        ticket = self.store.get_ticket(ticket_id)
        if ticket is not None:
            self._bus.publish(Event(event_type, ticket, actor, at, data=data))

    # -- tickets ---------------------------------------------------------

    def create_ticket(
        self,
        actor: Actor,
        *,
        subject: object,
        description: object,
        priority: object = None,
        category: object = None,
        user_id: object = None,
    ) -> Ticket:
        """Open a ticket. A user opens it for themselves; staff must name ``user_id``."""
        if user_id is None and actor.kind is ActorKind.USER:
            user_id = actor.id
        owner = parse_positive_int("user_id", user_id)
        authorize(actor, Action.CREATE, user_id=owner)
        now = self._now()
        fields = {
            "user_id": owner,
            "subject": clean_text("subject", subject, self.limits.subject),
            "description": clean_text("description", description, self.limits.body),
            "priority": parse_choice("priority", priority, Priority, Priority.MEDIUM),
            "category": parse_choice("category", category, Category, Category.GENERAL),
            "created_at": now,
            "updated_at": now,
        }
        for _ in range(self._number_attempts):
            try:
                ticket = self.store.insert_ticket(NewTicket(ticket_number=self._new_number(), **fields))
                break
            except TicketNumberTaken:
                continue
        else:
            raise StorageError(f"no free ticket number after {self._number_attempts} draws")
        self._bus.publish(Event(EventType.TICKET_CREATED, ticket, actor, now))
        return ticket.seen_by(actor)

    def get_ticket(
        self, actor: Actor, ref: object, *, mark_read: bool = True, before_id: object = None, limit: object = None
    ) -> TicketThread:
        """A ticket with its newest messages (those before ``before_id`` if given), oldest first.

        At most ``limit`` messages (default :attr:`Limits.thread_messages`);
        ``has_more_before`` says whether older ones exist, to be read with
        ``before_id`` set to the first message's id. Opening a ticket marks
        every message of the other side read, on every page (spec §5).
        """
        ticket = self._visible(actor, ref, Action.VIEW)
        upper = None if before_id is None else parse_positive_int("before_id", before_id)
        size = (
            self.limits.thread_messages
            if limit is None
            else parse_positive_int("limit", limit, maximum=self.limits.thread_messages_max)
        )
        if mark_read and actor.kind is not ActorKind.SYSTEM:
            other = SenderType.ADMIN if actor.kind is ActorKind.USER else SenderType.USER
            if self.store.mark_read(ticket.id, other):
                # The counters moved: the thread shows them as they now are.
                ticket = self.store.get_ticket(ticket.id) or ticket
        # One more than asked for tells whether older messages exist, without counting them.
        messages = self.store.list_messages(ticket.id, before_id=upper, limit=size + 1, newest=True)
        older = len(messages) > size
        ratings = self.store.list_ratings(ticket.id)
        staff: dict[str, object] = {}
        if actor.is_staff:
            staff = {"tags": self._tags_of(ticket.id), "notes": self.store.list_notes(ticket.id)}
        thread = TicketThread.model_construct(
            **{**dict(ticket), **staff},
            messages=messages[1:] if older else messages,
            has_more_before=older,
            rating=ratings[-1] if ratings else None,
            ratings=ratings,
        )
        return thread.seen_by(actor)  # type: ignore[return-value]

    def list_tickets(
        self,
        actor: Actor,
        *,
        status: object = None,
        priority: object = None,
        category: object = None,
        assigned_to: object = None,
        user_id: object = None,
        tag: object = None,
        q: object = None,
        page: object = 1,
        per_page: object = 20,
    ) -> Page[Ticket]:
        """Every ticket matching the filters, newest first (staff only), each with its tags.

        With ``q``, a full-text search (spec §13, :mod:`supportchat.search`):
        results by relevance, each with a ``highlight``.

        ``assigned_to`` takes an admin id, or :data:`~supportchat.rules.UNASSIGNED`
        (``"none"``) for unassigned tickets.
        """
        authorize(actor, Action.OVERSEE)
        assignee = parse_assignee_filter(assigned_to)
        query = self._query(
            status=status,
            priority=priority,
            category=category,
            assigned_to=assignee if isinstance(assignee, int) else None,
            unassigned=assignee == UNASSIGNED,
            user_id=None if user_id is None else parse_positive_int("user_id", user_id),
            tag=None if tag in (None, "") else parse_tag(tag),
            q=q,
            for_staff=True,
            page=page,
            per_page=per_page,
        )
        return self._page(actor, query)

    def list_user_tickets(
        self,
        actor: Actor,
        user_id: object,
        *,
        status: object = None,
        q: object = None,
        page: object = 1,
        per_page: object = 20,
    ) -> Page[Ticket]:
        """A user's own tickets, newest first; with ``q``, a search of them by relevance (spec §13)."""
        owner = parse_positive_int("user_id", user_id)
        authorize(actor, Action.LIST_OWN, user_id=owner)
        return self._page(actor, self._query(status=status, user_id=owner, q=q, page=page, per_page=per_page))

    def change_status(self, actor: Actor, ref: object, status: object, *, assigned_to: object = UNSET) -> Ticket:
        """Move a ticket through the lifecycle, optionally (re)assigning it at once."""
        target = parse_choice("status", status, TicketStatus)
        assignee = self._assignee(assigned_to)

        def decide(ticket: Ticket, now: datetime) -> Decision:
            check_transition(ticket.status, target)
            changes, history = self._status_change(actor, ticket, target, now)
            if assignee is not UNSET and assignee != ticket.assigned_to:
                changes["assigned_to"] = assignee  # type: ignore[typeddict-item]
                history.append(self._record(actor, "assigned_to", ticket.assigned_to, assignee, now))
            return changes, history

        return self._update(actor, ref, decide)[0]

    def assign(
        self,
        actor: Actor,
        ref: object,
        assigned_to: object,
        *,
        expected_assignee: object = UNSET,
        records: Sequence[tuple[str, str | None, str | None]] = (),
    ) -> Ticket:
        """Assign a ticket to an admin id, or unassign it with ``None``.

        With ``expected_assignee`` (an admin id or ``None``) the ticket is
        assigned only while its assignee is still that one, decided at the
        version written: otherwise :class:`~supportchat.errors.AssigneeChanged`
        (so an auto-assignment never replaces an assignment made meanwhile).
        ``records`` are further change records, ``(field, old, new)``, written
        in the same update (a transfer's team and reason); with them the
        update is written even if the assignee stays.
        """
        assignee = self._assignee(assigned_to)
        expected = expected_assignee if expected_assignee is UNSET else self._assignee(expected_assignee)

        def decide(ticket: Ticket, now: datetime) -> Decision:
            if expected is not UNSET and ticket.assigned_to != expected:
                raise AssigneeChanged("the ticket was assigned meanwhile", details={"assigned_to": ticket.assigned_to})
            history = [self._record(actor, field, old, new, now) for field, old, new in records]
            if assignee == ticket.assigned_to:
                return ({"updated_at": now}, history) if history else ({}, [])
            history.insert(0, self._record(actor, "assigned_to", ticket.assigned_to, assignee, now))
            return {"assigned_to": assignee}, history  # type: ignore[typeddict-item]

        return self._update(actor, ref, decide)[0]

    def set_priority(self, actor: Actor, ref: object, priority: object) -> Ticket:
        """Change a ticket's priority."""
        target = parse_choice("priority", priority, Priority)

        def decide(ticket: Ticket, now: datetime) -> Decision:
            if target is ticket.priority:
                return {}, []
            return {"priority": target}, [self._record(actor, "priority", ticket.priority, target, now)]

        return self._update(actor, ref, decide)[0]

    def find_ticket(self, actor: Actor, ref: object, action: Action = Action.VIEW) -> Ticket:
        """The ticket an id or number names, if ``actor`` may do ``action`` (default: see it) on it.

        Unlike :meth:`get_ticket`, nothing is marked read. For features that
        show or add something about a ticket (its push deliveries, an upload to it).
        """
        return self._visible(actor, ref, action)

    def history(self, actor: Actor, ref: object) -> list[TicketChange]:
        """Every recorded change of status, assignment and priority, oldest first (staff only)."""
        ticket = self._visible(actor, ref, Action.MANAGE)
        return self.store.list_changes(ticket.id)

    def close_resolved(
        self, actor: Actor | None = None, *, older_than: timedelta = timedelta(days=7), dry_run: bool = False
    ) -> list[Ticket]:
        """Close tickets resolved longer than ``older_than`` ago; returns them.

        Safe to run from cron, even twice at once: each ticket is closed by a
        checked update, so a ticket reopened or closed meanwhile is left alone.
        """
        actor = actor or Actor.system()
        authorize(actor, Action.OVERSEE)
        if older_than < timedelta(0):
            raise ValidationError("older_than", "must not be negative")
        cutoff = self._now() - older_than
        if dry_run:
            return self.store.resolved_before(cutoff, limit=100_000)

        def decide(ticket: Ticket, now: datetime) -> Decision:
            if ticket.status is not TicketStatus.RESOLVED or ticket.resolved_at is None or ticket.resolved_at >= cutoff:
                return {}, []
            return self._status_change(actor, ticket, TicketStatus.CLOSED, now)

        closed: list[Ticket] = []
        while batch := self.store.resolved_before(cutoff, limit=500):
            before = len(closed)
            for due in batch:
                ticket, written = self._update(actor, due.id, decide)
                if written:
                    closed.append(ticket)
            if len(closed) == before:
                break
        return closed

    # -- messages --------------------------------------------------------

    def post_message(
        self,
        actor: Actor,
        ref: object,
        message: object,
        *,
        message_type: object = None,
        file_url: object = None,
        client_message_id: object = None,
        automated: bool = False,
    ) -> Message:
        """Add a message from the actor's side (user or admin) to a ticket.

        A user's message reopens a resolved ticket; a closed ticket refuses
        every message. With ``client_message_id`` a retried send returns the
        message stored the first time instead of storing it again.
        ``automated`` marks an admin-side message the desk's automation wrote
        (the bot, an auto-reply; spec §18): it is shown as such and never counts
        as a first response. Only an admin actor may write one.
        """
        ticket = self._visible(actor, ref, Action.REPLY)
        text = clean_text("message", message, self.limits.body)
        kind = parse_choice("message_type", message_type, MessageType, MessageType.TEXT)
        if kind is not MessageType.TEXT or file_url not in (None, ""):
            url: str | None = parse_file_url(file_url, self.limits)
        else:
            url = None
        sender = SenderType.USER if actor.kind is ActorKind.USER else SenderType.ADMIN
        if automated and sender is not SenderType.ADMIN:
            raise ValidationError("automated", "only the desk's own automation writes automated messages")
        sender_id = parse_positive_int("sender_id", actor.id)
        uid = self._message_uid(sender, sender_id, client_message_id)
        if client_message_id is not None and (existing := self.store.get_message_by_uid(uid)) is not None:
            return self._replayed(existing, ticket)

        def write(ticket: Ticket) -> Message:
            now = self._now()
            if ticket.status is TicketStatus.CLOSED:
                raise TicketClosed("the ticket is closed and accepts no messages", details={"status": "closed"})
            changes: TicketChanges = {}
            history: list[NewTicketChange] = []
            if sender is SenderType.USER and ticket.status is TicketStatus.RESOLVED:
                changes, history = self._status_change(actor, ticket, TicketStatus.OPEN, now)
            changes["updated_at"] = now
            draft = NewMessage(
                ticket_id=ticket.id,
                sender_id=sender_id,
                sender_type=sender,
                message=text,
                message_type=kind,
                file_url=url,
                created_at=now,
                uid=uid,
                automated=automated,
            )
            try:
                stored = self.store.insert_message(
                    draft, expected_version=ticket.version, changes=changes, history=history
                )
            except DuplicateMessage:
                existing = self.store.get_message_by_uid(uid)
                if existing is None:
                    raise
                return self._replayed(existing, ticket)
            changed = tuple(k for k in changes if k != "updated_at")
            self._bus.publish(Event(EventType.MESSAGE_CREATED, ticket, actor, now, stored, changed))
            return stored

        return retry_at_fresh_version(
            write, lambda: self._reload(actor, ticket.id, Action.REPLY), first=ticket, attempts=self._update_attempts
        )

    def messages_after(self, actor: Actor, ref: object, after_id: object = 0, *, limit: int = 200) -> list[Message]:
        """Messages newer than ``after_id``, oldest first, for polling clients."""
        ticket = self._visible(actor, ref, Action.VIEW)
        start = 0 if after_id is None else parse_positive_int("after_id", after_id, minimum=0)
        return self.store.list_messages(ticket.id, after_id=start, limit=limit)

    # -- ratings and merges (spec §12) ----------------------------------------

    def rate(self, actor: Actor, ref: object, score: object, *, comment: object = None) -> Rating:
        """The owner rates a resolved or closed ticket 1–5, once per resolution cycle.

        The rating keeps who was assigned then (``agent_id``), for reports.
        Raises :class:`~supportchat.errors.RatingNotOpen` (409) for a ticket
        that is not resolved or closed, or is rated in this cycle already.
        """
        first = self._visible(actor, ref, Action.RATE)
        value = parse_score(score)
        text = None if comment in (None, "") else clean_text("comment", comment, self.limits.body)

        def write(ticket: Ticket) -> Rating:
            now = self._now()
            cycle = resolution_cycle(self.store.list_changes(ticket.id))
            check_rating_open(ticket.status, cycle, (r.cycle for r in self.store.list_ratings(ticket.id)))
            rating = Rating(
                ticket_id=ticket.id,
                cycle=cycle,
                score=value,
                comment=text,
                user_id=parse_positive_int("user_id", actor.id),
                agent_id=ticket.assigned_to,
                created_at=now,
            )
            try:
                stored = self.store.insert_rating(
                    rating,
                    expected_version=ticket.version,
                    changes={"updated_at": now},
                    history=[self._record(actor, "rating", None, value, now)],
                )
            except DuplicateRating:
                # A rating of this cycle was stored first (a race the version check let through).
                check_rating_open(ticket.status, cycle, (cycle,))
                raise
            updated = self.store.get_ticket(ticket.id) or ticket
            self._bus.publish(Event(EventType.TICKET_UPDATED, updated, actor, now, changed=("rating",)))
            return stored

        return retry_at_fresh_version(
            write, lambda: self._reload(actor, first.id, Action.RATE), first=first, attempts=self._update_attempts
        )

    def ratings(self, actor: Actor, ref: object) -> list[Rating]:
        """Every rating of a ticket, one per resolution cycle, oldest first (staff, and the owner)."""
        ticket = self._visible(actor, ref, Action.VIEW)
        return self.store.list_ratings(ticket.id)

    def merge(self, actor: Actor, ref: object, into: object) -> Ticket:
        """Merge a ticket into another of the same user (admins); returns the surviving ticket.

        The source's messages join the target under their own ids (in time
        order), the source is closed with ``merged_into`` set, and from then
        on every lookup of the source reaches the target (:meth:`_find`).
        Both tickets' change records note the merge. Refused (409) into
        itself (``merge_into_itself``), for tickets of different users
        (``different_owners``), when either ticket was merged already
        (``already_merged``) and into a closed ticket (``ticket_closed``).
        """
        pair = self._merge_pair(actor, ref, into)

        def write(tickets: tuple[Ticket, Ticket]) -> Ticket:
            source, target = tickets
            self._check_mergeable(source, target)
            now = self._now()
            source_changes, source_history = self._status_change(actor, source, TicketStatus.CLOSED, now)
            source_changes["updated_at"] = now
            source_history.append(self._record(actor, "merged_into", None, target.id, now))
            merged = self.store.merge_tickets(
                TicketMerge(
                    source.id,
                    target.id,
                    source_version=source.version,
                    target_version=target.version,
                    source_changes=source_changes,
                    target_changes={"updated_at": now},
                    source_history=tuple(source_history),
                    target_history=(self._record(actor, "merged_from", None, source.id, now),),
                )
            )
            closed = self.store.get_ticket(source.id) or source
            changed = (*(k for k in source_changes if k != "updated_at"), "merged_into")
            self._bus.publish(Event(EventType.TICKET_UPDATED, closed, actor, now, changed=changed))
            self._bus.publish(Event(EventType.TICKET_UPDATED, merged, actor, now, changed=("merged_from",)))
            return merged.seen_by(actor)

        return retry_at_fresh_version(
            write,
            lambda: self._merge_pair(actor, pair[0].id, pair[1].id),
            first=pair,
            attempts=self._update_attempts,
        )

    def _merge_pair(self, actor: Actor, ref: object, into: object) -> tuple[Ticket, Ticket]:
        """The two tickets of a merge as they are, each named exactly (a merged one is not followed)."""
        if into is None or into == "":
            raise ValidationError("into", "must name the ticket to merge into (its id or number)")
        source = self._find(ref, follow_merges=False)
        target = self._find(into, follow_merges=False)
        authorize(actor, Action.MANAGE, ticket=source)
        authorize(actor, Action.MANAGE, ticket=target)
        return source, target

    @staticmethod
    def _check_mergeable(source: Ticket, target: Ticket) -> None:
        if source.id == target.id:
            raise MergeIntoItself("a ticket cannot be merged into itself", details={"ticket_id": source.id})
        for ticket in (source, target):
            if ticket.merged_into is not None:
                raise AlreadyMerged(
                    f"ticket {ticket.ticket_number} was merged into another already",
                    details={"ticket_id": ticket.id, "merged_into": ticket.merged_into},
                )
        if source.user_id != target.user_id:
            raise DifferentOwners(
                "only tickets of the same user can be merged",
                details={"ticket_id": source.id, "into": target.id},
            )
        if target.status is TicketStatus.CLOSED:
            raise TicketClosed(
                "a closed ticket accepts no messages, so nothing can be merged into it", details={"status": "closed"}
            )

    # -- statistics ------------------------------------------------------

    def statistics(self, actor: Actor) -> Statistics:
        """Counts over every ticket (spec §6), computed by the store."""
        authorize(actor, Action.OVERSEE)
        return self.store.statistics()

    # -- internals -------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the desk's clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _find(self, ref: object, *, follow_merges: bool = True) -> Ticket:
        """The ticket an id or a ticket number refers to.

        A ticket merged into another is followed to the ticket it was merged
        into (spec §12): this is the one place every lookup passes, so the
        source's id and number reach the target on every route, for admins
        and owners alike. Only a merge itself asks for the ticket as named.
        """
        ticket: Ticket | None = None
        text = ref.strip() if isinstance(ref, str) else None
        if (text is not None and text.isdecimal() and text.isascii()) or isinstance(ref, int | float):
            # A number beyond every id names nothing; asking the store would overflow its integer.
            number = as_id(ref if text is None else text)
            ticket = None if number is None else self.store.get_ticket(number)
        elif isinstance(ref, str) and 0 < len(ref) <= 64:
            for candidate in lookup_candidates(ref):
                if (ticket := self.store.get_ticket_by_number(candidate)) is not None:
                    break
        if ticket is None:
            raise TicketNotFound("no such ticket", details={"ticket_id": str(ref)[:64]})
        return self._surviving(ticket) if follow_merges else ticket

    def _surviving(self, ticket: Ticket) -> Ticket:
        """``ticket``, or the ticket it was merged into (through every later merge)."""
        for _ in range(_MERGE_CHAIN_MAX):
            if ticket.merged_into is None:
                return ticket
            following = self.store.get_ticket(ticket.merged_into)
            if following is None:
                raise TicketNotFound("no such ticket", details={"ticket_id": str(ticket.merged_into)})
            ticket = following
        raise StorageError(f"ticket {ticket.id} is merged more than {_MERGE_CHAIN_MAX} times over")

    def _visible(self, actor: Actor, ref: object, action: Action) -> Ticket:
        ticket = self._find(ref)
        authorize(actor, action, ticket=ticket)
        return ticket

    def _reload(self, actor: Actor, ticket_id: int, action: Action) -> Ticket:
        ticket = self.store.get_ticket(ticket_id)
        if ticket is None:
            raise TicketNotFound("no such ticket")
        # A ticket merged away meanwhile: the write goes to the ticket it was merged into.
        ticket = self._surviving(ticket)
        authorize(actor, action, ticket=ticket)
        return ticket

    def _update(self, actor: Actor, ref: object, decide: Decide) -> tuple[Ticket, bool]:
        """Read, decide, write with an optimistic check; re-decide if someone else wrote first.

        Returns the ticket as it now is and whether this call wrote anything.
        """
        first = self._visible(actor, ref, Action.MANAGE)

        def write(ticket: Ticket) -> tuple[Ticket, bool]:
            now = self._now()
            changes, history = decide(ticket, now)
            if not changes:
                return self._with_tags(actor, [ticket.seen_by(actor)])[0], False
            changes["updated_at"] = now
            updated = self.store.update_ticket(
                ticket.id, expected_version=ticket.version, changes=changes, history=history
            )
            changed = tuple(k for k in changes if k != "updated_at")
            self._bus.publish(Event(EventType.TICKET_UPDATED, updated, actor, now, changed=changed))
            return self._with_tags(actor, [updated.seen_by(actor)])[0], True

        return retry_at_fresh_version(
            write, lambda: self._reload(actor, first.id, Action.MANAGE), first=first, attempts=self._update_attempts
        )

    def _status_change(self, actor: Actor, ticket: Ticket, target: TicketStatus, now: datetime) -> Decision:
        if target is ticket.status:
            return {}, []
        changes: TicketChanges = {"status": target}
        if target is TicketStatus.RESOLVED:
            changes["resolved_at"] = now
        elif ticket.status is TicketStatus.RESOLVED:
            changes["resolved_at"] = None
        return changes, [self._record(actor, "status", ticket.status, target, now)]

    @staticmethod
    def _record(actor: Actor, field: str, old: object, new: object, now: datetime) -> NewTicketChange:
        return NewTicketChange(
            field=field,
            old_value=None if old is None else str(old),
            new_value=None if new is None else str(new),
            changed_by_kind=actor.kind,
            changed_by=actor.id,
            changed_at=now,
        )

    def _assignee(self, value: object) -> int | _Unset | None:
        if value is UNSET or value is None:
            return value
        return parse_positive_int("assigned_to", value)

    def _query(
        self,
        *,
        status: object = None,
        priority: object = None,
        category: object = None,
        q: object = None,
        page: object = 1,
        per_page: object = 20,
        **exact: object,
    ) -> TicketQuery:
        search = clean_search(q, self.limits)
        size = parse_positive_int("per_page", per_page, maximum=self.limits.per_page_max)
        return TicketQuery(
            status=None if status in (None, "") else parse_choice("status", status, TicketStatus),
            priority=None if priority in (None, "") else parse_choice("priority", priority, Priority),
            category=None if category in (None, "") else parse_choice("category", category, Category),
            q=search,
            page=parse_page(page, self.limits),
            per_page=size,
            **exact,
        )

    def _page(self, actor: Actor, query: TicketQuery) -> Page[Ticket]:
        items, total = self.store.list_tickets(query)
        return Page[Ticket](
            items=self._with_tags(actor, [t.seen_by(actor) for t in items]),
            page=query.page,
            per_page=query.per_page,
            total=total,
        )

    @staticmethod
    def _message_uid(sender: SenderType, sender_id: int, client_message_id: object) -> str:
        if client_message_id is None:
            return uuid.uuid4().hex
        if not isinstance(client_message_id, str) or not _CLIENT_ID.fullmatch(client_message_id):
            raise ValidationError("client_message_id", "must be 1-64 characters of letters, digits and . _ : -")
        # Scoped by sender so one user cannot fetch another's message by guessing its id.
        return f"{sender.value[0]}{sender_id}:{client_message_id}"

    @staticmethod
    def _replayed(existing: Message, ticket: Ticket) -> Message:
        if existing.ticket_id != ticket.id:
            # A well-formed key that clashes with what is stored: a conflict, not a malformed field.
            raise Conflict(
                "client_message_id was already used for a message in another ticket",
                details={"field": "client_message_id"},
            )
        return existing
