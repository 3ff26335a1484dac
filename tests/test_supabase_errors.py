"""SupabaseStore turns every failure of the wire, the gateway or PostgREST into the right supportchat error.

These run the real ``supabase`` client against canned answers and real
sockets, so no database is needed: what is tested is the translation, and
that the client's own retries are off.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from supportchat.errors import (
    ConcurrentUpdate,
    DuplicateMessage,
    Forbidden,
    StorageError,
    StorageUnavailable,
    SupportChatError,
    TicketClosed,
    TicketIdTaken,
    TicketNotFound,
    TicketNumberTaken,
)
from supportchat.models import Category, MessageType, NewMessage, NewTicket, Priority, SenderType, TicketQuery
from supportchat.stores.supabase import SupabaseStore

from .postgrest_emulator.faults import FaultyTransport
from .postgrest_emulator.server import SilentServer

URL = "http://supabase.emulator.test"
KEY = "service-role-key"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SRC_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}


class CannedTransport(httpx.BaseTransport):
    """Answers every request with the same response, and counts the requests."""

    def __init__(self, status: int, body: bytes | dict[str, object], content_type: str = "application/json") -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.body, dict):
            return httpx.Response(self.status, json=self.body, request=request)
        return httpx.Response(self.status, content=self.body, headers={"Content-Type": self.content_type})


def store_over(transport: httpx.BaseTransport, *, timeout: float = 2.0) -> SupabaseStore:
    return SupabaseStore.from_url(URL, KEY, http_client=httpx.Client(transport=transport, timeout=timeout))


def postgrest_error(
    code: str, message: str = "m", *, hint: str | None = None, details: str | None = None
) -> dict[str, object]:
    return {"code": code, "message": message, "details": details, "hint": hint}


def a_ticket() -> NewTicket:
    return NewTicket(
        ticket_number="TKT-ABCDEFGH",
        user_id=1,
        subject="s",
        description="d",
        priority=Priority.MEDIUM,
        category=Category.GENERAL,
        created_at=NOW,
        updated_at=NOW,
    )


def a_message() -> NewMessage:
    return NewMessage(
        ticket_id=1,
        sender_id=1,
        sender_type=SenderType.USER,
        message="hello",
        message_type=MessageType.TEXT,
        file_url=None,
        created_at=NOW,
        uid="u-1",
    )


UNAVAILABLE_ANSWERS = {
    "503 json from the gateway": (503, {"message": "name resolution failed"}),
    "502 html from a proxy": (502, b"<html><body>502 Bad Gateway</body></html>"),
    "504 empty": (504, b""),
    "500 text": (500, b"Internal Server Error"),
    "429 json without code": (429, {"message": "API rate limit exceeded"}),
    "429 text": (429, b"Too Many Requests"),
    "PGRST000 cannot connect to the database": (503, postgrest_error("PGRST000")),
    "PGRST001 internal connection error": (503, postgrest_error("PGRST001")),
    "PGRST002 schema cache not ready": (503, postgrest_error("PGRST002")),
    "PGRST003 pool timeout": (504, postgrest_error("PGRST003")),
    "08006 connection failure": (503, postgrest_error("08006")),
    "53300 too many connections": (503, postgrest_error("53300")),
    "57014 statement timeout": (500, postgrest_error("57014")),
    "40001 serialization failure": (500, postgrest_error("40001")),
    "57P01 admin shutdown": (503, postgrest_error("57P01")),
}


@pytest.mark.parametrize("answer", list(UNAVAILABLE_ANSWERS), ids=list(UNAVAILABLE_ANSWERS))
def test_transient_answers_mean_unavailable_and_are_not_retried_by_the_client(answer: str) -> None:
    status, body = UNAVAILABLE_ANSWERS[answer]
    transport = CannedTransport(status, body)
    store = store_over(transport)
    with pytest.raises(StorageUnavailable) as raised:
        store.get_ticket(1)
    assert raised.value.retryable
    # A GET answered 503 would be retried three times by postgrest-py's own policy.
    assert len(transport.requests) == 1
    with pytest.raises(StorageUnavailable):
        store.insert_ticket(a_ticket())


CALLERS_FAULT = {
    "401 bad JWT": (401, postgrest_error("PGRST301", "JWSError"), StorageError),
    "404 table missing (SQL not applied)": (404, postgrest_error("PGRST205"), StorageError),
    "404 function missing": (404, postgrest_error("PGRST202"), StorageError),
    "400 invalid input": (400, postgrest_error("22P02", "invalid input syntax for type bigint"), StorageError),
    "400 check violation": (400, postgrest_error("23514"), StorageError),
    "403 permission denied": (403, postgrest_error("42501", "permission denied for table support_tickets"), Forbidden),
    "409 version moved on": (409, postgrest_error("PT409", hint="concurrent_update"), ConcurrentUpdate),
    "409 closed ticket": (409, postgrest_error("PT409", hint="ticket_closed"), TicketClosed),
    "404 no such ticket": (404, postgrest_error("PT404", hint="ticket_not_found"), TicketNotFound),
}


@pytest.mark.parametrize("answer", list(CALLERS_FAULT), ids=list(CALLERS_FAULT))
def test_the_callers_fault_is_never_unavailable(answer: str) -> None:
    status, body, expected = CALLERS_FAULT[answer]
    store = store_over(CannedTransport(status, body))
    with pytest.raises(SupportChatError) as raised:
        store.update_ticket(1, expected_version=0, changes={"priority": Priority.HIGH})
    assert type(raised.value) is expected
    assert not raised.value.retryable
    assert not isinstance(raised.value, StorageUnavailable)


def test_a_taken_ticket_number_or_id_is_a_collision_of_its_own_kind() -> None:
    for constraint, error in (
        ("support_tickets_ticket_number_key", TicketNumberTaken),
        ("support_tickets_pkey", TicketIdTaken),
    ):
        body = postgrest_error("23505", f'duplicate key value violates unique constraint "{constraint}"')
        with pytest.raises(error) as raised:
            store_over(CannedTransport(409, body)).insert_ticket(a_ticket())
        assert type(raised.value) is error


def test_a_duplicate_message_uid_names_the_uid() -> None:
    body = postgrest_error(
        "23505",
        'duplicate key value violates unique constraint "support_messages_uid_key"',
        details="Key (uid)=(u-1) already exists.",
    )
    store = store_over(CannedTransport(409, body))
    with pytest.raises(DuplicateMessage) as raised:
        store.insert_message(a_message(), expected_version=0, changes={})
    assert raised.value.uid == "u-1"


def test_another_unique_violation_is_a_plain_storage_error() -> None:
    body = postgrest_error("23505", 'duplicate key value violates unique constraint "support_events_pkey"')
    with pytest.raises(StorageError) as raised:
        store_over(CannedTransport(409, body)).insert_message(a_message(), expected_version=0, changes={})
    assert type(raised.value) is StorageError


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_closed_port_is_unavailable_at_once() -> None:
    store = SupabaseStore.from_url(f"http://127.0.0.1:{unused_port()}", KEY, timeout=2.0)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as raised:
        store.statistics()
    assert time.monotonic() - started < 2.0
    assert "ConnectError" in raised.value.message
    store.close()


def test_a_hanging_server_is_unavailable_after_the_timeout() -> None:
    with SilentServer() as server:
        store = SupabaseStore.from_url(server.url, KEY, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as raised:
            store.get_ticket(1)
        elapsed = time.monotonic() - started
        store.close()
    assert 0.25 <= elapsed < 2.0
    assert "ReadTimeout" in raised.value.message


@pytest.mark.parametrize("mode", ["refuse", "hang", "503", "502", "429", "lose_response"])
def test_every_injected_fault_is_unavailable(mode: str) -> None:
    healthy = CannedTransport(200, b"[]")
    faulty = FaultyTransport(healthy)
    faulty.mode = mode  # type: ignore[assignment]
    store = store_over(faulty, timeout=0.2)
    with pytest.raises(StorageUnavailable):
        store.list_messages(1)
    assert faulty.failures == 1
    # Only a lost response reaches the server behind it.
    assert len(healthy.requests) == (1 if mode == "lose_response" else 0)


def test_a_given_http_client_stays_open_after_close() -> None:
    http = httpx.Client(transport=CannedTransport(200, b"[]"))
    store = SupabaseStore.from_url(URL, KEY, http_client=http)
    store.close()
    assert not http.is_closed
    assert http.get(f"{URL}/rest/v1/x").status_code == 200
    http.close()


def test_a_store_built_from_a_url_closes_its_own_http_client() -> None:
    store = SupabaseStore.from_url(URL, KEY)
    owned = store._owned_http
    assert owned is not None and not owned.is_closed
    store.close()
    assert owned.is_closed


def test_a_ready_client_with_retries_on_is_still_not_retried() -> None:
    from supabase import ClientOptions, create_client

    transport = CannedTransport(503, {"message": "upstream down"})
    options = ClientOptions(httpx_client=httpx.Client(transport=transport), postgrest_client_retry=True)
    store = SupabaseStore(create_client(URL, KEY, options=options))
    with pytest.raises(StorageUnavailable):
        store.list_tickets(TicketQuery())
    with pytest.raises(StorageUnavailable):
        store.get_message_by_uid("u")
    assert len(transport.requests) == 2


def test_an_answer_that_is_not_a_row_is_a_storage_error_not_a_leak() -> None:
    store = store_over(CannedTransport(200, b"<html>captive portal</html>", "text/html"))
    with pytest.raises(StorageError):
        store.get_ticket(1)
    with pytest.raises(StorageError):
        store.statistics()


def test_without_the_supabase_extra_the_error_names_the_install_command() -> None:
    code = (
        "import sys; sys.modules['supabase'] = None\n"
        "try:\n"
        "    import supportchat.stores.supabase\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=SRC_ENV)
    assert "pip install 'supportchat[supabase]'" in result.stdout, result.stdout + result.stderr
