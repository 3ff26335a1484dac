"""The bot's conversation rules: answer, ask, hand over; pure, so every path is checked directly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from supportchat.automation.conversation import (
    Answer,
    BotPolicy,
    BotState,
    Handoff,
    HandoffReason,
    Solved,
    answer_text,
    decide,
    language_of,
)
from supportchat.automation.matching import Article, Matcher

ARTICLES = [
    Article(1, "Cómo restablecer tu contraseña", "Pulsa ¿Olvidaste tu contraseña? y te enviaremos un enlace.", "es"),
    Article(2, "Cancelar una reserva", "Ve a Mis reservas y pulsa Cancelar.", "es"),
    Article(3, "How to reset your password", "Tap Forgot password? and we email you a link.", "en"),
]
MATCHER = Matcher(ARTICLES)
POLICY = BotPolicy()


def test_a_confident_question_is_answered_and_the_bot_waits_for_feedback() -> None:
    step = decide(MATCHER, POLICY, BotState(), "olvidé mi contraseña", "es")
    assert isinstance(step, Answer) and step.match.article.id == 1
    assert step.state == BotState(turns=1, awaiting_feedback_on=1)
    text = answer_text(step.match.article, "es")
    assert text.startswith("🤖 Respuesta automática") and "¿Esto resolvió tu problema?" in text


def test_yes_solves_no_hands_over_and_a_person_can_always_be_asked_for() -> None:
    waiting = BotState(turns=1, awaiting_feedback_on=1)
    assert decide(MATCHER, POLICY, waiting, "Sí, gracias", "es") == Solved(1)
    assert decide(MATCHER, POLICY, waiting, "no me sirve", "es") == Handoff(HandoffReason.USER_DECLINED)
    assert decide(MATCHER, POLICY, waiting, "still not working", "en") == Handoff(HandoffReason.USER_DECLINED)
    for text in ("quiero hablar con una persona", "I want a human", "pásame con un agente"):
        assert decide(MATCHER, POLICY, BotState(), text, "es") == Handoff(HandoffReason.ASKED_FOR_HUMAN)


def test_an_unclear_question_and_the_turn_limit_hand_over() -> None:
    step = decide(MATCHER, POLICY, BotState(), "mi perro viaja en cabina", "es")
    assert isinstance(step, Handoff) and step.reason is HandoffReason.NOT_CONFIDENT
    spent = BotState(turns=POLICY.max_turns, awaiting_feedback_on=None)
    step = decide(MATCHER, POLICY, spent, "olvidé mi contraseña", "es")
    assert isinstance(step, Handoff) and step.reason is HandoffReason.TURN_LIMIT


@given(st.text(max_size=80), st.integers(0, 5), st.sampled_from([None, 1, 2]))
def test_the_bot_never_answers_past_its_turns_nor_in_another_language(
    text: str, turns: int, waiting: int | None
) -> None:
    step = decide(MATCHER, POLICY, BotState(turns=turns, awaiting_feedback_on=waiting), text, "en")
    if isinstance(step, Answer):
        assert turns < POLICY.max_turns and step.state.turns == turns + 1
        assert step.match.article.language == "en"
        assert POLICY.match.confident(step.match)
    if isinstance(step, Solved):
        assert waiting == step.article_id


def test_language_is_read_from_function_words() -> None:
    assert language_of("No puedo entrar en mi cuenta") == "es"
    assert language_of("I can't log in to my account") == "en"
