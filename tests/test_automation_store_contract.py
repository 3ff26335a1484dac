"""The AutomationStore extension's contract, on every backend of ``tests/stores.py`` that has one.

A bare Supabase store has none (the desk's configuration lives in the
fallback store's local database, as its jobs do): there the test checks that
asking for it is the configuration error it should be.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportchat.automation import (
    AutomationRecordNotFound,
    AutomationStore,
    BotSession,
    BotStatus,
    CannedResponseInput,
    KnowledgeArticleInput,
    ShortCodeTaken,
)
from supportchat.errors import ExtensionUnavailable, ValidationError
from supportchat.extensions import extension
from supportchat.stores import Store

from .stores import StoreMaker


@pytest.fixture
def automation(store: Store) -> AutomationStore:
    try:
        return extension(store, AutomationStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        assert type(store).__name__ == "SupabaseStore", "every other backend has automation tables"
        pytest.skip("SupabaseStore has no AutomationStore (it lives in the fallback store's database)")


def canned(code: str, content: str = "Hola {{user.name|cliente}}, su ticket {{ticket.number}}") -> CannedResponseInput:
    return CannedResponseInput(short_code=code, title=f"Respuesta {code}", content=content)


def test_supabase_alone_has_no_automation_store_and_says_so(make_store: StoreMaker) -> None:
    store = make_store()
    if type(store).__name__ != "SupabaseStore":
        assert isinstance(extension(store, AutomationStore), AutomationStore)  # type: ignore[type-abstract]
        return
    with pytest.raises(ExtensionUnavailable):
        extension(store, AutomationStore)  # type: ignore[type-abstract]


def test_shared_and_personal_responses_and_one_short_code_per_owner(automation: AutomationStore) -> None:
    shared = automation.add_canned(canned("saludo"), owner_id=None)
    mine = automation.add_canned(canned("saludo", "Buenas, soy {{agent.name}}"), owner_id=7)
    automation.add_canned(canned("cierre"), owner_id=8)
    assert shared.owner_id is None and mine.owner_id == 7
    with pytest.raises(ShortCodeTaken):
        automation.add_canned(canned("saludo"), owner_id=None)
    with pytest.raises(ShortCodeTaken):
        automation.add_canned(canned("saludo"), owner_id=7)
    assert [(c.short_code, c.owner_id) for c in automation.list_canned(7)] == [("saludo", None), ("saludo", 7)]
    assert [c.short_code for c in automation.list_canned(None)] == ["saludo"]
    assert [(c.short_code, c.owner_id) for c in automation.list_canned(8)] == [("cierre", 8), ("saludo", None)]
    assert automation.get_canned(mine.id) == mine


def test_a_response_is_replaced_keeping_its_owner_and_deleted(automation: AutomationStore) -> None:
    first = automation.add_canned(canned("a"), owner_id=7)
    automation.add_canned(canned("b"), owner_id=7)
    with pytest.raises(ShortCodeTaken):
        automation.replace_canned(first.id, canned("b"))
    replaced = automation.replace_canned(first.id, canned("c", "Listo: {{ticket.number}}"))
    assert (replaced.id, replaced.owner_id, replaced.short_code, replaced.content) == (
        first.id,
        7,
        "c",
        "Listo: {{ticket.number}}",
    )
    assert replaced.created_at == first.created_at and replaced.updated_at >= first.updated_at
    automation.delete_canned(first.id)
    with pytest.raises(AutomationRecordNotFound):
        automation.get_canned(first.id)
    with pytest.raises(AutomationRecordNotFound):
        automation.delete_canned(first.id)
    with pytest.raises(AutomationRecordNotFound):
        automation.replace_canned(10_000_000, canned("z"))


def test_an_unknown_variable_never_reaches_the_store() -> None:
    with pytest.raises(ValidationError, match=r"user\.nmae"):
        canned("x", "Hola {{user.nmae}}")


def test_articles_by_language_and_the_version_moves_with_every_change(automation: AutomationStore) -> None:
    start = automation.knowledge_version()
    es = automation.add_article(KnowledgeArticleInput(title="Reembolsos", body="Tardan 5 días", language="es"))
    en = automation.add_article(
        KnowledgeArticleInput(title="Refunds", body="They take 5 days", language="en", tags=["Refund", "money"])
    )
    assert en.tags == ("refund", "money")
    after_adds = automation.knowledge_version()
    assert after_adds != start
    assert [a.id for a in automation.list_articles()] == [es.id, en.id]
    assert [a.id for a in automation.list_articles("en")] == [en.id]
    replaced = automation.replace_article(
        es.id, KnowledgeArticleInput(title="Reembolsos", body="5-10 días", language="es")
    )
    assert replaced.body == "5-10 días" and automation.get_article(es.id) == replaced
    after_replace = automation.knowledge_version()
    assert after_replace != after_adds
    automation.delete_article(en.id)
    assert automation.knowledge_version() not in (after_adds, after_replace)
    with pytest.raises(AutomationRecordNotFound):
        automation.get_article(en.id)


def test_a_bot_session_is_saved_replaced_and_read_in_bulk(automation: AutomationStore) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert automation.bot_session(41) is None
    session = BotSession(ticket_id=41, status=BotStatus.IN_CHARGE, language="es", updated_at=now)
    automation.save_bot_session(session)
    assert automation.bot_session(41) == session
    later = session.touched(now.replace(minute=5), turns=1, awaiting_article_id=3)
    automation.save_bot_session(later)
    handed = later.touched(now.replace(minute=9), status=BotStatus.HANDED_OFF, handoff_reason="user_declined")
    automation.save_bot_session(handed)
    automation.save_bot_session(BotSession(ticket_id=42, status=BotStatus.SOLVED, language="en", updated_at=now))
    found = automation.bot_sessions([41, 42, 43])
    assert found[41] == handed and found[42].status is BotStatus.SOLVED and 43 not in found
    assert [s.ticket_id for s in automation.list_bot_sessions()] == [41, 42]
    assert automation.list_bot_sessions(BotStatus.SOLVED) == [found[42]]
    assert automation.list_bot_sessions(limit=1) == [handed]
