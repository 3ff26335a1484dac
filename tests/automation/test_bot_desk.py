"""The bot on a real desk (a SQLite file) through the job runner: answer, feedback, hand-over, idempotence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.automation import AutomationStore, BotStatus, KnowledgeArticleInput
from supportchat.automation.bot import AGENT_REPLIED, Bot
from supportchat.extensions import extension
from supportchat.jobs import JobRunner, JobStatus
from supportchat.models import SenderType, TicketStatus
from supportchat.projection import customer_thread
from supportchat.stores import open_store

BOT_ID = 900
USER = Actor.user(21)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[SupportDesk]:
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    automation = extension(store, AutomationStore)  # type: ignore[type-abstract]
    automation.add_article(
        KnowledgeArticleInput(
            title="Cómo restablecer tu contraseña",
            body="Pulsa «¿Olvidaste tu contraseña?» en la pantalla de inicio y te enviaremos un enlace.",
            language="es",
            tags=["cuenta"],
        )
    )
    automation.add_article(
        KnowledgeArticleInput(title="Cancelar una reserva", body="Ve a Mis reservas y pulsa Cancelar.", language="es")
    )
    yield SupportDesk(store)
    store.close()


def _runner(desk: SupportDesk, bot: Bot) -> JobRunner:
    runner = JobRunner(desk.store, [bot.kind()])
    runner.start_cursors()
    return runner


def _drain(runner: JobRunner) -> None:
    for _ in range(10):
        if runner.run_once() == 0:
            return


def test_the_bot_answers_says_it_is_automatic_and_a_yes_resolves_the_ticket(desk: SupportDesk) -> None:
    bot = Bot(desk, agent_id=BOT_ID)
    runner = _runner(desk, bot)
    ticket = desk.create_ticket(USER, subject="Olvidé mi contraseña", description="No puedo entrar en la app")
    _drain(runner)
    thread = desk.get_ticket(USER, ticket.id)
    (answer,) = thread.messages
    assert answer.sender_type is SenderType.ADMIN and answer.sender_id == BOT_ID and answer.automated
    assert answer.message.startswith("🤖 Respuesta automática: Cómo restablecer tu contraseña")
    # The owner's view (the seed's app) shows it as an admin message, marked automated.
    (seen,) = customer_thread(thread, USER).messages
    assert seen.sender_type is SenderType.ADMIN and seen.automated
    desk.post_message(USER, ticket.id, "Sí, gracias, ya funciona")
    _drain(runner)
    assert desk.store.get_ticket(ticket.id).status is TicketStatus.RESOLVED  # type: ignore[union-attr]
    session = bot.automation.bot_session(ticket.id)
    assert session is not None and session.status is BotStatus.SOLVED and session.turns == 1
    assert runner.jobs.counts("automation.bot")["failed"] == 0


def test_a_no_or_a_request_for_a_person_hands_over_with_a_message(desk: SupportDesk) -> None:
    bot = Bot(desk, agent_id=BOT_ID)
    runner = _runner(desk, bot)
    ticket = desk.create_ticket(USER, subject="Olvidé mi contraseña", description="No recuerdo la contraseña")
    _drain(runner)
    desk.post_message(USER, ticket.id, "No me sirve, sigue sin funcionar")
    _drain(runner)
    session = bot.automation.bot_session(ticket.id)
    assert session is not None and (session.status, session.handoff_reason) == (BotStatus.HANDED_OFF, "user_declined")
    texts = [m.message for m in desk.store.list_messages(ticket.id)]
    assert texts[-1].startswith("Un miembro del equipo de soporte")
    # Handed over, the bot stays quiet whatever the user writes next.
    desk.post_message(USER, ticket.id, "Olvidé mi contraseña otra vez")
    _drain(runner)
    assert len(desk.store.list_messages(ticket.id)) == len(texts) + 1


def test_an_unclear_ticket_is_left_to_people_without_a_word(desk: SupportDesk) -> None:
    bot = Bot(desk, agent_id=BOT_ID)
    runner = _runner(desk, bot)
    ticket = desk.create_ticket(USER, subject="Mi perro", description="¿Puede viajar mi perro en cabina?")
    _drain(runner)
    assert desk.store.list_messages(ticket.id) == []
    session = bot.automation.bot_session(ticket.id)
    assert session is not None and session.handoff_reason == "not_confident"


def test_a_human_reply_takes_the_ticket_from_the_bot(desk: SupportDesk) -> None:
    bot = Bot(desk, agent_id=BOT_ID)
    runner = _runner(desk, bot)
    ticket = desk.create_ticket(USER, subject="Cancelar reserva", description="Quiero cancelar mi reserva")
    _drain(runner)
    desk.post_message(Actor.admin(5), ticket.id, "Hola, soy Ana; ya lo miro yo")
    desk.post_message(USER, ticket.id, "Quiero cancelar mi reserva")
    _drain(runner)
    session = bot.automation.bot_session(ticket.id)
    assert session is not None and session.handoff_reason == AGENT_REPLIED
    assert [m.automated for m in desk.store.list_messages(ticket.id)] == [True, False, False]


def test_a_job_run_twice_answers_once(desk: SupportDesk) -> None:
    bot = Bot(desk, agent_id=BOT_ID)
    runner = _runner(desk, bot)
    ticket = desk.create_ticket(USER, subject="Olvidé mi contraseña", description="No puedo entrar")
    _drain(runner)
    done = runner.jobs.list_jobs(kind="automation.bot", status=JobStatus.DONE)
    (job,) = [j for j in done if "message_id" not in j.payload]  # the new ticket's (the other: the bot's message)
    # The worker died after the answer and before recording the session: the step is taken again.
    session = bot.automation.bot_session(ticket.id)
    assert session is not None
    bot.automation.save_bot_session(session.touched(session.updated_at, turns=0, awaiting_article_id=None))
    bot.handle(job)
    assert len(desk.store.list_messages(ticket.id)) == 1


def test_only_an_admin_actor_writes_an_automated_message(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(USER, subject="Hola", description="Prueba")
    with pytest.raises(Exception, match="automated"):
        desk.post_message(USER, ticket.id, "soy un bot", automated=True)
