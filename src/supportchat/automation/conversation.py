"""What the bot does with each thing a user writes (spec §18), as a pure function of its state.

The bot is in charge of a ticket from its creation until it hands the ticket
to a person. Each user text (the new ticket's subject and description, then
each user message) gives one :class:`Step`:

- the user asks for a person (:data:`HUMAN_WORDS`) → hand over (``asked_for_human``);
- after an answer, the user says it did not help (:func:`says_no`) → hand over
  (``user_declined``); says it did (:func:`says_yes`) → the ticket is solved;
- otherwise the text is a question: answered with the best article when the
  match is confident (:class:`~supportchat.automation.matching.MatchPolicy`),
  handed over when it is not (``not_confident``) or when the bot has already
  answered :attr:`BotPolicy.max_turns` times (``turn_limit``).

Every answer says that it is automatic and asks whether it solved the problem.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..search import words
from .matching import Article, Match, Matcher, MatchPolicy

__all__ = [
    "HUMAN_WORDS",
    "Answer",
    "BotPolicy",
    "BotState",
    "Handoff",
    "HandoffReason",
    "Reply",
    "Solved",
    "Step",
    "answer_text",
    "asks_for_human",
    "at_turn_limit",
    "decide",
    "handoff_text",
    "language_of",
    "reply_text",
    "says_no",
    "says_yes",
    "solved_text",
]


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Folded words by which a user asks for a person.
HUMAN_WORDS = _word_set(
    "persona personas humano humana agente agentes operador operadora asesor asesora "
    "human person people agent operator representative someone somebody"
)
_YES = _word_set(
    "si yes yep yeah gracias thanks thank resuelto resuelta solucionado solved perfecto vale ok okay "
    "genial great funciono worked"
)
_NO = _word_set("no nope not didn doesn don nada sigue sigo still")


class HandoffReason(enum.StrEnum):
    NOT_CONFIDENT = "not_confident"
    USER_DECLINED = "user_declined"
    ASKED_FOR_HUMAN = "asked_for_human"
    TURN_LIMIT = "turn_limit"
    #: The host's bot service said a person should take it (the webhook bot).
    SERVICE_HANDOFF = "service_handoff"
    #: The host's bot service failed, was too slow or refused the call, after its retries.
    SERVICE_UNAVAILABLE = "service_unavailable"


@dataclass(frozen=True, slots=True)
class BotPolicy:
    """How the bot behaves: when a match is good enough, and how many answers it gives before a person takes over."""

    match: MatchPolicy = field(default_factory=MatchPolicy)
    max_turns: int = 2

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise ValueError("max_turns must be at least 1")


@dataclass(frozen=True, slots=True)
class BotState:
    """The bot's memory of one ticket."""

    turns: int = 0
    #: The article of its last answer, while it waits to hear whether it helped.
    awaiting_feedback_on: int | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    match: Match
    state: BotState


@dataclass(frozen=True, slots=True)
class Handoff:
    reason: HandoffReason
    match: Match | None = None


@dataclass(frozen=True, slots=True)
class Solved:
    article_id: int


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer in a bot service's own words (the webhook bot), with the confidence it gave."""

    text: str
    confidence: float
    state: BotState


Step = Answer | Handoff | Solved | Reply


def at_turn_limit(policy: BotPolicy, state: BotState) -> bool:
    """Whether the bot has answered as often as it may before a person takes over."""
    return state.turns >= policy.max_turns


def asks_for_human(text: str) -> bool:
    return any(word in HUMAN_WORDS for word in words(text))


def says_yes(text: str) -> bool:
    """A short confirmation (``sí, gracias``, ``yes it worked``) with no negation in it."""
    folded = words(text)
    return bool(folded) and len(folded) <= 8 and folded[0] in _YES and not any(w in _NO for w in folded)


def says_no(text: str) -> bool:
    """A short denial (``no``, ``no me sirve``, ``still not working``, ``didn't help``)."""
    folded = words(text)
    return bool(folded) and len(folded) <= 10 and any(w in _NO for w in folded[:4])


_SPANISH_HINTS = _word_set("el la los las de que y en no mi por para con una un es como cuando donde")
_ENGLISH_HINTS = _word_set("the a an of and to in my is it for with how can when where i")


def language_of(text: str, default: str = "es") -> str:
    """``es`` or ``en``, by which language's function words the text uses more (``default`` on a tie)."""
    folded = words(text)
    spanish = sum(w in _SPANISH_HINTS for w in folded)
    english = sum(w in _ENGLISH_HINTS for w in folded)
    if spanish == english:
        return default
    return "es" if spanish > english else "en"


def decide(matcher: Matcher, policy: BotPolicy, state: BotState, text: str, language: str) -> Step:
    """The bot's next step on ``text`` from the user, given what it did so far."""
    if asks_for_human(text):
        return Handoff(HandoffReason.ASKED_FOR_HUMAN)
    if state.awaiting_feedback_on is not None:
        if says_yes(text):
            return Solved(state.awaiting_feedback_on)
        if says_no(text):
            return Handoff(HandoffReason.USER_DECLINED)
    match = matcher.best(text, language)
    if not policy.match.confident(match):
        return Handoff(HandoffReason.NOT_CONFIDENT, match)
    assert match is not None
    if at_turn_limit(policy, state):
        return Handoff(HandoffReason.TURN_LIMIT, match)
    return Answer(match, BotState(turns=state.turns + 1, awaiting_feedback_on=match.article.id))


_ANSWER = {
    "es": (
        "🤖 Respuesta automática: {title}\n\n{body}\n\n"
        "¿Esto resolvió tu problema? Responde «sí» o «no». Si prefieres hablar con una persona, escribe «agente»."
    ),
    "en": (
        "🤖 Automatic answer: {title}\n\n{body}\n\n"
        'Did this solve your problem? Reply "yes" or "no". To talk to a person, write "agent".'
    ),
}
_REPLY = {
    "es": ("🤖 Respuesta automática:\n\n{text}\n\nSi prefieres hablar con una persona, escribe «agente»."),
    "en": '🤖 Automatic answer:\n\n{text}\n\nTo talk to a person, write "agent".',
}
_HANDOFF = {
    "es": "Un miembro del equipo de soporte continuará con tu consulta en breve.",
    "en": "A member of the support team will take over your request shortly.",
}
_SOLVED = {
    "es": "¡Nos alegra que se haya resuelto! Si necesitas algo más, escríbenos aquí.",
    "en": "Glad that solved it! If you need anything else, write to us here.",
}


def answer_text(article: Article, language: str) -> str:
    """The bot's message answering with ``article``: says it is automatic and asks whether it helped."""
    return _ANSWER.get(language, _ANSWER["en"]).format(title=article.title, body=article.body)


def reply_text(text: str, language: str) -> str:
    """A bot service's answer as the bot says it: labelled automatic, with the way to a person."""
    return _REPLY.get(language, _REPLY["en"]).format(text=text)


def handoff_text(language: str) -> str:
    return _HANDOFF.get(language, _HANDOFF["en"])


def solved_text(language: str) -> str:
    return _SOLVED.get(language, _SOLVED["en"])
