"""The webhook bot against a real bot service of the test's own on 127.0.0.1 (an HTTP server in a thread).

The service checks each request's signature with the desk's own
``verify_signature`` (refusing with 401 otherwise) and answers by what the
user wrote: an answer, a hand-over, a 500, or nothing for longer than the
bot's timeout. The bot runs as the job kind on a SQLite desk, through the job
runner (its retries with backoff), as in production.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.automation import AutomationStore, BotStatus
from supportchat.automation.bot import Bot
from supportchat.automation.webhook_bot import WebhookResponder
from supportchat.cli.features import (
    BOT_WEBHOOK_SECRET_VARIABLE,
    BOT_WEBHOOK_URL_VARIABLE,
    configured_bot_service,
)
from supportchat.cli.output import UserError
from supportchat.extensions import extension
from supportchat.jobs import JobRunner, JobStatus
from supportchat.notify import verify_signature
from supportchat.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from supportchat.projection import CustomerTicket
from supportchat.stores import open_store

BOT_ID = 900
USER = Actor.user(21)
SECRET = "bot-service-secret-0123456789"
TIMEOUT = 0.5


@dataclass
class BotService:
    """The host's bot service: what it was asked, and how it answers."""

    secret: str
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    def answer(self, document: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        text = document["message"].lower()
        if "horario" in text or "hours" in text:
            return 200, {"answer": "Abrimos de 9 a 18 h, de lunes a viernes.", "handoff": False, "confidence": 0.93}
        if "dudoso" in text:
            return 200, {"answer": "Quizá sea esto.", "handoff": False, "confidence": 0.2}
        if "reembolso" in text:
            return 200, {"handoff": True, "confidence": 0.9}
        if "roto" in text:
            return 500, None
        if "lento" in text:
            time.sleep(TIMEOUT * 3)
            return 200, {"answer": "Demasiado tarde.", "handoff": False, "confidence": 0.99}
        return 200, {"answer": "No lo sé.", "handoff": False, "confidence": 0.1}


@pytest.fixture
def service() -> Iterator[BotService]:
    state = BotService(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not verify_signature(
                state.secret, body, self.headers.get(TIMESTAMP_HEADER), self.headers.get(SIGNATURE_HEADER)
            ):
                state.refused += 1
                self._send(401, {"error": "bad signature"})
                return
            document = json.loads(body)
            state.requests.append(document)
            status, answer = state.answer(document)
            self._send(status, answer)

        def _send(self, status: int, document: dict[str, Any] | None) -> None:
            payload = json.dumps(document or {"error": "broken"}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the bot gave up waiting (the slow case)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/bot"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[SupportDesk]:
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    yield SupportDesk(store)
    store.close()


def _bot(desk: SupportDesk, url: str, secret: str = SECRET) -> tuple[Bot, JobRunner]:
    bot = Bot(desk, agent_id=BOT_ID, responder=WebhookResponder(url, secret, timeout=TIMEOUT, max_attempts=3))
    runner = JobRunner(desk.store, [bot.kind()], first_retry=0.1, max_retry=0.4)
    runner.start_cursors()
    return bot, runner


def _run_until_settled(desk: SupportDesk, runner: JobRunner, timeout: float = 20.0) -> float:
    """Run the bot's jobs until none is left to run (retries included); the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        runner.run_once()
        if not [j for j in runner.jobs.list_jobs() if j.status in (JobStatus.PENDING, JobStatus.RUNNING)]:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("the bot's jobs did not settle")


def _session(desk: SupportDesk, ticket_id: int) -> Any:
    return extension(desk.store, AutomationStore).bot_session(ticket_id)  # type: ignore[type-abstract]


def _bot_messages(desk: SupportDesk, ticket_id: int) -> list[str]:
    return [m.message for m in desk.store.list_messages(ticket_id) if m.automated and m.sender_id == BOT_ID]


def test_the_service_answers_through_the_bot_from_the_customer_projection_only(
    desk: SupportDesk, service: BotService
) -> None:
    _, runner = _bot(desk, service.url)
    ticket = desk.create_ticket(USER, subject="Horario", description="¿Cuál es vuestro horario de atención?")
    desk.add_note(Actor.admin(5), ticket.id, "cliente VIP, no mencionar el descuento")
    desk.add_tags(Actor.admin(5), ticket.id, ["vip"])
    _run_until_settled(desk, runner)
    (request,) = service.requests
    assert set(request) == {"version", "ticket", "message", "language", "turn"}
    assert set(request["ticket"]) <= set(CustomerTicket.model_fields), "only what the ticket's owner may see"
    assert request["ticket"]["ticket_number"] == ticket.ticket_number
    assert "descuento" not in json.dumps(request) and "vip" not in json.dumps(request), "no note, no tag"
    assert request["message"] == "Horario\n¿Cuál es vuestro horario de atención?"
    assert (request["language"], request["turn"]) == ("es", 0)
    (said,) = _bot_messages(desk, ticket.id)
    assert said.startswith("🤖 Respuesta automática") and "Abrimos de 9 a 18 h" in said
    session = _session(desk, ticket.id)
    assert (session.status, session.turns) == (BotStatus.IN_CHARGE, 1)

    desk.post_message(USER, ticket.id, "¿Y el horario del sábado?")
    _run_until_settled(desk, runner)
    assert [r["turn"] for r in service.requests] == [0, 1]
    assert len(_bot_messages(desk, ticket.id)) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [("Quiero un reembolso de mi pedido", "service_handoff"), ("Algo dudoso me pasa", "not_confident")],
)
def test_a_handoff_or_an_unsure_answer_goes_to_a_person(
    desk: SupportDesk, service: BotService, text: str, reason: str
) -> None:
    _, runner = _bot(desk, service.url)
    ticket = desk.create_ticket(USER, subject="Pedido", description=text)
    _run_until_settled(desk, runner)
    assert len(service.requests) == 1
    session = _session(desk, ticket.id)
    assert (session.status, session.handoff_reason) == (BotStatus.HANDED_OFF, reason)
    assert not any("Quizá" in m for m in _bot_messages(desk, ticket.id)), "an unsure answer is not sent"


def test_asking_for_a_person_hands_over_without_calling_the_service(desk: SupportDesk, service: BotService) -> None:
    _, runner = _bot(desk, service.url)
    ticket = desk.create_ticket(USER, subject="Ayuda", description="Quiero hablar con una persona")
    _run_until_settled(desk, runner)
    assert service.requests == []
    assert _session(desk, ticket.id).handoff_reason == "asked_for_human"


@pytest.mark.parametrize("text", ["Todo va lento", "El enlace está roto"], ids=["timeout", "500"])
def test_a_slow_or_failing_service_is_tried_again_then_a_person_takes_over(
    desk: SupportDesk, service: BotService, text: str
) -> None:
    _, runner = _bot(desk, service.url)
    ticket = desk.create_ticket(USER, subject="Problema", description=text)
    took = _run_until_settled(desk, runner)
    assert len(service.requests) == 3, "three attempts through the job runner's retries"
    session = _session(desk, ticket.id)
    assert (session.status, session.handoff_reason) == (BotStatus.HANDED_OFF, "service_unavailable")
    (said,) = _bot_messages(desk, ticket.id)
    assert "continuará" in said, "the user is told a person takes over"
    (job,) = runner.jobs.list_jobs()
    assert (job.status, job.attempts) == (JobStatus.DONE, 3)
    # Three calls of at most the timeout each and two short backoffs: the user is not kept waiting.
    assert took < 3 * TIMEOUT + 3.0


def test_a_bad_signature_is_refused_and_the_ticket_handed_over_at_once(desk: SupportDesk, service: BotService) -> None:
    _, runner = _bot(desk, service.url, secret="not-the-service-secret")
    ticket = desk.create_ticket(USER, subject="Horario", description="¿Qué horario tenéis?")
    _run_until_settled(desk, runner)
    assert (service.refused, service.requests) == (1, []), "a 401 is not tried again"
    assert _session(desk, ticket.id).handoff_reason == "service_unavailable"


def test_the_bot_service_is_configured_from_the_environment() -> None:
    assert configured_bot_service({}) is None
    with pytest.raises(UserError, match=BOT_WEBHOOK_SECRET_VARIABLE):
        configured_bot_service({BOT_WEBHOOK_URL_VARIABLE: "http://127.0.0.1:9/bot"})
    with pytest.raises(UserError, match="http"):
        configured_bot_service({BOT_WEBHOOK_URL_VARIABLE: "ftp://bots", BOT_WEBHOOK_SECRET_VARIABLE: SECRET})
    responder = configured_bot_service(
        {BOT_WEBHOOK_URL_VARIABLE: "http://127.0.0.1:9/bot", BOT_WEBHOOK_SECRET_VARIABLE: SECRET}
    )
    assert isinstance(responder, WebhookResponder) and responder.timeout == 5.0
