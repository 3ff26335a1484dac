"""The knowledge-base bot at work (spec §18): a job kind of the job runner, reacting to desk events.

On ``ticket_created`` the bot reads the subject and description and, by
:func:`~.conversation.decide`, answers with an article, or hands the ticket
to the people. While it is in charge, each user message is the next step
(a follow-up question, "yes, solved", "no", "I want a person"). Its
messages are admin-side messages of its own agent id with
``automated: true``; a human agent's reply takes the ticket from it.

Everything it decides is kept in the ticket's :class:`~.records.BotSession`
(turns, the article it waits feedback on, why it handed over), so a worker
that dies mid-job and a job run twice do the same thing once: its messages
carry a ``client_message_id`` per ticket and turn, which the desk stores
once, and a step already recorded is not taken again.

The bot reads tickets and messages from the store, never through
``SupportDesk.get_ticket``: reading as an agent would mark the user's
messages read before a person has seen them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from ..desk import SupportDesk
from ..event_types import declare_event_type
from ..extensions import extension
from ..jobs import DEFAULT_MAX_ATTEMPTS, Job, JobKind, PermanentFailure, RetryLater
from ..models import Actor, EventRecord, EventType, SenderType, Ticket, TicketStatus
from .base import AutomationStore
from .conversation import (
    Answer,
    BotPolicy,
    BotState,
    Handoff,
    HandoffReason,
    Reply,
    Solved,
    Step,
    answer_text,
    decide,
    handoff_text,
    language_of,
    reply_text,
    solved_text,
)
from .matching import Article, Matcher
from .records import LANGUAGES, BotSession, BotStatus

__all__ = ["AGENT_REPLIED", "BOT_HANDOFF", "BOT_KIND", "Bot", "Responder", "ResponderUnavailable"]

#: The job kind the bot runs as.
BOT_KIND = "automation.bot"
#: Why the bot let go of a ticket a person answered.
AGENT_REPLIED = "agent_replied"
#: The event-log entry of the bot handing a ticket to the people (staff's: the admin stream, notifiers).
BOT_HANDOFF = declare_event_type(
    "bot_handoff",
    declared_by="automation",
    description="The bot handed a ticket to a person; data: reason, turns, language.",
)
#: Reasons after which the bot tells the user a person takes over.
_ANNOUNCED = {HandoffReason.USER_DECLINED, HandoffReason.ASKED_FOR_HUMAN, HandoffReason.TURN_LIMIT}

#: A ticket's language, when the host knows it (a contact's locale); ``None`` to read it from the text.
LanguageOf = Callable[[Ticket], str | None]


class ResponderUnavailable(Exception):
    """A responder could not answer now: ``retry`` if trying again may help (a timeout, a 5xx), else not (a 4xx)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class Responder(Protocol):
    """What answers for the bot: the next :class:`~.conversation.Step` on a user's text.

    The knowledge base (the :class:`Bot` itself) is one; the host's own bot
    service (:class:`~.webhook_bot.WebhookResponder`) another. A responder that
    cannot answer raises :class:`ResponderUnavailable`: the bot's job is tried
    again, up to ``max_attempts`` in all, and then the ticket goes to a person.
    """

    #: How many times the bot's job asks before handing the ticket over.
    max_attempts: int

    def next_step(self, ticket: Ticket, state: BotState, text: str, language: str) -> Step: ...


class Bot:
    """The knowledge-base bot of ``desk``, writing as agent ``agent_id``; ``responder`` answers instead of the base."""

    max_attempts = DEFAULT_MAX_ATTEMPTS

    def __init__(
        self,
        desk: SupportDesk,
        *,
        agent_id: int,
        policy: BotPolicy | None = None,
        language_of_ticket: LanguageOf | None = None,
        clock: Callable[[], datetime] | None = None,
        responder: Responder | None = None,
    ) -> None:
        self.desk = desk
        self.actor = Actor.admin(agent_id)
        self.policy = policy or BotPolicy()
        self.responder: Responder = responder or self
        self.automation: AutomationStore = extension(desk.store, AutomationStore)  # type: ignore[type-abstract]
        self._language_of_ticket = language_of_ticket
        self._clock = clock or (lambda: datetime.now(UTC))
        self._index_lock = threading.Lock()
        self._index: tuple[tuple[int, int], Matcher] | None = None

    # -- the job kind ---------------------------------------------------------

    def kind(self) -> JobKind:
        """The job kind to give a :class:`~supportchat.jobs.JobRunner` (``BOT_KIND``)."""
        return JobKind(BOT_KIND, self.handle, reaction=self.reaction, max_attempts=self.responder.max_attempts)

    @staticmethod
    def reaction(event: EventRecord) -> Mapping[str, Any] | None:
        if event.type is EventType.TICKET_CREATED:
            return {"ticket_id": event.ticket_id}
        if event.type is EventType.MESSAGE_CREATED and event.message_id is not None:
            return {"ticket_id": event.ticket_id, "message_id": event.message_id}
        return None

    def handle(self, job: Job) -> None:
        ticket = self.desk.store.get_ticket(int(job.payload["ticket_id"]))
        if ticket is None:
            raise PermanentFailure(f"ticket {job.payload['ticket_id']} is gone")
        message_id = job.payload.get("message_id")
        try:
            if message_id is None:
                self.on_new_ticket(ticket)
            else:
                self.on_message(ticket, int(message_id))
        except ResponderUnavailable as exc:
            if exc.retry and job.attempts < job.max_attempts:
                raise RetryLater(str(exc)) from exc
            # Out of attempts, or refused: a person answers rather than the user waiting on the bot.
            self._hand_over_unanswered(ticket)

    # -- what it does ---------------------------------------------------------

    def matcher(self) -> Matcher:
        """The index over the knowledge base, rebuilt when an article changed."""
        version = self.automation.knowledge_version()
        with self._index_lock:
            if self._index is None or self._index[0] != version:
                articles = [Article(a.id, a.title, a.body, a.language, a.tags) for a in self.automation.list_articles()]
                self._index = (version, Matcher(articles))
            return self._index[1]

    def language(self, ticket: Ticket) -> str:
        known = self._language_of_ticket(ticket) if self._language_of_ticket else None
        if known:
            short = known.split("-")[0].lower()
            if short in LANGUAGES:
                return short
        return language_of(f"{ticket.subject}\n{ticket.description}")

    def on_new_ticket(self, ticket: Ticket) -> None:
        if self.automation.bot_session(ticket.id) is not None:
            return  # already taken (a job run again)
        session = BotSession(
            ticket_id=ticket.id, status=BotStatus.IN_CHARGE, language=self.language(ticket), updated_at=self._clock()
        )
        self._step(ticket, session, f"{ticket.subject}\n{ticket.description}")

    def on_message(self, ticket: Ticket, message_id: int) -> None:
        session = self.automation.bot_session(ticket.id)
        if session is None or session.status is not BotStatus.IN_CHARGE:
            return
        message = next(iter(self.desk.store.list_messages(ticket.id, after_id=message_id - 1, limit=1)), None)
        if message is None or message.id != message_id:
            return
        if message.sender_type is SenderType.ADMIN:
            if message.automated or message.sender_id == self.actor.id:
                return  # its own words never make it act again
            self.automation.save_bot_session(
                session.touched(self._clock(), status=BotStatus.HANDED_OFF, handoff_reason=AGENT_REPLIED)
            )
            return
        self._step(ticket, session, message.message)

    def next_step(self, ticket: Ticket, state: BotState, text: str, language: str) -> Step:
        """The knowledge base's answer (the bot as its own :class:`Responder`)."""
        return decide(self.matcher(), self.policy, state, text, language)

    def _step(self, ticket: Ticket, session: BotSession, text: str) -> None:
        state = BotState(turns=session.turns, awaiting_feedback_on=session.awaiting_article_id)
        step = self.responder.next_step(ticket, state, text, session.language)
        now = self._clock()
        if isinstance(step, Reply):
            self._say(ticket, session, reply_text(step.text, session.language), f"answer-{step.state.turns}")
            self.automation.save_bot_session(session.touched(now, turns=step.state.turns, awaiting_article_id=None))
        elif isinstance(step, Answer):
            self._say(ticket, session, answer_text(step.match.article, session.language), f"answer-{step.state.turns}")
            self.automation.save_bot_session(
                session.touched(now, turns=step.state.turns, awaiting_article_id=step.match.article.id)
            )
        elif isinstance(step, Solved):
            self._say(ticket, session, solved_text(session.language), "solved")
            if ticket.status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
                self.desk.change_status(self.actor, ticket.id, TicketStatus.RESOLVED)
            self.automation.save_bot_session(session.touched(now, status=BotStatus.SOLVED, awaiting_article_id=None))
        else:
            assert isinstance(step, Handoff)
            if step.reason in _ANNOUNCED:
                self._say(ticket, session, handoff_text(session.language), "handoff")
            # Logged before the session is saved: a job that dies in between logs it again on its
            # retry rather than never (the session saved is what stops a second run).
            data = {"reason": step.reason.value, "turns": session.turns, "language": session.language}
            self.desk.record_event(self.actor, ticket.id, BOT_HANDOFF.name, data=data)
            self.automation.save_bot_session(
                session.touched(
                    now, status=BotStatus.HANDED_OFF, handoff_reason=step.reason.value, awaiting_article_id=None
                )
            )

    def _hand_over_unanswered(self, ticket: Ticket) -> None:
        session = self.automation.bot_session(ticket.id) or BotSession(
            ticket_id=ticket.id, status=BotStatus.IN_CHARGE, language=self.language(ticket), updated_at=self._clock()
        )
        if session.status is not BotStatus.IN_CHARGE:
            return
        self._say(ticket, session, handoff_text(session.language), "handoff")
        self.automation.save_bot_session(
            session.touched(
                self._clock(),
                status=BotStatus.HANDED_OFF,
                handoff_reason=HandoffReason.SERVICE_UNAVAILABLE.value,
                awaiting_article_id=None,
            )
        )

    def _say(self, ticket: Ticket, session: BotSession, text: str, what: str) -> None:
        # One client message id per ticket and step: a job run twice stores the message once.
        self.desk.post_message(self.actor, ticket.id, text, automated=True, client_message_id=f"bot-{ticket.id}-{what}")
