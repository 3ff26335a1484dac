"""The webhook bot: the host's own bot service answers for the bot (spec §18), over a signed HTTP call.

:class:`WebhookResponder` is a :class:`~.bot.Responder`: give it to
:class:`~.bot.Bot` and the bot's job, instead of searching the knowledge
base, POSTs each user text to the host's service and says what it answers.
Everything else is the bot's: its messages (``automated``, labelled as an
automatic answer), its sessions, the hand-over to people, the turn limit, and
a request for a person ("agente", "human") handed over without a call.

The request (``POST``, JSON, UTF-8)::

    {"version": 1,
     "ticket": {...},          # the ticket as its owner sees it (the customer projection): no notes, no tags
     "message": "¿A qué hora abrís?",
     "language": "es",         # "es" or "en": the language to answer in
     "turn": 0}                # how many answers the bot has given on this ticket

signed like the desk's webhooks (``X-Supportchat-Timestamp`` and
``X-Supportchat-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``,
checked with :func:`supportchat.notify.verify_signature`). The answer, 200 with JSON::

    {"answer": "Abrimos de 9 a 18 h.", "handoff": false, "confidence": 0.92}

``handoff: true`` hands the ticket to a person (``answer`` may be left out);
an answer with a ``confidence`` under :attr:`WebhookResponder.min_confidence`
is not sent, the ticket is handed over (``not_confident``). A timeout, a
refused connection, a 429 or a 5xx is tried again by the job runner (its
backoff, :attr:`~WebhookResponder.max_attempts` calls in all), then the ticket
goes to a person (``service_unavailable``); any other status (a 401 for a bad
signature) or a malformed answer hands it over at once. The user is never
left waiting on a service that does not answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..models import Actor, Ticket
from ..notify.webhook import signed_post
from ..projection import customer_ticket
from .bot import ResponderUnavailable
from .conversation import BotPolicy, BotState, Handoff, HandoffReason, Reply, Step, asks_for_human, at_turn_limit

__all__ = ["BotServiceAnswer", "WebhookResponder"]

#: Statuses worth asking again: the service is busy or broken for now.
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class BotServiceAnswer(BaseModel):
    """What the host's bot service answers."""

    model_config = ConfigDict(extra="ignore")

    answer: str | None = Field(default=None, max_length=10_000)
    handoff: bool = False
    confidence: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _says_something(self) -> BotServiceAnswer:
        if not self.handoff and not (self.answer or "").strip():
            raise ValueError("an answer needs a text unless it hands over")
        return self


class WebhookResponder:
    """Asks the bot service at ``url`` (signing with ``secret``), ``timeout`` seconds per call."""

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        timeout: float = 5.0,
        max_attempts: int = 3,
        min_confidence: float = 0.5,
        policy: BotPolicy | None = None,
        user_agent: str = "supportchat-bot/1",
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the bot service URL must be http(s)")
        if not secret:
            raise ValueError("the bot service needs a secret to sign with")
        if timeout <= 0 or max_attempts < 1:
            raise ValueError("timeout must be positive and max_attempts at least 1")
        self.url = url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.min_confidence = min_confidence
        self.policy = policy or BotPolicy()
        self._secret = secret
        self._user_agent = user_agent

    def next_step(self, ticket: Ticket, state: BotState, text: str, language: str) -> Step:
        if asks_for_human(text):
            return Handoff(HandoffReason.ASKED_FOR_HUMAN)
        if at_turn_limit(self.policy, state):
            return Handoff(HandoffReason.TURN_LIMIT)
        answer = self.ask(ticket, text, language, state.turns)
        if answer.handoff:
            return Handoff(HandoffReason.SERVICE_HANDOFF)
        if answer.confidence < self.min_confidence:
            return Handoff(HandoffReason.NOT_CONFIDENT)
        assert answer.answer is not None
        return Reply(answer.answer.strip(), answer.confidence, BotState(turns=state.turns + 1))

    def request_body(self, ticket: Ticket, text: str, language: str, turn: int) -> bytes:
        """The JSON the service receives: the ticket only through the customer projection."""
        view = customer_ticket(ticket, Actor.user(ticket.user_id)).model_dump(mode="json")
        document = {"version": 1, "ticket": view, "message": text, "language": language, "turn": turn}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    def ask(self, ticket: Ticket, text: str, language: str, turn: int) -> BotServiceAnswer:
        """One signed call to the service; :class:`~.bot.ResponderUnavailable` when it gives no usable answer."""
        body = self.request_body(ticket, text, language, turn)
        request = signed_post(self.url, self._secret, body, user_agent=self._user_agent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # http(s) only, checked
                raw = response.read(1_000_000)
        except urllib.error.HTTPError as exc:
            raise ResponderUnavailable(
                f"the bot service answered HTTP {exc.code}", retry=exc.code in _RETRYABLE
            ) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise ResponderUnavailable(f"the bot service did not answer: {exc}", retry=True) from exc
        try:
            return BotServiceAnswer.model_validate_json(raw)
        except ValidationError as exc:
            raise ResponderUnavailable(
                f"the bot service's answer is not one: {exc.errors()[0]['msg']}", retry=False
            ) from exc
