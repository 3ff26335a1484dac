"""Both adapters answer the same requests with the same status and the same bytes."""

from __future__ import annotations

import itertools
from typing import Any

from supportchat import InMemoryStore, SupportDesk

from ..conftest import FakeClock
from .clients import ADAPTERS
from .conftest import make_api


def session(adapter: str) -> list[tuple[int, bytes]]:
    numbers = (f"TKT-{n:08d}" for n in itertools.count(1))
    store = InMemoryStore()
    desk = SupportDesk(store, clock=FakeClock(), number_generator=lambda: next(numbers))
    api = make_api(adapter, desk, store)
    steps: list[tuple[str, str, dict[str, str], Any]] = [
        ("POST", "/create-ticket", api.user(1), {"subject": "Pago", "description": "No puedo", "priority": "high"}),
        ("POST", "/create-ticket", api.user(2), {"subject": "<i>Vuelo</i>", "description": "5 > 3 & 2"}),
        ("POST", "/tickets/1/user-message", api.user(1), {"user_id": 1, "message": "hola", "client_message_id": "m1"}),
        ("GET", "/tickets?per_page=1&page=2", api.admin, None),
        ("GET", "/tickets/TKT-00000001", api.admin, None),
        (
            "POST",
            "/tickets/1/messages",
            api.admin,
            {"message": "¿qué pasa?", "message_type": "text", "client_message_id": "a1"},
        ),
        ("PUT", "/tickets/1/status", api.admin, {"status": "resolved", "assigned_to": 9}),
        ("GET", "/user/1/tickets/1", api.user(1), None),
        ("GET", "/user/1/tickets/1/messages?after_id=1", api.user(1), None),
        ("GET", "/statistics", api.admin, None),
        ("PUT", "/tickets/2/status", api.admin, {"status": "closed"}),
        ("POST", "/tickets/2/messages", api.admin, {"message": "tarde"}),
        ("POST", "/create-ticket", api.user(1), {"subject": "x", "priority": "now"}),
        ("GET", "/user/2/tickets", api.user(1), None),
        ("GET", "/tickets", api.user(1), None),
    ]
    # Message uids are random unless the client names its message, so every message here is named.
    replies = []
    for method, path, headers, body in steps:
        reply = api.call(method, path, headers=headers, json=body)
        replies.append((reply.status, reply.body))
    return replies


def test_flask_and_fastapi_answer_byte_for_byte_alike() -> None:
    answers = {adapter: session(adapter) for adapter in ADAPTERS}
    flask, fastapi = answers["flask"], answers["fastapi"]
    assert [status for status, _ in flask] == [200] * 10 + [200, 409, 422, 403, 403]
    for step, (a, b) in enumerate(zip(flask, fastapi, strict=True)):
        assert a == b, f"step {step}"
