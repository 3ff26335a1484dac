"""A store on Supabase, through the official ``supabase`` client (PostgREST).

Reads are plain table queries under row-level security; every write is one
call of a database function from ``supportchat/sql/supabase.sql`` (run that
SQL on the project first: ``supportchat supabase-sql``), so the version check,
the counters, the change records and the event log change in one transaction.

Retry policy lives in one place, the caller's (for instance
:class:`~supportchat.stores.FallbackStore`): the client's own retries are
turned off, and every failure leaves this module as a supportchat error,
decided by :func:`translate_error`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

try:
    import httpx
    from postgrest import SyncSelectRequestBuilder
    from postgrest.exceptions import APIError
    from postgrest.types import CountMethod
    from supabase import Client, ClientOptions, create_client
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "SupabaseStore needs the Supabase client; install it with: pip install 'supportchat[supabase]'"
    ) from missing

from .. import search as search_rules
from ..errors import (
    ConcurrentUpdate,
    DuplicateMessage,
    DuplicateRating,
    Forbidden,
    NoteIdTaken,
    StorageError,
    StorageUnavailable,
    SupportChatError,
    TicketClosed,
    TicketIdTaken,
    TicketNotFound,
    TicketNumberTaken,
)
from ..event_types import owner_event_types
from ..extensions import register_extension
from ..models import (
    EventRecord,
    Message,
    NewMessage,
    NewNote,
    NewTicket,
    NewTicketChange,
    Note,
    Rating,
    SenderType,
    Statistics,
    Ticket,
    TicketChange,
    TicketQuery,
    TicketStatus,
)
from ..rules import MAX_TAGS
from ..search import MARK_START, marked_number, parse_search, tsquery_any, tsquery_prefix
from ..store import EventLog, TicketChanges, TicketMerge

__all__ = ["DEFAULT_TIMEOUT", "SupabaseStore", "translate_error"]

#: Seconds to connect, read, write or wait for a pooled connection.
DEFAULT_TIMEOUT = 5.0

#: Supabase answers at most this many rows per request (its default ``max_rows``).
DEFAULT_PAGE_SIZE = 1000

# SQLSTATE classes and codes that mean "the database could not do it now";
# the transaction was rolled back, so retrying elsewhere is safe.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57P")
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})
_CONSTRAINT = re.compile(r'unique constraint "([^"]+)"')


class SupabaseStore:
    """Tickets and messages in a Supabase project, reached over HTTP.

    Give it a ready :class:`supabase.Client` (the caller keeps ownership and
    closes it), or build one with :meth:`from_url`, which owns what it creates.
    With the service-role key the store sees everything, as the desk needs;
    with a user's JWT the project's row-level security limits it to that
    user's own tickets.
    """

    def __init__(self, client: Client, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self._client = client
        #: Rows asked for per request; at most the project's ``max_rows``, or long reads come back short.
        self._page_size = page_size
        #: The HTTP client :meth:`from_url` created, closed by :meth:`close`.
        self._owned_http: httpx.Client | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        key: str,
        *,
        http_client: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        access_token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> SupabaseStore:
        """A store on the project at ``url`` with API ``key`` (normally the service-role key).

        ``http_client`` carries every request (inject one for its timeouts,
        proxies or, in tests, its transport); without it the store creates one
        with ``timeout`` and closes it in :meth:`close`. ``access_token`` sends
        a user's JWT instead of the key as the bearer token. ``page_size``
        must not exceed the project's API setting "Max rows" (1000 by default).
        """
        owns_http = http_client is None
        session = http_client if http_client is not None else httpx.Client(timeout=timeout)
        headers = dict(ClientOptions().headers)
        if access_token is not None:
            headers["Authorization"] = f"Bearer {access_token}"
        options = ClientOptions(
            headers=headers,
            httpx_client=session,
            postgrest_client_retry=False,
            auto_refresh_token=False,
            persist_session=False,
        )
        try:
            client = create_client(url, key, options=options)
        except Exception:
            if owns_http:
                session.close()
            raise
        store = cls(client, page_size=page_size)
        store._owned_http = session if owns_http else None
        return store

    # -- tickets ---------------------------------------------------------

    def insert_ticket(self, ticket: NewTicket) -> Ticket:
        with _translated():
            row = self._call("support_insert_ticket", p_ticket=ticket.model_dump(mode="json", exclude_none=True))
            return Ticket.model_validate(row)

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        with _translated():
            rows = self._send(self._table("support_tickets").eq("id", ticket_id))
            return Ticket.model_validate(rows[0]) if rows else None

    def get_ticket_by_number(self, ticket_number: str) -> Ticket | None:
        with _translated():
            rows = self._send(self._table("support_tickets").eq("ticket_number", ticket_number))
            return Ticket.model_validate(rows[0]) if rows else None

    def list_tickets(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        if query.q:
            return self._search(query)
        if query.tag is not None:
            return self._tagged(query)
        request = self._client.table("support_tickets").select("*", count=CountMethod.exact)
        if query.status is not None:
            request = request.eq("status", query.status.value)
        if query.priority is not None:
            request = request.eq("priority", query.priority.value)
        if query.category is not None:
            request = request.eq("category", query.category.value)
        if query.unassigned:
            request = request.is_("assigned_to", "null")
        elif query.assigned_to is not None:
            request = request.eq("assigned_to", query.assigned_to)
        if query.user_id is not None:
            request = request.eq("user_id", query.user_id)
        request = request.order("id", desc=True).range(query.offset, query.offset + query.per_page - 1)
        with _translated():
            response = request.retry(False).execute()
            tickets = [Ticket.model_validate(row) for row in response.data]
            return tickets, response.count if response.count is not None else len(tickets)

    def _tagged(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        """The tickets carrying a tag, one call of ``support_tagged_tickets`` (under row-level security)."""
        with _translated():
            found = self._call("support_tagged_tickets", p_query={**_filters(query), "tag": query.tag})
        return [Ticket.model_validate(row) for row in found["tickets"]], int(found["total"])

    def _search(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        """A full-text search, one call of ``support_search_tickets`` (under row-level security)."""
        search = parse_search(query.q or "")
        if search.empty:
            return [], 0
        with _translated():
            found = self._call(
                "support_search_tickets",
                p_search={
                    "any": tsquery_any(search),
                    "terms": [tsquery_prefix(term) for term in search.terms],
                    "numbers": list(search.numbers),
                    **_filters(query),
                    "tag": query.tag,
                    "staff": query.for_staff,
                    "search_limit": search_rules.SEARCH_LIMIT,
                },
            )
        tickets = []
        for row in found["tickets"]:
            snippet = row.pop("highlight", None)
            if snippet is None or MARK_START not in snippet:
                snippet = marked_number(row["ticket_number"]) if row.pop("exact", False) else None
            tickets.append(Ticket.model_validate({**row, "highlight": snippet}))
        return tickets, int(found["total"])

    def update_ticket(
        self,
        ticket_id: int,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Ticket:
        with _translated():
            row = self._call(
                "support_update_ticket",
                p_ticket_id=ticket_id,
                p_expected_version=expected_version,
                p_changes=_json_row(changes),
                p_history=[change.model_dump(mode="json") for change in history],
            )
            return Ticket.model_validate(row)

    # -- messages --------------------------------------------------------

    def insert_message(
        self,
        message: NewMessage,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Message:
        try:
            with _translated():
                row = self._call(
                    "support_insert_message",
                    p_message=message.model_dump(mode="json", exclude_none=True),
                    p_expected_version=expected_version,
                    p_changes=_json_row(changes),
                    p_history=[change.model_dump(mode="json") for change in history],
                )
                return Message.model_validate(row)
        except DuplicateMessage:
            raise DuplicateMessage(message.uid) from None

    def get_message_by_uid(self, uid: str) -> Message | None:
        with _translated():
            rows = self._send(self._table("support_messages").eq("uid", uid))
            return Message.model_validate(rows[0]) if rows else None

    def list_messages(
        self,
        ticket_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Message]:
        with _translated():
            rows = self._pages(
                "support_messages",
                {"ticket_id": ticket_id},
                after_id,
                limit,
                before_id=before_id,
                newest=newest and limit is not None,
            )
            return [Message.model_validate(row) for row in rows]

    # -- ratings and merges ----------------------------------------------

    def insert_rating(
        self,
        rating: Rating,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Rating:
        try:
            with _translated():
                row = self._call(
                    "support_rate_ticket",
                    p_rating=rating.model_dump(mode="json"),
                    p_expected_version=expected_version,
                    p_changes=_json_row(changes),
                    p_history=[change.model_dump(mode="json") for change in history],
                )
                return Rating.model_validate(row)
        except DuplicateRating:
            raise DuplicateRating(rating.ticket_id, rating.cycle) from None

    def list_ratings(self, ticket_id: int) -> list[Rating]:
        request = self._table("support_ratings").eq("ticket_id", ticket_id).order("cycle")
        with _translated():
            return [Rating.model_validate(row) for row in self._send(request)]

    def merge_tickets(self, merge: TicketMerge) -> Ticket:
        with _translated():
            row = self._call(
                "support_merge_tickets",
                p_source_id=merge.source_id,
                p_target_id=merge.target_id,
                p_source_version=merge.source_version,
                p_target_version=merge.target_version,
                p_source_changes=_json_row(merge.source_changes),
                p_target_changes=_json_row(merge.target_changes),
                p_source_history=[change.model_dump(mode="json") for change in merge.source_history],
                p_target_history=[change.model_dump(mode="json") for change in merge.target_history],
            )
            return Ticket.model_validate(row)

    def mark_read(self, ticket_id: int, sender_type: SenderType) -> int:
        with _translated():
            return int(self._call("support_mark_read", p_ticket_id=ticket_id, p_sender_type=sender_type.value))

    # -- notes and tags ----------------------------------------------------

    def insert_note(self, note: NewNote) -> Note:
        with _translated():
            row = self._call("support_insert_note", p_note=note.model_dump(mode="json", exclude_none=True))
            return Note.model_validate(row)

    def list_notes(self, ticket_id: int, *, after_id: int = 0, limit: int | None = None) -> list[Note]:
        with _translated():
            rows = self._pages("support_ticket_notes", {"ticket_id": ticket_id}, after_id, limit)
            return [Note.model_validate(row) for row in rows]

    def ticket_tags(self, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        found: dict[int, list[str]] = {}
        # A ticket has at most MAX_TAGS tags: chunks of tickets whose tags fit one capped answer.
        chunk = max(1, self._page_size // MAX_TAGS)
        ids = list(ticket_ids)
        with _translated():
            for start in range(0, len(ids), chunk):
                request = self._table("support_ticket_tags").in_("ticket_id", ids[start : start + chunk])
                for row in self._send(request.order("ticket_id").order("tag")):
                    found.setdefault(int(row["ticket_id"]), []).append(row["tag"])
        return {ticket_id: tuple(sorted(tags)) for ticket_id, tags in found.items()}

    def replace_tags(
        self,
        ticket_id: int,
        *,
        expected: tuple[str, ...],
        tags: tuple[str, ...],
        history: Sequence[NewTicketChange] = (),
    ) -> tuple[str, ...]:
        with _translated():
            stored = self._call(
                "support_replace_tags",
                p_ticket_id=ticket_id,
                p_expected=list(expected),
                p_tags=list(tags),
                p_history=[change.model_dump(mode="json") for change in history],
            )
        return tuple(sorted(stored))

    # -- history, statistics, events ---------------------------------------

    def list_changes(self, ticket_id: int) -> list[TicketChange]:
        with _translated():
            rows = self._pages("support_ticket_changes", {"ticket_id": ticket_id}, 0, None)
            return [TicketChange.model_validate(row) for row in rows]

    def statistics(self) -> Statistics:
        with _translated():
            counts = self._call("support_statistics")
            return Statistics.from_counts(
                by_status=counts["by_status"],
                by_priority=counts["by_priority"],
                by_category=counts["by_category"],
                unread_messages=counts["unread_messages"],
                by_tag=counts.get("by_tag"),
            )

    def resolved_before(self, cutoff: datetime, *, limit: int) -> list[Ticket]:
        request = self._table("support_tickets").eq("status", TicketStatus.RESOLVED.value)
        request = request.lt("resolved_at", cutoff.isoformat()).order("resolved_at").order("id")
        with _translated():
            rows = self._send(request.limit(min(limit, self._page_size)))
            return [Ticket.model_validate(row) for row in rows]

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        owner = {} if user_id is None else {"user_id": user_id}
        # A user's stream loads only the types its owner may see (a whitelist); the shipped SQL's
        # row-level security says the same.
        shown = None if user_id is None else ("type", tuple(sorted(owner_event_types())))
        with _translated():
            rows = self._pages("support_events", owner, after_id, limit, one_of=shown)
            return [EventRecord.model_validate(_event_row(row)) for row in rows]

    def append_event(self, ticket_id: int, type: str, *, at: datetime, data: Mapping[str, Any] | None = None) -> None:
        """A feature's entry (the :class:`~supportchat.store.EventLog` extension), by ``support_append_event``."""
        text = None if data is None else json.dumps(dict(data), separators=(",", ":"), sort_keys=True)
        with _translated():
            self._call(
                "support_append_event",
                p_ticket_id=ticket_id,
                p_type=str(type),
                p_created_at=at.isoformat(),
                p_data=text,
            )

    def last_event_id(self) -> int:
        request = self._client.table("support_events").select("id").order("id", desc=True).limit(1)
        with _translated():
            rows = self._send(request)
        return int(rows[0]["id"]) if rows else 0

    @property
    def client(self) -> Client:
        """The Supabase client the store talks through (store extensions use it for their tables)."""
        return self._client

    def close(self) -> None:
        """Close the HTTP client if :meth:`from_url` created it; a given client stays the caller's."""
        if self._owned_http is not None:
            self._owned_http.close()
            self._owned_http = None

    # -- internals -------------------------------------------------------

    def _table(self, name: str) -> SyncSelectRequestBuilder:
        """``select * from name``, to be filtered and sent."""
        return self._client.table(name).select("*")

    @staticmethod
    def _send(request: SyncSelectRequestBuilder) -> list[Any]:
        """Send one request with the client's own retries off (whatever the client was built with)."""
        return request.retry(False).execute().data

    def _call(self, function: str, **params: Any) -> Any:
        """Call a database function of the shipped SQL; its result."""
        return self._client.rpc(function, params).retry(False).execute().data

    def _pages(
        self,
        table: str,
        equal: Mapping[str, object],
        after_id: int,
        limit: int | None,
        *,
        before_id: int | None = None,
        newest: bool = False,
        one_of: tuple[str, tuple[str, ...]] | None = None,
    ) -> list[Any]:
        """Rows of ``table`` matching ``equal`` with ``after_id < id < before_id``, in id order, at most ``limit``.

        Fetched a page at a time: Supabase caps every answer at ``max_rows``,
        and keyset paging stays complete and consistent while rows are added.
        With ``newest`` the pages are read from the top of the range down, so
        the ``limit`` rows kept are the newest.
        """
        rows: list[Any] = []
        low, high = after_id, before_id
        while limit is None or len(rows) < limit:
            size = self._page_size if limit is None else min(self._page_size, limit - len(rows))
            request = self._table(table)
            for column, value in equal.items():
                request = request.eq(column, value)
            if one_of is not None:
                request = request.in_(one_of[0], list(one_of[1]))
            request = request.gt("id", low)
            if high is not None:
                request = request.lt("id", high)
            batch = self._send(request.order("id", desc=newest).limit(size))
            rows.extend(batch)
            if len(batch) < size:
                break
            if newest:
                high = int(batch[-1]["id"])
            else:
                low = int(batch[-1]["id"])
        if newest:
            rows.reverse()
        return rows


@contextmanager
def _translated() -> Iterator[None]:
    """Let supportchat errors through and turn every other failure into one (see :func:`translate_error`)."""
    try:
        yield
    except SupportChatError:
        raise
    except Exception as error:
        raise translate_error(error) from error


def translate_error(error: Exception) -> SupportChatError:
    """The supportchat error that a failure of a Supabase request means.

    * the network failed, timed out or answered 5xx/429, PostgREST could not
      reach its database (``PGRST00x``), or the database was overloaded or
      shutting down: :class:`StorageUnavailable`, retryable, nothing written;
    * a unique violation (``23505``): :class:`TicketIdTaken`,
      :class:`TicketNumberTaken` or :class:`DuplicateMessage`, by constraint;
    * the functions' own answers: :class:`ConcurrentUpdate`,
      :class:`TicketClosed`, :class:`DuplicateRating` (its ticket and cycle
      filled in by the caller), :class:`TicketNotFound`, and :class:`Forbidden`
      when grants or row-level security refuse the caller (``42501``);
    * anything else is the caller's fault (a 4xx): :class:`StorageError`.
    """
    if isinstance(error, httpx.TransportError):
        return StorageUnavailable(f"Supabase is unreachable: {type(error).__name__}: {error}")
    if not isinstance(error, APIError):
        return StorageError(f"unexpected failure talking to Supabase: {type(error).__name__}: {error}")
    code = error.code or ""
    message = error.message or ""
    details = {"code": error.code, "message": error.message, "details": error.details, "hint": error.hint}
    if code == "23505":
        constraint = _CONSTRAINT.search(message)
        name = constraint.group(1) if constraint else ""
        if name.startswith("support_messages_uid"):
            return DuplicateMessage(_uid_from_details(error.details))
        if name == "support_tickets_pkey":
            return TicketIdTaken(message, details=details)
        if name.startswith("support_ticket_notes"):
            return NoteIdTaken(message, details=details)
        if name.startswith("support_tickets"):
            return TicketNumberTaken(message, details=details)
        return StorageError(message, details=details)
    if code == "PT409":
        if error.hint == "ticket_closed":
            return TicketClosed(message, details={"status": "closed"})
        if error.hint == "duplicate_rating":
            return DuplicateRating(0, 0)
        return ConcurrentUpdate(message)
    if code == "PT404":
        return TicketNotFound(message)
    if code == "42501":
        return Forbidden(f"Supabase refused it under row-level security: {message}", details=details)
    if _is_transient(code):
        return StorageUnavailable(f"Supabase is unavailable ({code}): {message}", details=details)
    return StorageError(f"Supabase refused the request ({code or 'no code'}): {message}", details=details)


def _is_transient(code: str) -> bool:
    if code.startswith("PGRST00"):
        return True
    if code.isdigit() and len(code) == 3:
        # postgrest-py's code for an answer that was not PostgREST JSON: the HTTP status.
        status = int(code)
        return status >= 500 or status in (408, 429)
    if not code:
        # Every PostgREST error has a code; one without came from a gateway in front of it.
        return True
    return code in _TRANSIENT_SQLSTATES or code.startswith(_TRANSIENT_SQLSTATE_CLASSES)


def _uid_from_details(details: Any) -> str:
    found = re.search(r"\(uid\)=\((.*)\)", str(details or ""))
    return found.group(1) if found else ""


def _filters(query: TicketQuery) -> dict[str, Any]:
    """A listing's filters and window as the shipped SQL's listing functions read them."""
    return {
        "status": query.status and query.status.value,
        "priority": query.priority and query.priority.value,
        "category": query.category and query.category.value,
        "unassigned": query.unassigned,
        "assigned_to": None if query.unassigned else query.assigned_to,
        "user_id": query.user_id,
        "limit": query.per_page,
        "offset": query.offset,
    }


def _event_row(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """An event-log row as PostgREST answers it, with a feature entry's ``data`` (JSON text) parsed."""
    data = row.get("data")
    return {**row, "data": json.loads(data)} if isinstance(data, str) else row


def _json_row(values: Mapping[str, Any]) -> dict[str, Any]:
    """A model's fields as JSON values (datetimes as ISO 8601 with their offset)."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in values.items()}


register_extension(EventLog, SupabaseStore, lambda store: store)  # type: ignore[type-abstract]
